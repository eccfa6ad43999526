/* The part of a UART that is the same on every architecture (serial.h):
 * output, the receive FIFO and an edge-triggered interrupt. Callers hold
 * their UART's lock. */
#include "serial.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

void serial_port_init(struct serial_port *p, int out_fd, int irq_fd)
{
	memset(p, 0, sizeof(*p));
	p->out_fd = out_fd;
	p->irq_fd = irq_fd;
}

size_t serial_receive(struct serial_port *p, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	while (n < len && p->rx_count < UART_FIFO)
		p->rx[(p->rx_head + p->rx_count++) % UART_FIFO] = buf[n++];
	return n;
}

uint8_t serial_read(struct serial_port *p)
{
	uint8_t c;

	if (!p->rx_count)
		return 0;
	c = p->rx[p->rx_head];
	p->rx_head = (p->rx_head + 1) % UART_FIFO;
	p->rx_count--;
	return c;
}

void serial_write(struct serial_port *p, uint8_t c)
{
	if (p->out_fd < 0 || !console_limit_take(p->limit, 1))
		return;
	for (;;) {
		ssize_t r = write(p->out_fd, &c, 1);

		if (r >= 0 || errno != EINTR)
			break;
	}
}

void serial_irq(struct serial_port *p, bool high)
{
	if (high && !p->irq_high && p->irq_fd >= 0) {
		uint64_t one = 1;

		if (write(p->irq_fd, &one, sizeof(one)) < 0) {
			/* eventfd overflow only */
		}
	}
	p->irq_high = high;
}
