/* Each workload's output: a bounded log (the current file and one older
 * part, 256 KiB each) under /run/bulkhead/logs, and a copy on bhd's own
 * output, prefixed with the workload's name. */
#include "bhd.h"

#include <bulkhead/fs.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_PART_MAX (256 * 1024)

void workload_log_line(const char *name, const char *line)
{
	char path[128], text[700];

	snprintf(text, sizeof(text), "%s\n", line);
	bhd_log("%s: %s", name, line);
	snprintf(path, sizeof(path), LOGS_DIR "/%s.log", name);
	bh_log_append(path, text, strlen(text), LOG_PART_MAX, 0600);
}

static int append_file(const char *path, char **text, size_t *len)
{
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		char *t = realloc(*text, *len + (size_t)n + 1);

		if (!t) {
			close(fd);
			return -1;
		}
		*text = t;
		memcpy(*text + *len, buf, (size_t)n);
		*len += (size_t)n;
		(*text)[*len] = 0;
	}
	close(fd);
	return n < 0 ? -1 : 0;
}

int workload_log_read(const char *name, char **text, struct bh_error *err)
{
	char path[128], old[140];
	size_t len = 0;

	*text = calloc(1, 1);
	snprintf(path, sizeof(path), LOGS_DIR "/%s.log", name);
	snprintf(old, sizeof(old), "%s.1", path);
	if (!*text || append_file(old, text, &len) < 0 || append_file(path, text, &len) < 0)
		return bh_error(err, errno, "read the log of %s", name);
	return 0;
}
