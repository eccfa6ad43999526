/* bh_open_in_root / bh_mkdir_in_root (firmware/lib/fs.c): paths are
 * created and opened inside the root folder, whatever symlinks and ".."
 * the (untrusted) rootfs brings, and relative paths mean the same as
 * absolute ones. */
#include "tap.h"

#include <bulkhead/fs.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[] = "/tmp/bh-in-root.XXXXXX";
static char top[64]; /* tmp/root: the root folder */

static bool exists(const char *rel, mode_t type)
{
	char path[512];
	struct stat st;

	snprintf(path, sizeof(path), "%s/%s", top, rel);
	return lstat(path, &st) == 0 && (st.st_mode & S_IFMT) == type;
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
	int root, fd;

	if (!mkdtemp(tmp))
		return 1;
	snprintf(top, sizeof(top), "%s/root", tmp);
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

	/* A rootfs that points out of itself: the walk stays inside. */
	symlinkat("/", root, "escape");
	symlinkat("../../../../..", root, "up");
	ok(made(root, "/escape/bh-in-root-probe", false) && exists("bh-in-root-probe", S_IFDIR) &&
	       access("/bh-in-root-probe", F_OK) != 0,
	   "through a symlink to /, the folder lands in the root, not on the host");
	ok(made(root, "/up/x", false) && exists("x", S_IFDIR),
	   "through a symlink that climbs with .., it lands in the root");
	ok(made(root, "/../../y", false) && exists("y", S_IFDIR), "a path that climbs lands in the root");
	fd = bh_open_in_root(root, "/escape/etc/resolv.conf", O_RDONLY, &err);
	ok(fd >= 0, "open through the symlink finds the root's own file");
	if (fd >= 0)
		close(fd);
	ok(bh_mkdir_in_root(root, "/a/..", false, &err) < 0 || exists("a", S_IFDIR),
	   "a path ending in .. creates nothing outside");
	fd = bh_open_in_root(root, "/missing/file", O_RDONLY, &err);
	ok(fd < 0 && err.code == ENOENT && strstr(err.msg, "missing/file"),
	   "a missing path fails with ENOENT and names it: %s", err.msg);
	close(root);
	snprintf(top, sizeof(top), "rm -rf %s", tmp);
	if (system(top) != 0)
		diag("could not remove the scratch folder");
	return done();
}
