/* Where init and its services write: the console, and for each service a
 * bounded log under /run/log (the current file plus one rotated file). */
#include "init.h"

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

static void console_write(const char *line)
{
	size_t len = strlen(line);

	while (len) {
		ssize_t n = write(STDOUT_FILENO, line, len);

		if (n <= 0)
			return;
		line += n;
		len -= n;
	}
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
	console_write(line);
}

void service_log_line(const char *name, const char *line)
{
	char path[128], out[600];
	struct stat st;
	int fd;

	snprintf(out, sizeof(out), "%s: %s\n", name, line);
	console_write(out);
	snprintf(path, sizeof(path), LOG_DIR "/%s.log", name);
	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0640);
	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && st.st_size + (off_t)strlen(out) > LOG_FILE_MAX) {
		char old[140];

		snprintf(old, sizeof(old), "%s.1", path);
		rename(path, old);
		close(fd);
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
			  0640);
		if (fd < 0)
			return;
	}
	if (write(fd, out + strlen(name) + 2, strlen(out) - strlen(name) - 2) < 0) {
		/* A full /run loses log lines, never the service. */
	}
	close(fd);
}
