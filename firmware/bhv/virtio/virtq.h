/* Split virtqueues (virtio 1.x, section 2.7) read by a device that trusts
 * nothing the driver wrote: ring addresses, indices, descriptor chains and
 * buffer addresses are all checked against guest memory and the queue's
 * limits. A queue that breaks a rule is broken for good (until the driver
 * resets the device); the reason is kept in vq->error. */
#ifndef BHV_VIRTQ_H
#define BHV_VIRTQ_H

#include "guest_mem.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

/* QueueNumMax: the largest ring the device accepts. */
#define VIRTQ_SIZE_MAX 256
/* Descriptors in one chain, counting those of an indirect table. */
#define VIRTQ_CHAIN_MAX 256

struct vring_desc;
struct vring_avail;
struct vring_used;

struct virtq {
	uint16_t size; /* QueueNum as the driver wrote it */
	bool ready;
	bool indirect; /* VIRTIO_RING_F_INDIRECT_DESC negotiated */
	uint64_t desc_gpa, avail_gpa, used_gpa;
	/* Host views of the rings, set by virtq_start() once checked. */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	uint16_t last_avail; /* the next avail entry the device takes */
	uint16_t used_idx;   /* the next used entry it fills */
	const char *error;   /* why the queue broke, or NULL */
};

/* One request: the device-readable buffers first, then the writable ones,
 * each already translated into host memory. */
struct virtq_elem {
	uint16_t head;
	unsigned n_out, n_in;
	uint64_t out_len, in_len;
	struct iovec iov[VIRTQ_CHAIN_MAX];
};

/* Forgets everything the driver set (device reset). */
void virtq_reset(struct virtq *vq);

/* Checks the size and the ring addresses the driver wrote and maps the
 * rings; -1 (with vq->error) when they do not fit the rules. */
int virtq_start(struct virtq *vq, const struct guest_mem *gm);

/* Takes the next available chain: 1 when one was taken, 0 when the ring is
 * empty, -1 when the driver broke a rule (vq->error says which). */
int virtq_pop(struct virtq *vq, const struct guest_mem *gm, struct virtq_elem *e);

/* Returns a chain to the driver with the number of bytes written into it. */
void virtq_push(struct virtq *vq, uint16_t head, uint32_t len);

/* Whether the driver wants an interrupt for what was pushed. */
bool virtq_wants_interrupt(const struct virtq *vq);

/* Copies between a flat buffer and bytes [off, off + len) of an iovec
 * array; return how many bytes were copied. */
size_t iov_to_buf(const struct iovec *iov, unsigned n, size_t off, void *buf, size_t len);
size_t iov_from_buf(const struct iovec *iov, unsigned n, size_t off, const void *buf, size_t len);

/* Describes bytes [off, off + len) of src as at most max iovecs in dst;
 * returns how many, or -1 when the range is not all inside src. */
int iov_range(const struct iovec *src, unsigned n, size_t off, size_t len, struct iovec *dst,
              unsigned max);

#endif
