/* The request parsers of bhv's virtio devices, driven through the real
 * transport and queues: virtio-blk on a temporary file (every request type,
 * every malformed request), virtio-rng, virtio-console and virtio-net (on
 * a tap when the test may create one). A bad request fails alone; the
 * file is never touched outside the disk. */
#include "tap.h"

#include "console_limit.h"
#include "virtio/virtio.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_blk.h>
#include <linux/virtio_config.h>
#include <linux/virtio_mmio.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define MEM   (1 << 20)
#define QSIZE 8
#define DISK  (64 * 512)

static uint8_t *ram;
static struct guest_mem gm;
static uint16_t avail_idx[2];

struct ring {
	uint64_t desc, avail, used;
};

static const struct ring rings[2] = {{0x1000, 0x2000, 0x3000}, {0x4000, 0x5000, 0x6000}};

static void w32(struct virtio_dev *d, uint64_t off, uint32_t v)
{
	virtio_mmio_write(d, off, &v, 4);
}

static uint32_t r32(struct virtio_dev *d, uint64_t off)
{
	uint32_t v;

	virtio_mmio_read(d, off, &v, 4);
	return v;
}

static void bring_up(struct virtio_dev *d)
{
	memset(ram, 0, 0x8000);
	avail_idx[0] = avail_idx[1] = 0;
	w32(d, VIRTIO_MMIO_STATUS, 0);
	w32(d, VIRTIO_MMIO_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
	w32(d, VIRTIO_MMIO_DRIVER_FEATURES_SEL, 1);
	w32(d, VIRTIO_MMIO_DRIVER_FEATURES, 1);
	w32(d, VIRTIO_MMIO_STATUS, 0xb);
	for (unsigned q = 0; q < d->ops->num_queues; q++) {
		w32(d, VIRTIO_MMIO_QUEUE_SEL, q);
		w32(d, VIRTIO_MMIO_QUEUE_NUM, QSIZE);
		w32(d, VIRTIO_MMIO_QUEUE_DESC_LOW, (uint32_t)rings[q].desc);
		w32(d, VIRTIO_MMIO_QUEUE_AVAIL_LOW, (uint32_t)rings[q].avail);
		w32(d, VIRTIO_MMIO_QUEUE_USED_LOW, (uint32_t)rings[q].used);
		w32(d, VIRTIO_MMIO_QUEUE_READY, 1);
	}
	w32(d, VIRTIO_MMIO_STATUS, 0xf);
}

static struct vring_desc *desc(unsigned q, int i)
{
	return (struct vring_desc *)(ram + rings[q].desc) + i;
}

/* Offers a chain of (addr, len, writable) buffers on queue q, notifies, and
 * returns the used length (or -1 when nothing was used). */
static int64_t request(struct virtio_dev *d, unsigned q, int n, const uint64_t *addr,
                       const uint32_t *len, const bool *wr)
{
	struct vring_avail *av = (void *)(ram + rings[q].avail);
	struct vring_used *us = (void *)(ram + rings[q].used);
	uint16_t before = us->idx;

	for (int i = 0; i < n; i++)
		*desc(q, i) = (struct vring_desc){addr[i], len[i],
		                                  (uint16_t)((i + 1 < n ? VRING_DESC_F_NEXT : 0) |
		                                             (wr[i] ? VRING_DESC_F_WRITE : 0)),
		                                  (uint16_t)(i + 1)};
	av->ring[avail_idx[q] % QSIZE] = 0;
	av->idx = ++avail_idx[q];
	w32(d, VIRTIO_MMIO_QUEUE_NOTIFY, q);
	if (us->idx == before)
		return -1;
	return us->ring[(uint16_t)(us->idx - 1) % QSIZE].len;
}

#define HDR    0x10000
#define DATA   0x11000
#define STATUS 0x18000

static int64_t blk(struct virtio_dev *d, uint32_t type, uint64_t sector, uint32_t len)
{
	struct virtio_blk_outhdr *h = (void *)(ram + HDR);
	uint64_t addr[3] = {HDR, DATA, STATUS};
	uint32_t lens[3] = {sizeof(*h), len, 1};
	bool wr[3] = {false, type != VIRTIO_BLK_T_OUT, true};

	h->type = type;
	h->ioprio = 0;
	h->sector = sector;
	ram[STATUS] = 0xff;
	if (!len) {
		addr[1] = STATUS;
		lens[1] = 1;
		wr[1] = true;
		return request(d, 0, 2, addr, lens, wr);
	}
	return request(d, 0, 3, addr, lens, wr);
}

static void test_blk(void)
{
	char path[] = "/tmp/bhv-unit-disk-XXXXXX";
	int fd = mkstemp(path);
	struct bh_error err;
	struct virtio_dev *d;
	uint8_t buf[512], cfg[8];
	uint64_t cap;

	unlink(path);
	memset(buf, 'A', sizeof(buf));
	for (int s = 0; s < DISK / 512; s++)
		if (pwrite(fd, buf, 512, s * 512) != 512)
			abort();
	/* A partial last sector stays invisible. */
	if (pwrite(fd, "tail", 4, DISK) != 4)
		abort();
	d = virtio_blk_new(fd, false, "disk0", &gm, &err);
	ok(d != NULL, "virtio-blk on a regular file");
	virtio_mmio_read(d, VIRTIO_MMIO_CONFIG, cfg, 8);
	memcpy(&cap, cfg, 8);
	ok(cap == DISK / 512, "capacity is the whole sectors of the file: %llu",
	   (unsigned long long)cap);
	bring_up(d);

	ok(blk(d, VIRTIO_BLK_T_IN, 0, 1024) == 1025 && ram[STATUS] == VIRTIO_BLK_S_OK &&
	       ram[DATA] == 'A' && ram[DATA + 1023] == 'A',
	   "read two sectors");
	memset(ram + DATA, 'B', 512);
	ok(blk(d, VIRTIO_BLK_T_OUT, 3, 512) == 1 && ram[STATUS] == VIRTIO_BLK_S_OK &&
	       pread(fd, buf, 1, 3 * 512) == 1 && buf[0] == 'B',
	   "write a sector: the file changes there");
	ok(blk(d, VIRTIO_BLK_T_FLUSH, 0, 0) == 1 && ram[STATUS] == VIRTIO_BLK_S_OK, "flush");
	ok(blk(d, VIRTIO_BLK_T_GET_ID, 0, 20) == 21 && !memcmp(ram + DATA, "disk0", 6),
	   "get the id (serial)");
	ok(blk(d, VIRTIO_BLK_T_IN, DISK / 512 - 1, 512) == 513 && ram[STATUS] == VIRTIO_BLK_S_OK,
	   "read the last sector");
	ok(blk(d, VIRTIO_BLK_T_IN, DISK / 512 - 1, 1024) == 1 && ram[STATUS] == VIRTIO_BLK_S_IOERR,
	   "a read that runs past the end fails with IOERR");
	ok(blk(d, VIRTIO_BLK_T_IN, DISK / 512, 512) == 1 && ram[STATUS] == VIRTIO_BLK_S_IOERR,
	   "a read of the sector after the last fails");
	memset(ram + DATA, 'C', 512);
	ok(blk(d, VIRTIO_BLK_T_OUT, 0x8000000000000000ULL, 512) == 1 &&
	       ram[STATUS] == VIRTIO_BLK_S_IOERR,
	   "a write at sector 2^63 (byte offset overflow) fails");
	ok(blk(d, VIRTIO_BLK_T_OUT, ~0ULL / 512, 512) == 1 && ram[STATUS] == VIRTIO_BLK_S_IOERR,
	   "a write at the largest sector fails");
	ok(blk(d, VIRTIO_BLK_T_IN, 0, 100) == 1 && ram[STATUS] == VIRTIO_BLK_S_IOERR,
	   "a length that is not whole sectors fails");
	ok(blk(d, 99, 0, 0) == 1 && ram[STATUS] == VIRTIO_BLK_S_UNSUPP,
	   "an unknown request type is UNSUPP");
	{
		uint64_t a[2] = {HDR, STATUS};
		uint32_t l[2] = {8, 1};
		bool w[2] = {false, true};

		ram[STATUS] = 0xff;
		ok(request(d, 0, 2, a, l, w) == 0 && ram[STATUS] == 0xff,
		   "a header shorter than 16 bytes is not answered");
		l[0] = 16;
		w[1] = false;
		ok(request(d, 0, 2, a, l, w) == 0 && virtio_running(d),
		   "a request without a writable status byte is not answered");
	}
	{
		/* The header split over two descriptors, data over three. */
		uint64_t a[6] = {HDR, HDR + 4, DATA, DATA + 100, DATA + 300, STATUS};
		uint32_t l[6] = {4, 12, 100, 200, 212, 1};
		bool w[6] = {false, false, true, true, true, true};
		struct virtio_blk_outhdr *h = (void *)(ram + HDR);

		h->type = VIRTIO_BLK_T_IN;
		h->sector = 3;
		memset(ram + DATA, 0, 512);
		ok(request(d, 0, 6, a, l, w) == 513 && ram[STATUS] == 0 && ram[DATA] == 'B' &&
		       ram[DATA + 511] == 'B',
		   "a request split across descriptors in any arrangement works");
	}
	ok(pread(fd, buf, 4, DISK) == 4 && !memcmp(buf, "tail", 4),
	   "the partial sector was never written");
	virtio_free(d);
	close(fd);

	fd = open("/dev/null", O_RDONLY);
	ok(virtio_blk_new(fd, true, "null", &gm, &err) == NULL && strstr(err.msg, "not a file"),
	   "a character device is not a disk: %s", err.msg);
	close(fd);
}

static void test_blk_ro(void)
{
	char path[] = "/tmp/bhv-unit-disk-XXXXXX";
	int fd = mkstemp(path);
	struct bh_error err;
	struct virtio_dev *d;
	uint8_t buf[512];
	uint32_t f;

	unlink(path);
	memset(buf, 'R', sizeof(buf));
	if (pwrite(fd, buf, 512, 0) != 512)
		abort();
	d = virtio_blk_new(fd, true, "disk1", &gm, &err);
	w32(d, VIRTIO_MMIO_DEVICE_FEATURES_SEL, 0);
	f = r32(d, VIRTIO_MMIO_DEVICE_FEATURES);
	ok(f & (1U << VIRTIO_BLK_F_RO), "a read-only disk offers VIRTIO_BLK_F_RO");
	bring_up(d);
	memset(ram + DATA, 'W', 512);
	ok(blk(d, VIRTIO_BLK_T_OUT, 0, 512) == 1 && ram[STATUS] == VIRTIO_BLK_S_IOERR &&
	       pread(fd, buf, 1, 0) == 1 && buf[0] == 'R',
	   "a write to a read-only disk fails and the file is unchanged");
	ok(blk(d, VIRTIO_BLK_T_IN, 0, 512) == 513 && ram[DATA] == 'R', "reads still work");
	virtio_free(d);
	close(fd);
}

static void test_rng(void)
{
	struct bh_error err;
	struct virtio_dev *d = virtio_rng_new(&gm, &err);
	uint64_t a[2] = {DATA, DATA + 0x1000};
	uint32_t l[2] = {16, 64};
	bool w[2] = {false, true};
	int nonzero = 0;

	bring_up(d);
	memset(ram + DATA, 0, 0x2000);
	ok(request(d, 0, 2, a, l, w) == 64, "virtio-rng fills only the writable buffer");
	for (int i = 0; i < 64; i++)
		nonzero += ram[DATA + 0x1000 + i] != 0;
	ok(nonzero > 32 && ram[DATA] == 0, "with random bytes; the readable one is untouched");
	l[1] = 0x10000 + 0x1000;
	a[1] = 0x20000;
	ok(request(d, 0, 2, a, l, w) == 0x10000, "one request is capped at 64 KiB");
	virtio_free(d);
}

static void test_console(void)
{
	struct bh_error err;
	int p[2];
	struct virtio_dev *d;
	char out[64] = "";
	uint64_t a[2] = {DATA, DATA + 100};
	uint32_t l[2] = {5, 6};
	bool w[2] = {false, false};
	bool wr1 = true;
	uint32_t rl = 32;
	uint64_t ra = DATA + 0x1000;

	if (pipe(p) < 0)
		abort();
	d = virtio_console_new(p[1], &gm, &err);
	bring_up(d);
	memcpy(ram + DATA, "hello", 5);
	memcpy(ram + DATA + 100, " world", 6);
	ok(request(d, 1, 2, a, l, w) == 0 && read(p[0], out, sizeof(out)) == 11 &&
	       !memcmp(out, "hello world", 11),
	   "virtio-console: the transmit queue reaches the output");
	{
		/* Over its rate limit the output is cut and counted; the
		 * buffers are still used, so the queue never stalls. */
		struct console_limit lim;

		fcntl(p[0], F_SETFL, O_NONBLOCK);
		console_limit_init(&lim, 1000, 8, 0);
		virtio_console_set_limit(d, &lim);
		ok(request(d, 1, 2, a, l, w) == 0 && read(p[0], out, sizeof(out)) == 8 &&
		       !memcmp(out, "hello wo", 8) && console_limit_dropped(&lim) == 3,
		   "virtio-console: output past the rate limit is dropped and counted");
		ok(request(d, 1, 2, a, l, w) == 0 && console_limit_dropped(&lim) == 14 &&
		       virtio_running(d),
		   "with no tokens left the buffers are still used, nothing written");
		virtio_console_set_limit(d, NULL);
	}
	ok(virtio_console_input(d, (const uint8_t *)"typed", 5) == 5, "input is buffered");
	ok(request(d, 0, 1, &ra, &rl, &wr1) == 5 && !memcmp(ram + DATA + 0x1000, "typed", 5),
	   "and delivered into the next receive buffer");
	virtio_free(d);
	close(p[0]);
	close(p[1]);
}

static int open_tap(char *name)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -1;
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "bhvunit%d", getpid() % 1000);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		close(fd);
		return -1;
	}
	strcpy(name, ifr.ifr_name);
	return fd;
}

/* The header check alone: only flags 0 and GSO_NONE pass, and what
 * passes is replaced by zeros, whatever else the guest wrote. */
static void test_net_header(void)
{
	static const struct virtio_net_hdr_v1 zero;
	struct virtio_net_hdr_v1 g, out;

	memset(&g, 0xa5, sizeof(g));
	g.flags = 0;
	g.gso_type = VIRTIO_NET_HDR_GSO_NONE;
	memset(&out, 0xff, sizeof(out));
	ok(virtio_net_tx_header(&g, &out) && !memcmp(&out, &zero, sizeof(out)),
	   "a header without offloads goes out as zeros (hdr_len, gso_size, csum_* dropped)");
	g.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	ok(!virtio_net_tx_header(&g, &out), "a header asking for checksum offload is refused");
	g.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	ok(!virtio_net_tx_header(&g, &out), "a header with DATA_VALID (receive only) is refused");
	g.flags = 0;
	g.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
	ok(!virtio_net_tx_header(&g, &out), "a header asking for TSO is refused");
	g.gso_type = VIRTIO_NET_HDR_GSO_UDP;
	ok(!virtio_net_tx_header(&g, &out), "a header asking for UFO is refused");
	g.gso_type = VIRTIO_NET_HDR_GSO_NONE | VIRTIO_NET_HDR_GSO_ECN;
	ok(!virtio_net_tx_header(&g, &out), "GSO_NONE with the ECN bit is refused");
}

/* Sends a frame whose header (12 bytes, split over two descriptors when
 * split is set) has these flags and gso_type; returns the used length. */
static int64_t net_send(struct virtio_dev *d, uint8_t flags, uint8_t gso_type, bool split)
{
	struct virtio_net_hdr_v1 *h = (void *)(ram + DATA);
	uint64_t a[3] = {DATA, DATA + 6, DATA + 0x100};
	uint32_t l[3] = {6, 6, 60};
	bool w[3] = {false, false, false};

	memset(h, 0x5a, sizeof(*h));
	h->flags = flags;
	h->gso_type = gso_type;
	memset(ram + DATA + 0x100, 0xee, 60);
	if (split)
		return request(d, 1, 3, a, l, w);
	l[0] = 12;
	a[1] = a[2];
	l[1] = l[2];
	return request(d, 1, 2, a, l, w);
}

static void test_net(void)
{
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 9};
	struct bh_error err;
	char name[IFNAMSIZ];
	int fd = open_tap(name), tun;
	struct virtio_dev *d;
	uint8_t cfg[6];

	tun = open("/dev/null", O_RDWR);
	ok(virtio_net_new(tun, mac, &gm, &err) == NULL && strstr(err.msg, "not a tap"),
	   "virtio-net refuses a fd that is not a tap: %s", err.msg);
	close(tun);
	if (fd < 0) {
		skip("virtio-net on a tap", "cannot create a tap here (needs CAP_NET_ADMIN)");
		return;
	}
	d = virtio_net_new(fd, mac, &gm, &err);
	ok(d != NULL, "virtio-net on a tap");
	for (int i = 0; i < 6; i++)
		virtio_mmio_read(d, VIRTIO_MMIO_CONFIG + i, cfg + i, 1);
	ok(!memcmp(cfg, mac, 6), "the MAC address is in the configuration space");
	bring_up(d);
	{
		/* A chain longer than a header plus the largest frame. */
		uint64_t a[2] = {DATA, 0x20000};
		uint32_t l[2] = {12, 70000};
		bool w[2] = {false, false};

		ok(request(d, 1, 2, a, l, w) == 0 && virtio_running(d),
		   "an oversized frame is dropped, the device keeps running");
		l[0] = 4;
		ok(request(d, 1, 1, a, l, w) == 0 && virtio_running(d),
		   "a frame shorter than its header is dropped");
	}
	ok(virtio_net_tx_refused(d) == 0, "no frame was refused for its header yet");
	ok(net_send(d, VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, false) == 0 && virtio_running(d) &&
	       virtio_net_tx_refused(d) == 1,
	   "a frame asking for checksum offload is dropped and counted, the device keeps running");
	ok(net_send(d, 0, VIRTIO_NET_HDR_GSO_TCPV6, true) == 0 && virtio_running(d) &&
	       virtio_net_tx_refused(d) == 2,
	   "so is one asking for TSO in a header split over two descriptors");
	ok(net_send(d, 0, VIRTIO_NET_HDR_GSO_NONE, true) == 0 && virtio_running(d) &&
	       virtio_net_tx_refused(d) == 2,
	   "a frame without offloads goes out (not counted)");
	ok(net_send(d, 0, VIRTIO_NET_HDR_GSO_NONE, false) == 0 && virtio_net_tx_refused(d) == 2,
	   "the queue keeps moving after refused frames");
	ok(virtio_net_receive(d) == true, "receive with nothing on the tap keeps polling");
	virtio_free(d);
	close(fd);
}

int main(void)
{
	ram = calloc(1, MEM);
	gm = (struct guest_mem){{{0, MEM, ram}}, 1};
	test_blk();
	test_blk_ro();
	test_rng();
	test_console();
	test_net_header();
	test_net();
	free(ram);
	return done();
}
