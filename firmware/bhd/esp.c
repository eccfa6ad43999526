/* The EFI system partition, as bhd reads and writes it (docs/update.md):
 * mounting it, the boot entries of the slots on it (one UKI each, whose
 * name carries systemd-boot's try counter) and the known-good marks. */
#include "bhd.h"

#include <bulkhead/boot_disk.h>
#include <bulkhead/fs.h>
#include <bulkhead/update.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* The partition named label on the disk this system booted from: its /dev
 * path and size in bytes. A partition of that name on another disk (a USB
 * stick) is never taken. */
int partition_find(const char *label, char *dev, size_t size, uint64_t *bytes,
			  struct bh_error *err)
{
	struct dirent *de;
	char path[512], buf[1024], want[96], disk[64];
	int rc = -1;
	DIR *d;

	if (bh_boot_disk(disk, sizeof(disk), err) < 0)
		return bh_error_wrap(err, "find the partition %s on the boot disk", label);
	d = opendir("/sys/class/block");
	snprintf(want, sizeof(want), "\nPARTNAME=%s\n", label);
	while (d && rc < 0 && (de = readdir(d))) {
		unsigned long long sectors = 0;
		FILE *f;
		size_t n;

		if (de->d_name[0] == '.' || !bh_is_partition_of(de->d_name, disk))
			continue;
		snprintf(path, sizeof(path), "/sys/class/block/%s/uevent", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		buf[0] = '\n';
		n = fread(buf + 1, 1, sizeof(buf) - 2, f);
		buf[n + 1] = 0;
		fclose(f);
		if (!strstr(buf, want))
			continue;
		snprintf(dev, size, "/dev/%s", de->d_name);
		snprintf(path, sizeof(path), "/sys/class/block/%s/size", de->d_name);
		f = fopen(path, "re");
		if (f) {
			if (fscanf(f, "%llu", &sectors) != 1)
				sectors = 0;
			fclose(f);
		}
		*bytes = sectors * 512;
		rc = 0;
	}
	if (d)
		closedir(d);
	if (rc < 0)
		bh_error(err, 0, "no partition named %s on the boot disk %s: this system was not "
			 "booted from a Bulkhead disk image", label, disk);
	return rc;
}

int esp_mount(struct bh_error *err)
{
	char dev[64];
	uint64_t bytes;

	if (partition_find("bulkhead-esp", dev, sizeof(dev), &bytes, err) < 0)
		return -1;
	if (mkdir(ESP_MOUNT, 0700) < 0 && errno != EEXIST)
		return bh_error(err, errno, "mkdir %s", ESP_MOUNT);
	umount2(ESP_MOUNT, MNT_DETACH); /* a mount left by a failed attempt */
	if (mount(dev, ESP_MOUNT, "vfat", MS_NOSUID | MS_NODEV | MS_NOEXEC, "umask=077") < 0)
		return bh_error(err, errno, "mount the ESP %s on %s", dev, ESP_MOUNT);
	return 0;
}

void esp_umount(void)
{
	sync();
	if (umount(ESP_MOUNT) < 0)
		umount2(ESP_MOUNT, MNT_DETACH);
}

int esp_sync(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = fd < 0 ? -1 : fsync(fd);

	if (fd >= 0)
		close(fd);
	return rc;
}

bool esp_entry_parse(const char *name, struct esp_entry *e)
{
	char buf[256], *plus, *end;
	size_t n = strlen(name);

	memset(e, 0, sizeof(*e));
	if (n >= sizeof(buf) || n < 16 || strncmp(name, "bulkhead-", 9) ||
	    strcmp(name + n - 4, ".efi"))
		return false;
	snprintf(e->name, sizeof(e->name), "%s", name);
	snprintf(buf, sizeof(buf), "%.*s", (int)(n - 4 - 9), name + 9);
	plus = strchr(buf, '+');
	if (plus) {
		*plus++ = 0;
		e->counted = 1;
		e->left = (int)strtol(plus, &end, 10);
		e->done = *end == '-' ? (int)strtol(end + 1, &end, 10) : 0;
	}
	n = strlen(buf);
	if (n < 3 || buf[n - 2] != '-' || (buf[n - 1] != 'a' && buf[n - 1] != 'b'))
		return false;
	e->slot = buf[n - 1];
	buf[n - 2] = 0;
	snprintf(e->version, sizeof(e->version), "%s", buf);
	return update_version_valid(e->version);
}

/* The entries on the mounted ESP; stale temporary files of an update cut
 * short are removed on the way. */
size_t esp_entries(struct esp_entry *out, size_t max)
{
	DIR *d = opendir(ESP_UKI_DIR);
	struct dirent *de;
	size_t n = 0;

	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (len > 4 && !strcmp(de->d_name + len - 4, ".tmp")) {
			unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		if (n < max && esp_entry_parse(de->d_name, &out[n]))
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

/* The version slot last booted healthy, from ESP_GOOD_DIR/good-<slot>;
 * "" when there is none. */
void esp_good_version(char slot, char *out, size_t size)
{
	char path[128];
	FILE *f;

	out[0] = 0;
	snprintf(path, sizeof(path), ESP_GOOD_DIR "/good-%c", slot);
	f = fopen(path, "re");
	if (!f)
		return;
	if (!fgets(out, (int)size, f))
		out[0] = 0;
	out[strcspn(out, "\n")] = 0;
	fclose(f);
}

int esp_set_good_version(char slot, const char *version, struct bh_error *err)
{
	char path[128], text[UPDATE_VERSION_MAX + 1];

	if (mkdir(ESP_GOOD_DIR, 0700) < 0 && errno != EEXIST)
		return bh_error(err, errno, "mkdir %s", ESP_GOOD_DIR);
	snprintf(path, sizeof(path), ESP_GOOD_DIR "/good-%c", slot);
	snprintf(text, sizeof(text), "%s\n", version);
	return bh_write_atomic(path, text, strlen(text), 0600, err);
}
