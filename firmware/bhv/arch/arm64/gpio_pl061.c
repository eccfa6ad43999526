/* The PL061 GPIO controller. The guest configures each line's interrupt
 * (level or edge, which edge, both edges) and reads the levels through the
 * masked data window; the monitor drives only the power button line. The
 * interrupt is an edge (KVM_IRQFD), raised when the masked status goes
 * from nothing to something. */
#include "gpio.h"

#include <string.h>
#include <unistd.h>

#define DIR   0x400
#define IS    0x404
#define IBE   0x408
#define IEV   0x40c
#define IE    0x410
#define RIS   0x414
#define MIS   0x418
#define IC    0x41c
#define AFSEL 0x420

void pl061_init(struct pl061 *g, int irq_fd)
{
	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->lock, NULL);
	g->irq_fd = irq_fd;
}

static uint8_t levels(const struct pl061 *g)
{
	return (uint8_t)((g->out & g->dir) | (g->in & ~g->dir));
}

/* Level-sensitive lines follow the level; edge lines latch until IC. */
static void update(struct pl061 *g)
{
	uint8_t level_match = (uint8_t) ~(levels(g) ^ g->iev);
	bool high;

	g->ris = (uint8_t)((g->ris & ~g->is) | (level_match & g->is));
	high = (g->ris & g->ie) != 0;
	if (high && !g->irq_high && g->irq_fd >= 0) {
		uint64_t one = 1;

		if (write(g->irq_fd, &one, sizeof(one)) < 0) {
			/* eventfd overflow only */
		}
	}
	g->irq_high = high;
}

static void changed(struct pl061 *g, uint8_t before)
{
	uint8_t now = levels(g), edges = (uint8_t)(before ^ now);
	uint8_t rising = (uint8_t)(edges & now), falling = (uint8_t)(edges & before);
	uint8_t hit = (uint8_t)((edges & g->ibe) | (rising & g->iev & ~g->ibe) |
	                        (falling & ~g->iev & ~g->ibe));

	g->ris |= (uint8_t)(hit & ~g->is);
	update(g);
}

static uint32_t id_register(uint64_t off)
{
	/* PeriphID 0x00041061, PrimeCell ID 0xb105f00d. */
	static const uint8_t id[8] = {0x61, 0x10, 0x04, 0x00, 0x0d, 0xf0, 0x05, 0xb1};

	return id[(off - 0xfe0) / 4];
}

static uint32_t in(struct pl061 *g, uint64_t off)
{
	if (off < DIR) /* address bits 9:2 mask the data */
		return levels(g) & (uint8_t)(off >> 2);
	switch (off) {
	case DIR:
		return g->dir;
	case IS:
		return g->is;
	case IBE:
		return g->ibe;
	case IEV:
		return g->iev;
	case IE:
		return g->ie;
	case RIS:
		return g->ris;
	case MIS:
		return g->ris & g->ie;
	case AFSEL:
		return g->afsel;
	}
	return off >= 0xfe0 && off < PL061_SIZE ? id_register(off) : 0;
}

static void out(struct pl061 *g, uint64_t off, uint8_t v)
{
	uint8_t before = levels(g), mask;

	if (off < DIR) {
		mask = (uint8_t)(off >> 2) & g->dir;
		g->out = (uint8_t)((g->out & ~mask) | (v & mask));
		changed(g, before);
		return;
	}
	switch (off) {
	case DIR:
		g->dir = v;
		break;
	case IS:
		g->is = v;
		break;
	case IBE:
		g->ibe = v;
		break;
	case IEV:
		g->iev = v;
		break;
	case IE:
		g->ie = v;
		break;
	case IC:
		g->ris &= (uint8_t) ~(v & ~g->is);
		break;
	case AFSEL:
		g->afsel = v;
		break;
	}
	changed(g, before);
}

void pl061_io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct pl061 *g = opaque;
	uint32_t v = 0;

	if (!is_write)
		memset(data, 0, len);
	if (len == 0 || len > 4 || (off & 3) || off >= PL061_SIZE)
		return;
	pthread_mutex_lock(&g->lock);
	if (is_write) {
		memcpy(&v, data, len);
		out(g, off, (uint8_t)v);
	} else {
		v = in(g, off);
		memcpy(data, &v, len);
	}
	pthread_mutex_unlock(&g->lock);
}

void pl061_set_line(struct pl061 *g, unsigned line, bool high)
{
	uint8_t before;

	if (line > 7)
		return;
	pthread_mutex_lock(&g->lock);
	before = levels(g);
	if (high)
		g->in |= (uint8_t)(1U << line);
	else
		g->in &= (uint8_t) ~(1U << line);
	changed(g, before);
	pthread_mutex_unlock(&g->lock);
}
