/* Shared by bhv's libFuzzer harnesses: a guest memory whose every byte the
 * fuzzer writes, and a virtio device brought up through its real registers
 * with its queues in that memory. The harnesses then notify the queues, so
 * the device walks whatever rings, chains and requests the input holds. */
#ifndef FUZZ_BHV_H
#define FUZZ_BHV_H

#include "virtio/virtio.h"

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <stdint.h>
#include <string.h>

#define FUZZ_MEM  (64 * 1024)
#define FUZZ_RING 0x1000 /* queue q: desc at q*0x3000 + 0x1000, avail +0x1000, used +0x2000 */

static uint8_t fuzz_ram[FUZZ_MEM] __attribute__((aligned(4096)));
static struct guest_mem fuzz_gm = {{{0, FUZZ_MEM, fuzz_ram}}, 1};

static inline void fuzz_w32(struct virtio_dev *d, uint64_t off, uint32_t v)
{
	virtio_mmio_write(d, off, &v, 4);
}

/* Resets the device, negotiates VERSION_1 (and indirect descriptors when
 * the input's first byte says so), starts every queue with size 2^k. */
static inline void fuzz_bring_up(struct virtio_dev *d, uint8_t mode)
{
	uint32_t qsize = 1U << (1 + (mode >> 1) % 8); /* 2 .. 256 */

	fuzz_w32(d, VIRTIO_MMIO_STATUS, 0);
	fuzz_w32(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	fuzz_w32(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	fuzz_w32(d, VIRTIO_MMIO_DRIVER_FEATURES, (mode & 1) ? 1U << 28 : 0);
	fuzz_w32(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	fuzz_w32(d, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	fuzz_w32(d, VIRTIO_MMIO_STATUS, 0xb);
	for (unsigned q = 0; q < d->ops->num_queues; q++) {
		uint32_t base = FUZZ_RING + q * 0x3000;

		fuzz_w32(d, VIRTIO_MMIO_QUEUE_SEL, q);
		fuzz_w32(d, VIRTIO_MMIO_QUEUE_NUM, qsize);
		fuzz_w32(d, VIRTIO_MMIO_QUEUE_DESC_LOW, base);
		fuzz_w32(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, base + 0x1000);
		fuzz_w32(d, VIRTIO_MMIO_QUEUE_USED_LOW, base + 0x2000);
		fuzz_w32(d, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	fuzz_w32(d, VIRTIO_MMIO_STATUS, 0xf);
}

/* Guest memory from the input (the rest zero), then a few notifications
 * of every queue: a device may see the same ring several times. */
static inline void fuzz_run_device(struct virtio_dev *d, const uint8_t *data, size_t size)
{
	if (size < 1)
		return;
	fuzz_bring_up(d, data[0]);
	memset(fuzz_ram, 0, sizeof(fuzz_ram));
	memcpy(fuzz_ram, data + 1, size - 1 < FUZZ_MEM ? size - 1 : FUZZ_MEM);
	for (int round = 0; round < 3; round++)
		for (unsigned q = 0; q < d->ops->num_queues; q++)
			fuzz_w32(d, VIRTIO_MMIO_QUEUE_NOTIFY, q);
}

#endif
