#include <bulkhead/tar.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#define BLOCK 512

/* POSIX ustar header. */
struct ustar {
	char name[100], mode[8], uid[8], gid[8], size[12], mtime[12], chksum[8], typeflag;
	char linkname[100], magic[6], version[2], uname[32], gname[32], devmajor[8], devminor[8];
	char prefix[155], pad[12];
};

_Static_assert(sizeof(struct ustar) == BLOCK, "ustar header is one block");

void tar_reader_init(struct tar_reader *r, FILE *f, const char *name)
{
	memset(r, 0, sizeof(*r));
	r->f = f;
	r->name = name;
}

bool tar_clean_path(const char *in, char *out, size_t size)
{
	size_t n = 0;
	const char *p = in;

	if (*p == '/')
		return false;
	while (*p) {
		size_t len = strcspn(p, "/");

		if (len == 2 && p[0] == '.' && p[1] == '.')
			return false;
		if (len > 0 && !(len == 1 && p[0] == '.')) {
			if (n + len + 2 > size)
				return false;
			if (n)
				out[n++] = '/';
			memcpy(out + n, p, len);
			n += len;
		}
		p += len;
		while (*p == '/')
			p++;
	}
	out[n] = 0;
	return n > 0;
}

/* Octal field, NUL/space terminated; GNU base-256 for large sizes. */
static int parse_num(const char *f, size_t len, uint64_t *out)
{
	uint64_t v = 0;
	size_t i = 0;

	if ((unsigned char)f[0] & 0x80) {
		for (i = 1; i < len; i++) {
			if (v >> 56)
				return -1;
			v = v << 8 | (unsigned char)f[i];
		}
		*out = v;
		return 0;
	}
	while (i < len && f[i] == ' ')
		i++;
	for (; i < len && f[i] >= '0' && f[i] <= '7'; i++) {
		if (v >> 60)
			return -1;
		v = v * 8 + (uint64_t)(f[i] - '0');
	}
	for (; i < len; i++)
		if (f[i] != ' ' && f[i] != 0)
			return -1;
	*out = v;
	return 0;
}

static bool checksum_ok(const unsigned char *b)
{
	uint64_t want;
	unsigned sum = 0;

	if (parse_num((const char *)b + 148, 8, &want) < 0)
		return false;
	for (int i = 0; i < BLOCK; i++)
		sum += (i >= 148 && i < 156) ? ' ' : b[i];
	return sum == want;
}

static int read_exact(struct tar_reader *r, void *buf, size_t n, struct bh_error *err)
{
	if (n && fread(buf, 1, n, r->f) != n)
		return bh_error(err, ferror(r->f) ? errno : 0, "%s: truncated at byte %llu", r->name,
				(unsigned long long)r->pos);
	r->pos += n;
	return 0;
}

static int skip(struct tar_reader *r, uint64_t n, struct bh_error *err)
{
	char buf[4096];

	while (n) {
		size_t k = n > sizeof(buf) ? sizeof(buf) : n;

		if (read_exact(r, buf, k, err) < 0)
			return -1;
		n -= k;
	}
	return 0;
}

/* Reads a pax extended header's records into path/link/size overrides. */
static int read_pax(struct tar_reader *r, uint64_t size, char *path, char *link, uint64_t *psize,
		    bool *have_size, struct bh_error *err)
{
	char *buf, *p, *end;

	if (size > 65536)
		return bh_error(err, 0, "%s: pax header of %llu bytes at byte %llu is too large", r->name,
				(unsigned long long)size, (unsigned long long)r->pos);
	buf = malloc(size + 1);
	if (!buf)
		return bh_error(err, ENOMEM, "%s", r->name);
	if (read_exact(r, buf, size, err) < 0 || skip(r, (BLOCK - size % BLOCK) % BLOCK, err) < 0) {
		free(buf);
		return -1;
	}
	buf[size] = 0;
	for (p = buf, end = buf + size; p < end;) {
		char *sp, *eq, *rec_end;
		long len = strtol(p, &sp, 10);

		if (sp == p || *sp != ' ' || len <= 0 || len > end - p || p[len - 1] != '\n') {
			free(buf);
			return bh_error(err, 0, "%s: malformed pax record at byte %llu", r->name,
					(unsigned long long)r->pos);
		}
		rec_end = p + len - 1;
		*rec_end = 0;
		eq = strchr(sp + 1, '=');
		if (eq) {
			*eq = 0;
			if (!strcmp(sp + 1, "path"))
				snprintf(path, TAR_PATH_MAX, "%s", eq + 1);
			else if (!strcmp(sp + 1, "linkpath"))
				snprintf(link, TAR_PATH_MAX, "%s", eq + 1);
			else if (!strcmp(sp + 1, "size")) {
				char *e2;

				*psize = strtoull(eq + 1, &e2, 10);
				*have_size = *e2 == 0;
			}
		}
		p += len;
	}
	free(buf);
	return 0;
}

static int read_long_name(struct tar_reader *r, uint64_t size, char *out, struct bh_error *err)
{
	if (size >= TAR_PATH_MAX)
		return bh_error(err, 0, "%s: long name of %llu bytes at byte %llu", r->name,
				(unsigned long long)size, (unsigned long long)r->pos);
	if (read_exact(r, out, size, err) < 0 || skip(r, (BLOCK - size % BLOCK) % BLOCK, err) < 0)
		return -1;
	out[size] = 0;
	return 0;
}

int tar_next(struct tar_reader *r, struct tar_entry *e, struct bh_error *err)
{
	char pax_path[TAR_PATH_MAX] = "", pax_link[TAR_PATH_MAX] = "";
	uint64_t pax_size = 0;
	bool have_pax_size = false;

	if (skip(r, r->left + r->pad, err) < 0)
		return -1;
	r->left = r->pad = 0;
	for (;;) {
		unsigned char b[BLOCK];
		struct ustar *h = (struct ustar *)b;
		char raw[TAR_PATH_MAX];
		uint64_t mode, size, mtime;
		bool zero = true;

		if (read_exact(r, b, BLOCK, err) < 0)
			return -1;
		for (int i = 0; i < BLOCK && zero; i++)
			zero = b[i] == 0;
		if (zero)
			return 0; /* end of archive */
		if (!checksum_ok(b))
			return bh_error(err, 0, "%s: bad tar header checksum at byte %llu", r->name,
					(unsigned long long)(r->pos - BLOCK));
		if (parse_num(h->size, 12, &size) < 0 || parse_num(h->mode, 8, &mode) < 0 ||
		    parse_num(h->mtime, 12, &mtime) < 0)
			return bh_error(err, 0, "%s: bad number in the tar header at byte %llu", r->name,
					(unsigned long long)(r->pos - BLOCK));
		if (h->typeflag == 'x') {
			if (read_pax(r, size, pax_path, pax_link, &pax_size, &have_pax_size, err) < 0)
				return -1;
			continue;
		}
		if (h->typeflag == 'g') { /* global pax header: nothing we use */
			if (skip(r, size + (BLOCK - size % BLOCK) % BLOCK, err) < 0)
				return -1;
			continue;
		}
		if (h->typeflag == 'L' || h->typeflag == 'K') {
			if (read_long_name(r, size, h->typeflag == 'L' ? pax_path : pax_link, err) < 0)
				return -1;
			continue;
		}
		if (have_pax_size)
			size = pax_size;
		if (pax_path[0]) {
			snprintf(raw, sizeof(raw), "%s", pax_path);
		} else if (!memcmp(h->magic, "ustar", 5) && h->prefix[0]) {
			snprintf(raw, sizeof(raw), "%.155s/%.100s", h->prefix, h->name);
		} else {
			snprintf(raw, sizeof(raw), "%.100s", h->name);
		}
		memset(e, 0, sizeof(*e));
		if (!tar_clean_path(raw, e->path, sizeof(e->path)) &&
		    !(h->typeflag == '5' && (!strcmp(raw, "./") || !strcmp(raw, "."))))
			return bh_error(err, 0, "%s: entry at byte %llu has an unsafe or empty path '%s'",
					r->name, (unsigned long long)(r->pos - BLOCK), raw);
		if (pax_link[0])
			snprintf(e->link, sizeof(e->link), "%s", pax_link);
		else
			snprintf(e->link, sizeof(e->link), "%.100s", h->linkname);
		e->mode = (uint32_t)(mode & 07777);
		e->mtime = (int64_t)mtime;
		switch (h->typeflag) {
		case '0':
		case '\0':
		case '7':
			e->type = TAR_FILE;
			e->size = size;
			break;
		case '5':
			e->type = TAR_DIR;
			break;
		case '2':
			e->type = TAR_SYMLINK;
			if (!e->link[0])
				return bh_error(err, 0, "%s: symlink %s has no target", r->name, e->path);
			break;
		case '1': {
			char clean[TAR_PATH_MAX];

			e->type = TAR_HARDLINK;
			if (!tar_clean_path(e->link, clean, sizeof(clean)))
				return bh_error(err, 0, "%s: hard link %s points outside the archive ('%s')",
						r->name, e->path, e->link);
			memcpy(e->link, clean, sizeof(clean));
			break;
		}
		default:
			e->type = TAR_OTHER;
			break;
		}
		if (r->max_entry_size && e->size > r->max_entry_size)
			return bh_error(err, 0, "%s: %s is %llu bytes, more than the limit of %llu", r->name,
					e->path, (unsigned long long)e->size,
					(unsigned long long)r->max_entry_size);
		/* Devices, FIFOs and links carry no data, but skip what they claim. */
		r->left = e->type == TAR_FILE ? size : (h->typeflag == '1' || h->typeflag == '2' ||
							h->typeflag == '5' ? 0 : size);
		r->pad = (BLOCK - r->left % BLOCK) % BLOCK;
		return 1;
	}
}

ssize_t tar_read(struct tar_reader *r, void *buf, size_t n, struct bh_error *err)
{
	if (n > r->left)
		n = (size_t)r->left;
	if (read_exact(r, buf, n, err) < 0)
		return -1;
	r->left -= n;
	return (ssize_t)n;
}

/* --- Writer ------------------------------------------------------------- */

void tar_writer_init(struct tar_writer *w, FILE *f, const char *name, int64_t mtime)
{
	w->f = f;
	w->name = name;
	w->mtime = mtime;
}

static int put(struct tar_writer *w, const void *buf, size_t n, struct bh_error *err)
{
	if (n && fwrite(buf, 1, n, w->f) != n)
		return bh_error(err, errno, "write %s", w->name);
	return 0;
}

/* Zero-padded octal in len-1 digits and a NUL; callers keep v in range. */
static void set_num(char *field, size_t len, uint64_t v)
{
	field[len - 1] = 0;
	for (size_t i = len - 1; i-- > 0; v >>= 3)
		field[i] = (char)('0' + (v & 7));
}

static int header(struct tar_writer *w, const char *name, char type, uint32_t mode,
		  uint64_t size, const char *link, struct bh_error *err)
{
	unsigned char b[BLOCK];
	struct ustar *h = (struct ustar *)b;
	unsigned sum = 0;

	memset(b, 0, sizeof(b));
	snprintf(h->name, sizeof(h->name), "%.99s", name);
	set_num(h->mode, sizeof(h->mode), mode & 07777);
	set_num(h->uid, sizeof(h->uid), 0);
	set_num(h->gid, sizeof(h->gid), 0);
	set_num(h->size, sizeof(h->size), size);
	set_num(h->mtime, sizeof(h->mtime), (uint64_t)(w->mtime < 0 ? 0 : w->mtime));
	h->typeflag = type;
	if (link)
		snprintf(h->linkname, sizeof(h->linkname), "%.99s", link);
	memcpy(h->magic, "ustar", 6);
	memcpy(h->version, "00", 2);
	memset(h->chksum, ' ', sizeof(h->chksum));
	for (int i = 0; i < BLOCK; i++)
		sum += b[i];
	snprintf(h->chksum, sizeof(h->chksum), "%06o", sum);
	h->chksum[7] = ' ';
	return put(w, b, BLOCK, err);
}

/* A pax record "<len> key=value\n", where len counts itself. */
static size_t pax_record(char *out, size_t size, const char *key, const char *value)
{
	size_t body = strlen(key) + strlen(value) + 3, len = body + 1;

	while (snprintf(NULL, 0, "%zu", len) + body != len)
		len++;
	return (size_t)snprintf(out, size, "%zu %s=%s\n", len, key, value);
}

int tar_write_header(struct tar_writer *w, const char *path, enum tar_type type, uint32_t mode,
		     uint64_t size, const char *link, struct bh_error *err)
{
	static const char types[] = {[TAR_FILE] = '0', [TAR_DIR] = '5', [TAR_SYMLINK] = '2',
				     [TAR_HARDLINK] = '1'};
	char name[TAR_PATH_MAX + 2];

	if (type == TAR_OTHER)
		return bh_error(err, 0, "%s: %s: only files, folders and links can be written", w->name,
				path);
	if (size >= (1ULL << 33))
		return bh_error(err, 0, "%s: %s: files of 8 GiB or more are not supported", w->name,
				path);
	snprintf(name, sizeof(name), "%s%s", path, type == TAR_DIR ? "/" : "");
	if (strlen(name) > 99 || (link && strlen(link) > 99)) {
		char pax[2 * TAR_PATH_MAX + 64];
		size_t n = 0;

		if (strlen(name) > 99)
			n += pax_record(pax + n, sizeof(pax) - n, "path", name);
		if (link && strlen(link) > 99)
			n += pax_record(pax + n, sizeof(pax) - n, "linkpath", link);
		if (header(w, "././@PaxHeader", 'x', 0644, n, NULL, err) < 0 || put(w, pax, n, err) < 0 ||
		    tar_end_entry(w, n, err) < 0)
			return -1;
	}
	return header(w, name, types[type], mode, type == TAR_FILE ? size : 0, link, err);
}

int tar_write_data(struct tar_writer *w, const void *buf, size_t n, struct bh_error *err)
{
	return put(w, buf, n, err);
}

int tar_end_entry(struct tar_writer *w, uint64_t size, struct bh_error *err)
{
	static const char zeros[BLOCK];

	return put(w, zeros, (BLOCK - size % BLOCK) % BLOCK, err);
}

int tar_write_file(struct tar_writer *w, const char *path, uint32_t mode, const void *data,
		   size_t size, struct bh_error *err)
{
	if (tar_write_header(w, path, TAR_FILE, mode, size, NULL, err) < 0 ||
	    put(w, data, size, err) < 0)
		return -1;
	return tar_end_entry(w, size, err);
}

int tar_finish(struct tar_writer *w, struct bh_error *err)
{
	static const char zeros[2 * BLOCK];

	if (put(w, zeros, sizeof(zeros), err) < 0)
		return -1;
	if (fflush(w->f) != 0)
		return bh_error(err, errno, "write %s", w->name);
	return 0;
}
