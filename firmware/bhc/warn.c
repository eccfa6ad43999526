/* Warnings for config.json settings bhc accepts but does not apply as
 * written. The runtime spec says a setting that cannot be applied MUST
 * produce a warning; silently dropping one is never allowed. Each warning
 * is one line on stderr:
 *
 *	bhc: warning: /bundle/config.json: $.linux.resources.memory.kernel: ignored ...
 *
 * This is the one place libbhc prints: a warning is not a failure, so it
 * cannot travel up as a struct bh_error. Tests (and the fuzzer) replace the
 * sink to count or silence the lines. */
#include "libbhc.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void warn_stderr(const char *line)
{
	/* One write, so lines of concurrent bhc processes do not interleave. */
	ssize_t n = write(2, line, strlen(line));

	(void)n;
}

static bhc_warn_sink sink = warn_stderr;

void bhc_warn_set_sink(bhc_warn_sink fn)
{
	sink = fn ? fn : warn_stderr;
}

__attribute__((format(printf, 3, 0))) static void vwarn(const char *bundle, const char *field,
                                                        const char *fmt, va_list ap)
{
	char line[BH_ERROR_MAX + 4200];
	int n = snprintf(line, sizeof(line),
	                 "bhc: warning: %s%sconfig.json: %s: ", bundle ? bundle : "",
	                 bundle && *bundle ? "/" : "", field);

	if (n < 0 || (size_t)n >= sizeof(line) - 2)
		n = (int)strlen(line);
	vsnprintf(line + n, sizeof(line) - (size_t)n - 1, fmt, ap);
	n = (int)strlen(line);
	line[n] = '\n';
	line[n + 1] = 0;
	sink(line);
}

void bhc_warn(const struct bhc_config *cfg, const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(cfg ? cfg->bundle : NULL, field, fmt, ap);
	va_end(ap);
}

void bhc_warn_bundle(const char *bundle, const char *field, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vwarn(bundle, field, fmt, ap);
	va_end(ap);
}
