/* The consoles that exist before any driver: an 8250 UART (x86_64, port
 * 0x3f8, IRQ 4) and a PL011 (ARM64). Register accesses come from vCPU
 * threads; input comes from the device thread; both take the lock. */
#ifndef BHV_SERIAL_H
#define BHV_SERIAL_H

#include "console_limit.h"

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define UART_FIFO 64

/* What every UART here shares (serial.c): where the guest's output goes,
 * the receive FIFO the device thread fills, and an edge-triggered
 * interrupt (KVM_IRQFD): it fires when the line goes from low to high. */
struct serial_port {
	int out_fd;                  /* guest output, or -1 to drop it */
	struct console_limit *limit; /* the output's rate limit, or NULL */
	int irq_fd;                  /* eventfd bound with KVM_IRQFD, or -1 */
	bool irq_high;
	uint8_t rx[UART_FIFO];
	unsigned rx_head, rx_count;
};

void serial_port_init(struct serial_port *p, int out_fd, int irq_fd);
/* Queues bytes for the guest; returns how many fit in the FIFO. */
size_t serial_receive(struct serial_port *p, const uint8_t *buf, size_t len);
/* The next byte for the guest, 0 when the FIFO is empty. */
uint8_t serial_read(struct serial_port *p);
/* One byte of guest output (dropped over the rate limit). */
void serial_write(struct serial_port *p, uint8_t c);
/* The interrupt line's level now; a rising edge raises the interrupt. */
void serial_irq(struct serial_port *p, bool high);

struct uart_8250 {
	pthread_mutex_t lock;
	struct serial_port port;
	uint8_t ier, iir, fcr, lcr, mcr, lsr, msr, scr, dll, dlm;
};

void uart_8250_init(struct uart_8250 *u, int out_fd, int irq_fd);
void uart_8250_io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write);
/* Queues input for the guest; returns how many bytes fit in the FIFO. */
size_t uart_8250_input(struct uart_8250 *u, const uint8_t *buf, size_t len);

struct pl011 {
	pthread_mutex_t lock;
	struct serial_port port;
	uint32_t cr, lcr, ibrd, fbrd, ifls, imsc;
	bool tx_cleared; /* the driver cleared TXRIS and wrote nothing since */
};

#define PL011_SIZE 0x1000

void pl011_init(struct pl011 *u, int out_fd, int irq_fd);
void pl011_io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write);
size_t pl011_input(struct pl011 *u, const uint8_t *buf, size_t len);

#endif
