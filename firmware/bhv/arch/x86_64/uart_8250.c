/* A 16550A UART as Linux's 8250 driver probes and uses it. Output leaves
 * at once, so the transmitter always looks empty; the receive FIFO holds
 * what the device thread typed in. The interrupt is an edge (KVM_IRQFD):
 * it fires when the pending-interrupt condition goes from none to some,
 * which is what the driver's IIR loop expects. */
#include "serial.h"

#include <linux/serial_reg.h>
#include <string.h>
#include <unistd.h>

void uart_8250_init(struct uart_8250 *u, int out_fd, int irq_fd)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->lock, NULL);
	serial_port_init(&u->port, out_fd, irq_fd);
	u->iir = UART_IIR_NO_INT;
	u->lsr = UART_LSR_TEMT | UART_LSR_THRE;
	u->msr = UART_MSR_DCD | UART_MSR_DSR | UART_MSR_CTS;
	u->mcr = UART_MCR_OUT2;
}

static void update_irq(struct uart_8250 *u)
{
	uint8_t iir = 0;

	if ((u->ier & UART_IER_RDI) && u->port.rx_count)
		iir = UART_IIR_RDI;
	else if ((u->ier & UART_IER_THRI) && (u->lsr & UART_LSR_TEMT))
		iir = UART_IIR_THRI;
	u->iir = iir ? iir : UART_IIR_NO_INT;
	serial_irq(&u->port, iir != 0);
}

static void transmit(struct uart_8250 *u, uint8_t c)
{
	if (u->mcr & UART_MCR_LOOP)
		serial_receive(&u->port, &c, 1);
	else
		serial_write(&u->port, c);
}

static void out(struct uart_8250 *u, uint64_t off, uint8_t v)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (off) {
	case UART_TX:
		if (dlab)
			u->dll = v;
		else
			transmit(u, v);
		break;
	case UART_IER:
		if (dlab)
			u->dlm = v;
		else
			u->ier = v & 0x0f;
		break;
	case UART_FCR:
		u->fcr = v;
		if (v & UART_FCR_CLEAR_RCVR)
			u->port.rx_count = u->port.rx_head = 0;
		break;
	case UART_LCR:
		u->lcr = v;
		break;
	case UART_MCR:
		u->mcr = v & 0x1f;
		break;
	case UART_SCR:
		u->scr = v;
		break;
	default: /* LSR and MSR are read-only */
		break;
	}
}

static uint8_t in(struct uart_8250 *u, uint64_t off)
{
	bool dlab = u->lcr & UART_LCR_DLAB;

	switch (off) {
	case UART_RX:
		return dlab ? u->dll : serial_read(&u->port);
	case UART_IER:
		return dlab ? u->dlm : u->ier;
	case UART_IIR:
		/* Bits 7:6 say "FIFOs enabled": the probe calls it a 16550A. */
		return u->iir | ((u->fcr & UART_FCR_ENABLE_FIFO) ? 0xc0 : 0);
	case UART_LCR:
		return u->lcr;
	case UART_MCR:
		return u->mcr;
	case UART_LSR:
		return u->lsr | (u->port.rx_count ? UART_LSR_DR : 0);
	case UART_MSR:
		if (u->mcr & UART_MCR_LOOP) /* loopback: modem lines mirror MCR */
			return (uint8_t)(((u->mcr & 0x0c) << 4) | ((u->mcr & 0x02) << 3) |
			                 ((u->mcr & 0x01) << 5));
		return u->msr;
	case UART_SCR:
		return u->scr;
	}
	return 0xff;
}

void uart_8250_io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	struct uart_8250 *u = opaque;

	/* Byte registers: wider accesses touch only the first one. */
	if (!is_write)
		memset(data, 0, len);
	if (len == 0 || off > 7)
		return;
	pthread_mutex_lock(&u->lock);
	if (is_write) {
		out(u, off, *(uint8_t *)data);
	} else {
		*(uint8_t *)data = in(u, off);
	}
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
}

size_t uart_8250_input(struct uart_8250 *u, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	pthread_mutex_lock(&u->lock);
	if (!(u->mcr & UART_MCR_LOOP))
		n = serial_receive(&u->port, buf, len);
	update_irq(u);
	pthread_mutex_unlock(&u->lock);
	return n;
}
