/* Mount targets the rootfs lacks (/proc of a FROM scratch image, a
 * volume's folder, /etc/hosts), created by bhc as host root before the
 * clone: the init runs as root of the container's user namespace, which
 * cannot write a rootfs owned by host root. runc and crun create them too.
 *
 * The same openat2(RESOLVE_IN_ROOT) walk as the init's (bh_mkdir_in_root):
 * a symlink in the image cannot lead the creation out of the rootfs. A
 * target below an earlier mount of the config (/dev/pts below /dev) is
 * left to the init, which creates it in that filesystem. Folders are
 * created for everything but a bind of a file, which gets an empty file.
 * On a rootfs that is itself read-only (EROFS) the error names the folder
 * to add to the image. */
#include "libbhc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* path with repeated and trailing slashes removed. */
static void normalise(const char *path, char *out, size_t len)
{
	size_t n = 0;

	for (; *path && n + 1 < len; path++)
		if (*path != '/' || n == 0 || out[n - 1] != '/')
			out[n++] = *path;
	while (n > 1 && out[n - 1] == '/')
		n--;
	out[n] = 0;
}

/* True when path is strictly below dir. */
static bool below(const char *path, const char *dir)
{
	char p[4096], d[4096];
	size_t n;

	normalise(path, p, sizeof(p));
	normalise(dir, d, sizeof(d));
	n = strlen(d);
	if (!strcmp(d, "/"))
		return strcmp(p, "/") != 0;
	return !strncmp(p, d, n) && p[n] == '/';
}

/* A target some filesystem mounted before it will hold. */
static bool covered(const struct bhc_config *cfg, size_t i)
{
	bool config_dev = false;

	for (size_t j = 0; j < cfg->n_mounts; j++) {
		if (!strcmp(cfg->mounts[j].destination, "/dev"))
			config_dev = true;
		if (j < i && !cfg->mounts[j].skip &&
		    below(cfg->mounts[i].destination, cfg->mounts[j].destination))
			return true;
	}
	/* Without a config /dev, the init mounts its own tmpfs there first. */
	return !config_dev && below(cfg->mounts[i].destination, "/dev");
}

/* A bind of a file needs a file to bind onto. A source that cannot be
 * read here is reported when the parent opens it, with its field. */
static bool binds_a_file(const struct bhc_config *cfg, const struct bhc_mount *m)
{
	char full[8300];
	struct stat st;

	if (!m->bind)
		return false;
	snprintf(full, sizeof(full), "%s%s%s", m->source[0] == '/' ? "" : cfg->bundle,
	         m->source[0] == '/' ? "" : "/", m->source);
	return stat(full, &st) == 0 && !S_ISDIR(st.st_mode);
}

static int make_target(int rootfd, const struct bhc_config *cfg, const char *dest, bool file,
                       const char *field, struct bh_error *err)
{
	int fd = bh_open_in_root(rootfd, dest, O_PATH, err);

	if (fd < 0 && err->code == ENOENT)
		fd = bh_mkdir_in_root(rootfd, dest, file, err);
	if (fd >= 0) {
		close(fd);
		return 0;
	}
	if (err->code == EROFS)
		return bh_error(err, EROFS,
		                "%s: %s is missing from the rootfs %s, which is read-only: add "
		                "the %s to the image",
		                field, dest, cfg->rootfs, file ? "file" : "folder");
	return bh_error_wrap(err, "%s: create %s", field, dest);
}

int bhc_mount_targets_create(const struct bhc_config *cfg, struct bh_error *err)
{
	int rootfd = open(cfg->rootfs, O_PATH | O_DIRECTORY | O_CLOEXEC), r = 0;
	bool config_dev = false;

	if (rootfd < 0)
		return bh_error(err, errno, "open the rootfs %s", cfg->rootfs);
	for (size_t i = 0; !r && i < cfg->n_mounts; i++) {
		const struct bhc_mount *m = &cfg->mounts[i];
		char field[64];

		config_dev |= !strcmp(m->destination, "/dev");
		if (m->skip || covered(cfg, i))
			continue;
		snprintf(field, sizeof(field), "$.mounts[%zu].destination", i);
		r = make_target(rootfd, cfg, m->destination, binds_a_file(cfg, m), field, err);
	}
	if (!r && !config_dev)
		r = make_target(rootfd, cfg, "/dev", false, "/dev (bhc's own tmpfs)", err);
	close(rootfd);
	return r;
}
