/* One error convention for every Bulkhead library function.
 *
 * A fallible function takes `struct bh_error *err` and returns a negative
 * value on failure after filling it in:
 *
 *	return bh_error(err, errno, "open `%s`", path);
 *
 * Callers add context on the way up with bh_error_wrap(); only a program's
 * main() prints the message and chooses an exit status. The message lives
 * in the struct, so reporting an error never needs to allocate. */
#ifndef BULKHEAD_ERROR_H
#define BULKHEAD_ERROR_H

#include <stddef.h>

#define BH_ERROR_MAX 1024

struct bh_error {
	int code; /* errno of the first failure, or 0 */
	char msg[BH_ERROR_MAX];
};

/* Records "message: text of code" (just the message when code is 0) and
 * returns -1. The text is bh_strerror's: never without the errno. */
__attribute__((format(printf, 3, 4))) int bh_error(struct bh_error *err, int code,
						    const char *fmt, ...);

/* Prefixes the recorded message with "context: " and returns -1. */
__attribute__((format(printf, 2, 3))) int bh_error_wrap(struct bh_error *err, const char *fmt,
							 ...);

/* The text of an errno for a message. libc's text, except where libc has
 * none: musl's strerror says "No error information" for the Linux errnos
 * it does not list (EUCLEAN, which ext4 returns for a damaged filesystem,
 * among them), so those get their meaning and name from Linux's errno.h
 * ("Structure needs cleaning (EUCLEAN, errno 117)"), and a code nobody
 * knows says its number ("unknown error (errno 4000)"). The result lives
 * in static or thread-local storage: use it before the next call in the
 * same thread. */
const char *bh_strerror(int code);

/* Prints "prog: message" to stderr. */
void bh_error_print(const struct bh_error *err, const char *prog);

#endif
