/* Recognising kernel files: bzImage, PVH vmlinux, arm64 Image, for both
 * architectures, and a clear error for each wrong file (not a kernel,
 * truncated, another architecture, compressed, no PVH note); then loading
 * them into guest memory at the right place. */
#include "tap.h"

#include "kernel.h"

#include <elf.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct kernel_info ki;
static struct bh_error err;

static int file_of(const void *data, size_t len)
{
	char path[] = "/tmp/bhv-unit-kernel-XXXXXX";
	int fd = mkstemp(path);

	unlink(path);
	if (fd < 0 || write(fd, data, len) != (ssize_t)len)
		abort();
	return fd;
}

static int probe(const void *data, size_t len, enum kernel_arch arch, enum bhv_kernel_format fmt)
{
	int fd = file_of(data, len), r;

	memset(&err, 0, sizeof(err));
	r = kernel_probe_arch(fd, "K", fmt, arch, &ki, &err);
	close(fd);
	return r;
}

static void put16(uint8_t *p, uint16_t v)
{
	memcpy(p, &v, 2);
}

static void put32(uint8_t *p, uint32_t v)
{
	memcpy(p, &v, 4);
}

static void put64(uint8_t *p, uint64_t v)
{
	memcpy(p, &v, 8);
}

/* A bzImage: 4 setup sectors after the boot sector, then body bytes. */
static uint8_t *bzimage(size_t body, uint16_t version, uint16_t xloadflags, size_t *len)
{
	uint8_t *b;

	*len = 5 * 512 + body;
	b = calloc(1, *len);
	b[0x1f1] = 4;
	put32(b + 0x1f4, (uint32_t)(body / 16));
	put16(b + 0x1fe, 0xaa55);
	b[0x201] = 0x66; /* the jump: header ends at 0x268 */
	memcpy(b + 0x202, "HdrS", 4);
	put16(b + 0x206, version);
	b[0x211] = 1; /* LOADED_HIGH */
	put32(b + 0x22c, 0x7fffffff);
	put32(b + 0x230, 0x200000);
	b[0x234] = 1; /* relocatable */
	put16(b + 0x236, xloadflags);
	put32(b + 0x238, 2047);
	put64(b + 0x258, 0x1000000);
	put32(b + 0x260, 0x2000000);
	memset(b + 5 * 512, 0xcc, body);
	return b;
}

static void test_bzimage(void)
{
	size_t len;
	uint8_t *b = bzimage(4096, 0x020f, 1, &len);

	ok(probe(b, len, ARCH_X86_64, BHV_KERNEL_AUTO) == 0 && ki.kind == KERNEL_BZIMAGE &&
	       ki.setup_size == 5 * 512 && ki.cmdline_size == 2047 && ki.init_size == 0x2000000,
	   "a bzImage: setup size, command line limit, init_size: %s", err.msg);
	ok(ki.load_end == 0x1000000 + 0x2000000,
	   "it needs memory up to pref_address + init_size (where it decompresses)");
	ok(probe(b, len, ARCH_ARM64, BHV_KERNEL_AUTO) < 0 &&
	       strstr(err.msg, "is an x86 bzImage, but this bhv boots arm64"),
	   "a bzImage on arm64: %s", err.msg);
	ok(probe(b, len - 100, ARCH_X86_64, BHV_KERNEL_AUTO) < 0 && strstr(err.msg, "is truncated"),
	   "a bzImage cut short: %s", err.msg);
	ok(probe(b, 600, ARCH_X86_64, BHV_KERNEL_AUTO) < 0 && strstr(err.msg, "is truncated"),
	   "only the header of a bzImage: %s", err.msg);
	/* pref_address + init_size from a hostile header: wrapping past 2^64
	 * (to 16 MiB, which would look small), or ending in the device hole. */
	put64(b + 0x258, 0xffffffffff000000ULL);
	ok(probe(b, len, ARCH_X86_64, BHV_KERNEL_AUTO) < 0 && strstr(err.msg, "pref_address"),
	   "pref_address + init_size wrapping around 2^64 is refused: %s", err.msg);
	put64(b + 0x258, 0xfffffffffe000000ULL);
	put32(b + 0x260, 0xffffffff);
	ok(probe(b, len, ARCH_X86_64, BHV_KERNEL_AUTO) < 0 && strstr(err.msg, "pref_address"),
	   "a wrap with the largest init_size is refused too");
	put64(b + 0x258, BZ_LOW_RAM_END - 0x1000000);
	put32(b + 0x260, 0x1000001);
	ok(probe(b, len, ARCH_X86_64, BHV_KERNEL_AUTO) < 0 && strstr(err.msg, "0xc0000000"),
	   "one byte past low RAM (into the device hole) is refused: %s", err.msg);
	put32(b + 0x260, 0x1000000);
	ok(probe(b, len, ARCH_X86_64, BHV_KERNEL_AUTO) == 0 && ki.load_end == BZ_LOW_RAM_END,
	   "ending exactly at the end of low RAM is accepted");
	put64(b + 0x258, 0x1000000);
	put32(b + 0x260, 0x2000000);
	{
		struct guest_mem gm = {{{0, 40 << 20, calloc(1, 40 << 20)}}, 1};
		int fd = file_of(b, len);

		ok(probe(b, len, ARCH_X86_64, BHV_KERNEL_AUTO) == 0 &&
		       kernel_load(fd, &ki, &gm, 0, &err) < 0 && strstr(err.msg, "decompresses"),
		   "a kernel whose decompression area is past guest memory is not loaded: %s",
		   err.msg);
		gm.r[0].size = 48 << 20;
		ok(kernel_load(fd, &ki, &gm, 0, &err) == 0,
		   "and is loaded when the area ends at the end of memory");
		close(fd);
		free(gm.r[0].hva);
	}
	free(b);
	b = bzimage(4096, 0x020a, 1, &len);
	ok(probe(b, len, ARCH_X86_64, BHV_KERNEL_AUTO) < 0 && strstr(err.msg, "protocol 2.10"),
	   "a boot protocol older than 2.12: %s", err.msg);
	free(b);
	b = bzimage(4096, 0x020f, 0, &len);
	ok(probe(b, len, ARCH_X86_64, BHV_KERNEL_AUTO) < 0 && strstr(err.msg, "XLF_KERNEL_64"),
	   "a kernel without the 64-bit entry: %s", err.msg);
	b[0x1f1] = 0; /* 0 setup sectors means 4 */
	put16(b + 0x236, 1);
	ok(probe(b, len, ARCH_X86_64, BHV_KERNEL_AUTO) == 0 && ki.setup_size == 5 * 512,
	   "setup_sects 0 means 4");
	{
		struct guest_mem gm = {{{0, 64 << 20, calloc(1, 64 << 20)}}, 1};
		int fd = file_of(b, len);

		ok(kernel_load(fd, &ki, &gm, 0, &err) == 0 && gm.r[0].hva[BZ_LOAD_ADDR] == 0xcc &&
		       gm.r[0].hva[BZ_LOAD_ADDR + 4095] == 0xcc &&
		       gm.r[0].hva[BZ_LOAD_ADDR + 4096] == 0,
		   "the 64-bit part is loaded at 1 MiB, nothing more");
		gm.r[0].size = BZ_LOAD_ADDR + 100;
		ok(kernel_load(fd, &ki, &gm, 0, &err) < 0 && strstr(err.msg, "does not fit"),
		   "a kernel that does not fit in guest memory: %s", err.msg);
		close(fd);
		free(gm.r[0].hva);
	}
	free(b);
}

/* An x86_64 (or other) vmlinux with one PT_LOAD and, optionally, a PVH
 * note with a 4- or 8-byte address. */
static uint8_t *elf(uint16_t machine, int note_bytes, size_t *len)
{
	size_t phoff = sizeof(Elf64_Ehdr), note_off = 0x200, seg_off = 0x1000;
	uint8_t *b = calloc(1, 0x3000);
	Elf64_Ehdr *eh = (void *)b;
	Elf64_Phdr *ph = (void *)(b + phoff);

	memcpy(eh->e_ident, ELFMAG, SELFMAG);
	eh->e_ident[EI_CLASS] = ELFCLASS64;
	eh->e_ident[EI_DATA] = ELFDATA2LSB;
	eh->e_type = ET_EXEC;
	eh->e_machine = machine;
	eh->e_phoff = phoff;
	eh->e_phentsize = sizeof(Elf64_Phdr);
	eh->e_phnum = 2;
	ph[0] = (Elf64_Phdr){.p_type = PT_LOAD,
	                     .p_offset = seg_off,
	                     .p_paddr = 0x1000000,
	                     .p_filesz = 0x1000,
	                     .p_memsz = 0x3000};
	ph[1] = (Elf64_Phdr){.p_type = PT_NOTE, .p_offset = note_off, .p_filesz = 0};
	if (note_bytes) {
		uint8_t *n = b + note_off;

		/* A foreign note first, then Xen's PHYS32_ENTRY. */
		put32(n, 4), put32(n + 4, 4), put32(n + 8, 1), memcpy(n + 12, "GNU", 4);
		put32(n + 16, 0x1234);
		n += 20;
		put32(n, 4), put32(n + 4, (uint32_t)note_bytes), put32(n + 8, 18);
		memcpy(n + 12, "Xen", 4);
		put64(n + 16, 0x1000200);
		ph[1].p_filesz = 20 + 16 + (size_t)note_bytes;
	}
	memset(b + seg_off, 0xab, 0x1000);
	*len = 0x2000;
	return b;
}

static void test_elf(void)
{
	size_t len;
	uint8_t *b = elf(EM_X86_64, 8, &len);
	Elf64_Phdr *ph = (void *)(b + sizeof(Elf64_Ehdr));

	ok(probe(b, len, ARCH_X86_64, BHV_KERNEL_AUTO) == 0 && ki.kind == KERNEL_ELF_PVH &&
	       ki.entry == 0x1000200 && ki.n_seg == 1 && ki.load_end == 0x1003000,
	   "a vmlinux with an 8-byte PVH note: entry 0x%llx: %s", (unsigned long long)ki.entry,
	   err.msg);
	{
		struct guest_mem gm = {{{0, 32 << 20, calloc(1, 32 << 20)}}, 1};
		int fd = file_of(b, len);

		memset(gm.r[0].hva + 0x1001000, 0x77, 0x2000);
		ok(kernel_load(fd, &ki, &gm, 0, &err) == 0 && gm.r[0].hva[0x1000000] == 0xab &&
		       gm.r[0].hva[0x1001000] == 0 && gm.r[0].hva[0x1002fff] == 0,
		   "segments load at their physical address, bss zeroed");
		close(fd);
		free(gm.r[0].hva);
	}
	free(b);
	b = elf(EM_X86_64, 4, &len);
	ok(probe(b, len, ARCH_X86_64, BHV_KERNEL_AUTO) == 0 && ki.entry == 0x1000200,
	   "a 4-byte PVH note");
	free(b);
	b = elf(EM_X86_64, 0, &len);
	ok(probe(b, len, ARCH_X86_64, BHV_KERNEL_AUTO) < 0 && strstr(err.msg, "no PVH entry note"),
	   "a vmlinux without the PVH note: %s", err.msg);
	free(b);
	b = elf(EM_AARCH64, 8, &len);
	ok(probe(b, len, ARCH_X86_64, BHV_KERNEL_AUTO) < 0 && strstr(err.msg, "arm64 ELF"),
	   "an arm64 vmlinux: %s", err.msg);
	free(b);
	b = elf(EM_RISCV, 8, &len);
	ok(probe(b, len, ARCH_X86_64, BHV_KERNEL_AUTO) < 0 && strstr(err.msg, "not x86_64"),
	   "an ELF for another machine: %s", err.msg);
	free(b);
	b = elf(EM_X86_64, 8, &len);
	ok(probe(b, len, ARCH_ARM64, BHV_KERNEL_AUTO) < 0 && strstr(err.msg, "x86_64 vmlinux"),
	   "an x86_64 vmlinux on arm64: %s", err.msg);
	ph = (void *)(b + sizeof(Elf64_Ehdr));
	ph[0].p_filesz = 0x5000;
	ph[0].p_memsz = 0x5000;
	ok(probe(b, len, ARCH_X86_64, BHV_KERNEL_AUTO) < 0 && strstr(err.msg, "truncated"),
	   "a segment that ends past the file: %s", err.msg);
	ph[0].p_filesz = 0x1000;
	ph[0].p_paddr = 0x1000;
	ok(probe(b, len, ARCH_X86_64, BHV_KERNEL_AUTO) < 0 && strstr(err.msg, "impossible"),
	   "a segment over the low megabyte: %s", err.msg);
	ph[0].p_paddr = 0xfffffffffffff000ULL;
	ok(probe(b, len, ARCH_X86_64, BHV_KERNEL_AUTO) < 0 && strstr(err.msg, "impossible"),
	   "a segment whose end wraps: %s", err.msg);
	ph[0].p_paddr = 0x1000000;
	((Elf64_Ehdr *)b)->e_phoff = 0x1ff8;
	ok(probe(b, len, ARCH_X86_64, BHV_KERNEL_AUTO) < 0 && strstr(err.msg, "truncated"),
	   "program headers past the end of the file: %s", err.msg);
	ok(probe(b, 40, ARCH_X86_64, BHV_KERNEL_AUTO) < 0 &&
	       strstr(err.msg, "no complete ELF header"),
	   "half an ELF header: %s", err.msg);
	free(b);
}

static void test_arm64(void)
{
	uint8_t b[8192] = {0};

	put64(b + 8, 0);        /* text_offset */
	put64(b + 16, 3 << 20); /* image_size */
	put64(b + 24, 2);       /* 4K pages, little-endian */
	put32(b + 56, 0x644d5241);
	ok(probe(b, sizeof(b), ARCH_ARM64, BHV_KERNEL_AUTO) == 0 && ki.kind == KERNEL_ARM64_IMAGE &&
	       ki.load_offset == 0 && ki.load_end == 3 << 20,
	   "an arm64 Image: loaded at the start of RAM, image_size reserved: %s", err.msg);
	ok(probe(b, sizeof(b), ARCH_X86_64, BHV_KERNEL_AUTO) < 0 &&
	       strstr(err.msg, "is an arm64 Image, but this bhv boots x86_64"),
	   "an arm64 Image on x86_64: %s", err.msg);
	put64(b + 24, 3);
	ok(probe(b, sizeof(b), ARCH_ARM64, BHV_KERNEL_AUTO) < 0 && strstr(err.msg, "big-endian"),
	   "a big-endian Image: %s", err.msg);
	put64(b + 24, 2);
	put64(b + 16, 100);
	ok(probe(b, sizeof(b), ARCH_ARM64, BHV_KERNEL_AUTO) < 0 && strstr(err.msg, "impossible"),
	   "an image_size smaller than the file: %s", err.msg);
	put64(b + 16, 0);
	ok(probe(b, sizeof(b), ARCH_ARM64, BHV_KERNEL_AUTO) == 0 && ki.load_offset == 0x80000,
	   "an old Image (image_size 0) goes at text_offset 0x80000");
}

static void test_other(void)
{
	static const uint8_t gz[64] = {0x1f, 0x8b, 8};
	char text[2048];

	memset(text, 'x', sizeof(text));
	ok(probe(gz, sizeof(gz), ARCH_ARM64, BHV_KERNEL_AUTO) < 0 && strstr(err.msg, "gzip"),
	   "a gzip-compressed Image: %s", err.msg);
	ok(probe(text, sizeof(text), ARCH_X86_64, BHV_KERNEL_AUTO) < 0 &&
	       strstr(err.msg, "K is not a kernel"),
	   "a text file: %s", err.msg);
	ok(probe(text, 0, ARCH_X86_64, BHV_KERNEL_AUTO) < 0 && strstr(err.msg, "empty"),
	   "an empty file: %s", err.msg);
	ok(probe(text, sizeof(text), ARCH_X86_64, BHV_KERNEL_RAW16) == 0 &&
	       ki.kind == KERNEL_RAW16 && ki.entry == RAW16_LOAD_ADDR,
	   "a raw real-mode test guest");
	{
		uint8_t *big = calloc(1, RAW16_MAX_SIZE + 1);

		ok(probe(big, RAW16_MAX_SIZE + 1, ARCH_X86_64, BHV_KERNEL_RAW16) < 0 &&
		       strstr(err.msg, "640 KiB"),
		   "a real-mode guest too big for low memory: %s", err.msg);
		free(big);
	}
	ok(probe(text, sizeof(text), ARCH_ARM64, BHV_KERNEL_RAW64) < 0 &&
	       strstr(err.msg, "only on x86_64"),
	   "raw guests on arm64: %s", err.msg);
	{
		int fd = open("/dev/null", O_RDONLY);

		ok(kernel_probe_arch(fd, "/dev/null", BHV_KERNEL_AUTO, ARCH_X86_64, &ki, &err) <
		           0 &&
		       strstr(err.msg, "not a regular file"),
		   "a device as the kernel: %s", err.msg);
		close(fd);
	}
}

int main(void)
{
	test_bzimage();
	test_elf();
	test_arm64();
	test_other();
	return done();
}
