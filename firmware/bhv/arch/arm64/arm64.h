/* The ARM64 guest's memory map (like QEMU's virt machine, which the
 * guest kernel's drivers already know): devices below 2 GiB, RAM from
 * 2 GiB. The device tree (arm64_fdt.c) describes it to the kernel. */
#ifndef BHV_ARM64_H
#define BHV_ARM64_H

#include "guest_mem.h"

#include <bulkhead/error.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARM64_RAM_BASE        0x80000000ULL
#define ARM64_GIC_DIST        0x08000000ULL
#define ARM64_GIC_DIST_SIZE   0x10000ULL
#define ARM64_GIC_V2_CPU      0x08010000ULL
#define ARM64_GIC_V2_CPU_SIZE 0x2000ULL
#define ARM64_GIC_REDIST      0x080a0000ULL
#define ARM64_GIC_REDIST_SIZE 0x20000ULL /* per vCPU */
#define ARM64_PL011_BASE      0x09000000ULL
#define ARM64_PL011_SPI       1
#define ARM64_GPIO_BASE       0x09030000ULL
#define ARM64_GPIO_SPI        7
#define ARM64_VIRTIO_BASE     0x0a000000ULL
#define ARM64_VIRTIO_SPI      16 /* the n-th device has SPI 16 + n */
#define ARM64_GIC_NR_IRQS     128
#define ARM64_DTB_MAX         0x10000ULL

struct arm64_fdt_info {
	int ncpus;
	uint64_t ram_base, ram_size;
	const char *cmdline;
	uint64_t initrd_start, initrd_size; /* size 0: no initrd */
	bool gic_v3;
	bool pl011;
	bool power_button; /* a PL061 with gpio-keys on its line 3 */
	int n_virtio;
	uint64_t virtio_base[8];
	unsigned virtio_spi[8];
};

/* Writes the device tree blob into buf (at most size bytes). */
int arm64_fdt_build(void *buf, size_t size, const struct arm64_fdt_info *info,
                    struct bh_error *err);

#endif
