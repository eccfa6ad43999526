/* Address decoding. A handful of windows: a linear search is the fastest
 * and simplest there is. */
#include "bus.h"

#include <string.h>

int bus_add(struct bus *b, uint64_t base, uint64_t size, bus_io_fn *io, void *opaque)
{
	if (b->n == BUS_MAX || size == 0 || base + size < base)
		return -1;
	for (int i = 0; i < b->n; i++)
		if (base < b->w[i].base + b->w[i].size && b->w[i].base < base + size)
			return -1;
	b->w[b->n++] = (struct bus_window){base, size, io, opaque};
	return 0;
}

bool bus_access(const struct bus *b, uint64_t addr, void *data, uint32_t len, bool is_write)
{
	for (int i = 0; i < b->n; i++) {
		const struct bus_window *w = &b->w[i];

		if (addr < w->base || addr - w->base >= w->size)
			continue;
		if (len > w->size - (addr - w->base))
			break;
		w->io(w->opaque, addr - w->base, data, len, is_write);
		return true;
	}
	if (!is_write)
		memset(data, 0xff, len);
	return false;
}
