/* Tiny TAP harness for the C unit tests: plan(n), ok(cond, name, ...),
 * skip(name, reason), done(). Exit status 0 when every check passed, 1
 * otherwise; tests/run counts the `ok`/`not ok` lines. */
#ifndef BULKHEAD_TAP_H
#define BULKHEAD_TAP_H

#include <stdarg.h>
#include <stdio.h>

static int tap_n, tap_failed;

__attribute__((format(printf, 2, 3))) static int ok(int cond, const char *fmt, ...)
{
	va_list ap;

	printf("%s %d - ", cond ? "ok" : "not ok", ++tap_n);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
	if (!cond)
		tap_failed++;
	fflush(stdout);
	return cond;
}

static inline void skip(const char *name, const char *reason)
{
	printf("ok %d - %s # SKIP %s\n", ++tap_n, name, reason);
}

static inline void diag(const char *msg)
{
	printf("#   %s\n", msg);
}

static inline int done(void)
{
	printf("1..%d\n", tap_n);
	return tap_failed ? 1 : 0;
}

#endif
