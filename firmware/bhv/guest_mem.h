/* Guest physical memory as the monitor sees it: a few regions of host
 * memory. Every guest-supplied address goes through gm_ptr(), which answers
 * only for ranges that lie entirely inside one region. */
#ifndef BHV_GUEST_MEM_H
#define BHV_GUEST_MEM_H

#include <stdbool.h>
#include <stdint.h>

#define GM_MAX_REGIONS 2

struct gm_region {
	uint64_t gpa;
	uint64_t size;
	uint8_t *hva;
};

struct guest_mem {
	struct gm_region r[GM_MAX_REGIONS];
	int n;
};

/* The host address of [gpa, gpa + len), or NULL when any byte of it is
 * outside guest RAM or the range crosses a region boundary. Even with
 * len 0, gpa itself must be inside a region. */
void *gm_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len);

/* Copies into or out of guest memory; -1 when the range is not RAM. */
int gm_write(const struct guest_mem *gm, uint64_t gpa, const void *src, uint64_t len);
int gm_read(const struct guest_mem *gm, uint64_t gpa, void *dst, uint64_t len);

/* Total RAM in bytes. */
uint64_t gm_size(const struct guest_mem *gm);

#endif
