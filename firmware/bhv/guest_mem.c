/* Bounds-checked access to guest memory. */
#include "guest_mem.h"

#include <string.h>

void *gm_ptr(const struct guest_mem *gm, uint64_t gpa, uint64_t len)
{
	for (int i = 0; i < gm->n; i++) {
		const struct gm_region *r = &gm->r[i];

		/* Written so that no sum can overflow: gpa + len might. */
		if (gpa < r->gpa || gpa - r->gpa >= r->size)
			continue;
		if (len > r->size - (gpa - r->gpa))
			return NULL;
		return r->hva + (gpa - r->gpa);
	}
	return NULL;
}

int gm_write(const struct guest_mem *gm, uint64_t gpa, const void *src, uint64_t len)
{
	void *p = gm_ptr(gm, gpa, len);

	if (!p)
		return -1;
	memcpy(p, src, len);
	return 0;
}

int gm_read(const struct guest_mem *gm, uint64_t gpa, void *dst, uint64_t len)
{
	void *p = gm_ptr(gm, gpa, len);

	if (!p)
		return -1;
	memcpy(dst, p, len);
	return 0;
}

uint64_t gm_size(const struct guest_mem *gm)
{
	uint64_t total = 0;

	for (int i = 0; i < gm->n; i++)
		total += gm->r[i].size;
	return total;
}
