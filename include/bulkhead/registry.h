/* A client of the OCI distribution API (any registry: distribution,
 * Harbor, Zot, cloud registries) over libcurl and Mbed TLS: what gateways
 * pull their desired state, workloads and updates with (docs/fleet.md).
 *
 * - Only https. The server certificate is always verified against a CA
 *   bundle file (opts.ca_file); there is no switch to turn that off.
 * - Auth: anonymous, HTTP Basic, and the Bearer token flow (401 with
 *   WWW-Authenticate -> token endpoint -> retry). The scheme and token are
 *   remembered, so a later poll is one request.
 * - Redirects (blob storage) are followed by hand: the Authorization header
 *   goes only to the registry's own origin, never to another host or port.
 * - Low-speed limits: a server that trickles fails in bounded time.
 * - A failure fills `struct bh_error` (the message names the URL and the
 *   problem) and the client's `struct registry_result` (HTTP status,
 *   Retry-After, what kind of failure), so a caller can back off.
 *
 * Pushing is in registry_push.c (include/bulkhead/registry_push.h), so
 * that the device does not link it. */
#ifndef BULKHEAD_REGISTRY_H
#define BULKHEAD_REGISTRY_H

#include <bulkhead/error.h>

#include <stddef.h>
#include <stdint.h>

#define REGISTRY_HOST_MAX       256 /* host[:port] */
#define REGISTRY_REPO_MAX       256
#define REGISTRY_TAG_MAX        128
#define REGISTRY_DIGEST_LEN     71 /* "sha256:" + 64 hex */
#define REGISTRY_MANIFEST_MAX   (4 * 1024 * 1024)
#define REGISTRY_MEDIA_TYPE_MAX 128
/* Where a CA bundle is looked for when opts.ca_file is NULL (Debian's). */
#define REGISTRY_SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"

/* A reference: [https://]host[:port]/repo[:tag|@sha256:hex]. */
struct registry_ref {
	char host[REGISTRY_HOST_MAX];
	char repo[REGISTRY_REPO_MAX];
	char tag[REGISTRY_TAG_MAX + 1];       /* "" when none */
	char digest[REGISTRY_DIGEST_LEN + 1]; /* "" when none */
};

/* Parses a reference; need_target requires a tag or digest. The error
 * names the reference and what is wrong with it. */
int registry_ref_parse(const char *s, int need_target, struct registry_ref *ref,
                       struct bh_error *err);
/* True when s is "sha256:" followed by 64 lower-case hex digits. */
int registry_digest_valid(const char *s);
/* True when s is a tag: [A-Za-z0-9_][A-Za-z0-9._-]{0,127}. */
int registry_tag_valid(const char *s);

struct registry_opts {
	const char *ca_file;     /* PEM bundle; NULL: REGISTRY_SYSTEM_CA */
	const char *client_cert; /* PEM, with client_key: mutual TLS */
	const char *client_key;
	const char *client_key_pem; /* or the key itself (PEM text), for a process that
	                              may not open the key file */
	const char *username; /* Basic, or the token endpoint's Basic */
	const char *password;
	long connect_timeout_s; /* 0: 30 */
	long request_timeout_s; /* small requests (HEAD, manifests, tokens); 0: 120 */
	long low_speed_bytes;   /* a transfer slower than this ... (0: 1024) */
	long low_speed_time_s;  /* ... for this long fails (0: 30) */
};

enum registry_fault {
	REGISTRY_OK = 0,
	REGISTRY_NETWORK,      /* cannot connect, timed out, too slow, cut */
	REGISTRY_TLS,          /* certificate not trusted, wrong host name, handshake */
	REGISTRY_AUTH,         /* 401 or 403 after the auth flow */
	REGISTRY_NOT_FOUND,    /* 404 */
	REGISTRY_RATE_LIMITED, /* 429 */
	REGISTRY_SERVER,       /* 5xx */
	REGISTRY_PROTOCOL,     /* another status, or an answer we cannot use */
	REGISTRY_INTEGRITY,    /* the content does not match its digest */
	REGISTRY_TOO_LARGE,    /* over the cap the caller set */
	REGISTRY_NO_SPACE,     /* not enough free space for the download */
	REGISTRY_LOCAL,        /* a local file could not be written */
};

/* The outcome of the last operation. */
struct registry_result {
	enum registry_fault fault;
	long http_status;   /* of the last answer, 0 when none came */
	long retry_after_s; /* Retry-After of the last answer, -1 when none */
};

/* Counters since registry_open (or registry_stats_reset): what a poll
 * costs on the wire, at the HTTP level (TLS records not included). */
struct registry_stats {
	uint64_t requests;
	uint64_t bytes_sent;     /* request lines, headers and bodies */
	uint64_t bytes_received; /* status lines, headers and bodies */
	uint64_t connections;    /* new TCP+TLS connections */
};

struct registry;

/* A client for one registry (host) and its repositories. No request is
 * made until the first operation. */
int registry_open(struct registry **r, const char *host, const struct registry_opts *opts,
                  struct bh_error *err);
void registry_close(struct registry *r);
const struct registry_result *registry_last(const struct registry *r);
const struct registry_stats *registry_stats(const struct registry *r);
void registry_stats_reset(struct registry *r);

/* The auth scheme the client settled on, to carry to the next process (a
 * gateway's fetcher runs once per poll, and an unchanged poll must stay one
 * request): "basic", "bearer <token>", or "" before any. A secret: keep
 * it as the password is kept. Import before the first request; an expired
 * token is answered with 401 and replaced by the usual flow. */
int registry_auth_export(const struct registry *r, char *out, size_t size);
int registry_auth_import(struct registry *r, const char *saved);

/* HEAD of a manifest by tag or digest: its digest (from the
 * Docker-Content-Digest header), the conditional poll. */
int registry_head_manifest(struct registry *r, const char *repo, const char *tag_or_digest,
                           char digest[REGISTRY_DIGEST_LEN + 1], struct bh_error *err);

/* GET of a manifest (at most REGISTRY_MANIFEST_MAX bytes): the body
 * (malloc'd, NUL-terminated, the caller frees it), its media type and its
 * digest, computed here and checked against the reference when that is a
 * digest and against Docker-Content-Digest when the registry sent one. */
int registry_get_manifest(struct registry *r, const char *repo, const char *tag_or_digest,
                          char **body, size_t *len, char media_type[REGISTRY_MEDIA_TYPE_MAX],
                          char digest[REGISTRY_DIGEST_LEN + 1], struct bh_error *err);

/* GET of a small blob into memory (at most max bytes), digest checked. */
int registry_get_blob_mem(struct registry *r, const char *repo, const char *digest, size_t max,
                          char **body, size_t *len, struct bh_error *err);

/* What a blob download did. */
struct registry_fetch {
	uint64_t size;         /* the blob's size */
	uint64_t resumed_from; /* bytes already in dest.part when it started */
	uint64_t downloaded;   /* body bytes received in this call */
	uint64_t refetched;    /* of those, bytes that were already in dest.part
	                          (a server that ignored Range) */
	unsigned resumes;      /* Range requests after a cut connection */
};

/* GET of a blob of known size into the file dest. The data goes to
 * dest.part, its SHA-256 is computed while it streams, and dest appears
 * (fsync, rename, fsync of the folder) only when the digest matches.
 * Free space is checked before the first byte is asked for. A connection
 * cut mid-way is resumed with a Range request (max_resumes times); a
 * dest.part left by an earlier call is resumed too. On a digest mismatch
 * dest.part is removed; on other failures it is kept for the next try. */
int registry_get_blob(struct registry *r, const char *repo, const char *digest, uint64_t size,
                      const char *dest, unsigned max_resumes, struct registry_fetch *fetch,
                      struct bh_error *err);

#endif
