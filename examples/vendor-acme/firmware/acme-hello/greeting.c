#include "greeting.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

int acme_read_greeting(const char *path, char *buf, size_t size, struct bh_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return bh_error(err, errno, "open %s", path);
	n = read(fd, buf, size - 1);
	if (n < 0) {
		int e = errno;

		close(fd);
		return bh_error(err, e, "read %s", path);
	}
	close(fd);
	buf[n] = 0;
	buf[strcspn(buf, "\n")] = 0;
	if (!buf[0])
		return bh_error(err, 0, "%s: no greeting on its first line", path);
	return 0;
}
