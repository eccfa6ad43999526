#include <bulkhead/error.h>

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int bh_error(struct bh_error *err, int code, const char *fmt, ...)
{
	va_list ap;
	int n;

	err->code = code;
	va_start(ap, fmt);
	n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	if (code != 0 && n >= 0 && (size_t)n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", strerror(code));
	return -1;
}

int bh_error_wrap(struct bh_error *err, const char *fmt, ...)
{
	char old[BH_ERROR_MAX];
	va_list ap;
	int n;

	memcpy(old, err->msg, sizeof(old));
	va_start(ap, fmt);
	n = vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(err->msg))
		snprintf(err->msg + n, sizeof(err->msg) - n, ": %s", old);
	return -1;
}

void bh_error_print(const struct bh_error *err, const char *prog)
{
	fprintf(stderr, "%s: %s\n", prog, err->msg);
}
