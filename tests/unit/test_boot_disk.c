/* bh_boot_disk_at against a fake sysfs tree: the disk of the root's
 * dm-verity slave, never another disk whose partitions carry the same
 * names; and the refusals (not a dm root, two slaves, a whole disk). */
#include "tap.h"

#include <bulkhead/boot_disk.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char sys[64];

static void mk(const char *rel)
{
	char path[512], *p;

	snprintf(path, sizeof(path), "%s/%s", sys, rel);
	for (p = path + strlen(sys) + 1; (p = strchr(p, '/')); p++) {
		*p = 0;
		mkdir(path, 0755);
		*p = '/';
	}
	mkdir(path, 0755);
}

static void touch(const char *rel)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", sys, rel);
	f = fopen(path, "w");
	if (f)
		fclose(f);
}

static void ln(const char *target, const char *rel)
{
	char path[512];

	snprintf(path, sizeof(path), "%s/%s", sys, rel);
	if (symlink(target, path) < 0)
		perror(path);
}

/* Two disks with the same partition names: nvme0n1 (booted) and sda
 * (a stick), and the root dm-0 (253:0) on nvme0n1p2. */
static void tree(void)
{
	mk("devices/pci0/nvme/block/nvme0n1/nvme0n1p2");
	mk("devices/pci0/nvme/block/nvme0n1/nvme0n1p4");
	touch("devices/pci0/nvme/block/nvme0n1/nvme0n1p2/partition");
	touch("devices/pci0/nvme/block/nvme0n1/nvme0n1p4/partition");
	mk("devices/pci0/usb/block/sda/sda4");
	touch("devices/pci0/usb/block/sda/sda4/partition");
	mk("devices/virtual/block/dm-0/slaves");
	mk("devices/virtual/block/vdb");
	mk("class/block");
	mk("dev/block");
	ln("../../devices/pci0/nvme/block/nvme0n1", "class/block/nvme0n1");
	ln("../../devices/pci0/nvme/block/nvme0n1/nvme0n1p2", "class/block/nvme0n1p2");
	ln("../../devices/pci0/nvme/block/nvme0n1/nvme0n1p4", "class/block/nvme0n1p4");
	ln("../../devices/pci0/usb/block/sda", "class/block/sda");
	ln("../../devices/pci0/usb/block/sda/sda4", "class/block/sda4");
	ln("../../devices/virtual/block/vdb", "class/block/vdb");
	ln("../../devices/virtual/block/dm-0", "dev/block/253:0");
	ln("../../devices/virtual/block/vdb", "dev/block/254:16");
	ln("../../../../pci0/nvme/block/nvme0n1/nvme0n1p2", "devices/virtual/block/dm-0/slaves/nvme0n1p2");
}

int main(void)
{
	struct bh_error err = {0};
	char disk[64] = "";
	int r;

	snprintf(sys, sizeof(sys), "/tmp/bh-boot-disk-XXXXXX");
	if (!mkdtemp(sys))
		return 1;
	tree();
	r = bh_boot_disk_at(sys, 253, 0, disk, sizeof(disk), &err);
	ok(r == 0 && !strcmp(disk, "nvme0n1"), "the boot disk is the disk of the root's slave (%s) %s",
	   disk, r ? err.msg : "");
	ok(bh_is_partition_of_at(sys, "nvme0n1p4", "nvme0n1"), "nvme0n1p4 is on the boot disk");
	ok(!bh_is_partition_of_at(sys, "sda4", "nvme0n1"),
	   "sda4, a stick's partition with the same name, is not");
	ok(!bh_is_partition_of_at(sys, "../sda/sda4", "nvme0n1") &&
		   !bh_is_partition_of_at(sys, "..", "nvme0n1"),
	   "a name with a slash or dots is no partition");

	r = bh_boot_disk_at(sys, 254, 16, disk, sizeof(disk), &err);
	ok(r < 0 && strstr(err.msg, "is not a device-mapper device"),
	   "a root that is not a dm device has no boot disk: %s", err.msg);
	ln("../../../../pci0/usb/block/sda/sda4", "devices/virtual/block/dm-0/slaves/sda4");
	r = bh_boot_disk_at(sys, 253, 0, disk, sizeof(disk), &err);
	ok(r < 0 && strstr(err.msg, "more than one device"), "a root on two devices is refused: %s",
	   err.msg);
	{
		char cmd[200];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", sys);
		if (system(cmd) != 0)
			diag("could not remove the fake tree");
	}
	return done();
}
