/* Kernel hardening settings from /etc/bulkhead/sysctl.conf: lines of
 * `name = value`. A name starting with '-' may be absent from this kernel
 * (the feature it restricts is not built at all), which is not an error. */
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

int init_sysctl(const char *path)
{
	char line[256];
	int lineno = 0, failed = 0;
	FILE *f = fopen(path, "re");

	if (!f) {
		init_log("sysctl: open %s: %s", path, bh_strerror(errno));
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		char *key, *val, file[160];
		bool optional = false;
		int fd, got;

		lineno++;
		got = conf_line(line, &key, &val);
		if (got == 0)
			continue;
		if (got < 0) {
			init_log("sysctl: %s:%d: expected 'name = value'", path, lineno);
			failed++;
			continue;
		}
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
				init_log("sysctl: %s:%d: %s: %s", path, lineno, key, bh_strerror(errno));
				failed++;
			}
			continue;
		}
		if (write(fd, val, strlen(val)) < 0) {
			init_log("sysctl: %s:%d: %s = %s: %s", path, lineno, key, val,
				 bh_strerror(errno));
			failed++;
		}
		close(fd);
	}
	fclose(f);
	return failed ? -1 : 0;
}
