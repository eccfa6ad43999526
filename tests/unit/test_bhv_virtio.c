/* The virtio-mmio transport against a driver that does things in the
 * wrong order, with the wrong sizes, or on purpose: feature negotiation,
 * the status state machine, queue registers, the configuration space and
 * the DEVICE_NEEDS_RESET path (virtio 1.x, 2.1, 3.1 and 4.2.2). */
#include "tap.h"

#include "virtio/virtio.h"

#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#define MEM (1 << 20)

static uint8_t *ram;
static struct guest_mem gm;
static int processed, resets;

static void test_config(struct virtio_dev *d, uint8_t *c)
{
	for (int i = 0; i < 8; i++)
		c[i] = (uint8_t)(0xa0 + i);
}

static void test_process(struct virtio_dev *d, unsigned q)
{
	processed++;
}

static void test_reset(struct virtio_dev *d)
{
	resets++;
}

static const struct virtio_ops ops = {
    .device_id = 42,
    .num_queues = 2,
    .features = 1ULL << 5,
    .config_size = 8,
    .get_config = test_config,
    .process = test_process,
    .reset = test_reset,
};

static uint32_t r32(struct virtio_dev *d, uint64_t off)
{
	uint32_t v;

	virtio_mmio_read(d, off, &v, 4);
	return v;
}

static void w32(struct virtio_dev *d, uint64_t off, uint32_t v)
{
	virtio_mmio_write(d, off, &v, 4);
}

/* ACK, DRIVER, features, FEATURES_OK; queue 0 at fixed addresses. */
static void bring_up(struct virtio_dev *d, uint32_t qnum)
{
	w32(d, VIRTIO_MMIO_STATUS, 0);
	w32(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	w32(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	w32(d, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	w32(d, VIRTIO_MMIO_STATUS,
	    VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
	w32(d, VIRTIO_MMIO_QUEUE_SEL, 0);
	w32(d, VIRTIO_MMIO_QUEUE_NUM, qnum);
	w32(d, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x1000);
	w32(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, 0x2000);
	w32(d, VIRTIO_MMIO_QUEUE_USED_LOW, 0x3000);
	w32(d, VIRTIO_MMIO_QUEUE_READY, 1);
	w32(d, VIRTIO_MMIO_STATUS, r32(d, VIRTIO_MMIO_STATUS) | VIRTIO_CONFIG_S_DRIVER_OK);
}

static uint64_t irq_count(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

int main(void)
{
	struct virtio_dev d;
	uint32_t v;
	uint8_t b[8];
	uint64_t q;

	ram = calloc(1, MEM);
	gm = (struct guest_mem){{{0, MEM, ram}}, 1};
	virtio_init(&d, &ops, "test", NULL, &gm);
	d.irq_fd = eventfd(0, EFD_NONBLOCK);

	ok(r32(&d, VIRTIO_MMIO_MAGIC_VALUE) == 0x74726976 && r32(&d, VIRTIO_MMIO_VERSION) == 2 &&
	       r32(&d, VIRTIO_MMIO_DEVICE_ID) == 42,
	   "magic, version 2 and device id");
	w32(&d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	v = r32(&d, VIRTIO_MMIO_DEVICE_FEATURES);
	w32(&d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 1);
	ok(v == (1U << 5) && r32(&d, VIRTIO_MMIO_DEVICE_FEATURES) == 1,
	   "features: the device's own, and VERSION_1 in the high word");
	w32(&d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 7);
	ok(r32(&d, VIRTIO_MMIO_DEVICE_FEATURES) == 0, "features: a selector past 1 reads 0");

	/* Feature negotiation. */
	w32(&d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	w32(&d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 0);
	w32(&d, VIRTIO_MMIO_DRIVER_FEATURES, 1U << 7); /* not offered */
	w32(&d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	w32(&d, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	w32(&d, VIRTIO_MMIO_STATUS, 0xb);
	ok(!(r32(&d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK),
	   "FEATURES_OK is refused for a feature the device did not offer");
	w32(&d, VIRTIO_MMIO_STATUS, 0);
	w32(&d, VIRTIO_MMIO_STATUS, 3);
	w32(&d, VIRTIO_MMIO_STATUS, 0xb);
	ok(!(r32(&d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_FEATURES_OK),
	   "FEATURES_OK is refused without VERSION_1 (no legacy interface)");
	w32(&d, VIRTIO_MMIO_STATUS, 0);
	w32(&d, VIRTIO_MMIO_STATUS, 3 | VIRTIO_CONFIG_S_DRIVER_OK);
	ok(!(r32(&d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_DRIVER_OK),
	   "DRIVER_OK before FEATURES_OK is ignored");
	w32(&d, VIRTIO_MMIO_QUEUE_SEL, 0);
	w32(&d, VIRTIO_MMIO_QUEUE_NUM, 8);
	w32(&d, VIRTIO_MMIO_QUEUE_READY, 1);
	ok(r32(&d, VIRTIO_MMIO_QUEUE_READY) == 0, "a queue cannot start before FEATURES_OK");
	w32(&d, VIRTIO_MMIO_STATUS, 3 | VIRTIO_CONFIG_S_NEEDS_RESET);
	ok(!(r32(&d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET),
	   "the driver cannot set DEVICE_NEEDS_RESET");

	/* A proper bring-up, then queue registers. */
	bring_up(&d, 8);
	ok((r32(&d, VIRTIO_MMIO_STATUS) & 0xf) == 0xf && r32(&d, VIRTIO_MMIO_QUEUE_READY) == 1 &&
	       virtio_running(&d),
	   "a driver that follows the rules gets a running device");
	ok(r32(&d, VIRTIO_MMIO_QUEUE_NUM_MAX) == VIRTQ_SIZE_MAX, "QueueNumMax of queue 0");
	w32(&d, VIRTIO_MMIO_QUEUE_NUM, 4);
	w32(&d, VIRTIO_MMIO_QUEUE_DESC_LOW, 0x8000);
	ok(d.vq[0].size == 8 && d.vq[0].desc_gpa == 0x1000,
	   "queue registers are frozen while the queue is ready");
	w32(&d, VIRTIO_MMIO_QUEUE_SEL, 9);
	ok(r32(&d, VIRTIO_MMIO_QUEUE_NUM_MAX) == 0 && r32(&d, VIRTIO_MMIO_QUEUE_READY) == 0,
	   "a queue that does not exist reads as absent");
	w32(&d, VIRTIO_MMIO_QUEUE_READY, 1);
	w32(&d, VIRTIO_MMIO_QUEUE_NUM, 8);
	ok(virtio_running(&d), "writes to a queue that does not exist are dropped");

	processed = 0;
	w32(&d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	w32(&d, VIRTIO_MMIO_QUEUE_NOTIFY, 1); /* exists, but not ready */
	w32(&d, VIRTIO_MMIO_QUEUE_NOTIFY, 0xffff);
	ok(processed == 1, "notify runs only a ready queue that exists");

	/* Narrow and misaligned register accesses. */
	v = 0x12345678;
	virtio_mmio_read(&d, VIRTIO_MMIO_MAGIC_VALUE + 1, &v, 4);
	ok(v == 0, "a misaligned register read returns 0");
	memset(b, 0xee, sizeof(b));
	virtio_mmio_read(&d, VIRTIO_MMIO_MAGIC_VALUE, b, 2);
	ok(b[0] == 0 && b[1] == 0, "a 16-bit register read returns 0");
	b[0] = 0;
	virtio_mmio_write(&d, VIRTIO_MMIO_STATUS, b, 1);
	ok(virtio_running(&d), "a byte write to Status is ignored");

	/* Configuration space. */
	memset(b, 0, sizeof(b));
	virtio_mmio_read(&d, VIRTIO_MMIO_CONFIG + 2, b, 2);
	ok(b[0] == 0xa2 && b[1] == 0xa3, "configuration reads at any offset and width");
	virtio_mmio_read(&d, VIRTIO_MMIO_CONFIG + 6, &q, 8);
	ok(q == 0, "a configuration read past its end returns 0");
	virtio_mmio_read(&d, VIRTIO_MMIO_CONFIG + 1, b, 3);
	ok(b[0] == 0, "a 3-byte configuration read returns 0");
	w32(&d, VIRTIO_MMIO_CONFIG, 0);
	virtio_mmio_read(&d, VIRTIO_MMIO_CONFIG, b, 1);
	ok(b[0] == 0xa0, "configuration writes are dropped");
	virtio_mmio_read(&d, 0xff0, &v, 4);
	ok(v == 0, "an offset with no register reads 0");

	/* Breaking the device, then the reset that repairs it. */
	irq_count(d.irq_fd);
	bring_up(&d, 3);
	ok((r32(&d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET) && !virtio_running(&d),
	   "a bad queue size sets DEVICE_NEEDS_RESET");
	ok((r32(&d, VIRTIO_MMIO_INTERRUPT_STATUS) & VIRTIO_MMIO_INT_CONFIG) &&
	       irq_count(d.irq_fd) >= 1,
	   "with a configuration-change interrupt");
	processed = 0;
	w32(&d, VIRTIO_MMIO_QUEUE_NOTIFY, 0);
	ok(processed == 0, "a broken device does no work");
	w32(&d, VIRTIO_MMIO_INTERRUPT_ACK, VIRTIO_MMIO_INT_CONFIG);
	ok(r32(&d, VIRTIO_MMIO_INTERRUPT_STATUS) == 0, "InterruptACK clears the bits it names");
	resets = 0;
	w32(&d, VIRTIO_MMIO_STATUS, 0);
	ok(r32(&d, VIRTIO_MMIO_STATUS) == 0 && resets == 1 && !d.vq[0].ready && !d.vq[0].error,
	   "writing 0 to Status resets the device and its queues");
	bring_up(&d, 8);
	ok(virtio_running(&d), "the device works again after the reset");

	/* Ring addresses the guest does not own. */
	w32(&d, VIRTIO_MMIO_STATUS, 0);
	w32(&d, VIRTIO_MMIO_STATUS, 3);
	w32(&d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	w32(&d, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	w32(&d, VIRTIO_MMIO_STATUS, 0xb);
	w32(&d, VIRTIO_MMIO_QUEUE_SEL, 0);
	w32(&d, VIRTIO_MMIO_QUEUE_NUM, 8);
	w32(&d, VIRTIO_MMIO_QUEUE_DESC_LOW, 0);
	w32(&d, VIRTIO_MMIO_QUEUE_DESC_HIGH, 0x10);
	w32(&d, VIRTIO_MMIO_QUEUE_READY, 1);
	ok(r32(&d, VIRTIO_MMIO_STATUS) & VIRTIO_CONFIG_S_NEEDS_RESET,
	   "a descriptor table above guest memory breaks the device");

	close(d.irq_fd);
	free(ram);
	return done();
}
