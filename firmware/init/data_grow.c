/* Grows /data to the end of its disk, at every boot.
 *
 * disk.img is a few hundred MiB; the disk it is flashed to is usually far
 * larger, and the space after the image would otherwise stay unused. When
 * the bulkhead-data GPT partition is the last one on the disk and the disk
 * has room after it, the partition is extended to the last usable sector
 * (1 MiB aligned), the backup GPT moved to the disk's end where it
 * belongs, and the kernel told the new size (BLKPG, as the disk's root
 * slot is in use). Its start never moves, so a filesystem on it is
 * untouched; once /data is mounted, resize2fs grows the filesystem to the
 * partition online (the kernel's resize, journaled like any change), so a
 * gateway moved to a larger disk, or a filesystem an earlier image left
 * at the old size, grows too. Anything unexpected (not GPT, a bad CRC,
 * another partition behind /data) leaves the disk as it is: /data then
 * keeps its size.
 *
 * Write order, for a power cut at any point: the new backup GPT at the
 * disk's end first (outside every partition), then the protective MBR's
 * size, then the primary entries and header. A cut before the primary header leaves either the old primary
 * (still valid) or, should only its entries be new, a primary the kernel
 * rejects by CRC in favour of the new backup: the same table either way. */
#include "init.h"

#include <bulkhead/error.h>

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <linux/blkpg.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define GPT_HEADER_SIZE 92
#define MIB             (1024 * 1024)

struct gpt_header {
	char signature[8];
	uint32_t revision, header_size, header_crc, reserved;
	uint64_t my_lba, alternate_lba, first_usable, last_usable;
	uint8_t disk_guid[16];
	uint64_t entries_lba;
	uint32_t n_entries, entry_size, entries_crc;
} __attribute__((packed));

struct gpt_entry {
	uint8_t type[16], guid[16];
	uint64_t first_lba, last_lba, attributes;
	uint16_t name[36];
} __attribute__((packed));

/* CRC-32 (IEEE 802.3), as GPT uses it. */
static uint32_t crc32(const void *data, size_t len)
{
	const uint8_t *p = data;
	uint32_t c = 0xffffffffu;

	while (len--) {
		c ^= *p++;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1)));
	}
	return ~c;
}

static uint32_t header_crc(struct gpt_header *h)
{
	uint32_t saved = h->header_crc, c;

	h->header_crc = 0;
	c = crc32(h, GPT_HEADER_SIZE);
	h->header_crc = saved;
	return c;
}

static bool name_is(const struct gpt_entry *e, const char *want)
{
	for (size_t i = 0; i < 36; i++) {
		if (e->name[i] != (uint8_t)want[i])
			return false;
		if (!want[i])
			return true;
	}
	return false;
}

static int sysfs_read(const char *path, char *buf, size_t size)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, buf, size - 1);

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	return 0;
}

static int pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	return pwrite(fd, buf, len, off) == (ssize_t)len ? 0 : -1;
}

/* part: a partition name such as "nvme0n1p4". Returns 1 when it grew, 0
 * when nothing was to be done, -1 with err set when it could not. */
int data_grow(const char *part, struct bh_error *err)
{
	char path[320], real[PATH_MAX], disk[64], buf[64], *slash;
	struct gpt_header h, b;
	uint8_t mbr[512];
	struct gpt_entry *entries = NULL, *e;
	uint64_t bytes, total, ss, entries_bytes, entries_lbas, last_usable, new_last, old_last;
	struct blkpg_partition bp = {0};
	struct blkpg_ioctl_arg arg = {.op = BLKPG_RESIZE_PARTITION, .datalen = sizeof(bp), .data = &bp};
	ssize_t n;
	int fd, pno, rc = -1;

	/* /sys/class/block/<part> links into its disk's folder. */
	snprintf(path, sizeof(path), "/sys/class/block/%s/partition", part);
	if (sysfs_read(path, buf, sizeof(buf)) < 0)
		return 0; /* a whole disk (QEMU's serial-labelled one): nothing to grow */
	pno = atoi(buf);
	snprintf(path, sizeof(path), "/sys/class/block/%s/..", part);
	if (!realpath(path, real) || !(slash = strrchr(real, '/')))
		return bh_error(err, errno, "find the disk of %s", part);
	snprintf(disk, sizeof(disk), "%s", slash + 1);
	snprintf(path, sizeof(path), "/sys/block/%s/queue/logical_block_size", disk);
	ss = sysfs_read(path, buf, sizeof(buf)) == 0 ? strtoull(buf, NULL, 10) : 512;
	snprintf(path, sizeof(path), "/dev/%s", disk);
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return bh_error(err, errno, "open %s", path);
	if (ioctl(fd, BLKGETSIZE64, &bytes) < 0) {
		bh_error(err, errno, "size of %s", path);
		goto out;
	}
	total = bytes / ss;
	if (pread(fd, &h, sizeof(h), (off_t)ss) != (ssize_t)sizeof(h) || memcmp(h.signature, "EFI PART", 8) ||
	    h.header_size != GPT_HEADER_SIZE || h.header_crc != header_crc(&h) || h.my_lba != 1 ||
	    h.entry_size != sizeof(struct gpt_entry) || h.n_entries == 0 || h.n_entries > 1024 ||
	    pno < 1 || (uint32_t)pno > h.n_entries) {
		bh_error(err, 0, "%s: no valid primary GPT header", path);
		goto out;
	}
	entries_bytes = (uint64_t)h.n_entries * h.entry_size;
	entries_lbas = (entries_bytes + ss - 1) / ss;
	entries = calloc(1, entries_lbas * ss);
	n = entries ? pread(fd, entries, entries_bytes, (off_t)(h.entries_lba * ss)) : -1;
	if (n != (ssize_t)entries_bytes || crc32(entries, entries_bytes) != h.entries_crc) {
		bh_error(err, 0, "%s: the GPT partition entries do not match their CRC", path);
		goto out;
	}
	e = &entries[pno - 1];
	if (!name_is(e, "bulkhead-data")) {
		bh_error(err, 0, "%s: partition %d is not bulkhead-data", path, pno);
		goto out;
	}
	for (uint32_t i = 0; i < h.n_entries; i++)
		if (entries[i].first_lba > e->last_lba) {
			rc = 0; /* another partition behind /data: leave the disk alone */
			goto out;
		}
	last_usable = total - 2 - entries_lbas;
	new_last = ((last_usable + 1) * ss / MIB * MIB) / ss - 1;
	old_last = e->last_lba;
	if (new_last < old_last + MIB / ss || total <= h.alternate_lba) {
		rc = 0; /* the disk has no room after the image */
		goto out;
	}
	e->last_lba = new_last;
	h.last_usable = last_usable;
	h.alternate_lba = total - 1;
	h.entries_crc = crc32(entries, entries_bytes);
	h.header_crc = header_crc(&h);
	b = h;
	b.my_lba = total - 1;
	b.alternate_lba = 1;
	b.entries_lba = total - 1 - entries_lbas;
	b.header_crc = header_crc(&b);
	/* The protective MBR's one partition covers the whole disk too. */
	if (pread(fd, mbr, sizeof(mbr), 0) == (ssize_t)sizeof(mbr) && mbr[510] == 0x55 &&
	    mbr[511] == 0xaa && mbr[446 + 4] == 0xee) {
		uint32_t size = total - 1 > 0xffffffffu ? 0xffffffffu : (uint32_t)(total - 1);

		for (int i = 0; i < 4; i++)
			mbr[446 + 12 + i] = (uint8_t)(size >> (8 * i));
	} else {
		bh_error(err, 0, "%s: no protective MBR", path);
		goto out;
	}
	if (pwrite_all(fd, entries, entries_lbas * ss, (off_t)(b.entries_lba * ss)) < 0 ||
	    pwrite_all(fd, &b, sizeof(b), (off_t)(b.my_lba * ss)) < 0 || fsync(fd) < 0 ||
	    pwrite_all(fd, mbr, sizeof(mbr), 0) < 0 ||
	    pwrite_all(fd, entries, entries_lbas * ss, (off_t)(h.entries_lba * ss)) < 0 ||
	    pwrite_all(fd, &h, sizeof(h), (off_t)ss) < 0 || fsync(fd) < 0) {
		bh_error(err, errno, "write the GPT of %s", path);
		goto out;
	}
	bp.pno = pno;
	bp.start = (long long)(e->first_lba * ss);
	bp.length = (long long)((new_last - e->first_lba + 1) * ss);
	if (ioctl(fd, BLKPG, &arg) < 0) {
		bh_error(err, errno, "tell the kernel the new size of %s (the table is written; it "
			 "applies from the next boot)", part);
		goto out;
	}
	init_log("data: grew %s to the end of %s: %llu MiB, was %llu MiB", part, disk,
		 (unsigned long long)((new_last - e->first_lba + 1) * ss / MIB),
		 (unsigned long long)((old_last - e->first_lba + 1) * ss / MIB));
	rc = 1;
out:
	free(entries);
	close(fd);
	return rc;
}

/* The size of the filesystem on dev from its superblock: blocks count
 * (with its high half when 64bit) times the block size. 0 when unknown. */
static uint64_t fs_bytes(const char *dev)
{
	uint8_t sb[1024];
	uint64_t blocks;
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : pread(fd, sb, sizeof(sb), 1024);

	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)sizeof(sb) || (sb[56] | sb[57] << 8) != 0xEF53 || sb[24] > 6)
		return 0;
	blocks = (uint64_t)sb[4] | (uint64_t)sb[5] << 8 | (uint64_t)sb[6] << 16 | (uint64_t)sb[7] << 24;
	if (sb[0x60] & 0x80) /* s_feature_incompat & EXT4_FEATURE_INCOMPAT_64BIT */
		blocks |= ((uint64_t)sb[0x150] | (uint64_t)sb[0x151] << 8 | (uint64_t)sb[0x152] << 16 |
			   (uint64_t)sb[0x153] << 24) << 32;
	return blocks << (10 + sb[24]);
}

void data_grow_fs(const char *dev, struct data_status *st)
{
	char *const argv[] = {"/sbin/resize2fs", (char *)dev, NULL};
	uint64_t part = 0, before = fs_bytes(dev), after;
	int fd = open(dev, O_RDONLY | O_CLOEXEC), status;

	if (fd < 0 || ioctl(fd, BLKGETSIZE64, &part) < 0) {
		init_log("data: size of %s: %s", dev, bh_strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	/* Less than a MiB is rounding, not room. */
	if (before == 0 || part < before + MIB)
		return;
	init_log("data: the filesystem on %s is %llu MiB, its partition %llu MiB: growing it "
		 "(resize2fs, online)", dev, (unsigned long long)(before / MIB),
		 (unsigned long long)(part / MIB));
	status = data_run(argv);
	after = fs_bytes(dev);
	if (status != 0 || after <= before) {
		init_log("data: resize2fs %s failed (exit status %d): /data keeps %llu MiB", dev, status,
			 (unsigned long long)(before / MIB));
		return;
	}
	st->fs_grown = true;
	init_log("data: grew the filesystem on %s to %llu MiB, was %llu MiB", dev,
		 (unsigned long long)(after / MIB), (unsigned long long)(before / MIB));
}
