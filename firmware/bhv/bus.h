/* Address decoding for the exits KVM hands to the monitor: one bus for
 * x86 I/O ports, one for MMIO. A device claims a window; an access that
 * falls in no window, or straddles the end of one, reaches no device. */
#ifndef BHV_BUS_H
#define BHV_BUS_H

#include <stdbool.h>
#include <stdint.h>

#define BUS_MAX 24

typedef void bus_io_fn(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write);

struct bus_window {
	uint64_t base, size;
	bus_io_fn *io;
	void *opaque;
};

struct bus {
	struct bus_window w[BUS_MAX];
	int n;
};

/* -1 when the bus is full or the window overlaps another. */
int bus_add(struct bus *b, uint64_t base, uint64_t size, bus_io_fn *io, void *opaque);

/* Dispatches one access; false when no device claims it. Reads of
 * unclaimed addresses return all ones, like an empty bus. */
bool bus_access(const struct bus *b, uint64_t addr, void *data, uint32_t len, bool is_write);

#endif
