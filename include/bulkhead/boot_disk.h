/* The disk this system booted from (firmware/lib/boot_disk.c): where init
 * and bhd look for /data, the ESP and the slots by their partition names,
 * so that another disk whose partitions carry the same names (a USB stick)
 * cannot stand in for them. */
#ifndef BULKHEAD_BOOT_DISK_H
#define BULKHEAD_BOOT_DISK_H

#include <bulkhead/error.h>

#include <stdbool.h>
#include <stddef.h>

/* The name of the disk (e.g. "nvme0n1") holding the partition under the
 * root's device-mapper (dm-verity) device, whose contents the root hash
 * in the signed UKI vouches for. -1 with err set when the root is not a
 * device-mapper device on a partition (a board booting its kernel
 * directly, with / on a whole disk). sys is the sysfs root ("/sys";
 * tests pass a fake tree) and root_dev the root's device number. */
int bh_boot_disk_at(const char *sys, unsigned int major, unsigned int minor, char *disk,
		    size_t size, struct bh_error *err);
int bh_boot_disk(char *disk, size_t size, struct bh_error *err);
/* Whether the block device part (e.g. "nvme0n1p4") is a partition of disk. */
bool bh_is_partition_of_at(const char *sys, const char *part, const char *disk);
bool bh_is_partition_of(const char *part, const char *disk);

#endif
