/* The container's filesystem, set up by its init in its own mount
 * namespace (owned by its user namespace) before pivot_root:
 *
 *  1. every mount private, the rootfs bind-mounted onto itself (through an
 *     fd bhc opened as host root: the container's ids may not be able to
 *     search the folders above the bundle);
 *  2. a minimal /dev on tmpfs if the config has none;
 *  3. the config's mounts, each target resolved inside the rootfs with
 *     openat2(RESOLVE_IN_ROOT) and mounted through its fd, never a path;
 *  4. /dev's nodes, bind-mounted from host nodes whose type and numbers are
 *     checked, and its symlinks; devpts and /dev/shm if missing;
 *  5. sysctls of the container's own namespaces;
 *  6. Docker's masked and read-only paths, always, plus the config's; masks
 *     under /proc and /sys resolved beneath a checked procfs and sysfs;
 *  7. the createRuntime and createContainer hooks (before_pivot);
 *  8. pivot_root, the old root detached; / read-only unless the config says
 *     otherwise. */
#include "libbhc.h"
#include "mountapi.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/magic.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The inode number of procfs's root folder (fs/proc/root.c). */
#ifndef PROC_ROOT_INO
#define PROC_ROOT_INO 1
#endif

/* Applied to every container whatever its config says, and written out by
 * `bhc spec` (spec.c): one list for both. */
const char *const bhc_default_masked[] = {
    "/proc/asound",
    "/proc/acpi",
    "/proc/interrupts",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/proc/scsi",
    "/sys/firmware",
    "/sys/devices/virtual/powercap",
    "/proc/sysrq-trigger",
    NULL,
};

const char *const bhc_default_readonly[] = {
    "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger", NULL,
};

static const struct {
	const char *name;
	unsigned major, minor;
} devices[] = {
    {"null", 1, 3},   {"zero", 1, 5},    {"full", 1, 7},
    {"random", 1, 8}, {"urandom", 1, 9}, {"tty", 5, 0},
};

static const char *const dev_links[][2] = {
    {"fd", "/proc/self/fd"},       {"stdin", "/proc/self/fd/0"}, {"stdout", "/proc/self/fd/1"},
    {"stderr", "/proc/self/fd/2"}, {"ptmx", "pts/ptmx"},
};

/* Mounts a filesystem on the directory fd refers to. fchdir then "." keeps
 * the kernel from walking any path the container could have changed. */
static int mount_fs_at(int fd, const char *type, const char *source, unsigned long flags,
                       const char *data, struct bh_error *err)
{
	if (fchdir(fd) < 0)
		return bh_error(err, errno, "enter the mount point for %s", type);
	if (mount(source ? source : type, ".", type, flags, data && *data ? data : NULL) < 0)
		return bh_error(err, errno, "mount %s%s%s", type, data && *data ? " with " : "",
		                data ? data : "");
	return 0;
}

/* Clones the mount at src_fd (a detached copy), applies attributes, and
 * moves it onto dst_fd. */
static int bind_fd(int src_fd, int dst_fd, bool recursive, uint64_t set, uint64_t clr,
                   unsigned long propagation, struct bh_error *err)
{
	unsigned rec = recursive ? AT_RECURSIVE : 0;
	struct bhc_mount_attr attr = {set, clr, propagation & ~(unsigned long)MS_REC, 0};
	int tree =
	    bhc_open_tree(src_fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | rec);

	if (tree < 0)
		return bh_error(err, errno, "clone the mount");
	if ((set || clr || propagation) &&
	    bhc_mount_setattr(tree, "", AT_EMPTY_PATH | rec, &attr) < 0) {
		int e = errno;

		close(tree);
		return bh_error(err, e, "set the mount's attributes");
	}
	if (bhc_move_mount(tree, "", dst_fd, "",
	                   MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) < 0) {
		int e = errno;

		close(tree);
		return bh_error(err, e, "attach the mount");
	}
	close(tree);
	return 0;
}

static int fd_type(int fd)
{
	struct stat sb;

	return fstat(fd, &sb) < 0 ? -1 : (int)(sb.st_mode & S_IFMT);
}

static bool under_sys(const char *path)
{
	while (*path == '/' && path[1] == '/')
		path++;
	return !strncmp(path, "/sys", 4) && (path[4] == 0 || path[4] == '/');
}

static int do_bind(int src, int rootfd, const struct bhc_mount *m, struct bh_error *err)
{
	int dst, r;

	dst = bh_mkdir_in_root(rootfd, m->destination, fd_type(src) != S_IFDIR, err);
	if (dst < 0)
		return -1;
	if (fd_type(dst) == S_IFLNK || (fd_type(dst) == S_IFDIR) != (fd_type(src) == S_IFDIR)) {
		close(dst);
		return bh_error(err, 0,
		                "bind target %s is a symlink or not the kind of file its source is",
		                m->destination);
	}
	/* Binds are nosuid and nodev whatever the options say, and read-only
	 * anywhere under /sys: the kernel's and the cgroups' knobs are never
	 * the container's to write. */
	uint64_t set = m->attr_set | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;
	uint64_t clr = MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV;

	if (under_sys(m->destination)) {
		set |= MOUNT_ATTR_RDONLY;
		clr |= MOUNT_ATTR_RDONLY;
	}
	r = bind_fd(src, dst, m->recursive, set, m->attr_clr & ~clr, m->propagation, err);
	close(dst);
	return r;
}

/* sysfs needs a network namespace owned by the container's user namespace;
 * one joined by path is the host's to own, so /sys becomes a read-only bind
 * of the host's, then masked like any other. */
static int sysfs_fallback(int dst, struct bh_error *err)
{
	int src = open("/sys", O_PATH | O_DIRECTORY | O_CLOEXEC), r;

	if (src < 0)
		return bh_error(err, errno, "open /sys");
	r = bind_fd(src, dst, true,
	            MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0,
	            0, err);
	close(src);
	return r;
}

/* The root of the mount just made on dst's folder. dst itself still
 * refers to the folder underneath (a mount does not move an open fd), so
 * the new mount is found again by name from the parent folder. The name
 * is looked up from the rootfs like every path here; whatever it finds, a
 * mount attribute set through it only takes on the root of a mount, and
 * the only mounts in this namespace are the container's own. */
static int open_new_mount(int rootfd, const char *dest, int flags, struct bh_error *err)
{
	char parent[4096], *slash;
	const char *name;
	int pfd, fd;

	snprintf(parent, sizeof(parent), "%s", dest);
	while ((slash = strrchr(parent, '/')) && slash != parent && slash[1] == 0)
		*slash = 0;
	slash = strrchr(parent, '/');
	if (!slash || !slash[1])
		return bh_error(err, EINVAL, "%s is not a folder below /", dest);
	*slash = 0;
	name = slash + 1;
	pfd = bh_open_in_root(rootfd, *parent ? parent : "/", O_PATH | O_DIRECTORY, err);
	if (pfd < 0)
		return -1;
	fd = openat(pfd, name, flags | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		bh_error(err, errno, "open the new mount at %s", dest);
	close(pfd);
	return fd;
}

/* What mount(2) cannot do while it makes the mount: its propagation
 * (mount(NULL, ".") would act on the folder underneath, which is no mount:
 * EINVAL), tmpcopyup's copy, and read-only after that copy. */
static int finish_fs_mount(int rootfd, int dst, const struct bhc_mount *m, bool rdonly_later,
                           struct bh_error *err)
{
	int root = open_new_mount(rootfd, m->destination, O_RDONLY | O_DIRECTORY, err), r = 0;
	struct bhc_mount_attr attr = {0, 0, m->propagation & ~(unsigned long)MS_REC, 0};
	struct stat new_st, old_st;

	if (root < 0)
		return -1;
	/* A new filesystem has a device number of its own: anything else (the
	 * folder renamed and replaced meanwhile) gets no copy. */
	if (fstat(root, &new_st) < 0 || fstat(dst, &old_st) < 0 || new_st.st_dev == old_st.st_dev) {
		close(root);
		return bh_error(err, 0, "%s is not the filesystem just mounted there",
		                m->destination);
	}
	if (m->tmpcopyup)
		r = bhc_copy_tree(dst, root, m->destination, err);
	if (!r && rdonly_later)
		attr.attr_set |= MOUNT_ATTR_RDONLY;
	if (!r && (attr.attr_set || attr.propagation) &&
	    bhc_mount_setattr(root, "", AT_EMPTY_PATH | (m->propagation & MS_REC ? AT_RECURSIVE : 0),
	                      &attr) < 0)
		r = bh_error(err, errno, "set the %s of %s",
		             attr.propagation ? "propagation" : "read-only attribute", m->destination);
	close(root);
	return r;
}

static int do_fs_mount(int rootfd, const struct bhc_mount *m, struct bh_error *err)
{
	const char *type = m->type;
	/* Filesystems mounted inside the container never carry setuid bits or
	 * devices; /dev gets its nodes by bind mounts below. */
	unsigned long flags = m->flags | MS_NOSUID | (strcmp(m->type, "devpts") ? MS_NODEV : 0);
	int dst = bh_mkdir_in_root(rootfd, m->destination, false, err), r;
	bool rdonly_later;

	if (dst < 0)
		return -1;
	if (fd_type(dst) != S_IFDIR) {
		close(dst);
		return bh_error(err, 0, "mount target %s is not a directory", m->destination);
	}
	/* Only cgroup v2 can be mounted from a user namespace. */
	if (!strcmp(type, "cgroup"))
		type = "cgroup2";
	/* sysfs and the cgroups are read-only whatever the config says. */
	if (!strcmp(type, "sysfs") || !strcmp(type, "cgroup2") || under_sys(m->destination))
		flags |= MS_RDONLY;
	/* A read-only tmpfs to copy into is made read-only after the copy. */
	rdonly_later = m->tmpcopyup && (flags & MS_RDONLY);
	if (rdonly_later)
		flags &= ~(unsigned long)MS_RDONLY;
	r = mount_fs_at(dst, type, m->source, flags, m->data, err);
	if (r < 0 && !strcmp(type, "sysfs") && err->code == EPERM) {
		r = sysfs_fallback(dst, err);
		/* The host's /sys came with the host's cgroup tree under it:
		 * hidden under an empty read-only tmpfs (a cgroup mount of the
		 * config, if any, comes later and covers that). */
		if (r == 0) {
			char path[4096];
			int cg;

			snprintf(path, sizeof(path), "%s/fs/cgroup", m->destination);
			cg = bh_open_in_root(rootfd, path, O_PATH | O_DIRECTORY | O_NOFOLLOW, err);
			if (cg >= 0) {
				r = mount_fs_at(cg, "tmpfs", "tmpfs",
				                MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0500",
				                err);
				close(cg);
			} else if (err->code != ENOENT) {
				r = -1;
			}
		}
	}
	if (r == 0 && (m->propagation || m->tmpcopyup || rdonly_later))
		r = finish_fs_mount(rootfd, dst, m, rdonly_later, err);
	close(dst);
	return r;
}

static bool has_mount(const struct bhc_config *cfg, const char *dest)
{
	for (size_t i = 0; i < cfg->n_mounts; i++)
		if (!strcmp(cfg->mounts[i].destination, dest))
			return true;
	return false;
}

static int default_mount(int rootfd, const char *dest, const char *type, unsigned long flags,
                         const char *data, struct bh_error *err)
{
	struct bhc_mount m = {.destination = dest, .type = type, .flags = flags};

	snprintf(m.data, sizeof(m.data), "%s", data);
	return do_fs_mount(rootfd, &m, err);
}

/* A host device node, checked to be the device it claims to be, so that a
 * replaced /dev/null on the host cannot hand the container something else. */
static int open_host_device(const char *name, unsigned major, unsigned minor, struct bh_error *err)
{
	char path[64];
	struct stat sb;
	int fd;

	snprintf(path, sizeof(path), "/dev/%s", name);
	fd = open(path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return bh_error(err, errno, "open host %s", path);
	if (fstat(fd, &sb) < 0 || !S_ISCHR(sb.st_mode) || major(sb.st_rdev) != major ||
	    minor(sb.st_rdev) != minor) {
		close(fd);
		return bh_error(err, 0, "host %s is not the character device %u:%u", path, major,
		                minor);
	}
	return fd;
}

static int setup_dev(const struct bhc_config *cfg, int rootfd, struct bh_error *err)
{
	int devfd;

	for (size_t i = 0; i < sizeof(devices) / sizeof(*devices); i++) {
		char path[32];
		int src, dst, r;

		snprintf(path, sizeof(path), "/dev/%s", devices[i].name);
		src = open_host_device(devices[i].name, devices[i].major, devices[i].minor, err);
		if (src < 0)
			return -1;
		dst = bh_mkdir_in_root(rootfd, path, true, err);
		if (dst < 0 || fd_type(dst) != S_IFREG) {
			close(src);
			if (dst >= 0)
				close(dst);
			return dst < 0 ? -1
			               : bh_error(err, 0, "%s in the container is not a plain file",
			                          path);
		}
		r = bind_fd(src, dst, false, MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, 0, 0, err);
		close(src);
		close(dst);
		if (r < 0)
			return bh_error_wrap(err, "%s", path);
	}
	if (!has_mount(cfg, "/dev/pts") &&
	    default_mount(rootfd, "/dev/pts", "devpts", MS_NOEXEC,
	                  "newinstance,ptmxmode=0666,mode=0620", err) < 0)
		return -1;
	if (!has_mount(cfg, "/dev/shm") &&
	    default_mount(rootfd, "/dev/shm", "tmpfs", MS_NOEXEC, "mode=1777,size=65536k", err) < 0)
		return -1;
	devfd = bh_open_in_root(rootfd, "/dev", O_PATH | O_DIRECTORY, err);
	if (devfd < 0)
		return -1;
	for (size_t i = 0; i < sizeof(dev_links) / sizeof(*dev_links); i++)
		if (symlinkat(dev_links[i][1], devfd, dev_links[i][0]) < 0 && errno != EEXIST) {
			int e = errno;

			close(devfd);
			return bh_error(err, e, "create /dev/%s", dev_links[i][0]);
		}
	close(devfd);
	return 0;
}

/* fd is the root of a mount of the filesystem magic names (procfs and
 * sysfs both number their root folder 1): not a folder inside one, not
 * another filesystem. */
static bool fs_root(int fd, unsigned long magic)
{
	struct statfs sfs;
	struct stat st;

	return fstatfs(fd, &sfs) == 0 && (unsigned long)sfs.f_type == magic &&
	       fstat(fd, &st) == 0 && st.st_ino == PROC_ROOT_INO;
}

/* The container's /proc, checked to be the root of a procfs mount: a
 * config mount that puts a host file or folder there must not receive the
 * sysctls' writes (the CVE-2025-52881 class). */
static int open_proc(int rootfd, struct bh_error *err)
{
	int fd = bh_open_in_root(rootfd, "/proc", O_PATH | O_DIRECTORY | O_NOFOLLOW, err);

	if (fd < 0)
		return bh_error_wrap(err, "sysctls need the config's /proc mount");
	if (!fs_root(fd, PROC_SUPER_MAGIC)) {
		close(fd);
		return bh_error(err, 0,
		                "/proc in the container is not the root of a procfs mount (a "
		                "config mount covers it): refusing to write sysctls through it");
	}
	return fd;
}

/* Each sysctl is opened beneath that /proc without crossing a mount or
 * following a symlink, so a config mount over /proc/sys or over one of its
 * files cannot redirect the write to another file. */
static int apply_sysctls(const struct bhc_config *cfg, int rootfd, struct bh_error *err)
{
	int procfd = cfg->n_sysctls ? open_proc(rootfd, err) : -1;

	if (cfg->n_sysctls && procfd < 0)
		return -1;
	for (size_t i = 0; i < cfg->n_sysctls; i++) {
		struct open_how how = {.flags = O_WRONLY | O_CLOEXEC | O_NOFOLLOW,
		                       .resolve = RESOLVE_BENEATH | RESOLVE_NO_XDEV |
		                                  RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS};
		char path[512];
		int fd;

		snprintf(path, sizeof(path), "sys/%s", cfg->sysctls[i].key);
		for (char *c = path + 4; *c; c++)
			if (*c == '.')
				*c = '/';
		fd = (int)syscall(SYS_openat2, procfd, path, &how, sizeof(how));
		if (fd < 0) {
			int e = errno;

			close(procfd);
			return bh_error(err, e, "sysctl %s: open /proc/%s%s", cfg->sysctls[i].key,
			                path, e == EXDEV ? " (a config mount covers it)" : "");
		}
		if (write(fd, cfg->sysctls[i].value, strlen(cfg->sysctls[i].value)) < 0) {
			int e = errno;

			close(fd);
			close(procfd);
			return bh_error(err, e, "sysctl %s = %s", cfg->sysctls[i].key,
			                cfg->sysctls[i].value);
		}
		close(fd);
	}
	if (procfd >= 0)
		close(procfd);
	return 0;
}

static int readonly_path(int rootfd, const char *path, struct bh_error *err)
{
	int fd = bh_open_in_root(rootfd, path, O_PATH | O_NOFOLLOW, err), r;

	if (fd < 0)
		return err->code == ENOENT ? 0 : -1;
	if (fd_type(fd) == S_IFLNK) {
		close(fd);
		return bh_error(err, 0, "read-only path %s is a symlink", path);
	}
	r = bind_fd(fd, fd, true,
	            MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | MOUNT_ATTR_NOEXEC, 0,
	            0, err);
	close(fd);
	return r < 0 ? bh_error_wrap(err, "make %s read-only", path) : 0;
}

/* The kernel's filesystems that the masks hide parts of. A mask under
 * /proc or /sys is resolved beneath that folder, checked to be the root
 * of a procfs or sysfs mount, never through a path from the rootfs: a
 * config mount that puts a host folder or a tmpfs there (one that another
 * container can write, say) must not receive bhc's masks in place of the
 * kernel's files, nor turn them into symlinks or mounts leading elsewhere
 * (the CVE-2025-52881 class). */
enum { KFS_PROC, KFS_SYS };
static const struct kernel_fs {
	const char *dir, *type;
	unsigned long magic;
} kernel_fs[] = {
    [KFS_PROC] = {"/proc", "procfs", PROC_SUPER_MAGIC},
    [KFS_SYS] = {"/sys", "sysfs", SYSFS_MAGIC},
};
#define N_KERNEL_FS (sizeof(kernel_fs) / sizeof(*kernel_fs))

/* The part of path below dir ("" for dir itself), or NULL when path is
 * not dir or below it. */
static const char *below(const char *path, const char *dir)
{
	size_t n = strlen(dir);

	while (*path == '/' && path[1] == '/')
		path++;
	if (strncmp(path, dir, n) || (path[n] && path[n] != '/'))
		return NULL;
	path += n;
	while (*path == '/')
		path++;
	return path;
}

static long sys_openat2(int dirfd, const char *path, uint64_t flags, uint64_t resolve)
{
	struct open_how how = {.flags = flags | O_CLOEXEC, .resolve = resolve};

	return syscall(SYS_openat2, dirfd, path, &how, sizeof(how));
}

/* Mask paths are resolved beneath these: no symlink followed, no mount
 * crossed, no ".." above the folder. */
#define RESOLVE_MASK (RESOLVE_BENEATH | RESOLVE_NO_XDEV | RESOLVE_NO_SYMLINKS)

/* Opens kernel_fs[i]'s folder in the container. When a mount is there
 * (the config's procfs or sysfs), it must be the root of a mount of that
 * filesystem; when none is, the folder is the image's own, and what is
 * below it the image's files. Returns -2 when the folder is absent: then
 * there is nothing to mask below it. */
static int open_kernel_fs(int rootfd, const struct kernel_fs *k, struct bh_error *err)
{
	int fd = (int)sys_openat2(rootfd, k->dir + 1, O_PATH | O_DIRECTORY, RESOLVE_MASK);

	if (fd >= 0)
		return fd;
	if (errno == ENOENT)
		return -2;
	if (errno != EXDEV)
		return bh_error(err, errno, "open %s in the container to mask paths below it",
		                k->dir);
	fd = (int)sys_openat2(rootfd, k->dir + 1, O_PATH | O_DIRECTORY,
	                      RESOLVE_MASK & ~RESOLVE_NO_XDEV);
	if (fd < 0)
		return bh_error(err, errno, "open %s in the container to mask paths below it",
		                k->dir);
	if (!fs_root(fd, k->magic)) {
		struct statfs sfs;

		if (fstatfs(fd, &sfs) < 0)
			sfs.f_type = 0;
		close(fd);
		return bh_error(
		    err, 0,
		    "%s in the container is not the root of a %s mount (a config mount "
		    "covers it with filesystem 0x%lx): refusing to mask paths through it",
		    k->dir, k->type, (unsigned long)sfs.f_type);
	}
	return fd;
}

/* Opens a masked path: below a kernel filesystem's checked fd when it is
 * under one (fs_fds as open_kernel_fs returned them), else inside the
 * rootfs; an O_PATH fd of the path itself (a symlink stays one). Returns
 * -2 when the path does not exist. */
static int open_masked(int rootfd, const int *fs_fds, const char *path, struct bh_error *err)
{
	int fd;

	for (size_t i = 0; i < N_KERNEL_FS; i++) {
		const char *rest = below(path, kernel_fs[i].dir);

		if (!rest)
			continue;
		if (fs_fds[i] == -2)
			return -2;
		fd = (int)sys_openat2(fs_fds[i], *rest ? rest : ".", O_PATH | O_NOFOLLOW,
		                      RESOLVE_MASK);
		if (fd >= 0)
			return fd;
		if (errno == ENOENT)
			return -2;
		if (errno == EXDEV)
			return bh_error(
			    err, errno,
			    "masked path %s crosses a mount inside %s (a config mount covers "
			    "it or a folder on its way) or leaves it",
			    path, kernel_fs[i].dir);
		if (errno == ELOOP)
			return bh_error(err, errno, "masked path %s has a symlink on its way",
			                path);
		return bh_error(err, errno, "open masked path %s", path);
	}
	fd = bh_open_in_root(rootfd, path, O_PATH | O_NOFOLLOW, err);
	return fd < 0 && err->code == ENOENT ? -2 : fd;
}

/* Files are covered with the host's /dev/null (checked: the container's own
 * /dev/null could be a symlink to anything), folders with an empty
 * read-only tmpfs. A symlink at a masked path is refused: it is how the
 * 2025 runc escapes pointed the mask elsewhere. */
static int masked_path(int rootfd, const int *fs_fds, int null_fd, const char *path,
                       struct bh_error *err)
{
	int fd = open_masked(rootfd, fs_fds, path, err), type, r;

	if (fd == -2)
		return 0;
	if (fd < 0)
		return -1;
	type = fd_type(fd);
	if (type == S_IFLNK)
		r = bh_error(err, 0, "masked path %s is a symlink", path);
	else if (type == S_IFDIR)
		r = mount_fs_at(fd, "tmpfs", "tmpfs", MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
		                "mode=0500", err);
	else
		r = bind_fd(null_fd, fd, false,
		            MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NOEXEC, 0, 0, err);
	close(fd);
	return r < 0 ? bh_error_wrap(err, "mask %s", path) : 0;
}

static bool listed(const char *const *list, const char *path)
{
	for (size_t i = 0; list[i]; i++)
		if (!strcmp(list[i], path))
			return true;
	return false;
}

/* Each CPU's thermal_throttle folder (its counters tell what the host's
 * other workloads are doing): masked like Docker does, one per CPU. The
 * CPUs are listed below the checked /sys, as the masks are resolved. */
static int mask_thermal_throttle(int rootfd, const int *fs_fds, int null_fd, struct bh_error *err)
{
	int sysfd = fs_fds[KFS_SYS], fd, r = 0;
	struct dirent *e;
	DIR *d;

	if (sysfd == -2)
		return 0;
	fd = (int)sys_openat2(sysfd, "devices/system/cpu", O_RDONLY | O_DIRECTORY, RESOLVE_MASK);
	if (fd < 0)
		return errno == ENOENT || errno == EACCES
		           ? 0
		           : bh_error(err, errno, "open /sys/devices/system/cpu in the container");
	d = fdopendir(fd);
	if (!d) {
		close(fd);
		return bh_error(err, errno, "list /sys/devices/system/cpu");
	}
	while (!r && (e = readdir(d))) {
		char path[300];

		if (strncmp(e->d_name, "cpu", 3) || e->d_name[3] < '0' || e->d_name[3] > '9' ||
		    strspn(e->d_name + 3, "0123456789") != strlen(e->d_name + 3))
			continue;
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/%s/thermal_throttle",
		         e->d_name);
		r = masked_path(rootfd, fs_fds, null_fd, path, err);
	}
	closedir(d);
	return r;
}

static int apply_masks(const struct bhc_config *cfg, int rootfd, int null_fd, struct bh_error *err)
{
	int fs_fds[N_KERNEL_FS], r = 0;
	size_t n = 0;

	for (; n < N_KERNEL_FS && r == 0; n++) {
		fs_fds[n] = open_kernel_fs(rootfd, &kernel_fs[n], err);
		if (fs_fds[n] == -1)
			r = -1;
	}
	for (size_t i = 0; !r && bhc_default_masked[i]; i++)
		r = masked_path(rootfd, fs_fds, null_fd, bhc_default_masked[i], err);
	for (size_t i = 0; !r && i < cfg->n_masked; i++)
		if (!listed(bhc_default_masked, cfg->masked[i]))
			r = masked_path(rootfd, fs_fds, null_fd, cfg->masked[i], err);
	if (!r)
		r = mask_thermal_throttle(rootfd, fs_fds, null_fd, err);
	while (n--)
		if (fs_fds[n] >= 0)
			close(fs_fds[n]);
	return r;
}

/* The masks come first: resolved without crossing a mount, they must not
 * meet the read-only binds (/proc/sysrq-trigger is both), which then
 * cover them as they are. */
static int protect_paths(const struct bhc_config *cfg, int rootfd, struct bh_error *err)
{
	int null_fd = open_host_device("null", 1, 3, err), r;

	if (null_fd < 0)
		return -1;
	r = apply_masks(cfg, rootfd, null_fd, err);
	for (size_t i = 0; !r && bhc_default_readonly[i]; i++)
		r = readonly_path(rootfd, bhc_default_readonly[i], err);
	for (size_t i = 0; !r && i < cfg->n_readonly; i++)
		if (!listed(bhc_default_readonly, cfg->readonly_paths[i]))
			r = readonly_path(rootfd, cfg->readonly_paths[i], err);
	close(null_fd);
	return r;
}

static int enter_rootfs(const struct bhc_config *cfg, int rootfd, struct bh_error *err)
{
	/* No setuid binary or device node of the image works, whether the
	 * rootfs is read-only or not. */
	struct bhc_mount_attr attr = {MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV, 0, 0, 0};

	if (fchdir(rootfd) < 0)
		return bh_error(err, errno, "enter the rootfs");
	/* pivot_root(".", ".") stacks the old root under the new one; detaching
	 * it leaves no path back to the host's filesystem. */
	if (syscall(SYS_pivot_root, ".", ".") < 0)
		return bh_error(err, errno, "pivot_root into %s", cfg->rootfs);
	if (umount2(".", MNT_DETACH) < 0)
		return bh_error(err, errno, "detach the host's root");
	if (chdir("/") < 0)
		return bh_error(err, errno, "chdir /");
	if (cfg->readonly)
		attr.attr_set |= MOUNT_ATTR_RDONLY;
	if (bhc_mount_setattr(AT_FDCWD, "/", 0, &attr) < 0)
		return bh_error(err, errno, "make the rootfs nosuid, nodev%s",
		                cfg->readonly ? ", read-only" : "");
	return 0;
}

/* The rootfs bind-mounted onto itself through the parent's fd; returns an
 * fd of the new mount's root. */
static int bind_rootfs(const struct bhc_config *cfg, int fd, struct bh_error *err)
{
	int tree = bhc_open_tree(
	    fd, "", OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC | AT_EMPTY_PATH | AT_RECURSIVE);

	if (tree < 0)
		return bh_error(err, errno, "clone the rootfs %s", cfg->rootfs);
	if (bhc_move_mount(tree, "", fd, "", MOVE_MOUNT_F_EMPTY_PATH | MOVE_MOUNT_T_EMPTY_PATH) <
	    0) {
		int e = errno;

		close(tree);
		return bh_error(err, e, "bind the rootfs %s", cfg->rootfs);
	}
	return tree;
}

int bhc_rootfs_setup(const struct bhc_config *cfg, const int *fds, size_t n_fds,
                     int (*before_pivot)(void *arg, struct bh_error *err), void *arg,
                     struct bh_error *err)
{
	unsigned long prop = cfg->rootfs_propagation ? cfg->rootfs_propagation : MS_PRIVATE;
	size_t next_source = 1;
	int rootfd, r = 0;

	if (n_fds < 1)
		return bh_error(err, 0, "no rootfs from the parent");
	if (mount(NULL, "/", NULL, MS_REC | prop, NULL) < 0)
		return bh_error(err, errno, "make the mounts private");
	rootfd = bind_rootfs(cfg, fds[0], err);
	if (rootfd < 0)
		return -1;
	if (!has_mount(cfg, "/dev"))
		r = default_mount(rootfd, "/dev", "tmpfs", MS_NOEXEC | MS_STRICTATIME,
		                  "mode=755,size=65536k", err);
	for (size_t i = 0; !r && i < cfg->n_mounts; i++) {
		const struct bhc_mount *m = &cfg->mounts[i];

		if (m->skip) {
			next_source += m->bind;
			continue;
		}
		if (!strcmp(m->destination, "/dev") && (m->bind || strcmp(m->type, "tmpfs")))
			r = bh_error(
			    err, 0,
			    "/dev must be a tmpfs: bhc fills it with a minimal set of devices");
		else if (m->bind && next_source >= n_fds)
			r = bh_error(err, 0, "no source fd for the bind mount");
		else
			r = m->bind ? do_bind(fds[next_source++], rootfd, m, err)
			            : do_fs_mount(rootfd, m, err);
		if (r < 0)
			bh_error_wrap(err, "mount %s", m->destination);
	}
	if (!r)
		r = setup_dev(cfg, rootfd, err);
	if (!r)
		r = apply_sysctls(cfg, rootfd, err);
	if (!r)
		r = protect_paths(cfg, rootfd, err);
	if (!r && before_pivot)
		r = before_pivot(arg, err);
	if (!r)
		r = enter_rootfs(cfg, rootfd, err);
	close(rootfd);
	return r;
}
