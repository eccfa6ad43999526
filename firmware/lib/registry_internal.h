/* Shared by the registry client's files (registry*.c): one HTTP exchange
 * with auth and redirects, and where its body comes from and goes to. */
#ifndef BULKHEAD_REGISTRY_INTERNAL_H
#define BULKHEAD_REGISTRY_INTERNAL_H

#include <bulkhead/registry.h>

#include <curl/curl.h>
#include <mbedtls/sha256.h>
#include <pthread.h>
#include <stdint.h>

#define REG_URL_MAX   4096
#define REG_TOKEN_MAX 8000 /* registries' JWTs with certificate chains run to a few KiB */

enum reg_auth { REG_AUTH_NONE, REG_AUTH_BASIC, REG_AUTH_BEARER };

struct registry {
	CURL *curl;
	char host[REGISTRY_HOST_MAX];
	char origin[REGISTRY_HOST_MAX + 16]; /* https://host[:port] */
	char *ca_file, *client_cert, *client_key, *client_key_pem, *username, *password;
	long connect_timeout_s, request_timeout_s, low_speed_bytes, low_speed_time_s;
	enum reg_auth auth;
	char *token;
	char token_scope[512];
	struct registry_result last;
	struct registry_stats stats;
	char curl_error[CURL_ERROR_SIZE];
};

/* Where a 2xx answer's body goes; other answers' bodies are kept (the
 * first bytes) for the error message. */
enum reg_sink_kind { REG_SINK_DISCARD, REG_SINK_MEM, REG_SINK_FD };

struct reg_sink {
	enum reg_sink_kind kind;
	size_t max;                  /* MEM: cap; FD: bytes still wanted */
	char *buf;                   /* MEM */
	size_t len, alloc;           /* MEM */
	int fd;                      /* FD */
	mbedtls_sha256_context *sha; /* hashed as written, when set */
	uint64_t skip;               /* bytes to drop first when a Range request gets the
	                                whole body (200) */
	uint64_t skipped;
	uint64_t written;
	int overflow;    /* more than max arrived */
	int write_errno; /* a local write failed */
	/* FD: told of the bytes each write added to the file, when set (the
	 * hashing thread of registry_hasher.c reads them back). */
	void (*wrote)(void *arg, uint64_t n);
	void *wrote_arg;
};

struct reg_source {
	const char *mem; /* the body in memory, or ... */
	int fd;          /* ... a file (fd >= 0) */
	uint64_t size, off;
};

struct reg_req {
	const char *method; /* GET HEAD PUT POST */
	char url[REG_URL_MAX];
	const char *accept;
	const char *content_type;
	int ranged; /* ask for bytes range_from- */
	uint64_t range_from;
	int small;  /* a small request: the request timeout applies */
	int follow; /* follow redirects (GET and HEAD) */
	struct reg_source *body;
	struct reg_sink *sink;
};

struct reg_resp {
	long status;
	char reason[64];
	char digest[REGISTRY_DIGEST_LEN + 1]; /* Docker-Content-Digest */
	char content_type[REGISTRY_MEDIA_TYPE_MAX];
	char location[REG_URL_MAX];
	char www_auth[1024];
	char content_range[96];
	int64_t content_length; /* -1 when not sent */
	char errbody[1024];     /* the start of a non-2xx body */
	size_t errlen;
	char final_url[REG_URL_MAX];
};

/* registry_http.c: sends req to url once, with auth_header (NULL: none): no auth flow, no
 * redirects. Returns 0 when an answer arrived, else -1 (r->last, err). */
int reg_exchange(struct registry *r, struct reg_req *req, const char *url, const char *auth_header,
                 struct reg_resp *resp, struct bh_error *err);
/* "Authorization: Basic ..." of the client's credentials into out. */
int reg_basic_header(struct registry *r, char *out, size_t cap);

/* registry.c: one request with the client's auth (401 -> challenge -> retry) and, when
 * req->follow, redirects (Authorization only to the registry's origin).
 * Returns 0 when an answer arrived (any status: see resp->status), or -1
 * on a transfer failure, with r->last and err filled. */
int reg_request(struct registry *r, struct reg_req *req, struct reg_resp *resp,
                struct bh_error *err);

/* registry_http.c: fills r->last and err for an answer with a status the caller did not
 * want, naming the request and the registry's error code. Returns -1. */
int reg_status_error(struct registry *r, const struct reg_req *req, const struct reg_resp *resp,
                     struct bh_error *err);

/* Fills r->last with fault (status 0, no Retry-After) and returns -1. */
int reg_fail(struct registry *r, enum registry_fault fault);

/* True when url is on the registry's own origin (scheme, host, port). */
int reg_same_origin(struct registry *r, const char *url);
/* location (absolute or relative) resolved against base into out. */
int reg_resolve(const char *base, const char *location, char *out, size_t cap);

/* "https://host/v2/<repo>/<kind>/<ref>" into req->url. */
void reg_url(struct registry *r, struct reg_req *req, const char *repo, const char *kind,
             const char *ref);

/* Hex SHA-256 digest "sha256:..." of a finished context. */
void reg_digest_finish(mbedtls_sha256_context *sha, char digest[REGISTRY_DIGEST_LEN + 1]);

/* registry_hasher.c: the SHA-256 of a download into fd, on a thread of its
 * own that reads the file back behind the writer. The fields are the
 * hasher's; see the file's comment for which thread owns which. */
struct reg_hasher {
	pthread_t thread;
	pthread_mutex_t mu;
	pthread_cond_t cv;
	int fd;
	mbedtls_sha256_context *sha;
	unsigned char *buf;
	uint64_t end;    /* under mu: how far the file holds the download */
	int closing;     /* under mu: no more writes; hash up to end and stop */
	uint64_t hashed; /* the hasher thread's until joined */
	int read_errno;  /* the hasher thread's until joined */
	int running;     /* the writer's */
};

/* Starts hashing fd from byte from (sha holds the bytes before it) on a new
 * thread. -1 when no thread could be started: the caller hashes inline. */
int reg_hasher_start(struct reg_hasher *h, int fd, uint64_t from, mbedtls_sha256_context *sha);
/* The writer's report of n more bytes in the file (a reg_sink's wrote). */
void reg_hasher_wrote(void *h, uint64_t n);
/* Waits until everything written is hashed and ends the thread (nothing when
 * it is not running). -1 with errno when the file could not be read back. */
int reg_hasher_finish(struct reg_hasher *h);

/* The Bearer flow: fetch a token for the challenge in www_auth (a
 * WWW-Authenticate header); on success r->auth and r->token are set. */
int reg_auth_challenge(struct registry *r, const char *url, const char *www_auth,
                       struct bh_error *err);

#endif
