/* Container state under the runtime's root folder (default /run/bhc):
 * <root>/<id>/state.json and <root>/<id>/exec.fifo. The status is derived
 * from the process itself each time it is asked for, never trusted from the
 * file: a pid is only believed while its start time matches. */
#include "libbhc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* A state file is a few hundred bytes plus the config's annotations. */
#define STATE_MAX (1u << 20)

int bhc_id_check(const char *id, struct bh_error *err)
{
	size_t n = strlen(id);

	if (n == 0 || n > 100)
		return bh_error(err, 0, "container id '%s' must be 1 to 100 characters long", id);
	if (id[0] == '.')
		return bh_error(err, 0, "container id '%s' must not start with a dot", id);
	for (size_t i = 0; i < n; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-",
		            id[i]))
			return bh_error(
			    err, 0,
			    "container id '%s' may only hold letters, digits, '_', '.' and '-'",
			    id);
	return 0;
}

int bhc_root_open(const char *root, bool create, struct bh_error *err)
{
	int fd;

	if (create && mkdir(root, 0700) < 0 && errno != EEXIST)
		return bh_error(err, errno, "create the state folder %s", root);
	fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return bh_error(err, errno, "open the state folder %s", root);
	return fd;
}

int bhc_root_lock(int rootfd, struct bh_error *err)
{
	while (flock(rootfd, LOCK_EX) < 0)
		if (errno != EINTR)
			return bh_error(err, errno, "lock the state folder");
	return 0;
}

int bhc_state_dir_create(int rootfd, const char *id, struct bh_error *err)
{
	int fd;

	if (mkdirat(rootfd, id, 0700) < 0) {
		if (errno == EEXIST)
			return bh_error(err, 0, "container '%s' exists already", id);
		return bh_error(err, errno, "create the state of '%s'", id);
	}
	fd = openat(rootfd, id, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return bh_error(err, errno, "open the state of '%s'", id);
	return fd;
}

const char *bhc_status_name(enum bhc_status s)
{
	static const char *const names[] = {"creating", "created", "running", "stopped"};

	return names[s];
}

/* Field 22 of /proc/<pid>/stat (after the parenthesised name), or 0 if the
 * process is gone or a zombie. */
uint64_t bhc_proc_start_time(pid_t pid)
{
	char path[64], buf[1024], *p;
	unsigned long long start = 0;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	p = strrchr(buf, ')');
	if (!p || p[1] != ' ' || p[2] == 'Z' || p[2] == 'X')
		return 0;
	p += 2;
	for (int field = 3; field < 22 && p; field++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (!p || sscanf(p, "%llu", &start) != 1)
		return 0;
	return start;
}

int bhc_state_write(int dirfd, const struct bhc_state *st, yyjson_val *annotations,
                    struct bh_error *err)
{
	yyjson_mut_doc *doc = yyjson_mut_doc_new(NULL);
	yyjson_mut_val *obj, *priv;
	char *text;
	int r;

	if (!doc)
		return bh_error(err, ENOMEM, "write the state");
	obj = yyjson_mut_obj(doc);
	yyjson_mut_doc_set_root(doc, obj);
	yyjson_mut_obj_add_str(doc, obj, "ociVersion", BHC_OCI_VERSION);
	yyjson_mut_obj_add_str(doc, obj, "id", st->id);
	yyjson_mut_obj_add_int(doc, obj, "pid", st->pid);
	yyjson_mut_obj_add_str(doc, obj, "bundle", st->bundle);
	if (annotations)
		yyjson_mut_obj_add_val(doc, obj, "annotations",
		                       yyjson_val_mut_copy(doc, annotations));
	priv = yyjson_mut_obj_add_obj(doc, obj, "bhc");
	yyjson_mut_obj_add_uint(doc, priv, "startTime", st->start_time);
	yyjson_mut_obj_add_str(doc, priv, "cgroup", st->cgroup);
	yyjson_mut_obj_add_uint(doc, priv, "uidBase", st->uid_base);
	yyjson_mut_obj_add_str(doc, priv, "created", st->created);
	text = yyjson_mut_write(doc, 0, NULL);
	yyjson_mut_doc_free(doc);
	if (!text)
		return bh_error(err, ENOMEM, "write the state");
	r = bh_write_atomic_at(dirfd, "state.json", text, strlen(text), 0600, err);
	free(text);
	return r;
}

static void copy_str(char *dst, size_t n, yyjson_val *v)
{
	snprintf(dst, n, "%s", yyjson_is_str(v) ? yyjson_get_str(v) : "");
}

static void derive_status(int dirfd, struct bhc_state *st)
{
	struct stat sb;

	if (st->pid <= 0 || st->start_time == 0 || bhc_proc_start_time(st->pid) != st->start_time)
		st->status = BHC_STOPPED;
	else if (fstatat(dirfd, "exec.fifo", &sb, AT_SYMLINK_NOFOLLOW) == 0)
		st->status = BHC_CREATED;
	else
		st->status = BHC_RUNNING;
}

int bhc_state_load(const char *root, const char *id, struct bhc_state *st, struct bh_error *err)
{
	char path[4096];
	yyjson_read_err jerr;
	yyjson_val *top, *priv;
	int dirfd;

	memset(st, 0, sizeof(*st));
	if (bhc_id_check(id, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", root, id);
	dirfd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (dirfd < 0) {
		if (errno == ENOENT)
			return bh_error(err, 0, "container '%s' does not exist", id);
		return bh_error(err, errno, "open %s", path);
	}
	snprintf(path, sizeof(path), "%s/%s/state.json", root, id);
	st->annotations_doc = yyjson_read_file(path, 0, NULL, &jerr);
	if (!st->annotations_doc) {
		close(dirfd);
		/* A create still under way has no state file yet. */
		if (errno == ENOENT || jerr.code == YYJSON_READ_ERROR_FILE_OPEN)
			return bh_error(err, 0, "container '%s' is being created", id);
		return bh_error(err, 0, "%s: %s", path, jerr.msg);
	}
	top = yyjson_doc_get_root(st->annotations_doc);
	priv = yyjson_obj_get(top, "bhc");
	snprintf(st->id, sizeof(st->id), "%s", id);
	copy_str(st->bundle, sizeof(st->bundle), yyjson_obj_get(top, "bundle"));
	copy_str(st->cgroup, sizeof(st->cgroup), yyjson_obj_get(priv, "cgroup"));
	copy_str(st->created, sizeof(st->created), yyjson_obj_get(priv, "created"));
	st->pid = (pid_t)yyjson_get_sint(yyjson_obj_get(top, "pid"));
	st->start_time = yyjson_get_uint(yyjson_obj_get(priv, "startTime"));
	st->uid_base = (uint32_t)yyjson_get_uint(yyjson_obj_get(priv, "uidBase"));
	st->annotations = yyjson_obj_get(top, "annotations");
	derive_status(dirfd, st);
	close(dirfd);
	return 0;
}

void bhc_state_free(struct bhc_state *st)
{
	yyjson_doc_free(st->annotations_doc);
	st->annotations_doc = NULL;
	st->annotations = NULL;
}

char *bhc_state_json(const struct bhc_state *st, struct bh_error *err)
{
	yyjson_mut_doc *doc = yyjson_mut_doc_new(NULL);
	yyjson_mut_val *obj;
	char *text;

	if (!doc) {
		bh_error(err, ENOMEM, "state of '%s'", st->id);
		return NULL;
	}
	obj = yyjson_mut_obj(doc);
	yyjson_mut_doc_set_root(doc, obj);
	yyjson_mut_obj_add_str(doc, obj, "ociVersion", BHC_OCI_VERSION);
	yyjson_mut_obj_add_str(doc, obj, "id", st->id);
	yyjson_mut_obj_add_str(doc, obj, "status", bhc_status_name(st->status));
	if (st->status != BHC_STOPPED)
		yyjson_mut_obj_add_int(doc, obj, "pid", st->pid);
	yyjson_mut_obj_add_str(doc, obj, "bundle", st->bundle);
	yyjson_mut_obj_add_str(doc, obj, "created", st->created);
	if (st->annotations)
		yyjson_mut_obj_add_val(doc, obj, "annotations",
		                       yyjson_val_mut_copy(doc, st->annotations));
	text = yyjson_mut_write(doc, YYJSON_WRITE_PRETTY_TWO_SPACES, NULL);
	yyjson_mut_doc_free(doc);
	if (!text)
		bh_error(err, ENOMEM, "state of '%s'", st->id);
	return text;
}

int bhc_state_remove(int rootfd, const char *id, struct bh_error *err)
{
	if (bh_remove_tree_at(rootfd, id) < 0)
		return bh_error(err, errno, "remove the state of '%s'", id);
	return 0;
}

int bhc_state_list(const char *root, char ***ids, size_t *n, struct bh_error *err)
{
	DIR *d = opendir(root);
	struct dirent *e;
	size_t cap = 0;

	*ids = NULL;
	*n = 0;
	if (!d)
		return errno == ENOENT ? 0 : bh_error(err, errno, "open the state folder %s", root);
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.' || e->d_type != DT_DIR)
			continue;
		if (*n == cap) {
			char **nids = realloc(*ids, (cap = cap ? 2 * cap : 16) * sizeof(char *));

			if (!nids)
				break;
			*ids = nids;
		}
		(*ids)[(*n)++] = strdup(e->d_name);
	}
	closedir(d);
	return 0;
}

/* The whole of <id>/state.json below the root folder, NUL-terminated, or
 * NULL with errno set (ENOENT: there is none). */
static char *read_state_at(int rootfd, const char *id, size_t *len)
{
	char path[512], *buf = NULL, *nb;
	size_t cap = 0, n = 0;
	ssize_t r = 1;
	int fd, e;

	snprintf(path, sizeof(path), "%s/state.json", id);
	fd = openat(rootfd, path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	while (r != 0) {
		if (n + 1 >= cap) {
			if (cap >= STATE_MAX) {
				errno = EFBIG;
				break;
			}
			cap = cap ? 2 * cap : 4096;
			if (!(nb = realloc(buf, cap))) {
				errno = ENOMEM;
				break;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n - 1);
		if (r < 0 && errno != EINTR)
			break;
		if (r > 0)
			n += (size_t)r;
	}
	e = errno;
	close(fd);
	if (r != 0) {
		free(buf);
		errno = e;
		return NULL;
	}
	buf[n] = 0;
	*len = n;
	return buf;
}

/* The host id base a state file records (0: the config gave its own
 * mappings). A state that cannot be read in full, or is not ours, may
 * still hold a range: that is an error, never a free slot. ENOENT is a
 * create that died before writing its state, which took no ids. */
static int recorded_base(int rootfd, const char *id, uint64_t *base, struct bh_error *err)
{
	yyjson_val *priv, *b;
	yyjson_read_err jerr;
	yyjson_doc *doc;
	size_t len;
	char *text = read_state_at(rootfd, id, &len);

	*base = 0;
	if (!text) {
		if (errno == ENOENT)
			return 0;
		return bh_error(
		    err, errno,
		    "the state of '%s' cannot be read in full, so the host ids it holds "
		    "are unknown",
		    id);
	}
	doc = yyjson_read_opts(text, len, 0, NULL, &jerr);
	free(text);
	priv = yyjson_obj_get(yyjson_doc_get_root(doc), "bhc");
	b = yyjson_obj_get(priv, "uidBase");
	if (!doc || !yyjson_is_uint(b)) {
		yyjson_doc_free(doc);
		return bh_error(err, 0,
		                "the state of '%s' cannot be read (%s), so the host ids it holds "
		                "are unknown",
		                id, doc ? "no $.bhc.uidBase" : jerr.msg);
	}
	*base = yyjson_get_uint(b);
	yyjson_doc_free(doc);
	return 0;
}

/* The lowest free range of host ids; called with the root folder locked so
 * that two creates never pick the same range. A state that cannot be read
 * in full stops the pick: its range is unknown, so any range could be it. */
int bhc_uid_base_pick(int rootfd, uint32_t *base, struct bh_error *err)
{
	static unsigned char used[BHC_UID_RANGE_SLOTS / 8];
	int fd = fcntl(rootfd, F_DUPFD_CLOEXEC, 3);
	struct dirent *e;
	DIR *d;

	memset(used, 0, sizeof(used));
	if (fd < 0 || !(d = fdopendir(fd))) {
		if (fd >= 0)
			close(fd);
		return bh_error(err, errno, "read the state folder");
	}
	/* The copy shares rootfd's offset, which an earlier pick left at the
	 * end of the folder. */
	rewinddir(d);
	while ((e = readdir(d))) {
		uint64_t b;

		if (e->d_name[0] == '.')
			continue;
		if (recorded_base(rootfd, e->d_name, &b, err) < 0) {
			closedir(d);
			return bh_error_wrap(err, "pick a range of host ids");
		}
		if (b >= BHC_UID_RANGE_BASE &&
		    (b - BHC_UID_RANGE_BASE) / BHC_UID_RANGE_SIZE < BHC_UID_RANGE_SLOTS) {
			uint64_t slot = (b - BHC_UID_RANGE_BASE) / BHC_UID_RANGE_SIZE;

			used[slot / 8] |= (unsigned char)(1u << (slot % 8));
		}
	}
	closedir(d);
	for (uint32_t s = 0; s < BHC_UID_RANGE_SLOTS; s++)
		if (!(used[s / 8] & (1u << (s % 8)))) {
			*base = BHC_UID_RANGE_BASE + s * BHC_UID_RANGE_SIZE;
			return 0;
		}
	return bh_error(err, 0, "no free range of host ids left for a new container");
}

void bhc_now_rfc3339(char *buf, size_t n)
{
	struct timespec ts;
	struct tm tm;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	snprintf(buf, n, "%04d-%02d-%02dT%02d:%02d:%02d.%09ldZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec);
}
