/* The parts of the new mount API (open_tree, move_mount, mount_setattr)
 * that bhc uses. <linux/mount.h> clashes with the C library's
 * <sys/mount.h>, so the few constants are spelled out here. */
#ifndef BHC_MOUNTAPI_H
#define BHC_MOUNTAPI_H

#include <stdint.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef MOUNT_ATTR_RDONLY
#define MOUNT_ATTR_RDONLY      0x00000001
#define MOUNT_ATTR_NOSUID      0x00000002
#define MOUNT_ATTR_NODEV       0x00000004
#define MOUNT_ATTR_NOEXEC      0x00000008
#define MOUNT_ATTR__ATIME      0x00000070
#define MOUNT_ATTR_RELATIME    0x00000000
#define MOUNT_ATTR_NOATIME     0x00000010
#define MOUNT_ATTR_STRICTATIME 0x00000020
#define MOUNT_ATTR_NODIRATIME  0x00000080
#define MOUNT_ATTR_NOSYMFOLLOW 0x00200000
#endif
#ifndef OPEN_TREE_CLONE
#define OPEN_TREE_CLONE   1
#define OPEN_TREE_CLOEXEC 02000000
#endif
#ifndef MOVE_MOUNT_F_EMPTY_PATH
#define MOVE_MOUNT_F_EMPTY_PATH 0x00000004
#define MOVE_MOUNT_T_EMPTY_PATH 0x00000040
#endif
#ifndef AT_RECURSIVE
#define AT_RECURSIVE 0x8000
#endif

struct bhc_mount_attr {
	uint64_t attr_set, attr_clr, propagation, userns_fd;
};

static inline int bhc_open_tree(int dfd, const char *path, unsigned flags)
{
	return (int)syscall(SYS_open_tree, dfd, path, flags);
}

static inline int bhc_move_mount(int from_dfd, const char *from, int to_dfd, const char *to,
                                 unsigned flags)
{
	return (int)syscall(SYS_move_mount, from_dfd, from, to_dfd, to, flags);
}

static inline int bhc_mount_setattr(int dfd, const char *path, unsigned flags,
                                    struct bhc_mount_attr *a)
{
	return (int)syscall(SYS_mount_setattr, dfd, path, flags, a, sizeof(*a));
}

#endif
