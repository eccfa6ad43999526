/* Paths inside a container's rootfs, resolved with openat2(RESOLVE_IN_ROOT):
 * a symlink planted in the image (/proc -> /, ../../etc) resolves inside
 * the rootfs, never on the host. Without openat2 these fail rather than
 * fall back to unsafe lookups. Used by bhc at run time and by bhd when it
 * prepares an unpacked bundle. */
#include <bulkhead/in_root.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

int bh_open_in_root(int rootfd, const char *path, int flags, struct bh_error *err)
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
			    "openat2 (Linux 5.6 or later is needed to resolve paths safely)");
		return bh_error(err, errno, "open %s in the rootfs", *path ? path : "/");
	}
	return fd;
}

/* Creates the missing parts of path inside the rootfs (the last one as an
 * empty file when file is true) and returns an O_PATH fd of it. Each step
 * goes through openat2, so a symlink in the image cannot redirect it. */
int bh_mkdir_in_root(int rootfd, const char *path, bool file, struct bh_error *err)
{
	char buf[4096], *slash, *name;
	int fd = bh_open_in_root(rootfd, path, O_PATH, err), parent;

	if (fd >= 0 || err->code != ENOENT)
		return fd;
	if (snprintf(buf, sizeof(buf), "%s", path) >= (int)sizeof(buf))
		return bh_error(err, 0, "path %s is too long", path);
	while ((slash = strrchr(buf, '/')) && slash[1] == 0)
		*slash = 0;
	slash = strrchr(buf, '/');
	name = slash ? slash + 1 : buf; /* "proc" is as good as "/proc" */
	if (!*name || !strcmp(name, "..") || !strcmp(name, "."))
		return bh_error(err, 0, "cannot create %s in the rootfs", path);
	if (slash)
		*slash = 0;
	parent = bh_mkdir_in_root(rootfd, slash && *buf ? buf : "/", false, err);
	if (parent < 0)
		return -1;
	if (file) {
		fd = openat(parent, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
		            0644);
		if (fd >= 0)
			close(fd);
	} else {
		fd = mkdirat(parent, name, 0755);
	}
	if (fd < 0 && errno != EEXIST) {
		int e = errno;

		close(parent);
		return bh_error(err, e, "create %s in the rootfs", path);
	}
	fd = openat(parent, name, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	close(parent);
	if (fd < 0)
		return bh_error(err, errno, "open %s in the rootfs", path);
	return fd;
}
