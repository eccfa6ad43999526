/* The persistent /data: the block device labelled for it (a GPT partition
 * named "bulkhead-data", or a whole disk with serial "bulkhead-data", which
 * is how QEMU boards attach it), mounted nosuid,nodev.
 *
 * At every boot, in this order:
 *   1. the partition is grown to the end of its disk when there is room
 *      (data_grow.c);
 *   2. a blank device (its first MiB all zeros) is formatted as journaled
 *      ext4 with e2fsprogs' mke2fs, as is one whose format a power cut
 *      interrupted (the marker below);
 *   3. e2fsck checks it, and its exit status picks what happens next
 *      (data_check.c: the repair policy);
 *   4. an ext2 /data of an older image gets a journal (tune2fs -j);
 *   5. it is mounted (errors=remount-ro: an error found at run time stops
 *      further writes until the next boot's e2fsck);
 *   6. the filesystem is grown to its partition, online (resize2fs).
 * Anything that cannot be checked or repaired falls back to a tmpfs,
 * loudly, and the disk is left as it is. What happened is in DATA_STATUS
 * for bhd. */
#include "init.h"

#include <bulkhead/autoconf.h>
#include <bulkhead/boot_disk.h>
#include <bulkhead/fs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#define DATA_LABEL "bulkhead-data"
#define EXT_MAGIC  0xEF53
/* Written into the first sector (which ext4 leaves alone) before mke2fs
 * runs and cleared after it succeeded: a device that has it but no
 * superblock is a format a power cut interrupted, formatted again. */
#define FORMAT_MARKER "bulkhead-data: format in progress\n"

static bool read_file(const char *path, char *buf, size_t size)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return false;
	n = read(fd, buf, size - 1);
	close(fd);
	if (n < 0)
		return false;
	buf[n] = 0;
	return true;
}

/* On a system booted from a disk image (its root a dm-verity slot), /data
 * is the partition of that name on the same disk: a USB stick whose
 * partitions carry our names never stands in. A board that boots its
 * kernel directly has / on a whole disk and /data on a disk of its own
 * with that serial. */
static bool is_data_device(const char *name, const char *boot_disk)
{
	char path[300], buf[1024];

	if (boot_disk) {
		snprintf(path, sizeof(path), "/sys/class/block/%s/uevent", name);
		return bh_is_partition_of(name, boot_disk) && read_file(path, buf, sizeof(buf)) &&
		       strstr(buf, "\nPARTNAME=" DATA_LABEL "\n");
	}
	snprintf(path, sizeof(path), "/sys/class/block/%s/serial", name);
	if (!read_file(path, buf, sizeof(buf)))
		return false;
	buf[strcspn(buf, "\n")] = 0;
	return !strcmp(buf, DATA_LABEL);
}

static bool find_device(char *dev, size_t size)
{
	struct dirent *e;
	struct bh_error err;
	char disk[64];
	bool booted_from_disk = bh_boot_disk(disk, sizeof(disk), &err) == 0;
	DIR *d = opendir("/sys/class/block");
	bool found = false;

	if (!d)
		return false;
	if (booted_from_disk)
		init_log("data: looking for " DATA_LABEL " on the boot disk %s", disk);
	while (!found && (e = readdir(d)))
		if (e->d_name[0] != '.' && is_data_device(e->d_name, booted_from_disk ? disk : NULL)) {
			snprintf(dev, size, "/dev/%s", e->d_name);
			found = true;
		}
	closedir(d);
	return found;
}

enum kind { FOREIGN = -1, BLANK, EXT, HALF_FORMATTED };

/* What the device holds. Only a blank one or an interrupted format of
 * ours is ever formatted. */
static enum kind probe(const char *dev)
{
	unsigned char buf[4096];
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	enum kind kind = BLANK;

	if (fd < 0)
		return FOREIGN;
	for (off_t off = 0; off < 1024 * 1024; off += sizeof(buf)) {
		if (pread(fd, buf, sizeof(buf), off) != (ssize_t)sizeof(buf)) {
			kind = FOREIGN;
			break;
		}
		/* The marker first: a format cut short may have written the
		 * superblock already, but not the rest. */
		if (off == 0 && !memcmp(buf, FORMAT_MARKER, strlen(FORMAT_MARKER))) {
			kind = HALF_FORMATTED;
			break;
		}
		if (off == 0 && (buf[1024 + 56] | buf[1024 + 57] << 8) == EXT_MAGIC) {
			kind = EXT;
			break;
		}
		for (size_t i = 0; i < sizeof(buf); i++)
			if (buf[i]) {
				kind = FOREIGN;
				break;
			}
		if (kind != BLANK)
			break;
	}
	close(fd);
	return kind;
}

static int write_first_sector(const char *dev, const char *text, struct bh_error *err)
{
	char sector[512] = {0};
	int fd = open(dev, O_WRONLY | O_CLOEXEC);

	if (fd < 0)
		return bh_error(err, errno, "open %s", dev);
	memcpy(sector, text, strlen(text));
	if (pwrite(fd, sector, sizeof(sector), 0) != (ssize_t)sizeof(sector) || fsync(fd) < 0) {
		int e = errno;

		close(fd);
		return bh_error(err, e, "write the first sector of %s", dev);
	}
	close(fd);
	return 0;
}

/* Journaled ext4 in 4 KiB blocks with one inode per 8 KiB (container
 * images are many small files), e2fsprogs' default ext4 features
 * (extents, 64bit, flex_bg, metadata_csum, ...) and its 5% reserved for
 * root: a workload filling its volume (its files belong to an unprivileged
 * uid) still leaves bhd room to write. No discard, which could erase the
 * format marker. */
static int format(const char *dev, struct bh_error *err)
{
	char *const argv[] = {"/sbin/mke2fs", "-q", "-F", "-t", "ext4", "-b", "4096", "-i", "8192",
			      "-L", DATA_LABEL, "-E", "nodiscard", (char *)dev, NULL};
	int status;

	if (write_first_sector(dev, FORMAT_MARKER, err) < 0)
		return -1;
	status = data_run(argv);
	if (status < 0)
		return bh_error(err, 0, "mke2fs %s could not run", dev);
	if (status != 0)
		return bh_error(err, 0, "mke2fs %s failed (exit status %d)", dev, status);
	return write_first_sector(dev, "", err);
}

static void fallback(struct data_status *st, const char *why)
{
	init_log("WARNING: data: %s: /data is a tmpfs, NOTHING WRITTEN THERE WILL SURVIVE A REBOOT",
		 why);
	snprintf(st->mounted, sizeof(st->mounted), "tmpfs");
	snprintf(st->reason, sizeof(st->reason), "%s", why);
	if (mount("tmpfs", "/data", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=50%") < 0)
		init_log("data: mount tmpfs on /data: %s", bh_strerror(errno));
}

static void mount_data(const char *dev, struct data_status *st)
{
	char why[400];
	struct bh_error err = {0};
	enum kind kind = probe(dev);

	if (kind == FOREIGN) {
		snprintf(why, sizeof(why), "%s holds something that is not an ext filesystem; "
			 "not formatting it", dev);
		fallback(st, why);
		return;
	}
	if (kind != EXT) {
		init_log(kind == BLANK ? "data: %s is blank: formatting it (first boot) as journaled ext4"
				       : "data: %s: formatting it again as ext4 (a power cut "
					 "interrupted its format)", dev);
		if (format(dev, &err) < 0) {
			snprintf(why, sizeof(why), "formatting %s failed: %s", dev, err.msg);
			fallback(st, why);
			return;
		}
		st->formatted = true;
	}
	if (data_check(dev, st) < 0) {
		fallback(st, st->reason);
		return;
	}
	data_add_journal(dev, st);
	if (mount(dev, "/data", "ext4", MS_NOSUID | MS_NODEV | MS_NOATIME, "errors=remount-ro") < 0) {
		snprintf(why, sizeof(why), "mount %s on /data: %s", dev, bh_strerror(errno));
		fallback(st, why);
		return;
	}
	snprintf(st->mounted, sizeof(st->mounted), "ext4");
	init_log("data: %s mounted on /data", dev);
	if (st->reinstall)
		data_clear_installed();
	data_grow_fs(dev, st);
}

static void data_status_write(const struct data_status *st)
{
	char text[1024];
	struct bh_error err;
	int n = snprintf(text, sizeof(text),
			 "device=%s\nmounted=%s\nformatted=%d\npartition_grown=%d\nfs_grown=%d\n"
			 "journal_added=%d\nfsck=%d\nrepair=%d\nreinstall=%d\nreason=%s\n",
			 st->device, st->mounted, st->formatted, st->partition_grown, st->fs_grown,
			 st->journal_added, st->fsck, st->repair, st->reinstall, st->reason);

	if (n < 0 || (size_t)n >= sizeof(text) ||
	    bh_write_atomic(DATA_STATUS, text, (size_t)n, 0644, &err) < 0)
		init_log("data: cannot write " DATA_STATUS);
}

void init_data(void)
{
	struct data_status st = {.fsck = -1, .repair = -1};
	char dev[300];

	if (!find_device(dev, sizeof(dev))) {
		fallback(&st, "no block device is labelled " DATA_LABEL);
	} else {
		snprintf(st.device, sizeof(st.device), "%s", dev);
#ifdef BH_DATA_GROW
		struct bh_error err = {0};
		int grown = data_grow(dev + 5, &err);

		if (grown < 0)
			init_log("data: %s keeps its size: %s", dev, err.msg);
		st.partition_grown = grown > 0;
#endif
		mount_data(dev, &st);
	}
	data_status_write(&st);
}
