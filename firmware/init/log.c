/* Where init and its services write: the console (through the queue of
 * console_queue.c, which never blocks), and for each service a bounded log
 * under /run/log (the current file plus one rotated file). */
#include "init.h"

#include <bulkhead/fs.h>

#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define LOG_FILE_MAX (64 * 1024)

int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void init_log(const char *fmt, ...)
{
	char line[600];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "init: ");
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	strcat(line, "\n");
	console_put(line, strlen(line), true);
}

void service_log_line(const char *name, const char *line)
{
	char path[128], out[600];
	size_t skip = strlen(name) + 2;

	snprintf(out, sizeof(out), "%s: %s\n", name, line);
	console_put(out, strlen(out), false);
	snprintf(path, sizeof(path), LOG_DIR "/%s.log", name);
	/* The file is the service's own: its lines without the name. */
	if (strlen(out) > skip)
		bh_log_append(path, out + skip, strlen(out) - skip, LOG_FILE_MAX, 0640);
}
