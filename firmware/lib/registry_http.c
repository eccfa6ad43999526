/* One HTTP exchange of the registry client over libcurl: the request's
 * URL, headers and body, the answer's headers and where its body goes
 * (memory, a file, hashed as it streams), and the errors that name the
 * request. reg_request (registry.c) adds auth and redirects on top, and
 * the auth flow (registry_auth.c) uses these directly, so neither of
 * those two files needs the other's internals. */
#include "registry_internal.h"

#include <ctype.h>
#include <errno.h>
#include <mbedtls/base64.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yyjson.h>

void reg_url(struct registry *r, struct reg_req *req, const char *repo, const char *kind,
             const char *ref)
{
	snprintf(req->url, sizeof(req->url), "%s/v2/%s/%s/%s", r->origin, repo, kind, ref);
}

void reg_digest_finish(mbedtls_sha256_context *sha, char digest[REGISTRY_DIGEST_LEN + 1])
{
	unsigned char h[32];

	mbedtls_sha256_finish(sha, h);
	memcpy(digest, "sha256:", 7);
	for (int i = 0; i < 32; i++)
		snprintf(digest + 7 + 2 * i, 3, "%02x", h[i]);
}

int reg_fail(struct registry *r, enum registry_fault fault)
{
	r->last.fault = fault;
	r->last.http_status = 0;
	r->last.retry_after_s = -1;
	return -1;
}

/* scheme://authority of a URL, for comparing origins. */
static void origin_of(const char *url, char *out, size_t n)
{
	const char *p = strstr(url, "://");
	size_t len;

	p = p ? strchr(p + 3, '/') : NULL;
	len = p ? (size_t)(p - url) : strlen(url);
	if (len >= n)
		len = n - 1;
	memcpy(out, url, len);
	out[len] = 0;
	for (char *c = out; *c; c++)
		*c = (char)tolower((unsigned char)*c);
}

int reg_same_origin(struct registry *r, const char *url)
{
	char o[sizeof(r->origin) + 8];

	origin_of(url, o, sizeof(o));
	/* The registry's origin may be written with its default port. */
	if (!strcasecmp(o, r->origin))
		return 1;
	if (!strchr(r->host, ':') || strcmp(strrchr(r->host, ':'), ":443"))
		return 0;
	return strlen(o) + 4 == strlen(r->origin) && !strncasecmp(o, r->origin, strlen(o));
}

int reg_resolve(const char *base, const char *location, char *out, size_t cap)
{
	CURLU *u = curl_url();
	char *full = NULL;
	int rc = -1;

	if (u && curl_url_set(u, CURLUPART_URL, base, 0) == CURLUE_OK &&
	    curl_url_set(u, CURLUPART_URL, location, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_URL, &full, 0) == CURLUE_OK && strlen(full) < cap) {
		strcpy(out, full);
		rc = 0;
	}
	curl_free(full);
	curl_url_cleanup(u);
	return rc;
}

/* --- libcurl callbacks --- */

static void header_value(const char *line, size_t n, char *out, size_t cap)
{
	const char *v = memchr(line, ':', n);
	size_t len;

	if (!v)
		return;
	for (v++; v < line + n && (*v == ' ' || *v == '\t'); v++)
		;
	len = (size_t)(line + n - v);
	while (len && (v[len - 1] == '\r' || v[len - 1] == '\n' || v[len - 1] == ' '))
		len--;
	if (len >= cap)
		len = cap - 1;
	memcpy(out, v, len);
	out[len] = 0;
}

static int header_is(const char *line, size_t n, const char *name)
{
	size_t k = strlen(name);

	return n > k && line[k] == ':' && !strncasecmp(line, name, k);
}

static size_t on_header(char *line, size_t size, size_t nitems, void *arg)
{
	struct reg_resp *p = arg;
	size_t n = size * nitems;

	if (n > 5 && !strncmp(line, "HTTP/", 5)) {
		/* A new answer (also after 100 Continue): forget the last one's. */
		const char *sp = memchr(line, ' ', n);
		long status = sp ? strtol(sp + 1, NULL, 10) : 0;
		const char *rs = sp ? memchr(sp + 1, ' ', n - (size_t)(sp + 1 - line)) : NULL;

		memset(p, 0, offsetof(struct reg_resp, final_url));
		p->content_length = -1;
		p->status = status;
		if (rs) {
			size_t len = (size_t)(line + n - rs - 1);

			while (len && (rs[len] == '\r' || rs[len] == '\n'))
				len--;
			if (len >= sizeof(p->reason))
				len = sizeof(p->reason) - 1;
			memcpy(p->reason, rs + 1, len);
			p->reason[len] = 0;
			for (char *c = p->reason; *c; c++)
				if (*c == '\r' || *c == '\n')
					*c = 0;
		}
	} else if (header_is(line, n, "Docker-Content-Digest")) {
		header_value(line, n, p->digest, sizeof(p->digest));
	} else if (header_is(line, n, "Content-Type")) {
		header_value(line, n, p->content_type, sizeof(p->content_type));
	} else if (header_is(line, n, "Location")) {
		header_value(line, n, p->location, sizeof(p->location));
	} else if (header_is(line, n, "WWW-Authenticate")) {
		header_value(line, n, p->www_auth, sizeof(p->www_auth));
	} else if (header_is(line, n, "Content-Range")) {
		header_value(line, n, p->content_range, sizeof(p->content_range));
	} else if (header_is(line, n, "Content-Length")) {
		char v[32] = "";

		header_value(line, n, v, sizeof(v));
		p->content_length = strtoll(v, NULL, 10);
	}
	return n;
}

struct write_ctx {
	struct reg_resp *resp;
	struct reg_sink *sink;
};

static int sink_write(struct reg_sink *s, const char *data, size_t n, int whole)
{
	if (whole && s->skip > s->skipped) {
		uint64_t drop = s->skip - s->skipped;

		if (drop > n)
			drop = n;
		s->skipped += drop;
		data += drop;
		n -= (size_t)drop;
	}
	if (!n)
		return 0;
	if (s->kind != REG_SINK_DISCARD && (s->written + n > s->max)) {
		s->overflow = 1;
		return -1;
	}
	if (s->kind == REG_SINK_MEM) {
		if (s->len + n + 1 > s->alloc) {
			size_t a = s->alloc ? s->alloc : 16384;
			char *b;

			while (a < s->len + n + 1)
				a *= 2;
			b = realloc(s->buf, a);
			if (!b) {
				s->write_errno = ENOMEM;
				return -1;
			}
			s->buf = b;
			s->alloc = a;
		}
		memcpy(s->buf + s->len, data, n);
		s->len += n;
		s->buf[s->len] = 0;
	} else if (s->kind == REG_SINK_FD) {
		size_t done = 0;

		while (done < n) {
			ssize_t w = write(s->fd, data + done, n - done);

			if (w < 0 && errno == EINTR)
				continue;
			if (w <= 0) {
				/* Only what reached the file is hashed and counted. */
				if (s->sha && done)
					mbedtls_sha256_update(s->sha, (const unsigned char *)data,
					                      done);
				if (s->wrote && done)
					s->wrote(s->wrote_arg, done);
				s->written += done;
				s->write_errno = w < 0 ? errno : EIO;
				return -1;
			}
			done += (size_t)w;
		}
		if (s->wrote)
			s->wrote(s->wrote_arg, n);
	}
	if (s->sha)
		mbedtls_sha256_update(s->sha, (const unsigned char *)data, n);
	s->written += n;
	return 0;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *arg)
{
	struct write_ctx *w = arg;
	size_t n = size * nmemb;

	if (w->resp->status >= 200 && w->resp->status < 300) {
		if (w->sink && sink_write(w->sink, data, n, w->resp->status == 200) < 0)
			return 0; /* ends the transfer with CURLE_WRITE_ERROR */
		return n;
	}
	if (w->resp->errlen < sizeof(w->resp->errbody) - 1) {
		size_t k = sizeof(w->resp->errbody) - 1 - w->resp->errlen;

		if (k > n)
			k = n;
		memcpy(w->resp->errbody + w->resp->errlen, data, k);
		w->resp->errlen += k;
		w->resp->errbody[w->resp->errlen] = 0;
	}
	/* A large error body is not read to its end. */
	return w->resp->errlen < sizeof(w->resp->errbody) - 1 ? n : 0;
}

static size_t on_read(char *buf, size_t size, size_t nitems, void *arg)
{
	struct reg_source *s = arg;
	size_t n = size * nitems;

	if (n > s->size - s->off)
		n = (size_t)(s->size - s->off);
	if (!n)
		return 0;
	if (s->mem) {
		memcpy(buf, s->mem + s->off, n);
	} else {
		ssize_t got = pread(s->fd, buf, n, (off_t)s->off);

		if (got <= 0)
			return CURL_READFUNC_ABORT;
		n = (size_t)got;
	}
	s->off += n;
	return n;
}

/* --- one exchange --- */

static enum registry_fault curl_fault(CURLcode rc)
{
	switch (rc) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ISSUER_ERROR:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_CIPHER:
	case CURLE_SSL_ENGINE_INITFAILED:
	case CURLE_SSL_CRL_BADFILE:
		return REGISTRY_TLS;
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_URL_MALFORMAT:
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_BAD_CONTENT_ENCODING:
	case CURLE_TOO_MANY_REDIRECTS:
		return REGISTRY_PROTOCOL;
	default:
		return REGISTRY_NETWORK;
	}
}

static struct curl_slist *add_header(struct curl_slist *l, const char *h, int *failed)
{
	struct curl_slist *n = curl_slist_append(l, h);

	if (!n)
		*failed = 1;
	return n ? n : l;
}

int reg_basic_header(struct registry *r, char *out, size_t cap)
{
	char plain[1024];
	size_t olen = 0;
	int n = snprintf(plain, sizeof(plain), "%s:%s", r->username, r->password);

	if (n < 0 || (size_t)n >= sizeof(plain))
		return -1;
	memcpy(out, "Authorization: Basic ", 21);
	if (mbedtls_base64_encode((unsigned char *)out + 21, cap - 21, &olen,
	                          (const unsigned char *)plain, (size_t)n) != 0)
		return -1;
	memset(plain, 0, sizeof(plain));
	return 0;
}

int reg_exchange(struct registry *r, struct reg_req *req, const char *url, const char *auth_header,
                 struct reg_resp *resp, struct bh_error *err)
{
	struct write_ctx w = {resp, req->sink};
	struct reg_source empty = {.mem = "", .fd = -1}; /* a POST without a body */
	struct curl_slist *hdrs = NULL;
	char line[REG_URL_MAX + 64], range[48];
	CURL *c = r->curl;
	curl_off_t up = 0, down = 0;
	long hsize = 0, rsize = 0, conns = 0;
	int failed = 0;
	CURLcode rc;

	memset(resp, 0, sizeof(*resp));
	resp->content_length = -1;
	r->curl_error[0] = 0;
	curl_easy_reset(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	/* Large reads: a blob of 100 MiB takes fewer write and hash calls
	 * (libcurl's default is 16 KiB). */
	curl_easy_setopt(c, CURLOPT_BUFFERSIZE, 256L * 1024);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, r->curl_error);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "bulkhead-registry/1");
	curl_easy_setopt(c, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_1_1);
	/* Verification is libcurl's default; it is said again so that no
	 * later change of defaults can turn it off. */
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	curl_easy_setopt(c, CURLOPT_CAINFO, r->ca_file);
	if (r->client_cert) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, r->client_cert);
		if (r->client_key_pem) {
			/* Mbed TLS reads PEM only with its terminating NUL. */
			struct curl_blob key = {r->client_key_pem, strlen(r->client_key_pem) + 1,
			                        CURL_BLOB_COPY};

			curl_easy_setopt(c, CURLOPT_SSLKEY_BLOB, &key);
		} else {
			curl_easy_setopt(c, CURLOPT_SSLKEY, r->client_key);
		}
	}
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, r->connect_timeout_s);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_LIMIT, r->low_speed_bytes);
	curl_easy_setopt(c, CURLOPT_LOW_SPEED_TIME, r->low_speed_time_s);
	if (req->small)
		curl_easy_setopt(c, CURLOPT_TIMEOUT, r->request_timeout_s);
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, resp);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &w);
	if (!strcmp(req->method, "HEAD")) {
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	} else if (!strcmp(req->method, "PUT") || !strcmp(req->method, "POST")) {
		struct reg_source *b = req->body ? req->body : &empty;

		b->off = 0;
		if (!strcmp(req->method, "PUT")) {
			curl_easy_setopt(c, CURLOPT_UPLOAD, 1L);
			curl_easy_setopt(c, CURLOPT_INFILESIZE_LARGE, (curl_off_t)b->size);
		} else {
			curl_easy_setopt(c, CURLOPT_POST, 1L);
			curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)b->size);
		}
		curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
		curl_easy_setopt(c, CURLOPT_READDATA, b);
		/* No 100-continue round trip. */
		hdrs = add_header(hdrs, "Expect:", &failed);
	}
	if (req->ranged && req->range_from) {
		snprintf(range, sizeof(range), "%llu-", (unsigned long long)req->range_from);
		curl_easy_setopt(c, CURLOPT_RANGE, range);
	}
	if (req->accept) {
		snprintf(line, sizeof(line), "Accept: %s", req->accept);
		hdrs = add_header(hdrs, line, &failed);
	}
	if (req->content_type) {
		snprintf(line, sizeof(line), "Content-Type: %s", req->content_type);
		hdrs = add_header(hdrs, line, &failed);
	}
	if (auth_header)
		hdrs = add_header(hdrs, auth_header, &failed);
	if (failed) {
		curl_slist_free_all(hdrs);
		reg_fail(r, REGISTRY_LOCAL);
		return bh_error(err, ENOMEM, "%s %s", req->method, url);
	}
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	snprintf(resp->final_url, sizeof(resp->final_url), "%s", url);
	rc = curl_easy_perform(c);
	curl_slist_free_all(hdrs);

	curl_easy_getinfo(c, CURLINFO_REQUEST_SIZE, &rsize);
	curl_easy_getinfo(c, CURLINFO_HEADER_SIZE, &hsize);
	curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &up);
	curl_easy_getinfo(c, CURLINFO_SIZE_DOWNLOAD_T, &down);
	curl_easy_getinfo(c, CURLINFO_NUM_CONNECTS, &conns);
	r->stats.requests++;
	r->stats.bytes_sent += (uint64_t)rsize + (uint64_t)up;
	r->stats.bytes_received += (uint64_t)hsize + (uint64_t)down;
	r->stats.connections += (uint64_t)conns;
	r->last.http_status = resp->status;
	r->last.retry_after_s = -1;
	if (rc == CURLE_OK) {
		curl_off_t ra = -1;

		if (curl_easy_getinfo(c, CURLINFO_RETRY_AFTER, &ra) == CURLE_OK && ra > 0)
			r->last.retry_after_s = (long)ra;
		r->last.fault = REGISTRY_OK;
		return 0;
	}
	if (rc == CURLE_WRITE_ERROR && req->sink && req->sink->overflow) {
		r->last.fault = REGISTRY_TOO_LARGE;
		return bh_error(err, 0, "%s %s: more than %zu bytes", req->method, url,
		                req->sink->max);
	}
	if (rc == CURLE_WRITE_ERROR && req->sink && req->sink->write_errno) {
		int e = req->sink->write_errno;

		r->last.fault =
		    (e == ENOSPC || e == EDQUOT || e == EFBIG) ? REGISTRY_NO_SPACE : REGISTRY_LOCAL;
		return bh_error(err, e, "%s %s: write the download", req->method, url);
	}
	if (rc == CURLE_WRITE_ERROR && resp->status >= 300) {
		/* A large error body was cut short on purpose. */
		r->last.fault = REGISTRY_OK;
		return 0;
	}
	r->last.fault = curl_fault(rc);
	if (rc == CURLE_OPERATION_TIMEDOUT && !req->small)
		return bh_error(err, 0, "%s %s: too slow: under %ld bytes/s for %ld s (%s)",
		                req->method, url, r->low_speed_bytes, r->low_speed_time_s,
		                r->curl_error[0] ? r->curl_error : curl_easy_strerror(rc));
	return bh_error(err, 0, "%s %s: %s%s", req->method, url,
	                rc == CURLE_RECV_ERROR || rc == CURLE_PARTIAL_FILE ||
	                        rc == CURLE_GOT_NOTHING || rc == CURLE_SEND_ERROR
	                    ? "the connection was cut: "
	                    : "",
	                r->curl_error[0] ? r->curl_error : curl_easy_strerror(rc));
}

static void registry_error_text(const struct reg_resp *p, char *out, size_t cap)
{
	yyjson_doc *d = p->errlen ? yyjson_read(p->errbody, p->errlen, 0) : NULL;
	yyjson_val *e = yyjson_arr_get_first(yyjson_obj_get(yyjson_doc_get_root(d), "errors"));
	const char *code = yyjson_get_str(yyjson_obj_get(e, "code"));
	const char *msg = yyjson_get_str(yyjson_obj_get(e, "message"));

	out[0] = 0;
	if (code)
		snprintf(out, cap, ": %s%s%s", code, msg ? ": " : "", msg ? msg : "");
	yyjson_doc_free(d);
}

int reg_status_error(struct registry *r, const struct reg_req *req, const struct reg_resp *p,
                     struct bh_error *err)
{
	char text[256], retry[48] = "";
	long s = p->status;

	if (s == 401 || s == 403)
		r->last.fault = REGISTRY_AUTH;
	else if (s == 404)
		r->last.fault = REGISTRY_NOT_FOUND;
	else if (s == 429)
		r->last.fault = REGISTRY_RATE_LIMITED;
	else if (s >= 500 && s <= 599)
		r->last.fault = REGISTRY_SERVER;
	else
		r->last.fault = REGISTRY_PROTOCOL;
	r->last.http_status = s;
	registry_error_text(p, text, sizeof(text));
	if (r->last.retry_after_s >= 0)
		snprintf(retry, sizeof(retry), " (retry after %ld s)", r->last.retry_after_s);
	return bh_error(err, 0, "%s %s: HTTP %ld%s%s%s%s%s", req->method, p->final_url, s,
	                p->reason[0] ? " " : "", p->reason, retry, text,
	                (s == 401 || s == 403) && !r->username ? " (no credentials given)" : "");
}
