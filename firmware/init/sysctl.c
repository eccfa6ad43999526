/* Kernel hardening settings from /etc/bulkhead/sysctl.conf: lines of
 * `name = value`. A name starting with '-' may be absent from this kernel
 * (the feature it restricts is not built at all), which is not an error. */
#include "init.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char *trim(char *s)
{
	char *e;

	while (isspace((unsigned char)*s))
		s++;
	e = s + strlen(s);
	while (e > s && isspace((unsigned char)e[-1]))
		*--e = 0;
	return s;
}

int init_sysctl(const char *path)
{
	char line[256];
	int lineno = 0, failed = 0;
	FILE *f = fopen(path, "re");

	if (!f) {
		init_log("sysctl: open %s: %s", path, strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *key, *val, *eq, file[160];
		bool optional = false;
		int fd;

		lineno++;
		if (strchr(line, '#'))
			*strchr(line, '#') = 0;
		key = trim(line);
		if (!*key)
			continue;
		eq = strchr(key, '=');
		if (!eq) {
			init_log("sysctl: %s:%d: expected 'name = value'", path, lineno);
			failed++;
			continue;
		}
		*eq = 0;
		val = trim(eq + 1);
		key = trim(key);
		if (*key == '-') {
			optional = true;
			key++;
		}
		snprintf(file, sizeof(file), "/proc/sys/%s", key);
		for (char *p = file + 10; *p; p++)
			if (*p == '.')
				*p = '/';
		fd = open(file, O_WRONLY | O_CLOEXEC);
		if (fd < 0) {
			if (!(optional && errno == ENOENT)) {
				init_log("sysctl: %s:%d: %s: %s", path, lineno, key, strerror(errno));
				failed++;
			}
			continue;
		}
		if (write(fd, val, strlen(val)) < 0) {
			init_log("sysctl: %s:%d: %s = %s: %s", path, lineno, key, val,
				 strerror(errno));
			failed++;
		}
		close(fd);
	}
	fclose(f);
	return failed ? -1 : 0;
}
