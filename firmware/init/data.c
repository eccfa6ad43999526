/* The persistent /data: the block device labelled for it (a GPT partition
 * named "bulkhead-data", or a whole disk with serial "bulkhead-data", which
 * is how QEMU boards attach it), grown to the end of its disk and formatted
 * on first boot when blank (data_grow.c), and mounted nosuid,nodev. Anything else falls back to a tmpfs, loudly. */
#include "init.h"

#include <bulkhead/autoconf.h>
#include <bulkhead/boot_disk.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#define DATA_LABEL "bulkhead-data"
#define EXT_MAGIC  0xEF53

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

/* 1: an ext2/3/4 superblock, 0: blank (the first MiB is all zeros),
 * -1: something else, which is never formatted over. */
static int probe(const char *dev)
{
	unsigned char buf[4096];
	int fd = open(dev, O_RDONLY | O_CLOEXEC), kind = 0;

	if (fd < 0)
		return -1;
	for (off_t off = 0; off < 1024 * 1024; off += sizeof(buf)) {
		if (pread(fd, buf, sizeof(buf), off) != (ssize_t)sizeof(buf)) {
			kind = -1;
			break;
		}
		if (off == 0 && (buf[1024 + 56] | buf[1024 + 57] << 8) == EXT_MAGIC) {
			kind = 1;
			break;
		}
		for (size_t i = 0; i < sizeof(buf); i++)
			if (buf[i]) {
				kind = -1;
				break;
			}
		if (kind)
			break;
	}
	close(fd);
	return kind;
}

static int format(const char *dev)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		execl("/sbin/mke2fs", "mke2fs", "-q", "-L", DATA_LABEL, dev, (char *)NULL);
		_exit(127);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0)
		return -1;
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : -1;
}

static void fallback(const char *why)
{
	init_log("WARNING: %s: /data is a tmpfs, NOTHING WRITTEN THERE WILL SURVIVE A REBOOT", why);
	if (mount("tmpfs", "/data", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=50%") < 0)
		init_log("mount tmpfs on /data: %s", strerror(errno));
}

void init_data(void)
{
	char dev[300], why[400];
	int kind;

	if (!find_device(dev, sizeof(dev))) {
		fallback("no block device is labelled " DATA_LABEL);
		return;
	}
	kind = probe(dev);
	if (kind < 0) {
		snprintf(why, sizeof(why), "%s holds something that is not an ext filesystem; "
			 "not formatting it", dev);
		fallback(why);
		return;
	}
	if (kind == 0) {
#ifdef BH_DATA_GROW
		struct bh_error err = {0};

		if (data_grow(dev + 5, &err) < 0)
			init_log("data: %s keeps its size: %s", dev, err.msg);
#endif
		init_log("data: %s is blank: formatting it (first boot)", dev);
		if (format(dev) < 0) {
			snprintf(why, sizeof(why), "formatting %s failed", dev);
			fallback(why);
			return;
		}
	}
	if (mount(dev, "/data", "ext4", MS_NOSUID | MS_NODEV | MS_NOATIME, NULL) < 0) {
		snprintf(why, sizeof(why), "mount %s on /data: %s", dev, strerror(errno));
		fallback(why);
		return;
	}
	init_log("data: %s mounted on /data", dev);
}
