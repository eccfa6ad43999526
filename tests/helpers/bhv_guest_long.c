/* A tiny long-mode guest (a helper, not a test) that
 * tests/integration/test_bhv_kvm.py builds with the host's gcc
 * (freestanding, loaded at 1 MiB by `bhv --kernel-format raw64`) and runs
 * on the build host's /dev/kvm.
 *
 * It drives bhv's devices the way a driver would, then the way a hostile
 * one would, and reports on COM1, one line per check:
 *   - MMIO: an unclaimed address reads as all ones;
 *   - virtio-blk: read sector 0, write sector 1, flush, get the id, an
 *     out-of-range read fails with IOERR;
 *   - hostile chains: a looping chain, a buffer outside RAM, an available
 *     index that jumps, a queue size that is not a power of two: each
 *     marks the device DEVICE_NEEDS_RESET, and after a reset it works;
 *   - virtio-rng: 32 bytes.
 * Then it ends the way SCENARIO says: poweroff (ACPI S5), reboot (i8042),
 * triple (a triple fault), panic (pvpanic) or spin (forever, for the jail
 * checks). */
#include <stdint.h>

#define COM1        0x3f8
#define VIRTIO_BASE 0xd0000000UL
#define RING        0x200000UL /* desc, avail, used: 4 KiB apart */
#define BUF         0x210000UL

#define ST_ACK         1
#define ST_DRIVER      2
#define ST_DRIVER_OK   4
#define ST_FEATURES_OK 8
#define ST_NEEDS_RESET 0x40

#ifndef SCENARIO
#define SCENARIO poweroff
#endif
#define STR2(x) #x
#define STR(x)  STR2(x)

__asm__(".section .text.start\n"
        ".globl _start\n"
        "_start:\n"
        "	mov $0x80000, %rsp\n"
        "	call guest_main\n"
        "1:	cli\n"
        "	hlt\n"
        "	jmp 1b\n"
        ".text\n");

struct desc {
	uint64_t addr;
	uint32_t len;
	uint16_t flags, next;
};

static void outb(uint16_t port, uint8_t v)
{
	__asm__ volatile("outb %0, %1" : : "a"(v), "Nd"(port));
}

static uint32_t rd(uintptr_t a)
{
	return *(volatile uint32_t *)a;
}

static void wr(uintptr_t a, uint32_t v)
{
	*(volatile uint32_t *)a = v;
}

static void puts_(const char *s)
{
	while (*s)
		outb(COM1, (uint8_t)*s++);
}

static void puthex(uint64_t v)
{
	char b[19] = "0x";

	for (int i = 0; i < 16; i++)
		b[2 + i] = "0123456789abcdef"[(v >> (60 - 4 * i)) & 15];
	b[18] = 0;
	puts_(b);
}

static void say(const char *what, int ok)
{
	puts_(ok ? "PASS " : "FAIL ");
	puts_(what);
	puts_("\n");
}

static void *mset(void *d, int c, unsigned long n)
{
	volatile uint8_t *p = d;

	while (n--)
		*p++ = (uint8_t)c;
	return d;
}

static int streq(const volatile char *a, const char *b, int n)
{
	for (int i = 0; i < n; i++)
		if (a[i] != b[i])
			return 0;
	return 1;
}

/* --- a minimal virtio-mmio driver ------------------------------------ */

static volatile struct desc *const desc = (void *)RING;
static volatile uint16_t *const avail = (void *)(RING + 0x1000); /* flags, idx, ring[] */
static volatile uint16_t *const used = (void *)(RING + 0x2000);  /* flags, idx, {id,len}[] */
static uint16_t avail_idx;

static uintptr_t find(uint32_t id)
{
	for (int i = 0; i < 8; i++) {
		uintptr_t b = VIRTIO_BASE + 0x1000UL * i;

		if (rd(b) == 0x74726976 && rd(b + 4) == 2 && rd(b + 8) == id)
			return b;
	}
	return 0;
}

static int setup(uintptr_t b, uint32_t qsize)
{
	uint32_t st;

	wr(b + 0x70, 0);
	wr(b + 0x70, ST_ACK | ST_DRIVER);
	wr(b + 0x14, 1);
	if (!(rd(b + 0x10) & 1)) /* VERSION_1 */
		return -1;
	wr(b + 0x24, 0);
	wr(b + 0x20, 0);
	wr(b + 0x24, 1);
	wr(b + 0x20, 1);
	wr(b + 0x70, ST_ACK | ST_DRIVER | ST_FEATURES_OK);
	if (!(rd(b + 0x70) & ST_FEATURES_OK))
		return -1;
	mset((void *)RING, 0, 0x3000);
	avail_idx = 0;
	wr(b + 0x30, 0);
	wr(b + 0x38, qsize);
	wr(b + 0x80, (uint32_t)RING);
	wr(b + 0x84, 0);
	wr(b + 0x90, (uint32_t)(RING + 0x1000));
	wr(b + 0x94, 0);
	wr(b + 0xa0, (uint32_t)(RING + 0x2000));
	wr(b + 0xa4, 0);
	wr(b + 0x44, 1);
	st = rd(b + 0x70);
	wr(b + 0x70, st | ST_DRIVER_OK);
	return (rd(b + 0x70) & ST_NEEDS_RESET) ? -1 : 0;
}

/* Publishes the chain at head and waits until the device uses it (or
 * breaks); returns the used length, or -1. */
static int64_t submit(uintptr_t b, uint16_t head, uint16_t idx_step)
{
	uint16_t want;

	avail[2 + (avail_idx % 8)] = head;
	__asm__ volatile("" ::: "memory");
	avail_idx += idx_step;
	avail[1] = avail_idx;
	want = avail_idx;
	wr(b + 0x50, 0);
	for (long i = 0; i < 200000000L; i++) {
		if (used[1] == want)
			return *(volatile uint32_t *)((uintptr_t)used + 4 + 8 * ((want - 1) % 8) +
			                              4);
		if (rd(b + 0x70) & ST_NEEDS_RESET)
			return -1;
	}
	puts_("timeout waiting for the device\n");
	return -1;
}

static int64_t blk_req(uintptr_t b, uint32_t type, uint64_t sector, uint32_t len,
                       volatile uint8_t *status)
{
	volatile uint32_t *hdr = (void *)BUF;

	hdr[0] = type;
	hdr[1] = 0;
	*(volatile uint64_t *)(BUF + 8) = sector;
	*status = 0xff;
	desc[0] = (struct desc){BUF, 16, 1, 1};
	if (len) {
		desc[1] = (struct desc){BUF + 0x1000, len, type == 1 ? 1 : 3, 2};
		desc[2] = (struct desc){(uintptr_t)status, 1, 2, 0};
	} else {
		desc[1] = (struct desc){(uintptr_t)status, 1, 2, 0};
	}
	return submit(b, 0, 1);
}

static int needs_reset(uintptr_t b)
{
	for (long i = 0; i < 200000000L; i++)
		if (rd(b + 0x70) & ST_NEEDS_RESET)
			return 1;
	return 0;
}

static void blk_tests(uintptr_t b)
{
	volatile uint8_t *status = (void *)(BUF + 0x3000);
	volatile char *data = (void *)(BUF + 0x1000);
	const char msg[] = "LONG-GUEST-WROTE";

	say("virtio-blk negotiates VERSION_1 and starts", setup(b, 8) == 0);
	say("virtio-blk reads sector 0", blk_req(b, 0, 0, 512, status) == 513 && *status == 0 &&
	                                     streq(data, "LONG-DISK-IN", 12));
	for (int i = 0; i < 16; i++)
		data[i] = msg[i];
	say("virtio-blk writes sector 1", blk_req(b, 1, 1, 512, status) == 1 && *status == 0);
	say("virtio-blk flushes", blk_req(b, 4, 0, 0, status) == 1 && *status == 0);
	say("virtio-blk reports its id",
	    blk_req(b, 8, 0, 20, status) >= 6 && *status == 0 && streq(data, "disk0", 5));
	say("virtio-blk fails a read past the end with IOERR",
	    blk_req(b, 0, 1UL << 40, 512, status) == 1 && *status == 1);
	say("virtio-blk refuses an unknown request with UNSUPP",
	    blk_req(b, 77, 0, 0, status) == 1 && *status == 2);

	/* A chain whose NEXT points at itself. */
	desc[0] = (struct desc){BUF, 16, 1, 0};
	submit(b, 0, 1);
	say("a looping descriptor chain makes the device need a reset", needs_reset(b));
	say("after a reset the device works again",
	    setup(b, 8) == 0 && blk_req(b, 0, 0, 512, status) == 513 && *status == 0);

	/* A buffer far outside guest memory. */
	desc[0] = (struct desc){0x7ff000000000UL, 16, 0, 0};
	submit(b, 0, 1);
	say("a buffer outside guest memory makes the device need a reset", needs_reset(b));

	/* An available index that jumps past the ring. */
	setup(b, 8);
	desc[0] = (struct desc){BUF, 16, 0, 0};
	submit(b, 0, 1000);
	say("an available index that runs ahead makes the device need a reset", needs_reset(b));

	/* A queue size that is not a power of two. */
	say("a queue size of 3 is refused", setup(b, 3) != 0 && needs_reset(b));

	/* Stray register and configuration writes change nothing. */
	setup(b, 8);
	wr(b + 0x100, 0xdeadbeef);           /* capacity is read-only */
	*(volatile uint8_t *)(b + 0x71) = 0; /* a byte write to Status */
	wr(b + 0x38, 64);                    /* QueueNum while ready */
	wr(b + 0xff0, 1);                    /* no register there */
	say("stray register writes are ignored",
	    rd(b + 0x100) != 0xdeadbeef && (rd(b + 0x70) & ST_DRIVER_OK) &&
	        blk_req(b, 0, 0, 512, status) == 513 && *status == 0);
	wr(b + 0x70, 0);
}

static void rng_test(uintptr_t b)
{
	int64_t n;

	setup(b, 8);
	mset((void *)(BUF + 0x1000), 0, 32);
	desc[0] = (struct desc){BUF + 0x1000, 32, 2, 0};
	n = submit(b, 0, 1);
	say("virtio-rng fills a 32-byte buffer", n == 32);
	wr(b + 0x70, 0);
}

void guest_main(void);
void guest_main(void)
{
	uintptr_t blk, rng;

	puts_("long mode guest running\n");
	say("an unclaimed MMIO address reads as all ones", rd(0xd0f00000UL) == 0xffffffff);
	blk = find(2);
	rng = find(4);
	if (blk)
		blk_tests(blk);
	else
		say("a virtio-blk device is present", 0);
	if (rng)
		rng_test(rng);
	puts_("scenario " STR(SCENARIO) "\n");
#define IS(x) (__builtin_strcmp(STR(SCENARIO), #x) == 0)
	if (IS(reboot)) {
		outb(0x64, 0xfe);
	} else if (IS(panic)) {
		outb(0x505, 1);
	} else if (IS(triple)) {
		struct {
			uint16_t limit;
			uint64_t base;
		} __attribute__((packed)) idt = {0, 0};

		__asm__ volatile("lidt %0; int3" : : "m"(idt));
	} else if (IS(spin)) {
		for (;;)
			__asm__ volatile("cli; hlt");
	} else {
		outb(0x600, (5 << 2) | 0x20); /* ACPI sleep control: S5 */
	}
	puts_("still running after the end: ");
	puthex(0);
	puts_("\n");
}
