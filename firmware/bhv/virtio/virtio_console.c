/* virtio-console (virtio 1.x, 5.3) with a single port, hvc0 in the guest:
 * the transmit queue goes to the monitor's console output, input waits in
 * a small buffer until the guest posts receive buffers. */
#include "virtio.h"

#include "console_limit.h"

#include <errno.h>
#include <linux/virtio_ids.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CONSOLE_RX_QUEUE 0
#define CONSOLE_TX_QUEUE 1
#define CONSOLE_PENDING  4096

struct console {
	struct virtio_dev dev;
	int out_fd;
	struct console_limit *limit; /* shared with the UART, or NULL */
	uint8_t pending[CONSOLE_PENDING];
	size_t n_pending;
	struct virtq_elem elem;
};

static void write_all(int fd, const void *buf, size_t len)
{
	const uint8_t *p = buf;

	while (len > 0) {
		ssize_t r = write(fd, p, len);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return; /* the reader went away: output is dropped */
		p += r;
		len -= (size_t)r;
	}
}

static bool transmit(struct console *c, struct virtq *vq)
{
	bool used = false;
	int r;

	while ((r = virtq_pop(vq, c->dev.gm, &c->elem)) > 0) {
		/* Over the rate limit the rest of the buffer is dropped (and
		 * counted), but the buffer is used: the queue never stalls. */
		for (unsigned i = 0; i < c->elem.n_out; i++)
			write_all(c->out_fd, c->elem.iov[i].iov_base,
			          console_limit_take(c->limit, c->elem.iov[i].iov_len));
		virtq_push(vq, c->elem.head, 0);
		used = true;
	}
	if (r < 0)
		virtio_set_broken(&c->dev, vq->error);
	return used;
}

static bool receive(struct console *c, struct virtq *vq)
{
	bool used = false;
	int r = 0;

	while (c->n_pending > 0 && (r = virtq_pop(vq, c->dev.gm, &c->elem)) > 0) {
		size_t n = iov_from_buf(c->elem.iov + c->elem.n_out, c->elem.n_in, 0, c->pending,
		                        c->n_pending);

		memmove(c->pending, c->pending + n, c->n_pending - n);
		c->n_pending -= n;
		virtq_push(vq, c->elem.head, (uint32_t)n);
		used = true;
	}
	if (r < 0)
		virtio_set_broken(&c->dev, vq->error);
	return used;
}

static void console_process(struct virtio_dev *d, unsigned q)
{
	struct console *c = d->priv;
	struct virtq *vq = &d->vq[q];
	bool used = q == CONSOLE_TX_QUEUE ? transmit(c, vq) : receive(c, vq);

	if (used && virtq_wants_interrupt(vq))
		virtio_used_interrupt(d);
}

size_t virtio_console_input(struct virtio_dev *d, const uint8_t *buf, size_t len)
{
	struct console *c = d->priv;
	size_t take;

	pthread_mutex_lock(&d->lock);
	take = CONSOLE_PENDING - c->n_pending;
	if (take > len)
		take = len;
	memcpy(c->pending + c->n_pending, buf, take);
	c->n_pending += take;
	if (virtio_running(d) && d->vq[CONSOLE_RX_QUEUE].ready)
		console_process(d, CONSOLE_RX_QUEUE);
	pthread_mutex_unlock(&d->lock);
	return take;
}

static void console_config(struct virtio_dev *d, uint8_t *out)
{
	/* cols, rows, max_nr_ports, emerg_wr: meaningful only with features
	 * we do not offer, so all zero. */
	memset(out, 0, d->ops->config_size);
}

static void console_reset(struct virtio_dev *d)
{
	struct console *c = d->priv;

	c->n_pending = 0;
}

static const struct virtio_ops console_ops = {
    .device_id = VIRTIO_ID_CONSOLE,
    .num_queues = 2,
    .config_size = 12,
    .get_config = console_config,
    .process = console_process,
    .reset = console_reset,
};

void virtio_console_set_limit(struct virtio_dev *d, struct console_limit *limit)
{
	struct console *c = d->priv;

	c->limit = limit;
}

struct virtio_dev *virtio_console_new(int out_fd, const struct guest_mem *gm, struct bh_error *err)
{
	struct console *c = calloc(1, sizeof(*c));

	if (!c)
		return bh_error(err, ENOMEM, "virtio-console"), NULL;
	c->out_fd = out_fd;
	virtio_init(&c->dev, &console_ops, "console", c, gm);
	return &c->dev;
}
