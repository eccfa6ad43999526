/* An ARM PL011 UART as Linux's amba-pl011 driver uses it (ARM DDI 0183):
 * output leaves at once, so the transmit FIFO always looks empty; input
 * waits in the receive FIFO. The interrupt is an edge (KVM_IRQFD), raised
 * when the masked status goes from nothing to something, which matches the
 * driver's loop over UARTMIS. */
#include "serial.h"

#include <string.h>
#include <unistd.h>

#define DR    0x000
#define RSR   0x004
#define FR    0x018
#define IBRD  0x024
#define FBRD  0x028
#define LCR_H 0x02c
#define CR    0x030
#define IFLS  0x034
#define IMSC  0x038
#define RIS   0x03c
#define MIS   0x040
#define ICR   0x044

#define FR_RXFE 0x10
#define FR_TXFE 0x80
#define FR_RXFF 0x40
#define INT_RX  0x10
#define INT_TX  0x20
#define INT_RT  0x40
#define CR_LBE  0x80

void pl011_init(struct pl011 *u, int out_fd, int irq_fd)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->lock, NULL);
	serial_port_init(&u->port, out_fd, irq_fd);
	u->cr = 0x300; /* TXE, RXE */
	u->ifls = 0x12;
}

/* The raw interrupt status: receive (and its timeout) while the FIFO holds
 * data, transmit always (the FIFO is always empty), unless cleared. */
static uint32_t raw_status(const struct pl011 *u)
{
	uint32_t ris = u->tx_cleared ? 0 : INT_TX;

	if (u->port.rx_count)
		ris |= INT_RX | INT_RT;
	return ris;
}

static void update_irq(struct pl011 *u)
{
	serial_irq(&u->port, (raw_status(u) & u->imsc) != 0);
}

static void transmit(struct pl011 *u, uint8_t c)
{
	if (u->cr & CR_LBE) {
		serial_receive(&u->port, &c, 1);
		return;
	}
	serial_write(&u->port, c);
	/* Writing data clears a cleared transmit interrupt: it asserts
	 * again once the (instantly drained) FIFO is empty. */
	u->tx_cleared = false;
}

static uint32_t id_register(uint64_t off)
{
	/* PeriphID 0x00141011 (PL011 r1p5), PrimeCell ID 0xb105f00d. */
	static const uint8_t id[8] = {0x11, 0x10, 0x14, 0x00, 0x0d, 0xf0, 0x05, 0xb1};

	return id[(off - 0xfe0) / 4];
}

static uint32_t in(struct pl011 *u, uint64_t off)
{
	switch (off) {
	case DR:
		return serial_read(&u->port);
	case FR:
		return FR_TXFE | (u->port.rx_count ? 0 : FR_RXFE) |
		       (u->port.rx_count == UART_FIFO ? FR_RXFF : 0);
	case IBRD:
		return u->ibrd;
	case FBRD:
		return u->fbrd;
	case LCR_H:
		return u->lcr;
	case CR:
		return u->cr;
	case IFLS:
		return u->ifls;
	case IMSC:
		return u->imsc;
	case RIS:
		return raw_status(u);
	case MIS:
		return raw_status(u) & u->imsc;
	}
	if (off >= 0xfe0 && off < 0x1000)
		return id_register(off);
	return 0;
}

static void out(struct pl011 *u, uint64_t off, uint32_t v)
{
	switch (off) {
	case DR:
		transmit(u, (uint8_t)v);
		break;
	case IBRD:
		u->ibrd = v & 0xffff;
		break;
	case FBRD:
		u->fbrd = v & 0x3f;
		break;
	case LCR_H:
		u->lcr = v & 0xff;
		break;
	case CR:
		u->cr = v & 0xffff;
		break;
	case IFLS:
		u->ifls = v & 0x3f;
		break;
	case IMSC:
		u->imsc = v & 0x7ff;
		break;
	case ICR:
		/* Only the transmit interrupt is an event here; the receive
		 * ones follow the FIFO. */
		if (v & INT_TX)
			u->tx_cleared = true;
		break;
	}
}

void pl011_io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct pl011 *u = opaque;
	uint32_t v = 0;

	if (!is_write)
		memset(data, 0, len);
	/* 32-bit registers; narrower accesses read or write the low bits. */
	if (len == 0 || len > 4 || (off & 3) || off >= PL011_SIZE)
		return;
	pthread_mutex_lock(&u->lock);
	if (is_write) {
		memcpy(&v, data, len);
		out(u, off, v);
	} else {
		v = in(u, off);
		memcpy(data, &v, len);
	}
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

size_t pl011_input(struct pl011 *u, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&u->lock);
	if (!(u->cr & CR_LBE))
		n = serial_receive(&u->port, buf, len);
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}
