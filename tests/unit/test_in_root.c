/* bh_open_in_root / bh_mkdir_in_root (firmware/lib/fs.c): paths are
 * created and opened inside the root folder, whatever symlinks and ".."
 * the (untrusted) rootfs brings, and relative paths mean the same as
 * absolute ones.
 *
 * The root folder sits two levels down in a scratch folder of its own
 * (tmp/a/b/root), and every escape is aimed into that scratch folder:
 * through a symlink to its host path, one that climbs with "..", or ".." in
 * the path itself. After each walk the scratch folder must hold nothing
 * outside the root, so a walk that left the root would be seen. */
#include "tap.h"

#include <bulkhead/fs.h>

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[] = "/tmp/bh-in-root.XXXXXX";
static char top[128]; /* tmp/a/b/root: the root folder */
static int outside;   /* what nothing_outside() found */

static bool exists(const char *rel, mode_t type)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == type;
}

static int count_outside(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	char a[140], b[140];
	size_t n = strlen(top);

	(void)st;
	(void)type;
	(void)ftw;
	snprintf(a, sizeof(a), "%s/a", tmp);
	snprintf(b, sizeof(b), "%s/a/b", tmp);
	if (!strcmp(path, tmp) || !strcmp(path, a) || !strcmp(path, b) ||
	    (!strncmp(path, top, n) && (path[n] == 0 || path[n] == '/')))
		return 0;
	diag(path);
	outside++;
	return 0;
}

/* True when the scratch folder holds nothing but the path to the root. */
static bool nothing_outside(void)
{
	outside = 0;
	return nftw(tmp, count_outside, 16, FTW_PHYS) == 0 && outside == 0;
}

static bool made(int root, const char *path, bool file)
{
	struct bh_error err = {0};
	int fd = bh_mkdir_in_root(root, path, file, &err);

	if (fd < 0)
		diag(err.msg);
	else
		close(fd);
	return fd >= 0;
}

int main(void)
{
	struct bh_error err = {0};
	char inside[128], host[128];
	struct stat theirs, got;
	int root, fd;

	if (!mkdtemp(tmp))
		return 1;
	snprintf(top, sizeof(top), "%s/a", tmp);
	mkdir(top, 0755);
	snprintf(top, sizeof(top), "%s/a/b", tmp);
	mkdir(top, 0755);
	snprintf(top, sizeof(top), "%s/a/b/root", tmp);
	root = mkdir(top, 0755) == 0 ? open(top, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
	if (root < 0)
		return 1;

	ok(made(root, "/proc", false) && exists("proc", S_IFDIR), "/proc is created as a folder");
	ok(made(root, "dev", false) && exists("dev", S_IFDIR), "a relative path (dev) too");
	ok(made(root, "/var/lib/app/", false) && exists("var/lib/app", S_IFDIR),
	   "every missing component of /var/lib/app/ is created");
	ok(made(root, "/etc/resolv.conf", true) && exists("etc/resolv.conf", S_IFREG),
	   "the last component as an empty file when asked");
	ok(made(root, "/proc", false), "an existing folder is fine");
	ok(nothing_outside(), "so far nothing is made outside the root");

	/* A rootfs that points out of itself: the walk stays inside. */
	symlinkat(tmp, root, "escape"); /* the scratch folder's host path */
	symlinkat("../..", root, "up");
	made(root, tmp, false); /* and the root's own folder of that path */
	ok(made(root, "/escape/x", false) && nothing_outside(),
	   "through a symlink to a host path, nothing is made outside the root");
	snprintf(inside, sizeof(inside), "%s/x", tmp + 1);
	ok(exists(inside, S_IFDIR), "... the folder lands at that path inside the root");
	ok(made(root, "/up/y", false) && exists("y", S_IFDIR) && nothing_outside(),
	   "through a symlink that climbs with .., it lands in the root, nothing outside");
	ok(made(root, "/../../z", false) && exists("z", S_IFDIR) && nothing_outside(),
	   "a path that climbs lands in the root, nothing outside");
	bh_mkdir_in_root(root, "/c/..", false, &err);
	ok(nothing_outside(), "a path ending in .. creates nothing outside");

	/* An open through a symlink to a host file finds the root's own file of
	 * that path, not the host's. */
	snprintf(host, sizeof(host), "%s/a/secret", tmp);
	close(open(host, O_WRONLY | O_CREAT | O_CLOEXEC, 0600)); /* outside the root */
	symlinkat(host, root, "etc/host-secret");
	snprintf(inside, sizeof(inside), "%s", host + 1);
	made(root, inside, true); /* the root's own file at that path */
	fd = bh_open_in_root(root, "/etc/host-secret", O_RDONLY, &err);
	ok(fd >= 0 && stat(host, &theirs) == 0 && fstat(fd, &got) == 0 &&
	       (got.st_ino != theirs.st_ino || got.st_dev != theirs.st_dev) &&
	       exists(inside, S_IFREG),
	   "open through a symlink to a host file opens the root's file of that path");
	if (fd >= 0)
		close(fd);
	unlink(host);

	fd = bh_open_in_root(root, "/missing/file", O_RDONLY, &err);
	ok(fd < 0 && err.code == ENOENT && strstr(err.msg, "missing/file"),
	   "a missing path fails with ENOENT and names it: %s", err.msg);
	close(root);
	snprintf(top, sizeof(top), "rm -rf %s", tmp);
	if (system(top) != 0)
		diag("could not remove the scratch folder");
	return done();
}
