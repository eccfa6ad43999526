/* A registry client's TLS sessions in a file (registry_tls_sessions.h).
 *
 * libcurl keeps sessions in the easy handle's multi or in a share; only a
 * share's cache outlives curl_easy_reset() and can be exported, so the
 * client gets a share of its own. The file, all text:
 *
 *	bulkhead-tls-sessions/1
 *	registry <host[:port]>
 *	ca sha256:<hex of the CA bundle>
 *	verified <when the full handshake they descend from was made: Unix seconds>
 *	session <base64 of curl's session key> <base64 of curl's session data>
 *	...
 *	end <number of sessions>
 *
 * The last line catches a file cut short; libcurl checks the session data
 * it is handed itself (its own version, Mbed TLS's version and layout). */
#include <bulkhead/registry_tls_sessions.h>

#include "registry_internal.h"

#include <bulkhead/fs.h>
#include <bulkhead/hash.h>

#include <errno.h>
#include <fcntl.h>
#include <mbedtls/base64.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define FILE_MAX     (256 * 1024)
#define SESSIONS_MAX 8
#define KEY_MAX      4096
#define DATA_MAX     (16 * 1024) /* libcurl's own cap on a ticket */

struct registry_tls_sessions {
	struct registry *r;
	CURLSH *share;
	char prefix[REGISTRY_HOST_MAX + 16]; /* "host:port:", how libcurl's keys begin */
	int64_t verified; /* of the imported sessions' full handshake; 0: none imported */
};

struct text {
	char *buf;
	size_t len, cap;
	int failed;
	int count;
};

/* libcurl's session key starts with the peer's host name and port. */
static void key_prefix(const char *host, char *out, size_t cap)
{
	const char *end, *port = NULL;
	size_t n;

	if (host[0] == '[') {
		end = strchr(host, ']');
		host++;
		n = end ? (size_t)(end - host) : strlen(host);
		if (end && end[1] == ':')
			port = end + 2;
	} else {
		end = strrchr(host, ':');
		n = end ? (size_t)(end - host) : strlen(host);
		if (end)
			port = end + 1;
	}
	snprintf(out, cap, "%.*s:%s:", (int)n, host, port ? port : "443");
}

int registry_tls_sessions_attach(struct registry *r, struct registry_tls_sessions **out,
                                 struct bh_error *err)
{
	struct registry_tls_sessions *s = calloc(1, sizeof(*s));

	*out = NULL;
	if (!s)
		return bh_error(err, ENOMEM, "registry %s: TLS session cache", r->host);
	s->r = r;
	s->share = curl_share_init();
	if (!s->share ||
	    curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) !=
	        CURLSHE_OK ||
	    curl_easy_setopt(r->curl, CURLOPT_SHARE, s->share) != CURLE_OK) {
		if (s->share)
			curl_share_cleanup(s->share);
		free(s);
		return bh_error(err, 0, "registry %s: set up a TLS session cache", r->host);
	}
	key_prefix(r->host, s->prefix, sizeof(s->prefix));
	*out = s;
	return 0;
}

void registry_tls_sessions_detach(struct registry_tls_sessions *s)
{
	if (!s)
		return;
	curl_easy_setopt(s->r->curl, CURLOPT_SHARE, NULL);
	curl_share_cleanup(s->share);
	free(s);
}

/* What the file is bound to: the registry and the CA bundle's digest, so
 * a session is never offered to another registry, nor kept past a change
 * of the CA the server's certificate was verified with. */
static int binding(const struct registry *r, char *out, size_t cap, struct bh_error *err)
{
	char hex[65];

	if (sha256_path(r->ca_file, hex, NULL, err) < 0)
		return -1;
	snprintf(out, cap, "registry %s\nca sha256:%s\n", r->host, hex);
	return 0;
}

/* --- Loading ------------------------------------------------------------- */

/* The next line of text (NUL-terminated in place), or NULL at the end. */
static char *next_line(char **p, char *end)
{
	char *line = *p, *nl;

	if (line >= end)
		return NULL;
	nl = memchr(line, '\n', (size_t)(end - line));
	if (!nl)
		return NULL; /* a last line without its newline: cut short */
	*nl = 0;
	*p = nl + 1;
	return line;
}

static int b64_decode(const char *in, size_t in_len, unsigned char *out, size_t cap,
                      size_t *out_len)
{
	return in_len && mbedtls_base64_decode(out, cap, out_len, (const unsigned char *)in,
	                                       in_len) == 0
	           ? 0
	           : -1;
}

/* One "session KEY DATA" line into the cache. */
static int import_line(struct registry_tls_sessions *s, char *line, unsigned char *key,
                       unsigned char *data, const char *path, int n, struct bh_error *err)
{
	char *sp = strchr(line, ' ');
	size_t key_len, data_len;
	CURLcode rc;

	if (!sp || b64_decode(line, (size_t)(sp - line), key, KEY_MAX, &key_len) < 0 ||
	    b64_decode(sp + 1, strlen(sp + 1), data, DATA_MAX, &data_len) < 0)
		return bh_error(err, 0, "%s: session %d: not two base64 fields", path, n);
	key[key_len] = 0;
	if (memchr(key, 0, key_len) || strncasecmp((char *)key, s->prefix, strlen(s->prefix)))
		return bh_error(err, 0, "%s: session %d is not for %s", path, n, s->r->host);
	rc = curl_easy_ssls_import(s->r->curl, (char *)key, NULL, 0, data, data_len);
	if (rc != CURLE_OK)
		return bh_error(err, 0, "%s: session %d: libcurl refuses it (%s)", path, n,
		                curl_easy_strerror(rc));
	return 0;
}

/* "verified <decimal Unix seconds>". */
static int parse_verified(const char *line, int64_t *out)
{
	const char *d = line ? line + 9 : NULL;
	size_t n;

	if (!line || strncmp(line, "verified ", 9))
		return -1;
	n = strspn(d, "0123456789");
	if (n == 0 || n > 18 || d[n] || (n > 1 && d[0] == '0'))
		return -1;
	*out = strtoll(d, NULL, 10);
	return 0;
}

static int parse(struct registry_tls_sessions *s, char *text, size_t len, const char *path,
                 struct bh_error *err)
{
	char want[REGISTRY_HOST_MAX + 96], *p = text, *end = text + len, *line;
	unsigned char *key = malloc(KEY_MAX + 1), *data = malloc(DATA_MAX);
	size_t want_len;
	int n = 0, rc = -1;
	int64_t verified, now;
	char tail[32];

	if (!key || !data) {
		bh_error(err, ENOMEM, "%s", path);
		goto out;
	}
	if (binding(s->r, want, sizeof(want), err) < 0)
		goto out;
	want_len = strlen(want);
	line = memchr(text, 0, len) ? NULL : next_line(&p, end); /* text, no NUL in it */
	if (!line || strcmp(line, REGISTRY_TLS_SESSIONS_FORMAT)) {
		bh_error(err, 0, "%s: not a %s file", path, REGISTRY_TLS_SESSIONS_FORMAT);
		goto out;
	}
	if ((size_t)(end - p) < want_len || memcmp(p, want, want_len)) {
		bh_error(err, 0, "%s: saved for another registry or CA bundle than %s with %s",
		         path, s->r->host, s->r->ca_file);
		goto out;
	}
	p += want_len;
	if (parse_verified(next_line(&p, end), &verified) < 0) {
		bh_error(err, 0, "%s: no valid \"verified\" line", path);
		goto out;
	}
	/* Past the limit (or from the future: a clock set back), the sessions
	 * are not offered, without a word: this poll verifies the
	 * certificate again and starts a new chain. */
	now = time(NULL);
	if (verified > now || now - verified > REGISTRY_TLS_SESSIONS_MAX_AGE_S) {
		rc = 0;
		goto out;
	}
	while ((line = next_line(&p, end)) && !strncmp(line, "session ", 8)) {
		if (++n > SESSIONS_MAX) {
			bh_error(err, 0, "%s: more than %d sessions", path, SESSIONS_MAX);
			goto out;
		}
		if (import_line(s, line + 8, key, data, path, n, err) < 0)
			goto out;
	}
	snprintf(tail, sizeof(tail), "end %d", n);
	if (!line || strcmp(line, tail) || p != end) {
		bh_error(err, 0, "%s: cut short or malformed after %d sessions", path, n);
		goto out;
	}
	if (n)
		s->verified = verified;
	rc = n;
out:
	if (key)
		memset(key, 0, KEY_MAX + 1);
	if (data)
		memset(data, 0, DATA_MAX);
	free(key);
	free(data);
	return rc;
}

/* Sessions imported before a later line turned out bad stay out of use:
 * the cache is emptied by replacing the share. */
static void forget_all(struct registry_tls_sessions *s)
{
	CURLSH *fresh = curl_share_init();

	if (!fresh ||
	    curl_share_setopt(fresh, CURLSHOPT_SHARE, CURL_LOCK_DATA_SSL_SESSION) != CURLSHE_OK) {
		if (fresh)
			curl_share_cleanup(fresh);
		/* No cache at all then: never one that holds part of a bad file. */
		curl_easy_setopt(s->r->curl, CURLOPT_SHARE, NULL);
		return;
	}
	curl_easy_setopt(s->r->curl, CURLOPT_SHARE, fresh);
	curl_share_cleanup(s->share);
	s->share = fresh;
}

int registry_tls_sessions_load(struct registry_tls_sessions *s, const char *path,
                               struct bh_error *err)
{
	char *text;
	ssize_t got;
	size_t len = 0;
	int fd, rc;

	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0) {
		if (errno == ENOENT)
			return 0;
		return bh_error(err, errno, "open %s", path);
	}
	text = malloc(FILE_MAX + 1);
	if (!text) {
		close(fd);
		return bh_error(err, ENOMEM, "read %s", path);
	}
	while (len <= FILE_MAX && (got = read(fd, text + len, FILE_MAX + 1 - len)) != 0) {
		if (got < 0) {
			if (errno == EINTR)
				continue;
			rc = bh_error(err, errno, "read %s", path);
			close(fd);
			free(text);
			return rc;
		}
		len += (size_t)got;
	}
	close(fd);
	if (len > FILE_MAX)
		rc = bh_error(err, 0, "%s: larger than %d bytes", path, FILE_MAX);
	else
		rc = parse(s, text, len, path, err);
	if (rc < 0)
		forget_all(s);
	memset(text, 0, len);
	free(text);
	return rc;
}

/* --- Saving -------------------------------------------------------------- */

static void put(struct text *t, const void *data, size_t len)
{
	if (t->failed)
		return;
	if (t->len + len > t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 4096;
		char *b;

		while (cap < t->len + len)
			cap *= 2;
		if (cap > FILE_MAX || !(b = malloc(cap))) {
			t->failed = 1;
			return;
		}
		/* A secret: no copy of it is left behind in freed memory. */
		if (t->buf) {
			memcpy(b, t->buf, t->len);
			memset(t->buf, 0, t->cap);
			free(t->buf);
		}
		t->buf = b;
		t->cap = cap;
	}
	memcpy(t->buf + t->len, data, len);
	t->len += len;
}

static void put_b64(struct text *t, const unsigned char *data, size_t len)
{
	size_t need = 0;
	unsigned char *b;

	mbedtls_base64_encode(NULL, 0, &need, data, len);
	b = malloc(need);
	if (!b || mbedtls_base64_encode(b, need, &need, data, len) != 0) {
		t->failed = 1;
		free(b);
		return;
	}
	put(t, b, need);
	memset(b, 0, need);
	free(b);
}

/* What export_one collects: the session lines, and whose sessions they are. */
struct exported {
	struct text t;
	const char *prefix;
};

static CURLcode export_one(CURL *handle, void *userptr, const char *key, const unsigned char *shmac,
                           size_t shmac_len, const unsigned char *sdata, size_t sdata_len,
                           curl_off_t valid_until, int ietf_tls_id, const char *alpn,
                           size_t earlydata_max)
{
	struct exported *x = userptr;

	(void)handle, (void)shmac, (void)shmac_len, (void)valid_until, (void)ietf_tls_id,
	    (void)alpn, (void)earlydata_max;
	/* Only the registry's own sessions, not those of blob storage it
	 * redirected to, and no more than a load accepts. */
	if (!key || strncasecmp(key, x->prefix, strlen(x->prefix)) || strlen(key) > KEY_MAX ||
	    !sdata_len || sdata_len > DATA_MAX || x->t.count >= SESSIONS_MAX)
		return CURLE_OK;
	put(&x->t, "session ", 8);
	put_b64(&x->t, (const unsigned char *)key, strlen(key));
	put(&x->t, " ", 1);
	put_b64(&x->t, sdata, sdata_len);
	put(&x->t, "\n", 1);
	x->t.count++;
	return CURLE_OK;
}

int registry_tls_sessions_save(struct registry_tls_sessions *s, const char *path,
                               struct bh_error *err)
{
	struct exported x = {{0}, s->prefix};
	char bound[REGISTRY_HOST_MAX + 96], tail[32], verified[40];
	CURLcode cc;
	int rc;

	if (binding(s->r, bound, sizeof(bound), err) < 0)
		return bh_error_wrap(err, "save %s", path);
	put(&x.t, REGISTRY_TLS_SESSIONS_FORMAT "\n", strlen(REGISTRY_TLS_SESSIONS_FORMAT) + 1);
	put(&x.t, bound, strlen(bound));
	/* Sessions resumed from imported ones descend from the same full
	 * handshake; otherwise this process made one. (A ticket the server
	 * refused meant a full handshake too: keeping the older time only
	 * ends the chain sooner.) */
	snprintf(verified, sizeof(verified), "verified %lld\n",
	         (long long)(s->verified ? s->verified : (int64_t)time(NULL)));
	put(&x.t, verified, strlen(verified));
	cc = curl_easy_ssls_export(s->r->curl, export_one, &x);
	if (cc != CURLE_OK) {
		rc = bh_error(err, 0, "save %s: export the TLS sessions: %s", path,
		              curl_easy_strerror(cc));
	} else if (x.t.count == 0) {
		/* Nothing to resume with (a ticket is used once): no file, so
		 * the next process does not offer a spent one. */
		rc = unlink(path) < 0 && errno != ENOENT ? bh_error(err, errno, "remove %s", path)
		                                         : 0;
	} else {
		snprintf(tail, sizeof(tail), "end %d\n", x.t.count);
		put(&x.t, tail, strlen(tail));
		if (x.t.failed)
			rc = bh_error(err, ENOMEM, "save %s", path);
		else if (bh_write_atomic(path, x.t.buf, x.t.len, 0600, err) < 0)
			rc = -1;
		else
			rc = x.t.count;
	}
	if (x.t.buf) {
		memset(x.t.buf, 0, x.t.cap);
		free(x.t.buf);
	}
	return rc;
}
