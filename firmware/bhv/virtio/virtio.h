/* virtio-mmio devices (virtio 1.x, 4.2: the version 2 register layout).
 *
 * The transport (virtio_mmio.c) owns the registers, feature negotiation and
 * the queues; each device type is one file with a private state struct
 * and an ops table. Register accesses arrive on vCPU threads, queue work
 * runs on the device thread: both take the device's lock.
 *
 * A driver that breaks the rules gets the device marked DEVICE_NEEDS_RESET
 * (virtio 1.x, 2.1.1) and a configuration interrupt; the device then does
 * nothing more until the driver resets it. */
#ifndef BHV_VIRTIO_H
#define BHV_VIRTIO_H

#include "guest_mem.h"
#include "virtq.h"

#include <bulkhead/error.h>

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#define VIRTIO_MAX_QUEUES 2
#define VIRTIO_MMIO_SIZE  0x1000
#define VIRTIO_CONFIG_MAX 64
#define VIRTIO_VENDOR_ID  0x00766862 /* "bhv" */

struct virtio_dev;

struct virtio_ops {
	uint32_t device_id;
	unsigned num_queues;
	uint64_t features; /* beyond VIRTIO_F_VERSION_1, which is always offered */
	uint32_t config_size;
	/* Fills the device's configuration space (config_size bytes). */
	void (*get_config)(struct virtio_dev *d, uint8_t *config);
	/* Processes queue q; called with the lock held, device running. */
	void (*process)(struct virtio_dev *d, unsigned q);
	/* Drops the device's own state on a reset (optional). */
	void (*reset)(struct virtio_dev *d);
};

struct virtio_dev {
	const struct virtio_ops *ops;
	const char *name;
	void *priv;
	const struct guest_mem *gm;
	pthread_mutex_t lock;
	uint64_t base;                    /* MMIO address */
	unsigned irq;                     /* interrupt line (GSI on x86_64, SPI on ARM64) */
	int irq_fd;                       /* eventfd bound to the line with KVM_IRQFD, or -1 */
	int notify_fd[VIRTIO_MAX_QUEUES]; /* eventfds the device thread waits on */
	/* Registers. */
	uint64_t driver_features;
	uint32_t dev_features_sel, drv_features_sel, queue_sel;
	uint32_t status, isr, config_generation;
	struct virtq vq[VIRTIO_MAX_QUEUES];
	bool reported; /* the broken state was logged once */
};

/* Sets up the transport state; the eventfds are created by the caller. */
void virtio_init(struct virtio_dev *d, const struct virtio_ops *ops, const char *name, void *priv,
                 const struct guest_mem *gm);

/* Frees a device made by one of the constructors below. */
void virtio_free(struct virtio_dev *d);

/* MMIO accesses at offset off of the device's window, from a vCPU. */
void virtio_mmio_read(struct virtio_dev *d, uint64_t off, void *data, uint32_t len);
void virtio_mmio_write(struct virtio_dev *d, uint64_t off, const void *data, uint32_t len);

/* Runs the device on queue q (after a QueueNotify), on the device thread. */
void virtio_process(struct virtio_dev *d, unsigned q);

/* Whether the driver has finished setting the device up and the device is
 * not broken: only then does it touch the queues. */
bool virtio_running(const struct virtio_dev *d);

/* For the devices: report used buffers, or give up on a broken driver. */
void virtio_used_interrupt(struct virtio_dev *d);
void virtio_set_broken(struct virtio_dev *d, const char *why);

/* Pulses an interrupt line bound with KVM_IRQFD. */
void irq_pulse(int fd);

/* --- The device types ---------------------------------------------------- */

/* Block: a raw image file; read_only refuses writes. */
struct virtio_dev *virtio_blk_new(int fd, bool read_only, const char *name,
                                  const struct guest_mem *gm, struct bh_error *err);
/* Entropy from getrandom(). */
struct virtio_dev *virtio_rng_new(const struct guest_mem *gm, struct bh_error *err);
/* Console (hvc0): output to out_fd, input from virtio_console_input(). */
struct virtio_dev *virtio_console_new(int out_fd, const struct guest_mem *gm, struct bh_error *err);
size_t virtio_console_input(struct virtio_dev *d, const uint8_t *buf, size_t len);
/* Puts its output under a rate limit (console_limit.h). */
struct console_limit;
void virtio_console_set_limit(struct virtio_dev *d, struct console_limit *limit);
/* Network: frames to and from an open tap fd. */
struct virtio_dev *virtio_net_new(int tap_fd, const uint8_t mac[6], const struct guest_mem *gm,
                                  struct bh_error *err);
/* Reads frames from the tap into the receive queue; false when the guest
 * has no buffer left (stop polling the tap until it adds some). */
bool virtio_net_receive(struct virtio_dev *d);
bool virtio_net_rx_ready(struct virtio_dev *d);
/* The header a frame the guest sends goes out with: false when the
 * guest's asks for an offload (the frame is then dropped and counted),
 * else out is all zeros. */
struct virtio_net_hdr_v1;
bool virtio_net_tx_header(const struct virtio_net_hdr_v1 *guest, struct virtio_net_hdr_v1 *out);
/* How many frames were dropped for their header since the device began. */
uint64_t virtio_net_tx_refused(struct virtio_dev *d);

#endif
