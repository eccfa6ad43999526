/* virtio-blk (virtio 1.x, 5.2) over a raw image file. Every request is
 * checked before any I/O: header size, data length a whole number of
 * sectors, the sector range inside the disk, writes refused on a read-only
 * disk. A bad request fails alone, with VIRTIO_BLK_S_IOERR or _UNSUPP. */
#include "virtio.h"

#include <errno.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SECTOR 512ULL
/* Data segments per request we announce (seg_max); the header and the
 * status byte take two more descriptors. */
#define BLK_SEG_MAX (VIRTQ_CHAIN_MAX - 2)

struct blk {
	struct virtio_dev dev;
	int fd;
	bool read_only;
	uint64_t sectors;
	char id[VIRTIO_BLK_ID_BYTES];
	struct virtq_elem elem;
	struct iovec seg[VIRTQ_CHAIN_MAX];
};

static void blk_config(struct virtio_dev *d, uint8_t *out)
{
	struct blk *b = d->priv;
	struct virtio_blk_config c;

	memset(&c, 0, sizeof(c));
	c.capacity = b->sectors;
	c.seg_max = BLK_SEG_MAX;
	memcpy(out, &c, d->ops->config_size);
}

/* Reads or writes bytes [off, off + len) of the disk through iovecs; the
 * file is never touched outside the range the caller checked. */
static int blk_rw(struct blk *b, const struct iovec *iov, int n, uint64_t off, bool write_op)
{
	for (int i = 0; i < n; i++) {
		uint8_t *p = iov[i].iov_base;
		size_t left = iov[i].iov_len;

		while (left > 0) {
			ssize_t r = write_op ? pwrite(b->fd, p, left, (off_t)off)
			                     : pread(b->fd, p, left, (off_t)off);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				return -1;
			p += r;
			left -= (size_t)r;
			off += (uint64_t)r;
		}
	}
	return 0;
}

static bool in_disk(const struct blk *b, uint64_t sector, uint64_t bytes)
{
	return bytes % SECTOR == 0 && sector <= b->sectors && bytes / SECTOR <= b->sectors - sector;
}

/* Handles one request; returns the bytes written into the guest's buffers. */
static uint32_t blk_request(struct blk *b, const struct virtq_elem *e)
{
	struct virtio_blk_outhdr h;
	uint8_t status = VIRTIO_BLK_S_OK;
	uint64_t len = 0, written = 0;
	const struct iovec *in = e->iov + e->n_out;
	int n;

	/* Without a header and a status byte there is nothing to answer. */
	if (e->out_len < sizeof(h) || e->in_len < 1)
		return 0;
	iov_to_buf(e->iov, e->n_out, 0, &h, sizeof(h));
	switch (h.type) {
	case VIRTIO_BLK_T_IN:
		len = e->in_len - 1;
		n = iov_range(in, e->n_in, 0, len, b->seg, VIRTQ_CHAIN_MAX);
		if (!in_disk(b, h.sector, len) || n < 0 ||
		    blk_rw(b, b->seg, n, h.sector * SECTOR, false) < 0)
			status = VIRTIO_BLK_S_IOERR;
		else
			written = len;
		break;
	case VIRTIO_BLK_T_OUT:
		len = e->out_len - sizeof(h);
		n = iov_range(e->iov, e->n_out, sizeof(h), len, b->seg, VIRTQ_CHAIN_MAX);
		if (b->read_only || !in_disk(b, h.sector, len) || n < 0 ||
		    blk_rw(b, b->seg, n, h.sector * SECTOR, true) < 0)
			status = VIRTIO_BLK_S_IOERR;
		break;
	case VIRTIO_BLK_T_FLUSH:
		if (!b->read_only && fdatasync(b->fd) < 0)
			status = VIRTIO_BLK_S_IOERR;
		break;
	case VIRTIO_BLK_T_GET_ID:
		len = e->in_len - 1 < sizeof(b->id) ? e->in_len - 1 : sizeof(b->id);
		written = iov_from_buf(in, e->n_in, 0, b->id, len);
		break;
	default:
		status = VIRTIO_BLK_S_UNSUPP;
		break;
	}
	iov_from_buf(in, e->n_in, e->in_len - 1, &status, 1);
	return (uint32_t)(written + 1);
}

static void blk_process(struct virtio_dev *d, unsigned q)
{
	struct blk *b = d->priv;
	struct virtq *vq = &d->vq[q];
	bool used = false;
	int r;

	while ((r = virtq_pop(vq, d->gm, &b->elem)) > 0) {
		virtq_push(vq, b->elem.head, blk_request(b, &b->elem));
		used = true;
	}
	if (r < 0)
		virtio_set_broken(d, vq->error);
	if (used && virtq_wants_interrupt(vq))
		virtio_used_interrupt(d);
}

static const struct virtio_ops blk_ops = {
    .device_id = VIRTIO_ID_BLOCK,
    .num_queues = 1,
    .features = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_FLUSH) |
                (1ULL << VIRTIO_RING_F_INDIRECT_DESC),
    .config_size = 16, /* capacity, size_max, seg_max */
    .get_config = blk_config,
    .process = blk_process,
};

static const struct virtio_ops blk_ro_ops = {
    .device_id = VIRTIO_ID_BLOCK,
    .num_queues = 1,
    .features = (1ULL << VIRTIO_BLK_F_SEG_MAX) | (1ULL << VIRTIO_BLK_F_FLUSH) |
                (1ULL << VIRTIO_BLK_F_RO) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC),
    .config_size = 16,
    .get_config = blk_config,
    .process = blk_process,
};

struct virtio_dev *virtio_blk_new(int fd, bool read_only, const char *name,
                                  const struct guest_mem *gm, struct bh_error *err)
{
	struct blk *b;
	struct stat st;

	if (fstat(fd, &st) < 0)
		return bh_error(err, errno, "stat disk %s", name), NULL;
	if (!S_ISREG(st.st_mode) && !S_ISBLK(st.st_mode))
		return bh_error(err, 0, "disk %s: not a file or block device", name), NULL;
	b = calloc(1, sizeof(*b));
	if (!b)
		return bh_error(err, ENOMEM, "disk %s", name), NULL;
	b->fd = fd;
	b->read_only = read_only;
	if (S_ISBLK(st.st_mode)) {
		off_t end = lseek(fd, 0, SEEK_END);

		st.st_size = end < 0 ? 0 : end;
	}
	/* A partial last sector is not visible to the guest. */
	b->sectors = (uint64_t)st.st_size / SECTOR;
	memcpy(b->id, name, strnlen(name, sizeof(b->id)));
	virtio_init(&b->dev, read_only ? &blk_ro_ops : &blk_ops, name, b, gm);
	return &b->dev;
}
