/* Files and folders (include/bulkhead/fs.h). Used by every program that
 * writes state (bhc, bhd), unpacks bundles (libbulkhead, bhpack) or
 * prepares a root filesystem (bhc at run time, bhd at install). */
#include <bulkhead/fs.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

/* --- Removing ----------------------------------------------------------- */

int bh_empty_folder(int fd)
{
	/* A fresh descriptor: fd may be O_PATH, and closedir closes its own. */
	int dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), rc = 0, e = 0;
	struct dirent *de;
	DIR *d;

	if (dfd < 0)
		return -1;
	d = fdopendir(dfd);
	if (!d) {
		close(dfd);
		return -1;
	}
	while ((de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, "..") &&
		    bh_remove_tree_at(dirfd(d), de->d_name) < 0) {
			rc = -1;
			e = errno;
		}
	closedir(d);
	errno = e;
	return rc;
}

int bh_remove_tree_at(int dirfd, const char *name)
{
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), rc;

	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		/* Not a folder: a file or a symlink. */
		return unlinkat(dirfd, name, 0) < 0 && errno != ENOENT ? -1 : 0;
	}
	rc = bh_empty_folder(fd);
	close(fd);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		return -1;
	return rc;
}

int bh_open_parent(const char *path, char *base, size_t size)
{
	char dir[4096];
	const char *slash;
	size_t n = strlen(path);

	while (n > 1 && path[n - 1] == '/')
		n--;
	if (n >= sizeof(dir)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(dir, path, n);
	dir[n] = 0;
	slash = strrchr(dir, '/');
	if (snprintf(base, size, "%s", slash ? slash + 1 : dir) >= (int)size || !*base ||
	    !strcmp(base, ".") || !strcmp(base, "..")) {
		errno = EINVAL;
		return -1;
	}
	if (!slash)
		return open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	dir[slash == dir ? 1 : slash - dir] = 0;
	return open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
}

int bh_remove_tree(const char *path)
{
	char base[256];
	int pfd = bh_open_parent(path, base, sizeof(base)), rc;

	if (pfd < 0)
		return errno == ENOENT ? 0 : -1;
	rc = bh_remove_tree_at(pfd, base);
	close(pfd);
	return rc;
}

/* --- Writing ------------------------------------------------------------ */

int bh_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void bh_log_append(const char *path, const void *data, size_t len, off_t max, mode_t mode)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOFOLLOW, mode);
	struct stat st;

	if (fd < 0)
		return;
	if (fstat(fd, &st) == 0 && st.st_size + (off_t)len > max) {
		char old[4200];

		snprintf(old, sizeof(old), "%s.1", path);
		rename(path, old);
		close(fd);
		fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
			  mode);
		if (fd < 0)
			return;
	}
	bh_write_all(fd, data, len);
	close(fd);
}

/* shown: the name errors give (the whole path when the caller has one). */
static int write_atomic(int dirfd, const char *name, const char *shown, const void *data,
			size_t len, mode_t mode, struct bh_error *err)
{
	char tmp[300];
	int fd, dfd;

	if (snprintf(tmp, sizeof(tmp), ".%s.tmp", name) >= (int)sizeof(tmp))
		return bh_error(err, ENAMETOOLONG, "write %s", shown);
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return bh_error(err, errno, "create %s (as %s)", shown, tmp);
	if (bh_write_all(fd, data, len) < 0 || fsync(fd) < 0) {
		int e = errno;

		close(fd);
		unlinkat(dirfd, tmp, 0);
		return bh_error(err, e, "write %s", shown);
	}
	close(fd);
	if (renameat(dirfd, tmp, dirfd, name) < 0) {
		int e = errno;

		unlinkat(dirfd, tmp, 0);
		return bh_error(err, e, "rename %s to %s", tmp, shown);
	}
	/* The rename lives in the folder: it is durable once the folder is. */
	dfd = openat(dirfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0 || fsync(dfd) < 0) {
		int e = errno;

		if (dfd >= 0)
			close(dfd);
		return bh_error(err, e, "sync the folder of %s", shown);
	}
	close(dfd);
	return 0;
}

int bh_write_atomic_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
		       struct bh_error *err)
{
	return write_atomic(dirfd, name, name, data, len, mode, err);
}

int bh_write_atomic(const char *path, const void *data, size_t len, mode_t mode,
		    struct bh_error *err)
{
	char base[256];
	int pfd = bh_open_parent(path, base, sizeof(base)), rc;

	if (pfd < 0)
		return bh_error(err, errno, "open the folder of %s", path);
	rc = write_atomic(pfd, base, path, data, len, mode, err);
	close(pfd);
	return rc;
}

/* --- Syncing ------------------------------------------------------------ */

/* path: what errors show, the caller's path and the names below it. */
struct sync_walk {
	char path[4096];
	int count;
	struct bh_error *err;
};

/* name under parent, whose shown path is w->path; a folder's entries
 * first. */
static int sync_at(struct sync_walk *w, int parent, const char *name)
{
	struct stat st;
	int fd, rc = 0;

	if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return bh_error(w->err, errno, "sync %s", w->path);
	if (!S_ISREG(st.st_mode) && !S_ISDIR(st.st_mode))
		return 0;
	fd = openat(parent, name,
		    O_RDONLY | O_NOFOLLOW | O_CLOEXEC | (S_ISDIR(st.st_mode) ? O_DIRECTORY : 0));
	if (fd < 0)
		return bh_error(w->err, errno, "open %s to sync it", w->path);
	if (S_ISDIR(st.st_mode)) {
		int dfd = fcntl(fd, F_DUPFD_CLOEXEC, 0);
		DIR *d = dfd < 0 ? NULL : fdopendir(dfd);
		size_t len = strlen(w->path);
		struct dirent *de;

		if (!d) {
			rc = bh_error(w->err, errno, "read folder %s to sync it", w->path);
			if (dfd >= 0)
				close(dfd);
		}
		while (d && rc == 0 && (de = readdir(d))) {
			if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
				continue;
			if (snprintf(w->path + len, sizeof(w->path) - len, "/%s", de->d_name) >=
			    (int)(sizeof(w->path) - len))
				rc = bh_error(w->err, ENAMETOOLONG, "sync %s/%s", w->path, de->d_name);
			else
				rc = sync_at(w, dirfd(d), de->d_name);
			w->path[len] = 0;
		}
		if (d)
			closedir(d);
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = bh_error(w->err, errno, "fsync %s", w->path);
	else if (rc == 0)
		w->count++;
	close(fd);
	return rc;
}

int bh_sync_tree(const char *path, struct bh_error *err)
{
	struct sync_walk w = {.err = err};
	char base[256];
	int pfd, rc;

	if (snprintf(w.path, sizeof(w.path), "%s", path) >= (int)sizeof(w.path))
		return bh_error(err, ENAMETOOLONG, "sync %s", path);
	pfd = bh_open_parent(path, base, sizeof(base));
	if (pfd < 0)
		return bh_error(err, errno, "open the folder of %s", path);
	rc = sync_at(&w, pfd, base);
	close(pfd);
	return rc < 0 ? -1 : w.count;
}

int bh_sync_path(const char *path, struct bh_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return bh_error(err, errno, "open %s to sync it", path);
	if (fsync(fd) < 0) {
		int e = errno;

		close(fd);
		return bh_error(err, e, "fsync %s", path);
	}
	close(fd);
	return 0;
}

/* --- Reading ------------------------------------------------------------ */

char *bh_read_file(const char *path, size_t max, size_t *len, struct bh_error *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), e;
	size_t used = 0, cap = max < 4096 ? max : 4096;
	char *buf, *nb, c;
	ssize_t n;

	if (fd < 0) {
		bh_error(err, errno, "open %s", path);
		return NULL;
	}
	buf = malloc(cap + 1);
	for (;;) {
		if (!buf) {
			close(fd);
			bh_error(err, ENOMEM, "read %s", path);
			return NULL;
		}
		/* At max, one byte more tells a file of exactly max bytes apart. */
		n = used < cap ? read(fd, buf + used, cap - used) : read(fd, &c, 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (used == cap) {
			free(buf);
			close(fd);
			bh_error(err, 0, "%s is larger than %zu bytes", path, max);
			err->code = EFBIG;
			return NULL;
		}
		used += (size_t)n;
		if (used == cap && cap < max) {
			cap = cap * 2 > max ? max : cap * 2;
			nb = realloc(buf, cap + 1);
			if (!nb)
				free(buf);
			buf = nb;
		}
	}
	e = errno;
	close(fd);
	if (n < 0) {
		free(buf);
		bh_error(err, e, "read %s", path);
		return NULL;
	}
	buf[used] = 0;
	if (len)
		*len = used;
	return buf;
}

/* --- Walking in a root -------------------------------------------------- */

int bh_open_in_root(int rootfd, const char *path, int flags, struct bh_error *err)
{
	struct open_how how = {
	    .flags = (uint64_t)(flags | O_CLOEXEC),
	    .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
	};
	int fd;

	while (*path == '/')
		path++;
	/* EAGAIN: a rename or mount anywhere on the machine raced the walk
	 * and the kernel could not prove it stayed in the root; openat2(2)
	 * says to retry. Bounded, so that a steady storm still ends. */
	for (int tries = 0; tries < 64; tries++) {
		fd = (int)syscall(SYS_openat2, rootfd, *path ? path : ".", &how, sizeof(how));
		if (fd >= 0 || errno != EAGAIN)
			break;
	}
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
