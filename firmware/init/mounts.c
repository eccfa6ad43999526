#include "init.h"

#include <errno.h>
#include <sys/mount.h>
#include <sys/stat.h>

struct init_mount {
	const char *source, *target, *type;
	unsigned long flags;
	const char *data;
};

/* In mount order. /dev may already be there: the kernel mounts devtmpfs
 * itself before it starts init when CONFIG_DEVTMPFS_MOUNT is set. */
static const struct init_mount mounts[] = {
	{"proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, "hidepid=invisible"},
	{"sysfs", "/sys", "sysfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL},
	{"devtmpfs", "/dev", "devtmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755"},
	{"tmpfs", "/run", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=0755,size=16m"},
	{"tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC, "mode=1777,size=64m"},
};

int init_mount_all(struct bh_error *err)
{
	for (size_t i = 0; i < sizeof(mounts) / sizeof(mounts[0]); i++) {
		const struct init_mount *m = &mounts[i];

		if (mount(m->source, m->target, m->type, m->flags, m->data) == 0)
			continue;
		if (errno == EBUSY)
			continue;
		return bh_error(err, errno, "mount %s on %s", m->type, m->target);
	}
	return 0;
}
