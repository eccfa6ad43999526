/* Service files: one `key = value` per line, `#` starts a comment. The
 * format is documented in docs/services.md. */
#include "init.h"

#include <bulkhead/caps.h>

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <stddef.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#define SERVICE_FILE_MAX 8192

/* A capability by its name, with or without "CAP_": CAP_NET_ADMIN, net_admin. */
static int capability_from_name(const char *name)
{
	char full[64];
	int c = bh_cap_from_name(name);

	if (c < 0 && strncasecmp(name, "CAP_", 4) &&
	    snprintf(full, sizeof(full), "CAP_%s", name) < (int)sizeof(full))
		c = bh_cap_from_name(full);
	return c;
}

void service_config_free(struct service_config *cfg)
{
	free(cfg->storage);
	cfg->storage = NULL;
}

static int parse_int(const char *v, int min, int max, int *out)
{
	char *end;
	long n;

	errno = 0;
	n = strtol(v, &end, 10);
	if (errno || end == v || *end || n < min || n > max)
		return -1;
	*out = (int)n;
	return 0;
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcmp(v, "yes") || !strcmp(v, "true") || !strcmp(v, "1"))
		*out = true;
	else if (!strcmp(v, "no") || !strcmp(v, "false") || !strcmp(v, "0"))
		*out = false;
	else
		return -1;
	return 0;
}

/* Splits an exec line into words in place; "double quotes" group words. */
static int split_argv(char *line, char **argv, int max)
{
	int n = 0;
	char *p = line;

	while (*p) {
		char *w, *o;

		while (isspace((unsigned char)*p))
			p++;
		if (!*p)
			break;
		if (n == max)
			return -1;
		w = o = p;
		while (*p && !isspace((unsigned char)*p)) {
			if (*p == '"') {
				p++;
				while (*p && *p != '"')
					*o++ = *p++;
				if (*p != '"')
					return -2;
				p++;
			} else {
				*o++ = *p++;
			}
		}
		if (*p)
			p++;
		*o = 0;
		argv[n++] = w;
	}
	argv[n] = NULL;
	return n;
}

static int parse_id(const char *v, bool group, unsigned *out)
{
	int n;

	if (parse_int(v, 0, INT_MAX, &n) == 0) {
		*out = (unsigned)n;
		return 0;
	}
	if (group) {
		struct group *g = getgrnam(v);

		if (!g)
			return -1;
		*out = g->gr_gid;
	} else {
		struct passwd *p = getpwnam(v);

		if (!p)
			return -1;
		*out = p->pw_uid;
	}
	return 0;
}

static bool valid_name(const char *s)
{
	if (!*s || strlen(s) >= SERVICE_NAME_MAX)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_' && *s != '.')
			return false;
	return true;
}

static void set_defaults(struct service_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->type = SERVICE_SIMPLE;
	cfg->restart = RESTART_ON_FAILURE;
	cfg->restart_delay_ms = 500;
	cfg->restart_max_delay_ms = 30000;
	cfg->max_restarts = 5;
	cfg->stop_timeout_ms = 5000;
	cfg->no_new_privs = true;
}

/* --- The fields ----------------------------------------------------------
 *
 * Each parses its value into cfg; a value it cannot take gets `why`, what
 * is wrong with it, and -1. A field's number, if it has one, is at
 * `offset` in cfg, from min to max. */
struct field {
	const char *name;
	int (*parse)(const struct field *f, char *val, struct service_config *cfg, char *why,
		     size_t size);
	size_t offset;
	int min, max;
	const char *const *words; /* parse_choice: index n is enum value n */
};

static int parse_exec(const struct field *f, char *val, struct service_config *cfg, char *why,
		      size_t size)
{
	int n = split_argv(val, cfg->argv, SERVICE_ARGV_MAX);

	if (n <= 0) {
		snprintf(why, size, "%s", n == 0    ? "is empty"
					  : n == -1 ? "has more than 32 words"
						    : "has an unterminated quote");
		return -1;
	}
	if (cfg->argv[0][0] != '/') {
		snprintf(why, size, "'%s' must be an absolute path", cfg->argv[0]);
		return -1;
	}
	return 0;
}

/* One of f->words; its index is the enum value stored at f->offset. */
static int parse_choice(const struct field *f, char *val, struct service_config *cfg, char *why,
			size_t size)
{
	size_t n = 0, len;

	for (; f->words[n]; n++)
		if (!strcmp(val, f->words[n])) {
			*(int *)((char *)cfg + f->offset) = (int)n;
			return 0;
		}
	/* "'x' is not simple or oneshot", "... always, on-failure or never" */
	len = (size_t)snprintf(why, size, "'%s' is not ", val);
	for (size_t k = 0; k < n && len < size; k++)
		len += (size_t)snprintf(why + len, size - len, "%s%s", f->words[k],
					k + 2 < n ? ", " : k + 2 == n ? " or " : "");
	return -1;
}

static int parse_after(const struct field *f, char *val, struct service_config *cfg, char *why,
		       size_t size)
{
	char *w, *save = NULL;

	for (w = strtok_r(val, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save)) {
		if (cfg->n_after == SERVICE_DEPS_MAX || !valid_name(w))
			return snprintf(why, size, "'%s': at most %d valid service names", w,
					SERVICE_DEPS_MAX), -1;
		strcpy(cfg->after[cfg->n_after++], w);
	}
	return 0;
}

static int parse_ms(const struct field *f, char *val, struct service_config *cfg, char *why,
		    size_t size)
{
	if (parse_int(val, f->min, f->max, (int *)((char *)cfg + f->offset)))
		return snprintf(why, size, "'%s' is not a number of ms from %d to %d", val, f->min,
				f->max), -1;
	return 0;
}

static int parse_count(const struct field *f, char *val, struct service_config *cfg, char *why,
		       size_t size)
{
	if (parse_int(val, f->min, f->max, (int *)((char *)cfg + f->offset)))
		return snprintf(why, size, "'%s' is not a number from 0 (unlimited) up", val), -1;
	return 0;
}

_Static_assert(sizeof(uid_t) == sizeof(unsigned) && sizeof(gid_t) == sizeof(unsigned),
	       "parse_owner stores ids as unsigned");

/* user or group: a number or a name from /etc/passwd or /etc/group. */
static int parse_owner(const struct field *f, char *val, struct service_config *cfg, char *why,
		       size_t size)
{
	bool group = !strcmp(f->name, "group");
	unsigned id;

	if (parse_id(val, group, &id))
		return snprintf(why, size, "'%s' is neither a %s nor a %s in %s", val,
				group ? "gid" : "uid", f->name,
				group ? "/etc/group" : "/etc/passwd"), -1;
	*(unsigned *)((char *)cfg + f->offset) = id;
	return 0;
}

static int parse_capabilities(const struct field *f, char *val, struct service_config *cfg,
			      char *why, size_t size)
{
	char *w, *save = NULL;

	for (w = strtok_r(val, " \t,", &save); w; w = strtok_r(NULL, " \t,", &save)) {
		int c = capability_from_name(w);

		if (c < 0)
			return snprintf(why, size, "'%s' is not a capability name", w), -1;
		cfg->caps |= 1ULL << c;
	}
	return 0;
}

static int parse_yes_no(const struct field *f, char *val, struct service_config *cfg, char *why,
			size_t size)
{
	if (parse_bool(val, (bool *)((char *)cfg + f->offset)))
		return snprintf(why, size, "'%s' is not yes or no", val), -1;
	return 0;
}

#define AT(member) offsetof(struct service_config, member)

static const char *const types[] = {"simple", "oneshot", NULL};
static const char *const restarts[] = {"always", "on-failure", "never", NULL};

static const struct field fields[] = {
	{.name = "exec", .parse = parse_exec},
	{.name = "type", .parse = parse_choice, .offset = AT(type), .words = types},
	{.name = "restart", .parse = parse_choice, .offset = AT(restart), .words = restarts},
	{.name = "after", .parse = parse_after},
	{.name = "restart_delay_ms", .parse = parse_ms, .offset = AT(restart_delay_ms), .min = 1,
	 .max = 3600000},
	{.name = "restart_max_delay_ms", .parse = parse_ms, .offset = AT(restart_max_delay_ms),
	 .min = 1, .max = 3600000},
	{.name = "max_restarts", .parse = parse_count, .offset = AT(max_restarts), .min = 0,
	 .max = 1000000},
	{.name = "stop_timeout_ms", .parse = parse_ms, .offset = AT(stop_timeout_ms), .min = 1,
	 .max = 600000},
	{.name = "user", .parse = parse_owner, .offset = AT(uid)},
	{.name = "group", .parse = parse_owner, .offset = AT(gid)},
	{.name = "capabilities", .parse = parse_capabilities},
	{.name = "critical", .parse = parse_yes_no, .offset = AT(critical)},
	{.name = "no_new_privs", .parse = parse_yes_no, .offset = AT(no_new_privs)},
};

static const struct field *field_named(const char *name)
{
	for (size_t i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (!strcmp(fields[i].name, name))
			return &fields[i];
	return NULL;
}

int service_parse_text(const char *path, const char *text, struct service_config *cfg,
		       struct bh_error *err)
{
	const char *base = strrchr(path, '/');
	char *line, *save = NULL, *buf;
	int lineno = 0;
	size_t len;

	set_defaults(cfg);
	base = base ? base + 1 : path;
	len = strlen(base);
	if (len <= 8 || strcmp(base + len - 8, ".service") != 0 || len - 8 >= SERVICE_NAME_MAX)
		return bh_error(err, 0, "%s: a service file's name must be <name>.service", path);
	memcpy(cfg->name, base, len - 8);
	cfg->name[len - 8] = 0;
	if (!valid_name(cfg->name))
		return bh_error(err, 0, "%s: service name '%s' may only hold letters, digits, - _ .",
				path, cfg->name);
	snprintf(cfg->file, sizeof(cfg->file), "%s", path);

	buf = strdup(text);
	if (!buf)
		return bh_error(err, errno, "%s: read", path);
	cfg->storage = buf;
	/* strtok_r would merge empty lines and break line numbers. */
	for (line = buf; line; line = save) {
		const struct field *f;
		char *key, *val, why[192];
		int got;

		save = strchr(line, '\n');
		if (save)
			*save++ = 0;
		lineno++;
		got = conf_line(line, &key, &val);
		if (got == 0)
			continue;
		/* The messages quote the buffer: format them before freeing it. */
		if (got < 0) {
			bh_error(err, 0, "%s:%d: expected 'key = value', got '%s'", path, lineno, key);
			goto fail;
		}
		f = field_named(key);
		if (!f) {
			bh_error(err, 0, "%s:%d: field '%s': unknown field", path, lineno, key);
			goto fail;
		}
		if (f->parse(f, val, cfg, why, sizeof(why)) < 0) {
			bh_error(err, 0, "%s:%d: field '%s': %s", path, lineno, key, why);
			goto fail;
		}
	}
	if (!cfg->argv[0]) {
		service_config_free(cfg);
		return bh_error(err, 0, "%s: field 'exec' is missing", path);
	}
	return 0;
fail:
	service_config_free(cfg);
	return -1;
}

int service_parse(const char *path, struct service_config *cfg, struct bh_error *err)
{
	char text[SERVICE_FILE_MAX + 1];
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return bh_error(err, errno, "open %s", path);
	n = read(fd, text, sizeof(text));
	close(fd);
	if (n < 0)
		return bh_error(err, errno, "read %s", path);
	if (n > SERVICE_FILE_MAX)
		return bh_error(err, 0, "%s: larger than %d bytes", path, SERVICE_FILE_MAX);
	text[n] = 0;
	if (memchr(text, 0, n))
		return bh_error(err, 0, "%s: holds a NUL byte, not text", path);
	return service_parse_text(path, text, cfg, err);
}
