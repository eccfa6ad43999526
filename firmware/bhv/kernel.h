/* Kernel images: what the file is, where it goes and how much memory it
 * needs, found out before the VM exists (kernel_probe), then copied into
 * guest memory (kernel_load). */
#ifndef BHV_KERNEL_H
#define BHV_KERNEL_H

#include "config.h"
#include "guest_mem.h"

#include <bulkhead/error.h>

#include <stdint.h>

enum kernel_arch { ARCH_X86_64, ARCH_ARM64 };

#if defined(__x86_64__)
#define ARCH_NATIVE ARCH_X86_64
#elif defined(__aarch64__)
#define ARCH_NATIVE ARCH_ARM64
#else
#error "bhv runs on x86_64 and arm64 only"
#endif

enum kernel_kind {
	KERNEL_BZIMAGE,     /* x86 boot protocol, 64-bit entry */
	KERNEL_ELF_PVH,     /* uncompressed vmlinux entered through its PVH note */
	KERNEL_ARM64_IMAGE, /* arm64 Image (Documentation/arch/arm64/booting.rst) */
	KERNEL_RAW16,       /* test guests: flat binary, real mode */
	KERNEL_RAW64,       /* test guests: flat binary, long mode */
};

#define KERNEL_MAX_SEGS 8
#define BZ_HEADER_BYTES 1024 /* boot sector and setup header */
#define BZ_LOAD_ADDR    0x100000ULL
/* Where x86_64 guest RAM below 4 GiB ends (X86_MMIO_GAP_START): a bzImage
 * decompresses into that one region. */
#define BZ_LOW_RAM_END  0xc0000000ULL
#define RAW16_LOAD_ADDR 0x8000ULL
#define RAW16_MAX_SIZE  (0x9f000ULL - RAW16_LOAD_ADDR)
#define RAW64_LOAD_ADDR 0x100000ULL

struct kernel_seg {
	uint64_t offset, paddr, filesz, memsz;
};

struct kernel_info {
	enum kernel_kind kind;
	uint64_t file_size;
	/* bzImage */
	uint8_t header[BZ_HEADER_BYTES];
	uint64_t setup_size; /* real-mode part before the 64-bit kernel */
	uint32_t init_size, cmdline_size, initrd_addr_max;
	uint64_t pref_address;
	/* ELF vmlinux */
	struct kernel_seg seg[KERNEL_MAX_SEGS];
	int n_seg;
	/* Entry point (PVH, raw) or load address (arm64 Image: the offset
	 * from the start of RAM). */
	uint64_t entry;
	uint64_t load_offset;
	/* The end of the highest guest-physical byte the kernel uses while it
	 * boots (decompression included): the memory it cannot do without. */
	uint64_t load_end;
};

/* Identifies the kernel file open on fd (path for messages) for a guest
 * of the given architecture. Fails with a message naming the file when it
 * is not a kernel, is for another architecture, or is truncated. */
int kernel_probe_arch(int fd, const char *path, enum bhv_kernel_format fmt, enum kernel_arch arch,
                      struct kernel_info *ki, struct bh_error *err);

static inline int kernel_probe(int fd, const char *path, enum bhv_kernel_format fmt,
                               struct kernel_info *ki, struct bh_error *err)
{
	return kernel_probe_arch(fd, path, fmt, ARCH_NATIVE, ki, err);
}

/* Copies the kernel into guest memory where kernel_probe said it goes. */
int kernel_load(int fd, const struct kernel_info *ki, const struct guest_mem *gm, uint64_t ram_base,
                struct bh_error *err);

/* Reads len bytes at off; -1 with errno (EIO for a short file). */
int read_at(int fd, uint64_t off, void *buf, uint64_t len);

#endif
