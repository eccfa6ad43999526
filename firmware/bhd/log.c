/* bhd's own log: one line per event on its standard output, which init
 * copies to the console and /run/log/bhd.log; and the monotonic clock in
 * which its timers and those lines' decisions count. */
#include "bhd.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void bhd_log(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfprintf(stdout, fmt, ap);
	va_end(ap);
	fputc('\n', stdout);
	fflush(stdout);
}
