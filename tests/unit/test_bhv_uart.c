/* The 8250 UART as Linux probes and drives it: scratch and IER registers,
 * FIFO detection, the divisor latch, transmit straight to the output,
 * receive through the FIFO, loopback, and an interrupt edge each time a
 * condition appears (none while it stays). */
#include "tap.h"

#include "serial.h"

#include <fcntl.h>
#include <linux/serial_reg.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static struct uart_8250 u;

static void out(unsigned off, uint8_t v)
{
	uart_8250_io(&u, off, &v, 1, true);
}

static uint8_t in(unsigned off)
{
	uint8_t v;

	uart_8250_io(&u, off, &v, 1, false);
	return v;
}

static uint64_t edges(int fd)
{
	uint64_t n = 0;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return 0;
	return n;
}

int main(void)
{
	int p[2], irq = eventfd(0, EFD_NONBLOCK);
	char buf[16] = "";
	uint8_t wide[4];

	if (pipe(p) < 0)
		return 1;
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	uart_8250_init(&u, p[1], irq);

	out(UART_SCR, 0x5a);
	ok(in(UART_SCR) == 0x5a, "the scratch register keeps its value");
	out(UART_IER, 0xff);
	ok(in(UART_IER) == 0x0f, "IER keeps its four bits");
	out(UART_IER, 0);
	ok((in(UART_IIR)&0xc0) == 0 && in(UART_IIR) == UART_IIR_NO_INT,
	   "no interrupt pending, FIFOs off");
	out(UART_FCR, UART_FCR_ENABLE_FIFO);
	ok((in(UART_IIR)&0xc0) == 0xc0, "FIFOs on: IIR says 16550A");
	ok((in(UART_LSR) & (UART_LSR_TEMT | UART_LSR_THRE)) == (UART_LSR_TEMT | UART_LSR_THRE),
	   "the transmitter is always empty");
	out(UART_LCR, UART_LCR_DLAB);
	out(UART_DLL, 0x01);
	out(UART_DLM, 0x02);
	ok(in(UART_DLL) == 1 && in(UART_DLM) == 2, "the divisor latch behind DLAB");
	out(UART_LCR, 0x03);
	ok(in(UART_IER) == 0, "DLAB cleared: IER is back");

	out(UART_TX, 'h');
	out(UART_TX, 'i');
	ok(read(p[0], buf, sizeof(buf)) == 2 && !memcmp(buf, "hi", 2),
	   "transmitted bytes reach the output");

	edges(irq);
	out(UART_IER, UART_IER_THRI);
	ok(edges(irq) == 1 && in(UART_IIR) == (UART_IIR_THRI | 0xc0),
	   "enabling the transmit interrupt raises one edge");
	out(UART_TX, 'x');
	out(UART_TX, 'y');
	ok(edges(irq) == 0, "no new edge while the condition stays");
	out(UART_IER, 0);
	out(UART_IER, UART_IER_THRI);
	ok(edges(irq) == 1, "a new edge after it went away and came back");
	out(UART_IER, 0);

	ok(uart_8250_input(&u, (const uint8_t *)"ab", 2) == 2 && (in(UART_LSR)&UART_LSR_DR),
	   "input sets data ready");
	edges(irq);
	out(UART_IER, UART_IER_RDI);
	ok(edges(irq) == 1 && (in(UART_IIR)&0x0f) == UART_IIR_RDI, "with the receive interrupt");
	ok(in(UART_RX) == 'a' && in(UART_RX) == 'b' && !(in(UART_LSR)&UART_LSR_DR),
	   "the FIFO gives back the input in order");
	ok(in(UART_RX) == 0, "an empty FIFO reads 0");
	{
		uint8_t many[100];

		memset(many, 'z', sizeof(many));
		ok(uart_8250_input(&u, many, sizeof(many)) == UART_FIFO,
		   "input beyond the 64-byte FIFO is refused, not lost silently");
		out(UART_FCR, UART_FCR_ENABLE_FIFO | UART_FCR_CLEAR_RCVR);
		ok(!(in(UART_LSR)&UART_LSR_DR), "FCR clears the receive FIFO");
	}

	while (read(p[0], buf, sizeof(buf)) > 0)
		;
	out(UART_MCR, UART_MCR_LOOP | 0x0f);
	ok((in(UART_MSR)&0xf0) == 0xf0, "loopback: modem status mirrors MCR");
	out(UART_TX, 'L');
	ok(in(UART_RX) == 'L' && read(p[0], buf, sizeof(buf)) < 0,
	   "loopback: output comes back as input");
	out(UART_MCR, UART_MCR_OUT2);

	memset(wide, 0xee, sizeof(wide));
	uart_8250_io(&u, UART_SCR, wide, 4, false);
	ok(wide[0] == 0x5a && wide[1] == 0 && wide[3] == 0,
	   "a wide read fills only the first byte");
	uart_8250_io(&u, 9, wide, 1, false);
	ok(wide[0] == 0, "an offset past the registers does nothing");
	close(p[0]);
	close(p[1]);
	close(irq);
	return done();
}
