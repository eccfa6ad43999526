/* A container's volumes: /data/volumes/<workload>/<volume>, owned by the
 * workload's container user in its uid range.
 *
 * A workload's uid range follows its slot in bhd's table (the first free
 * one when it is installed or loaded at boot), so it can change: removed
 * and installed again, or other workloads installed in between. Its
 * volumes outlive it (bhctl remove keeps them), and files it wrote under
 * the old range would then be foreign to it (an unmapped owner, shown as
 * nobody, unwritable) while sitting in a range another workload may be
 * given. So before a volume is bound, every entry owned in the old range
 * moves to the same offset in the new one. The volume folder is chowned
 * last: a power cut during the walk leaves it in the old range and the
 * next start walks again (entries already moved are left as they are). */
#include "bhd.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Deeper trees are refused rather than walked on a small stack. */
#define VOLUME_DEPTH_MAX 128

struct shift {
	uint32_t from, to;
	dev_t dev;
	unsigned long moved;
};

static uint32_t shifted(uint32_t id, const struct shift *s)
{
	return id - s->from < WORKLOAD_UID_RANGE ? id - s->from + s->to : id;
}

static int shift_entry(int dirfd, const char *name, const struct stat *st, struct shift *s,
                       struct bh_error *err)
{
	uid_t uid = shifted(st->st_uid, s);
	gid_t gid = shifted(st->st_gid, s);

	if (uid == st->st_uid && gid == st->st_gid)
		return 0;
	if (fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
		return bh_error(err, errno, "chown %s", name);
	s->moved++;
	return 0;
}

/* Every entry beneath dirfd, depth first, never following a symlink nor
 * leaving the volume's filesystem. */
static int shift_tree(int dirfd, int depth, struct shift *s, struct bh_error *err)
{
	int fd = dup(dirfd), rc = 0;
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	struct dirent *e;

	if (!d) {
		if (fd >= 0)
			close(fd);
		return bh_error(err, errno, "open a folder");
	}
	if (depth > VOLUME_DEPTH_MAX) {
		closedir(d);
		return bh_error(err, 0, "folders nested deeper than %d", VOLUME_DEPTH_MAX);
	}
	while (rc == 0) {
		struct stat st;

		errno = 0;
		e = readdir(d);
		if (!e) {
			if (errno)
				rc = bh_error(err, errno, "read a folder");
			break;
		}
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (fstatat(dirfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
			rc = bh_error(err, errno, "stat %s", e->d_name);
			break;
		}
		if (st.st_dev != s->dev)
			continue;
		if (S_ISDIR(st.st_mode)) {
			int sub = openat(dirfd, e->d_name,
			                 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub < 0) {
				rc = bh_error(err, errno, "open %s", e->d_name);
				break;
			}
			rc = shift_tree(sub, depth + 1, s, err);
			close(sub);
			if (rc < 0) {
				bh_error_wrap(err, "in %s", e->d_name);
				break;
			}
		}
		rc = shift_entry(dirfd, e->d_name, &st, s, err);
	}
	closedir(d);
	return rc;
}

/* Moves what the volume folder src holds from the uid range its owner is
 * in to the range at base, when they differ. */
static int adopt(const struct workload *w, const char *volume, const char *src, uint32_t base,
                 struct bh_error *err)
{
	struct shift s = {.to = base};
	struct stat st;
	int fd = open(src, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), rc;

	if (fd < 0)
		return bh_error(err, errno, "open %s", src);
	if (fstat(fd, &st) < 0) {
		close(fd);
		return bh_error(err, errno, "stat %s", src);
	}
	if (st.st_uid < WORKLOAD_UID_BASE || st.st_uid - base < WORKLOAD_UID_RANGE) {
		close(fd); /* new, or already in this range */
		return 0;
	}
	s.from = WORKLOAD_UID_BASE +
	         (st.st_uid - WORKLOAD_UID_BASE) / WORKLOAD_UID_RANGE * WORKLOAD_UID_RANGE;
	s.dev = st.st_dev;
	rc = shift_tree(fd, 0, &s, err);
	close(fd);
	if (rc < 0)
		return bh_error_wrap(err, "move %s from uid range %u to %u", src, s.from, s.to);
	bhd_log("bhd: %s: volume %s: %lu files moved from uid range %u to %u (its slot changed)",
	        w->m.name, volume, s.moved, s.from, s.to);
	return 0;
}

int volume_prepare(const struct workload *w, const struct wl_volume *v, char *src, size_t size,
                   struct bh_error *err)
{
	uint32_t base = workload_uid_base(w);
	char dir[256];

	snprintf(dir, sizeof(dir), VOLUMES_DIR "/%s", w->m.name);
	if (mkdir(dir, 0711) < 0 && errno != EEXIST)
		return bh_error(err, errno, "mkdir %s", dir);
	snprintf(src, size, "%s/%s", dir, v->name);
	if (mkdir(src, 0750) < 0 && errno != EEXIST)
		return bh_error(err, errno, "mkdir %s", src);
	if (adopt(w, v->name, src, base, err) < 0)
		return -1;
	if (chown(src, base + w->m.user, base + w->m.group) < 0)
		return bh_error(err, errno, "chown %s", src);
	return 0;
}
