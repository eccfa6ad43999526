/* File helpers. Paths inside the container's rootfs are resolved with
 * openat2(RESOLVE_IN_ROOT): a symlink planted in the image (/proc -> /,
 * ../../etc) resolves inside the rootfs, never on the host. Without
 * openat2 bhc refuses to run rather than fall back to unsafe lookups. */
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

int bhc_open_in_root(int rootfd, const char *path, int flags, struct bh_error *err)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC),
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	while (*path == '/')
		path++;
	fd = (int)syscall(SYS_openat2, rootfd, *path ? path : ".", &how, sizeof(how));
	if (fd < 0) {
		if (errno == ENOSYS)
			return bh_error(
			    err, errno,
			    "openat2 (bhc needs Linux 5.6 or later to resolve paths safely)");
		return bh_error(err, errno, "open %s in the rootfs", *path ? path : "/");
	}
	return fd;
}

/* Creates the missing parts of path inside the rootfs (the last one as an
 * empty file when file is true) and returns an O_PATH fd of it. Each step
 * goes through openat2, so a symlink in the image cannot redirect it. */
int bhc_mkdir_in_root(int rootfd, const char *path, bool file, struct bh_error *err)
{
	char buf[4096], *slash;
	int fd = bhc_open_in_root(rootfd, path, O_PATH, err), parent;

	if (fd >= 0 || err->code != ENOENT)
		return fd;
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return bh_error(err, 0, "path %s is too long", path);
	while ((slash = strrchr(buf, '/')) && slash[1] == 0)
		*slash = 0;
	slash = strrchr(buf, '/');
	if (!slash || slash[1] == 0 || !strcmp(slash + 1, "..") || !strcmp(slash + 1, "."))
		return bh_error(err, 0, "cannot create %s in the rootfs", path);
	*slash = 0;
	parent = bhc_mkdir_in_root(rootfd, *buf ? buf : "/", false, err);
	if (parent < 0)
		return -1;
	if (file) {
		fd = openat(parent, slash + 1, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		            0644);
		if (fd >= 0)
			close(fd);
	} else {
		fd = mkdirat(parent, slash + 1, 0755);
	}
	if (fd < 0 && errno != EEXIST) {
		int e = errno;

		close(parent);
		return bh_error(err, e, "create %s in the rootfs", path);
	}
	fd = openat(parent, slash + 1, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	close(parent);
	if (fd < 0)
		return bh_error(err, errno, "open %s in the rootfs", path);
	return fd;
}
