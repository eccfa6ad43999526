/* The rate limit on the guest's console output (console_limit.c): a
 * token bucket that drops and counts what goes over, refilled by the
 * clock the caller passes in; then the same limit on a real 8250, whose
 * output past the budget never reaches the pipe. */
#include "tap.h"

#include "console_limit.h"
#include "serial.h"

#include <fcntl.h>
#include <linux/serial_reg.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void test_bucket(void)
{
	struct console_limit l;

	console_limit_init(&l, 1000, 100, 0); /* 1000 B/s, bursts of 100 */
	ok(console_limit_full(&l) && console_limit_dropped(&l) == 0, "a new bucket is full");
	ok(console_limit_take(&l, 60) == 60, "output within the burst goes out whole");
	ok(console_limit_take(&l, 60) == 40 && console_limit_dropped(&l) == 20,
	   "output past the burst is cut to the tokens left, the rest counted as dropped");
	ok(console_limit_take(&l, 1) == 0 && console_limit_dropped(&l) == 21,
	   "an empty bucket drops everything");
	console_limit_refill(&l, 50);
	ok(console_limit_take(&l, 100) == 50 && console_limit_dropped(&l) == 71,
	   "50 ms at 1000 B/s give back 50 bytes");
	console_limit_refill(&l, 50);
	ok(console_limit_take(&l, 1) == 0, "no time passed, no tokens");
	console_limit_refill(&l, 40);
	ok(console_limit_take(&l, 1) == 0, "a clock going back gives nothing");
	console_limit_refill(&l, 10L * 365 * 24 * 3600 * 1000);
	ok(console_limit_full(&l) && console_limit_take(&l, 1000) == 100,
	   "a long quiet spell refills to the burst, no more (no overflow)");
	ok(console_limit_take(NULL, 12345) == 12345, "no limit lets everything through");
}

static void test_uart(void)
{
	static struct uart_8250 u;
	struct console_limit l;
	int p[2];
	char buf[64];
	uint8_t c = 'x';
	ssize_t n;

	if (pipe(p) < 0)
		abort();
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	uart_8250_init(&u, p[1], -1);
	console_limit_init(&l, 1000, 10, 0);
	u.port.limit = &l;
	for (int i = 0; i < 25; i++)
		uart_8250_io(&u, UART_TX, &c, 1, true);
	n = read(p[0], buf, sizeof(buf));
	ok(n == 10 && console_limit_dropped(&l) == 15,
	   "a UART flood: 10 of 25 bytes reach the output, 15 are counted (%zd written)", n);
	console_limit_refill(&l, 5);
	for (int i = 0; i < 25; i++)
		uart_8250_io(&u, UART_TX, &c, 1, true);
	n = read(p[0], buf, sizeof(buf));
	ok(n == 5, "5 ms later 5 more get through (%zd)", n);
	uart_8250_init(&u, -1, -1);
	console_limit_init(&l, 1000, 10, 0);
	u.port.limit = &l;
	for (int i = 0; i < 25; i++)
		uart_8250_io(&u, UART_TX, &c, 1, true);
	ok(console_limit_dropped(&l) == 0 && console_limit_full(&l),
	   "a silent UART (no console) spends no tokens and counts no drops");
	close(p[0]);
	close(p[1]);
}

int main(void)
{
	test_bucket();
	test_uart();
	return done();
}
