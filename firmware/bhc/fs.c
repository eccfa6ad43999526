/* File helpers. Paths inside the container's rootfs go through
 * bh_open_in_root / bh_mkdir_in_root (firmware/lib/in_root.c), which
 * resolve them with openat2(RESOLVE_IN_ROOT). */
#include "libbhc.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

static int write_all(int fd, const char *text, size_t len)
{
	while (len) {
		ssize_t n = write(fd, text, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		text += n;
		len -= (size_t)n;
	}
	return 0;
}

int bhc_write_file_at(int dirfd, const char *name, const char *text, struct bh_error *err)
{
	int fd = openat(dirfd, name, O_WRONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return bh_error(err, errno, "open %s", name);
	if (write_all(fd, text, strlen(text)) < 0) {
		int e = errno;

		close(fd);
		return bh_error(err, e, "write '%s' to %s", text, name);
	}
	close(fd);
	return 0;
}

/* Writes name.tmp and renames it, so readers see the old or the new file. */
int bhc_write_file_atomic(int dirfd, const char *name, const char *text, struct bh_error *err)
{
	char tmp[256];
	int fd;

	snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0)
		return bh_error(err, errno, "create %s", tmp);
	if (write_all(fd, text, strlen(text)) < 0 || fsync(fd) < 0) {
		int e = errno;

		close(fd);
		unlinkat(dirfd, tmp, 0);
		return bh_error(err, e, "write %s", tmp);
	}
	close(fd);
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		int e = errno;

		unlinkat(dirfd, tmp, 0);
		return bh_error(err, e, "rename %s to %s", tmp, name);
	}
	return 0;
}

char *bhc_read_file(const char *path, size_t max, size_t *len, struct bh_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t used = 0, cap = 4096;
	char *buf;

	if (fd < 0) {
		bh_error(err, errno, "open %s", path);
		return NULL;
	}
	buf = malloc(cap + 1);
	while (buf) {
		ssize_t n;

		if (used == cap) {
			char *nb = cap >= max ? NULL : realloc(buf, (cap *= 2) + 1);

			if (!nb) {
				free(buf);
				close(fd);
				bh_error(err, used >= max ? EFBIG : ENOMEM, "read %s", path);
				return NULL;
			}
			buf = nb;
		}
		n = read(fd, buf + used, cap - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			free(buf);
			close(fd);
			bh_error(err, e, "read %s", path);
			return NULL;
		}
		if (n == 0)
			break;
		used += (size_t)n;
	}
	close(fd);
	if (!buf) {
		bh_error(err, ENOMEM, "read %s", path);
		return NULL;
	}
	buf[used] = 0;
	if (len)
		*len = used;
	return buf;
}
