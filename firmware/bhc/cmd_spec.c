/* bhc spec [--bundle DIR] [-- ARGS...]: writes the hardened default
 * config.json (never over an existing one). */
#include "cli.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int cmd_spec(struct cli *c, struct bh_error *err)
{
	char path[4096];
	char *text = bhc_spec_generate((const char *const *)c->args, (size_t)c->n_args, err);
	int fd;
	size_t len;

	if (!text)
		return -1;
	snprintf(path, sizeof(path), "%s/config.json", c->bundle ? c->bundle : ".");
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0) {
		free(text);
		return bh_error(err, errno, "create %s", path);
	}
	len = strlen(text);
	if (write(fd, text, len) != (ssize_t)len || write(fd, "\n", 1) != 1 || close(fd) < 0) {
		int e = errno;

		free(text);
		unlink(path);
		return bh_error(err, e, "write %s", path);
	}
	free(text);
	return 0;
}
