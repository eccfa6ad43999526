/* tmpcopyup (podman, runc, crun): a tmpfs mounted over a folder of the
 * image starts with that folder's contents. The init copies them, inside
 * the container's namespaces, from the folder underneath the new mount
 * into its root.
 *
 * The image is hostile: every entry is opened relative to its folder's fd
 * with O_NOFOLLOW (a symlink is copied as a symlink, never followed), a
 * file is checked to be a regular file after it is opened (O_NONBLOCK, so
 * an entry swapped for a FIFO cannot block the init), and the depth is
 * bounded. Directories, regular files, symlinks and FIFOs are copied with
 * their mode (setuid and setgid dropped), owner and times; device nodes
 * and sockets are not (the tmpfs is nodev, and a user namespace cannot
 * make devices). The tmpfs's size bounds what a large folder can take. */
#include "libbhc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_DEPTH 64

/* Owner and times as the container sees them; an owner the container's
 * user namespace does not map cannot be given (EINVAL): the copy keeps
 * the init's. */
static int copy_meta(int dir, const char *name, const struct stat *st, const char *what,
                     struct bh_error *err)
{
	struct timespec times[2] = {st->st_atim, st->st_mtim};

	if (fchownat(dir, name, st->st_uid, st->st_gid, AT_SYMLINK_NOFOLLOW) < 0 && errno != EINVAL)
		return bh_error(err, errno, "give %s its owner", what);
	if (!S_ISLNK(st->st_mode) && fchmodat(dir, name, st->st_mode & (S_ISVTX | 0777), 0) < 0)
		return bh_error(err, errno, "give %s its mode", what);
	if (utimensat(dir, name, times, AT_SYMLINK_NOFOLLOW) < 0)
		return bh_error(err, errno, "give %s its times", what);
	return 0;
}

static int copy_file(int src_dir, int dst_dir, const char *name, const char *what,
                     struct bh_error *err)
{
	int in = openat(src_dir, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC), out = -1;
	struct stat st;
	char buf[16384];
	ssize_t n;

	if (in < 0)
		return bh_error(err, errno, "open %s", what);
	if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(in);
		return bh_error(err, errno ? errno : EIO, "%s changed while it was copied", what);
	}
	out = openat(dst_dir, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (out < 0) {
		close(in);
		return bh_error(err, errno, "create the copy of %s", what);
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (bh_write_all(out, buf, (size_t)n) < 0)
			break;
	if (n != 0) {
		int e = errno;

		close(in);
		close(out);
		return bh_error(err, e, "copy %s", what);
	}
	close(in);
	close(out);
	return 0;
}

static int copy_dir(int src, int dst, const char *what, int depth, struct bh_error *err);

static int copy_entry(int src, int dst, const char *name, const char *what, int depth,
                      struct bh_error *err)
{
	char target[4096];
	struct stat st;
	ssize_t n;
	int r = 0;

	if (fstatat(src, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return bh_error(err, errno, "stat %s", what);
	switch (st.st_mode & S_IFMT) {
	case S_IFDIR: {
		int s, d;

		if (depth >= MAX_DEPTH)
			return bh_error(err, 0, "%s: folders nested more than %d deep", what,
			                MAX_DEPTH);
		if (mkdirat(dst, name, 0700) < 0)
			return bh_error(err, errno, "create the copy of %s", what);
		s = openat(src, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (s < 0)
			return bh_error(err, errno, "open %s", what);
		d = openat(dst, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (d < 0) {
			close(s);
			return bh_error(err, errno, "open the copy of %s", what);
		}
		r = copy_dir(s, d, what, depth + 1, err);
		close(s);
		close(d);
		break;
	}
	case S_IFREG:
		r = copy_file(src, dst, name, what, err);
		break;
	case S_IFLNK:
		n = readlinkat(src, name, target, sizeof(target) - 1);
		if (n < 0)
			return bh_error(err, errno, "read the symlink %s", what);
		target[n] = 0;
		if (symlinkat(target, dst, name) < 0)
			return bh_error(err, errno, "create the copy of %s", what);
		break;
	case S_IFIFO:
		if (mkfifoat(dst, name, 0600) < 0)
			return bh_error(err, errno, "create the copy of %s", what);
		break;
	default:
		return 0; /* devices and sockets: see the top of the file */
	}
	return r < 0 ? -1 : copy_meta(dst, name, &st, what, err);
}

static int copy_dir(int src, int dst, const char *what, int depth, struct bh_error *err)
{
	int fd = openat(src, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC), r = 0;
	struct dirent *e;
	DIR *d;

	if (fd < 0)
		return bh_error(err, errno, "open %s", what);
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return bh_error(err, errno, "list %s", what);
	}
	while (!r && (errno = 0, e = readdir(d))) {
		char path[4096];

		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		snprintf(path, sizeof(path), "%s/%s", what, e->d_name);
		r = copy_entry(src, dst, e->d_name, path, depth, err);
	}
	if (!r && errno)
		r = bh_error(err, errno, "list %s", what);
	closedir(d);
	return r;
}

int bhc_copy_tree(int src_dir, int dst_dir, const char *what, struct bh_error *err)
{
	return copy_dir(src_dir, dst_dir, what, 0, err);
}
