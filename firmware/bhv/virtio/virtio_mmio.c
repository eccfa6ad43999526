/* The virtio-mmio transport, version 2 (virtio 1.x, 4.2.2). Everything here
 * is written by the guest: the registers are checked against the state
 * machine of 3.1 "Device Initialization" and anything out of place is
 * ignored, or breaks the device when it would leave it inconsistent. */
#include "virtio.h"

#include <errno.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_ring.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void virtio_init(struct virtio_dev *d, const struct virtio_ops *ops, const char *name, void *priv,
                 const struct guest_mem *gm)
{
	memset(d, 0, sizeof(*d));
	d->ops = ops;
	d->name = name;
	d->priv = priv;
	d->gm = gm;
	d->irq_fd = -1;
	for (int q = 0; q < VIRTIO_MAX_QUEUES; q++)
		d->notify_fd[q] = -1;
	pthread_mutex_init(&d->lock, NULL);
}

void virtio_free(struct virtio_dev *d)
{
	/* Every device embeds its virtio_dev in the private state that priv
	 * points to, allocated in one piece by its constructor. */
	if (d) {
		pthread_mutex_destroy(&d->lock);
		free(d->priv);
	}
}

static uint64_t host_features(const struct virtio_dev *d)
{
	return d->ops->features | (1ULL << VIRTIO_F_VERSION_1);
}

void irq_pulse(int fd)
{
	uint64_t one = 1;

	if (fd >= 0 && write(fd, &one, sizeof(one)) < 0) {
		/* The counter cannot overflow in practice; nothing to do. */
	}
}

void virtio_used_interrupt(struct virtio_dev *d)
{
	d->isr |= VIRTIO_MMIO_INT_VRING;
	irq_pulse(d->irq_fd);
}

void virtio_set_broken(struct virtio_dev *d, const char *why)
{
	if (d->status & VIRTIO_CONFIG_S_NEEDS_RESET)
		return;
	d->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	d->isr |= VIRTIO_MMIO_INT_CONFIG;
	irq_pulse(d->irq_fd);
	/* Once per reset, so that a hostile guest cannot flood the log. */
	if (!d->reported) {
		char msg[160];
		int n =
		    snprintf(msg, sizeof(msg), "bhv: %s: guest driver error: %s\n", d->name, why);

		d->reported = true;
		if (n > 0 && write(STDERR_FILENO, msg, (size_t)n) < 0) {
			/* stderr is gone; the device state says it all. */
		}
	}
}

bool virtio_running(const struct virtio_dev *d)
{
	return (d->status & VIRTIO_CONFIG_S_DRIVER_OK) &&
	       !(d->status & (VIRTIO_CONFIG_S_NEEDS_RESET | VIRTIO_CONFIG_S_FAILED));
}

static void reset(struct virtio_dev *d)
{
	for (unsigned q = 0; q < VIRTIO_MAX_QUEUES; q++)
		virtq_reset(&d->vq[q]);
	d->driver_features = 0;
	d->dev_features_sel = d->drv_features_sel = d->queue_sel = 0;
	d->status = d->isr = 0;
	d->config_generation++;
	d->reported = false;
	if (d->ops->reset)
		d->ops->reset(d);
}

static struct virtq *selected(struct virtio_dev *d)
{
	return d->queue_sel < d->ops->num_queues ? &d->vq[d->queue_sel] : NULL;
}

/* 3.1.1 step 5: the device accepts FEATURES_OK only for a subset of what
 * it offered that includes VERSION_1 (no legacy interface here). */
static uint32_t checked_status(struct virtio_dev *d, uint32_t v)
{
	if ((v & VIRTIO_CONFIG_S_FEATURES_OK) && !(d->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
		if ((d->driver_features & ~host_features(d)) ||
		    !(d->driver_features & (1ULL << VIRTIO_F_VERSION_1)))
			v &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	}
	/* DRIVER_OK before FEATURES_OK is a driver bug. */
	if ((v & VIRTIO_CONFIG_S_DRIVER_OK) && !(v & VIRTIO_CONFIG_S_FEATURES_OK))
		v &= ~VIRTIO_CONFIG_S_DRIVER_OK;
	/* The driver never clears bits except by writing 0 (reset), and it
	 * cannot set NEEDS_RESET: that bit is the device's. */
	return d->status | (v & ~VIRTIO_CONFIG_S_NEEDS_RESET);
}

static void queue_ready(struct virtio_dev *d, struct virtq *vq, uint32_t v)
{
	if (!v) {
		virtq_reset(vq);
		return;
	}
	if (vq->ready)
		return;
	vq->indirect = d->driver_features & (1ULL << VIRTIO_RING_F_INDIRECT_DESC);
	if (virtq_start(vq, d->gm) < 0)
		virtio_set_broken(d, vq->error);
}

/* Writes to the queue registers count only before QueueReady. */
static void queue_write(struct virtio_dev *d, uint64_t off, uint32_t v)
{
	struct virtq *vq = selected(d);

	if (!vq || vq->ready)
		return;
	switch (off) {
	case VIRTIO_MMIO_QUEUE_NUM:
		vq->size = v > 0xffff ? 0 : (uint16_t)v;
		break;
	case VIRTIO_MMIO_QUEUE_DESC_LOW:
		vq->desc_gpa = (vq->desc_gpa & ~0xffffffffULL) | v;
		break;
	case VIRTIO_MMIO_QUEUE_DESC_HIGH:
		vq->desc_gpa = (vq->desc_gpa & 0xffffffffULL) | ((uint64_t)v << 32);
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_LOW:
		vq->avail_gpa = (vq->avail_gpa & ~0xffffffffULL) | v;
		break;
	case VIRTIO_MMIO_QUEUE_AVAIL_HIGH:
		vq->avail_gpa = (vq->avail_gpa & 0xffffffffULL) | ((uint64_t)v << 32);
		break;
	case VIRTIO_MMIO_QUEUE_USED_LOW:
		vq->used_gpa = (vq->used_gpa & ~0xffffffffULL) | v;
		break;
	case VIRTIO_MMIO_QUEUE_USED_HIGH:
		vq->used_gpa = (vq->used_gpa & 0xffffffffULL) | ((uint64_t)v << 32);
		break;
	}
}

static void notify(struct virtio_dev *d, uint32_t q)
{
	uint64_t one = 1;

	if (q >= d->ops->num_queues)
		return;
	if (d->notify_fd[q] >= 0) {
		/* The device thread does the work, under its narrower filter. */
		if (write(d->notify_fd[q], &one, sizeof(one)) < 0) {
			/* Counter overflow only; the thread is awake anyway. */
		}
	} else {
		/* Unit tests have no device thread: run synchronously. */
		if (virtio_running(d) && d->vq[q].ready)
			d->ops->process(d, q);
	}
}

static void register_write(struct virtio_dev *d, uint64_t off, uint32_t v)
{
	switch (off) {
	case VIRTIO_MMIO_DEVICE_FEATURES_SEL:
		d->dev_features_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES_SEL:
		d->drv_features_sel = v;
		break;
	case VIRTIO_MMIO_DRIVER_FEATURES:
		if (d->status & VIRTIO_CONFIG_S_FEATURES_OK || d->drv_features_sel > 1)
			break;
		if (d->drv_features_sel == 0)
			d->driver_features = (d->driver_features & ~0xffffffffULL) | v;
		else
			d->driver_features =
			    (d->driver_features & 0xffffffffULL) | ((uint64_t)v << 32);
		break;
	case VIRTIO_MMIO_QUEUE_SEL:
		d->queue_sel = v;
		break;
	case VIRTIO_MMIO_QUEUE_READY:
		if (selected(d) && (d->status & VIRTIO_CONFIG_S_FEATURES_OK))
			queue_ready(d, selected(d), v);
		break;
	case VIRTIO_MMIO_QUEUE_NOTIFY:
		notify(d, v);
		break;
	case VIRTIO_MMIO_INTERRUPT_ACK:
		d->isr &= ~v;
		break;
	case VIRTIO_MMIO_STATUS:
		if (v == 0)
			reset(d);
		else
			d->status = checked_status(d, v);
		break;
	default:
		queue_write(d, off, v);
		break;
	}
}

static uint32_t register_read(struct virtio_dev *d, uint64_t off)
{
	struct virtq *vq = selected(d);

	switch (off) {
	case VIRTIO_MMIO_MAGIC_VALUE:
		return 0x74726976; /* "virt" */
	case VIRTIO_MMIO_VERSION:
		return 2;
	case VIRTIO_MMIO_DEVICE_ID:
		return d->ops->device_id;
	case VIRTIO_MMIO_VENDOR_ID:
		return VIRTIO_VENDOR_ID;
	case VIRTIO_MMIO_DEVICE_FEATURES:
		if (d->dev_features_sel > 1)
			return 0;
		return (uint32_t)(host_features(d) >> (32 * d->dev_features_sel));
	case VIRTIO_MMIO_QUEUE_NUM_MAX:
		return vq ? VIRTQ_SIZE_MAX : 0;
	case VIRTIO_MMIO_QUEUE_READY:
		return vq ? vq->ready : 0;
	case VIRTIO_MMIO_INTERRUPT_STATUS:
		return d->isr;
	case VIRTIO_MMIO_STATUS:
		return d->status;
	case VIRTIO_MMIO_CONFIG_GENERATION:
		return d->config_generation;
	}
	return 0;
}

static bool config_access(const struct virtio_dev *d, uint64_t off, uint32_t len)
{
	return off >= VIRTIO_MMIO_CONFIG && off - VIRTIO_MMIO_CONFIG <= d->ops->config_size &&
	       len <= d->ops->config_size - (off - VIRTIO_MMIO_CONFIG) &&
	       (len == 1 || len == 2 || len == 4 || len == 8);
}

void virtio_mmio_read(struct virtio_dev *d, uint64_t off, void *data, uint32_t len)
{
	uint8_t config[VIRTIO_CONFIG_MAX];
	uint32_t v;

	memset(data, 0, len);
	pthread_mutex_lock(&d->lock);
	if (config_access(d, off, len)) {
		d->ops->get_config(d, config);
		memcpy(data, config + (off - VIRTIO_MMIO_CONFIG), len);
	} else if (off < VIRTIO_MMIO_CONFIG && len == 4 && !(off & 3)) {
		/* 4.2.2.2: the driver uses only aligned 32-bit accesses. */
		v = register_read(d, off);
		memcpy(data, &v, 4);
	}
	pthread_mutex_unlock(&d->lock);
}

void virtio_mmio_write(struct virtio_dev *d, uint64_t off, const void *data, uint32_t len)
{
	uint32_t v;

	/* Our devices have no writable configuration fields: writes to the
	 * configuration space are dropped like any other stray access. */
	if (off >= VIRTIO_MMIO_CONFIG || len != 4 || (off & 3))
		return;
	memcpy(&v, data, 4);
	pthread_mutex_lock(&d->lock);
	register_write(d, off, v);
	pthread_mutex_unlock(&d->lock);
}

void virtio_process(struct virtio_dev *d, unsigned q)
{
	if (q >= d->ops->num_queues)
		return;
	pthread_mutex_lock(&d->lock);
	if (virtio_running(d) && d->vq[q].ready)
		d->ops->process(d, q);
	pthread_mutex_unlock(&d->lock);
}
