/* virtio-rng (virtio 1.x, 5.4): fills the guest's buffers from getrandom(). */
#include "virtio.h"

#include <errno.h>
#include <linux/virtio_ids.h>
#include <stdlib.h>
#include <sys/random.h>

/* Bytes per request: the guest asks again if it wants more, and a huge
 * buffer never keeps the device thread busy. */
#define RNG_REQUEST_MAX (64 * 1024)

struct rng {
	struct virtio_dev dev;
	struct virtq_elem elem;
};

static size_t fill(const struct iovec *iov, unsigned n)
{
	size_t done = 0;

	for (unsigned i = 0; i < n && done < RNG_REQUEST_MAX; i++) {
		size_t want = iov[i].iov_len;
		ssize_t r;

		if (want > RNG_REQUEST_MAX - done)
			want = RNG_REQUEST_MAX - done;
		r = getrandom(iov[i].iov_base, want, 0);
		if (r <= 0)
			break;
		done += (size_t)r;
		if ((size_t)r < want)
			break;
	}
	return done;
}

static void rng_process(struct virtio_dev *d, unsigned q)
{
	struct rng *g = d->priv;
	struct virtq *vq = &d->vq[q];
	bool used = false;
	int r;

	while ((r = virtq_pop(vq, d->gm, &g->elem)) > 0) {
		/* Readable buffers have no meaning here; they are ignored. */
		virtq_push(vq, g->elem.head,
		           (uint32_t)fill(g->elem.iov + g->elem.n_out, g->elem.n_in));
		used = true;
	}
	if (r < 0)
		virtio_set_broken(d, vq->error);
	if (used && virtq_wants_interrupt(vq))
		virtio_used_interrupt(d);
}

static void rng_config(struct virtio_dev *d, uint8_t *out)
{
}

static const struct virtio_ops rng_ops = {
    .device_id = VIRTIO_ID_RNG,
    .num_queues = 1,
    .config_size = 0,
    .get_config = rng_config,
    .process = rng_process,
};

struct virtio_dev *virtio_rng_new(const struct guest_mem *gm, struct bh_error *err)
{
	struct rng *g = calloc(1, sizeof(*g));

	if (!g)
		return bh_error(err, ENOMEM, "virtio-rng"), NULL;
	virtio_init(&g->dev, &rng_ops, "rng", g, gm);
	return &g->dev;
}
