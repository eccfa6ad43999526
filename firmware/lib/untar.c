/* Unpacking a tar stream into a folder without ever leaving it
 * (include/bulkhead/tar.h): workload bundles' rootfs.tar, and the OCI
 * images and layers bhpack reads. */
#include <bulkhead/tar.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Opens (creating when asked) each folder of path under dirfd, never
 * through a symlink: O_NOFOLLOW with O_DIRECTORY fails on one. */
static int open_dirs(int dirfd, const char *path, bool create, struct bh_error *err)
{
	char buf[TAR_PATH_MAX], *comp, *save = NULL;
	int fd = fcntl(dirfd, F_DUPFD_CLOEXEC, 0);

	snprintf(buf, sizeof(buf), "%s", path);
	for (comp = strtok_r(buf, "/", &save); comp && fd >= 0; comp = strtok_r(NULL, "/", &save)) {
		int next;

		if (create && mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
			close(fd);
			return bh_error(err, errno, "mkdir %s", path);
		}
		next = openat(fd, comp, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		close(fd);
		if (next < 0)
			return bh_error(err, errno == ELOOP || errno == ENOTDIR ? ENOTDIR : errno,
					"open folder %s (a symlink or a file is in the way?)", path);
		fd = next;
	}
	return fd;
}

static void split(const char *path, char *dir, char *base)
{
	const char *slash = strrchr(path, '/');

	if (slash) {
		memcpy(dir, path, slash - path);
		dir[slash - path] = 0;
		strcpy(base, slash + 1);
	} else {
		dir[0] = 0;
		strcpy(base, path);
	}
}

static int write_entry_data(struct tar_reader *r, int fd, const char *path, struct bh_error *err)
{
	char buf[65536];
	ssize_t n;

	while ((n = tar_read(r, buf, sizeof(buf), err)) > 0)
		if (write(fd, buf, n) != n)
			return bh_error(err, errno, "write %s", path);
	return n < 0 ? -1 : 0;
}

int untar_entry(struct tar_reader *r, int rootfd, const struct tar_entry *e, struct bh_error *err)
{
	char dir[TAR_PATH_MAX], base[TAR_PATH_MAX];
	int pfd, fd, rc = 0;

	if (e->type == TAR_OTHER)
		return bh_error(err, 0, "%s: %s is a device node, FIFO or socket: refused", r->name,
				e->path);
	if (!e->path[0])
		return 0; /* "./": the folder we unpack into */
	split(e->path, dir, base);
	pfd = open_dirs(rootfd, dir, true, err);
	if (pfd < 0)
		return bh_error_wrap(err, "%s", r->name);
	switch (e->type) {
	case TAR_DIR:
		if (mkdirat(pfd, base, 0755) < 0 && errno != EEXIST)
			rc = bh_error(err, errno, "mkdir %s", e->path);
		fd = rc ? -1 : openat(pfd, base, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (!rc && fd < 0)
			rc = bh_error(err, errno, "%s exists and is not a folder", e->path);
		if (fd >= 0) {
			if (fchmodat(pfd, base, e->mode & 01777, 0) < 0)
				rc = bh_error(err, errno, "chmod %s", e->path);
			close(fd);
		}
		break;
	case TAR_FILE:
		/* A later entry for the same path replaces it, as tar does. */
		if (unlinkat(pfd, base, 0) < 0 && errno != ENOENT)
			rc = bh_error(err, errno, "replace %s", e->path);
		fd = rc ? -1 : openat(pfd, base, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
				      e->mode & 0777);
		if (!rc && fd < 0)
			rc = bh_error(err, errno, "create %s", e->path);
		if (fd >= 0) {
			rc = write_entry_data(r, fd, e->path, err);
			if (!rc && fchmod(fd, e->mode & 0777) < 0)
				rc = bh_error(err, errno, "chmod %s", e->path);
			close(fd);
		}
		break;
	case TAR_SYMLINK:
		if ((unlinkat(pfd, base, 0) < 0 && errno != ENOENT) || symlinkat(e->link, pfd, base) < 0)
			rc = bh_error(err, errno, "symlink %s", e->path);
		break;
	case TAR_HARDLINK: {
		char sdir[TAR_PATH_MAX], sbase[TAR_PATH_MAX];
		int sfd;

		split(e->link, sdir, sbase);
		sfd = open_dirs(rootfd, sdir, false, err);
		if (sfd < 0) {
			rc = -1;
			break;
		}
		if ((unlinkat(pfd, base, 0) < 0 && errno != ENOENT) ||
		    linkat(sfd, sbase, pfd, base, 0) < 0)
			rc = bh_error(err, errno, "hard link %s to %s", e->path, e->link);
		close(sfd);
		break;
	}
	default:
		break;
	}
	close(pfd);
	return rc < 0 ? bh_error_wrap(err, "%s", r->name) : 0;
}

int untar_beneath(struct tar_reader *r, int rootfd, struct bh_error *err)
{
	struct tar_entry e;
	int got;

	while ((got = tar_next(r, &e, err)) > 0)
		if (untar_entry(r, rootfd, &e, err) < 0)
			return -1;
	return got;
}
