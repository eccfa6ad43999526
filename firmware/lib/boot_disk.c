/* The disk this system booted from, found from the root: / is a
 * device-mapper (dm-verity) device whose only slave is the booted slot's
 * partition, which sysfs places under its disk. No partition name and no
 * UUID is trusted for this: names can be copied to any stick, and the
 * slot's contents are what the signed root hash vouches for. */
#include <bulkhead/boot_disk.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

int bh_boot_disk_at(const char *sys, unsigned int major, unsigned int minor, char *disk,
		    size_t size, struct bh_error *err)
{
	char path[PATH_MAX], link[PATH_MAX], slave[256] = "", *end, *start;
	struct dirent *e;
	ssize_t n;
	DIR *d;

	snprintf(path, sizeof(path), "%s/dev/block/%u:%u/slaves", sys, major, minor);
	d = opendir(path);
	if (!d)
		return bh_error(err, errno, "the root (%u:%u) is not a device-mapper device: %s",
				major, minor, path);
	while ((e = readdir(d)))
		if (e->d_name[0] != '.') {
			if (slave[0]) {
				char other[256];

				snprintf(other, sizeof(other), "%s", e->d_name);
				closedir(d);
				return bh_error(err, 0, "the root (%u:%u) sits on more than one device "
						"(%s and %s)", major, minor, slave, other);
			}
			snprintf(slave, sizeof(slave), "%s", e->d_name);
		}
	closedir(d);
	if (!slave[0])
		return bh_error(err, 0, "the root's device-mapper device (%u:%u) has no slave",
				major, minor);
	/* /sys/class/block/vda2 -> ../../devices/.../block/vda/vda2 */
	snprintf(path, sizeof(path), "%s/class/block/%s", sys, slave);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0)
		return bh_error(err, errno, "readlink %s", path);
	link[n] = 0;
	end = strrchr(link, '/');
	if (!end || strcmp(end + 1, slave))
		return bh_error(err, 0, "%s: unexpected link %s", path, link);
	*end = 0;
	start = strrchr(link, '/');
	start = start ? start + 1 : link;
	if (!strcmp(start, "block"))
		return bh_error(err, 0, "the root's device %s is a whole disk, not a partition", slave);
	if ((size_t)snprintf(disk, size, "%s", start) >= size)
		return bh_error(err, ENAMETOOLONG, "disk name %s", start);
	return 0;
}

int bh_boot_disk(char *disk, size_t size, struct bh_error *err)
{
	struct stat st;

	if (stat("/", &st) < 0)
		return bh_error(err, errno, "stat /");
	return bh_boot_disk_at("/sys", major(st.st_dev), minor(st.st_dev), disk, size, err);
}

bool bh_is_partition_of_at(const char *sys, const char *part, const char *disk)
{
	char path[PATH_MAX];
	struct stat st;

	if (strchr(part, '/') || strchr(disk, '/') || !strcmp(part, ".") || !strcmp(part, ".."))
		return false;
	snprintf(path, sizeof(path), "%s/class/block/%s/%s/partition", sys, disk, part);
	return stat(path, &st) == 0;
}

bool bh_is_partition_of(const char *part, const char *disk)
{
	return bh_is_partition_of_at("/sys", part, disk);
}
