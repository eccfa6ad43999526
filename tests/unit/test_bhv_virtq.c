/* bhv's split virtqueue against a hostile driver: every rule of virtio 1.x
 * 2.7 that the device checks, fed broken rings and descriptor chains. A
 * broken rule must fail with its reason and never touch memory outside
 * the guest's (ASan watches that). */
#include "tap.h"

#include "virtio/virtq.h"

#include <linux/virtio_ring.h>
#include <stdlib.h>
#include <string.h>

#define MEM   (1 << 20)
#define DESC  0x1000
#define AVAIL 0x2000
#define USED  0x3000
#define QSIZE 8

static uint8_t *ram;
static struct guest_mem gm;
static struct virtq vq;
static struct virtq_elem e;

static struct vring_desc *d(int i)
{
	return (struct vring_desc *)(ram + DESC) + i;
}

static struct vring_avail *avail(void)
{
	return (struct vring_avail *)(ram + AVAIL);
}

static struct vring_used *used(void)
{
	return (struct vring_used *)(ram + USED);
}

static void set(int i, uint64_t addr, uint32_t len, uint16_t flags, uint16_t next)
{
	*d(i) = (struct vring_desc){addr, len, flags, next};
}

/* A fresh, started queue of QSIZE entries with nothing available. */
static void fresh(bool indirect)
{
	memset(ram, 0, MEM);
	virtq_reset(&vq);
	vq.size = QSIZE;
	vq.desc_gpa = DESC;
	vq.avail_gpa = AVAIL;
	vq.used_gpa = USED;
	vq.indirect = indirect;
	if (virtq_start(&vq, &gm) < 0)
		abort();
}

/* Publishes head as the next available chain. */
static void offer(uint16_t head)
{
	avail()->ring[avail()->idx % QSIZE] = head;
	avail()->idx++;
}

static int pop_fails(const char *why)
{
	int r = virtq_pop(&vq, &gm, &e);

	return r == -1 && vq.error && strstr(vq.error, why);
}

static void test_start(void)
{
	static const struct {
		uint16_t size;
		uint64_t desc, avail, used;
		const char *why;
	} bad[] = {
	    {0, DESC, AVAIL, USED, "power of two"},
	    {3, DESC, AVAIL, USED, "power of two"},
	    {512, DESC, AVAIL, USED, "power of two"},
	    {8, DESC + 8, AVAIL, USED, "misaligned"},
	    {8, DESC, AVAIL + 1, USED, "misaligned"},
	    {8, DESC, AVAIL, USED + 2, "misaligned"},
	    {8, MEM - 16, AVAIL, USED, "outside guest memory"},
	    {8, DESC, MEM - 4, USED, "outside guest memory"},
	    {8, DESC, AVAIL, MEM + 0x1000, "outside guest memory"},
	    {8, 0xfffffffffffffff0ULL, AVAIL, USED, "outside guest memory"},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		virtq_reset(&vq);
		vq.size = bad[i].size;
		vq.desc_gpa = bad[i].desc;
		vq.avail_gpa = bad[i].avail;
		vq.used_gpa = bad[i].used;
		ok(virtq_start(&vq, &gm) < 0 && !vq.ready && strstr(vq.error, bad[i].why),
		   "start refuses size %u desc 0x%llx avail 0x%llx used 0x%llx: %s", bad[i].size,
		   (unsigned long long)bad[i].desc, (unsigned long long)bad[i].avail,
		   (unsigned long long)bad[i].used, vq.error ? vq.error : "(accepted)");
	}
	fresh(false);
	ok(vq.ready && !vq.error, "a well-formed queue starts");
}

static void test_chains(void)
{
	fresh(false);
	ok(virtq_pop(&vq, &gm, &e) == 0, "an empty ring has nothing to pop");

	set(0, 0x10000, 16, VRING_DESC_F_NEXT, 1);
	set(1, 0x20000, 512, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2);
	set(2, 0x30000, 1, VRING_DESC_F_WRITE, 0);
	offer(0);
	ok(virtq_pop(&vq, &gm, &e) == 1 && e.head == 0 && e.n_out == 1 && e.n_in == 2 &&
	       e.out_len == 16 && e.in_len == 513 && e.iov[0].iov_base == ram + 0x10000 &&
	       e.iov[2].iov_base == ram + 0x30000,
	   "a three-descriptor chain maps to host buffers, readable first");
	ok(virtq_pop(&vq, &gm, &e) == 0, "it is taken only once");

	fresh(false);
	for (int i = 0; i < QSIZE; i++)
		set(i, 0x10000 + 0x100 * i, 8, i < QSIZE - 1 ? VRING_DESC_F_NEXT : 0,
		    (uint16_t)(i + 1));
	offer(0);
	ok(virtq_pop(&vq, &gm, &e) == 1 && e.n_out == QSIZE,
	   "a chain as long as the queue is fine");

	fresh(false);
	set(0, 0x10000, 0, VRING_DESC_F_NEXT, 1);
	set(1, 0x20000, 4, 0, 0);
	offer(0);
	ok(virtq_pop(&vq, &gm, &e) == 1 && e.n_out == 1 && e.out_len == 4,
	   "a zero-length descriptor is skipped");
}

static void test_hostile(void)
{
	fresh(false);
	avail()->idx = QSIZE + 1;
	ok(pop_fails("available index moved"), "an available index more than a ring ahead");

	fresh(false);
	avail()->ring[0] = QSIZE;
	avail()->idx = 1;
	ok(pop_fails("out of range"), "a head index past the table");

	fresh(false);
	set(0, 0x10000, 8, VRING_DESC_F_NEXT, QSIZE);
	offer(0);
	ok(pop_fails("next descriptor index"), "a next index past the table");

	fresh(false);
	set(0, 0x10000, 8, VRING_DESC_F_NEXT, 0);
	offer(0);
	ok(pop_fails("loops"), "a descriptor pointing at itself");

	fresh(false);
	set(0, 0x10000, 8, VRING_DESC_F_NEXT, 1);
	set(1, 0x10000, 8, VRING_DESC_F_NEXT, 0);
	offer(0);
	ok(pop_fails("loops"), "two descriptors pointing at each other");
	ok(pop_fails("loops") && virtq_pop(&vq, &gm, &e) == -1, "a broken queue stays broken");

	fresh(false);
	set(0, MEM - 4, 8, 0, 0);
	offer(0);
	ok(pop_fails("outside guest memory"), "a buffer that runs past the end of RAM");

	fresh(false);
	set(0, 0xfffffffffffffff8ULL, 16, 0, 0);
	offer(0);
	ok(pop_fails("outside guest memory"), "a buffer whose end wraps around 2^64");

	fresh(false);
	set(0, 0x10000, 8, VRING_DESC_F_WRITE | VRING_DESC_F_NEXT, 1);
	set(1, 0x20000, 8, 0, 0);
	offer(0);
	ok(pop_fails("readable descriptor after a writable"),
	   "a readable buffer after a writable one");
}

static void test_indirect(void)
{
	struct vring_desc *table = (struct vring_desc *)(ram + 0x40000);

	fresh(false);
	set(0, 0x40000, 32, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	ok(pop_fails("without the feature"), "an indirect descriptor the driver did not negotiate");

	fresh(true);
	table[0] = (struct vring_desc){0x10000, 16, VRING_DESC_F_NEXT, 1};
	table[1] = (struct vring_desc){0x20000, 100, VRING_DESC_F_NEXT | VRING_DESC_F_WRITE, 2};
	table[2] = (struct vring_desc){0x30000, 1, VRING_DESC_F_WRITE, 0};
	set(0, 0x40000, 3 * 16, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	ok(virtq_pop(&vq, &gm, &e) == 1 && e.n_out == 1 && e.n_in == 2 && e.in_len == 101,
	   "an indirect table of three descriptors is followed");

	static const struct {
		uint64_t addr;
		uint32_t len;
		uint16_t flags;
		const char *why, *what;
	} bad[] = {
	    {0x40000, 0, VRING_DESC_F_INDIRECT, "bad length", "an empty indirect table"},
	    {0x40000, 24, VRING_DESC_F_INDIRECT, "bad length",
	     "a table length not a multiple of 16"},
	    {0x40000, 16 * (VIRTQ_CHAIN_MAX + 1), VRING_DESC_F_INDIRECT, "bad length",
	     "a table longer than the chain limit"},
	    {MEM - 16, 32, VRING_DESC_F_INDIRECT, "outside guest memory",
	     "a table past the end of RAM"},
	    {0x40000, 32, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, "NEXT set",
	     "an indirect descriptor that also has NEXT"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		fresh(true);
		set(0, bad[i].addr, bad[i].len, bad[i].flags, 1);
		offer(0);
		ok(pop_fails(bad[i].why), "indirect: %s", bad[i].what);
	}

	fresh(true);
	table[0] = (struct vring_desc){0x40000, 32, VRING_DESC_F_INDIRECT, 0};
	set(0, 0x40000, 32, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	ok(pop_fails("inside an indirect table"), "indirect: a table that points at a table");

	fresh(true);
	table[0] = (struct vring_desc){0x10000, 16, VRING_DESC_F_NEXT, 1};
	table[1] = (struct vring_desc){0x10000, 16, VRING_DESC_F_NEXT, 0};
	set(0, 0x40000, 32, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	ok(pop_fails("loops"), "indirect: a loop inside the table");

	fresh(true);
	table[0] = (struct vring_desc){0x10000, 16, VRING_DESC_F_NEXT, 2};
	set(0, 0x40000, 32, VRING_DESC_F_INDIRECT, 0);
	offer(0);
	ok(pop_fails("next descriptor index"), "indirect: a next index past the table");
}

static void test_used(void)
{
	fresh(false);
	set(0, 0x10000, 8, 0, 0);
	offer(0);
	virtq_pop(&vq, &gm, &e);
	virtq_push(&vq, e.head, 77);
	ok(used()->idx == 1 && used()->ring[0].id == 0 && used()->ring[0].len == 77,
	   "push publishes the element, then the index");
	avail()->flags = 0;
	ok(virtq_wants_interrupt(&vq), "the driver wants interrupts by default");
	avail()->flags = VRING_AVAIL_F_NO_INTERRUPT;
	ok(!virtq_wants_interrupt(&vq), "VRING_AVAIL_F_NO_INTERRUPT suppresses them");

	/* Free-running 16-bit indices wrap around. */
	fresh(false);
	vq.last_avail = vq.used_idx = 0xffff;
	avail()->idx = 0xffff;
	used()->idx = 0xffff;
	set(3, 0x10000, 8, 0, 0);
	offer(3);
	ok(virtq_pop(&vq, &gm, &e) == 1 && e.head == 3 && vq.last_avail == 0,
	   "the available index wraps from 65535 to 0");
	virtq_push(&vq, 3, 1);
	ok(used()->idx == 0 && used()->ring[QSIZE - 1].id == 3, "so does the used index");
}

static void test_iov(void)
{
	uint8_t a[4] = {1, 2, 3, 4}, b[4] = {5, 6, 7, 8}, out[8] = {0};
	struct iovec src[2] = {{a, 4}, {b, 4}}, dst[4];

	ok(iov_to_buf(src, 2, 2, out, 5) == 5 && !memcmp(out, "\3\4\5\6\7", 5),
	   "iov_to_buf copies across buffers from an offset");
	ok(iov_to_buf(src, 2, 6, out, 8) == 2, "iov_to_buf stops at the end");
	ok(iov_from_buf(src, 2, 3, "\x11\x22", 2) == 2 && a[3] == 0x11 && b[0] == 0x22,
	   "iov_from_buf writes across buffers");
	ok(iov_range(src, 2, 3, 3, dst, 4) == 2 && dst[0].iov_base == a + 3 &&
	       dst[0].iov_len == 1 && dst[1].iov_base == b && dst[1].iov_len == 2,
	   "iov_range describes a byte range as iovecs");
	ok(iov_range(src, 2, 3, 6, dst, 4) == -1, "iov_range refuses a range past the end");
	ok(iov_range(src, 2, 0, 8, dst, 1) == -1, "iov_range refuses more iovecs than allowed");
}

static void test_guest_mem(void)
{
	struct guest_mem two = {{{0, 0x1000, ram}, {0x100000000ULL, 0x1000, ram + 0x1000}}, 2};

	ok(gm_ptr(&two, 0xfff, 1) == ram + 0xfff, "gm_ptr: the last byte of a region");
	ok(gm_ptr(&two, 0xfff, 2) == NULL, "gm_ptr: a range that leaves the region");
	ok(gm_ptr(&two, 0x1000, 1) == NULL, "gm_ptr: the hole between regions");
	ok(gm_ptr(&two, 0x100000000ULL, 0x1000) == ram + 0x1000, "gm_ptr: the second region");
	ok(gm_ptr(&two, ~0ULL, 2) == NULL, "gm_ptr: an address near 2^64");
	ok(gm_ptr(&two, 0x10, ~0ULL) == NULL, "gm_ptr: a length near 2^64");
}

int main(void)
{
	ram = calloc(1, MEM);
	gm = (struct guest_mem){{{0, MEM, ram}}, 1};
	test_start();
	test_chains();
	test_hostile();
	test_indirect();
	test_used();
	test_iov();
	test_guest_mem();
	free(ram);
	return done();
}
