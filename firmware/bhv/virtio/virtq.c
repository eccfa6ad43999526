/* Split virtqueues, device side. The driver (the guest) can rewrite any
 * byte of the rings at any moment, also while the device reads them, so
 * each field is read exactly once into a local copy and checked there. */
#include "virtq.h"

#include <linux/virtio_ring.h>
#include <string.h>

/* Entries of one indirect table. Linux never uses more than the queue
 * size; the limit keeps a hostile table from costing more than a chain. */
#define VIRTQ_INDIRECT_MAX VIRTQ_CHAIN_MAX

static int broken(struct virtq *vq, const char *why)
{
	vq->error = why;
	return -1;
}

void virtq_reset(struct virtq *vq)
{
	memset(vq, 0, sizeof(*vq));
}

int virtq_start(struct virtq *vq, const struct guest_mem *gm)
{
	uint64_t n = vq->size;

	vq->error = NULL;
	if (n == 0 || n > VIRTQ_SIZE_MAX || (n & (n - 1)))
		return broken(vq, "queue size is not a power of two up to QueueNumMax");
	/* Alignments of virtio 1.x, 2.7 "Split Virtqueues". */
	if ((vq->desc_gpa & 15) || (vq->avail_gpa & 1) || (vq->used_gpa & 3))
		return broken(vq, "ring address is misaligned");
	vq->desc = gm_ptr(gm, vq->desc_gpa, 16 * n);
	vq->avail = gm_ptr(gm, vq->avail_gpa, 6 + 2 * n);
	vq->used = gm_ptr(gm, vq->used_gpa, 6 + 8 * n);
	if (!vq->desc || !vq->avail || !vq->used)
		return broken(vq, "ring is outside guest memory");
	vq->last_avail = 0;
	vq->used_idx = 0;
	vq->ready = true;
	return 0;
}

static void read_desc(const struct vring_desc *table, uint16_t i, struct vring_desc *d)
{
	/* One copy: later checks never re-read guest memory. */
	memcpy(d, (const uint8_t *)table + (size_t)i * sizeof(*d), sizeof(*d));
}

static int add_buffer(struct virtq *vq, const struct guest_mem *gm, struct virtq_elem *e,
                      const struct vring_desc *d)
{
	void *p;

	if (d->len == 0)
		return 0;
	if (e->n_out + e->n_in >= VIRTQ_CHAIN_MAX)
		return broken(vq, "descriptor chain is too long");
	p = gm_ptr(gm, d->addr, d->len);
	if (!p)
		return broken(vq, "buffer is outside guest memory");
	if (d->flags & VRING_DESC_F_WRITE) {
		e->in_len += d->len;
		e->n_in++;
	} else {
		/* 2.7.4.2: readable descriptors come before writable ones. */
		if (e->n_in)
			return broken(vq, "readable descriptor after a writable one");
		e->out_len += d->len;
		e->n_out++;
	}
	e->iov[e->n_out + e->n_in - 1] = (struct iovec){p, d->len};
	return 0;
}

/* Walks the chain that starts at head, following at most one indirect
 * table; a chain visits each descriptor of a table at most once, so a
 * longer walk is a loop. */
static int walk_chain(struct virtq *vq, const struct guest_mem *gm, struct virtq_elem *e,
                      uint16_t head)
{
	const struct vring_desc *table = vq->desc;
	uint32_t table_size = vq->size, steps = 0;
	bool indirect = false;
	struct vring_desc d;
	uint16_t i = head;

	e->head = head;
	e->n_out = e->n_in = 0;
	e->out_len = e->in_len = 0;
	for (;;) {
		if (++steps > table_size)
			return broken(vq, "descriptor chain loops");
		read_desc(table, i, &d);
		if (d.flags & VRING_DESC_F_INDIRECT) {
			if (!vq->indirect)
				return broken(vq, "indirect descriptor without the feature");
			if (indirect)
				return broken(vq, "indirect table inside an indirect table");
			if (d.flags & VRING_DESC_F_NEXT)
				return broken(vq, "indirect descriptor with NEXT set");
			if (d.len == 0 || d.len % sizeof(d) ||
			    d.len / sizeof(d) > VIRTQ_INDIRECT_MAX)
				return broken(vq, "indirect table has a bad length");
			table = gm_ptr(gm, d.addr, d.len);
			if (!table)
				return broken(vq, "indirect table is outside guest memory");
			table_size = d.len / sizeof(d);
			indirect = true;
			steps = 0;
			i = 0;
			continue;
		}
		if (add_buffer(vq, gm, e, &d) < 0)
			return -1;
		if (!(d.flags & VRING_DESC_F_NEXT))
			return 0;
		if (d.next >= table_size)
			return broken(vq, "next descriptor index is out of range");
		i = d.next;
	}
}

int virtq_pop(struct virtq *vq, const struct guest_mem *gm, struct virtq_elem *e)
{
	uint16_t avail_idx, head;

	if (!vq->ready || vq->error)
		return vq->error ? -1 : 0;
	/* Acquire: the ring entries written before idx are visible after. */
	avail_idx = __atomic_load_n(&vq->avail->idx, __ATOMIC_ACQUIRE);
	if (avail_idx == vq->last_avail)
		return 0;
	if ((uint16_t)(avail_idx - vq->last_avail) > vq->size)
		return broken(vq, "available index moved by more than the queue size");
	head = __atomic_load_n(&vq->avail->ring[vq->last_avail % vq->size], __ATOMIC_RELAXED);
	if (head >= vq->size)
		return broken(vq, "available ring names a descriptor out of range");
	if (walk_chain(vq, gm, e, head) < 0)
		return -1;
	vq->last_avail++;
	return 1;
}

void virtq_push(struct virtq *vq, uint16_t head, uint32_t len)
{
	struct vring_used_elem *u = &vq->used->ring[vq->used_idx % vq->size];

	__atomic_store_n(&u->id, head, __ATOMIC_RELAXED);
	__atomic_store_n(&u->len, len, __ATOMIC_RELAXED);
	vq->used_idx++;
	/* Release: the element is visible before the index that publishes it. */
	__atomic_store_n(&vq->used->idx, vq->used_idx, __ATOMIC_RELEASE);
}

bool virtq_wants_interrupt(const struct virtq *vq)
{
	/* The used index store must be ordered before the flags load, or
	 * the driver could re-enable interrupts unseen and sleep forever. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return !(__atomic_load_n(&vq->avail->flags, __ATOMIC_RELAXED) & VRING_AVAIL_F_NO_INTERRUPT);
}

size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		size_t take;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		take = iov[i].iov_len - off;
		if (take > len - done)
			take = len - done;
		memcpy((uint8_t *)buf + done, (uint8_t *)iov[i].iov_base + off, take);
		done += take;
		off = 0;
	}
	return done;
}

size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t off, const void *buf, size_t len)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < len; i++) {
		size_t take;

		if (off >= iov[i].iov_len) {
			off -= iov[i].iov_len;
			continue;
		}
		take = iov[i].iov_len - off;
		if (take > len - done)
			take = len - done;
		memcpy((uint8_t *)iov[i].iov_base + off, (const uint8_t *)buf + done, take);
		done += take;
		off = 0;
	}
	return done;
}

int iov_range(const struct iovec *src, unsigned n, size_t off, size_t len, struct iovec *dst,
              unsigned max)
{
	unsigned out = 0;

	for (unsigned i = 0; i < n && len > 0; i++) {
		size_t take;

		if (off >= src[i].iov_len) {
			off -= src[i].iov_len;
			continue;
		}
		if (out == max)
			return -1;
		take = src[i].iov_len - off;
		if (take > len)
			take = len;
		dst[out++] = (struct iovec){(uint8_t *)src[i].iov_base + off, take};
		len -= take;
		off = 0;
	}
	return len ? -1 : (int)out;
}
