/* Registry auth: a 401's WWW-Authenticate challenge picks Basic (our
 * credentials on every later request) or Bearer (a token fetched from the
 * challenge's realm, with our credentials if any, for its scope). This is
 * the flow of the distribution spec's token authentication. */
#include "registry_internal.h"

#include <ctype.h>
#include <errno.h>
#include <mbedtls/base64.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yyjson.h>

#define TOKEN_RESPONSE_MAX (64 * 1024)

/* The value of param `name` in `Bearer realm="...",service="...",...`. */
static int challenge_param(const char *h, const char *name, char *out, size_t cap)
{
	size_t k = strlen(name);
	const char *p = strchr(h, ' ');

	while (p && *p) {
		while (*p == ' ' || *p == ',')
			p++;
		const char *eq = strchr(p, '=');
		const char *v, *end;

		if (!eq)
			return 0;
		v = eq + 1;
		if (*v == '"') {
			v++;
			end = strchr(v, '"');
			if (!end)
				return 0;
		} else {
			end = v + strcspn(v, ", ");
		}
		if ((size_t)(eq - p) == k && !strncasecmp(p, name, k)) {
			size_t len = (size_t)(end - v);

			if (len >= cap)
				return 0;
			memcpy(out, v, len);
			out[len] = 0;
			return 1;
		}
		p = *end == '"' ? end + 1 : end;
	}
	return 0;
}

static int append_param(CURL *c, char *url, size_t cap, const char *name, const char *value)
{
	char *e = curl_easy_escape(c, value, 0);
	size_t n = strlen(url);
	int w;

	if (!e)
		return -1;
	w = snprintf(url + n, cap - n, "%s%s=%s", strchr(url, '?') ? "&" : "?", name, e);
	curl_free(e);
	return w < 0 || (size_t)w >= cap - n ? -1 : 0;
}

static int fetch_token(struct registry *r, const char *url, const char *www_auth,
                       struct bh_error *err)
{
	char realm[1024], service[256] = "", scope[512] = "", basic[1024];
	struct reg_sink sink = {.kind = REG_SINK_MEM, .max = TOKEN_RESPONSE_MAX};
	struct reg_req req = {.method = "GET", .small = 1, .sink = &sink};
	struct reg_resp resp;
	const char *token;
	yyjson_doc *d;
	int rc;

	if (!challenge_param(www_auth, "realm", realm, sizeof(realm))) {
		reg_fail(r, REGISTRY_PROTOCOL);
		return bh_error(err, 0, "%s: a Bearer challenge without a realm: %s", url,
		                www_auth);
	}
	if (strncasecmp(realm, "https://", 8)) {
		reg_fail(r, REGISTRY_PROTOCOL);
		return bh_error(err, 0, "%s: token realm %s is not https", url, realm);
	}
	challenge_param(www_auth, "service", service, sizeof(service));
	challenge_param(www_auth, "scope", scope, sizeof(scope));
	snprintf(req.url, sizeof(req.url), "%s", realm);
	if ((service[0] &&
	     append_param(r->curl, req.url, sizeof(req.url), "service", service) < 0) ||
	    (scope[0] && append_param(r->curl, req.url, sizeof(req.url), "scope", scope) < 0)) {
		reg_fail(r, REGISTRY_PROTOCOL);
		return bh_error(err, 0, "%s: token URL too long", url);
	}
	/* The token endpoint gets our credentials (it is where the registry
	 * sent us, over verified TLS); without any, it gives an anonymous
	 * token. One plain exchange: no auth flow, no redirects. */
	if (r->username && reg_basic_header(r, basic, sizeof(basic)) < 0) {
		reg_fail(r, REGISTRY_LOCAL);
		return bh_error(err, 0, "%s: user name and password too long", url);
	}
	rc = reg_exchange(r, &req, req.url, r->username ? basic : NULL, &resp, err);
	memset(basic, 0, sizeof(basic));
	if (rc < 0) {
		free(sink.buf);
		return bh_error_wrap(err, "get a token for %s", url);
	}
	if (resp.status != 200) {
		free(sink.buf);
		reg_status_error(r, &req, &resp, err);
		r->last.fault = REGISTRY_AUTH;
		return bh_error_wrap(err, "get a token for %s", url);
	}
	d = yyjson_read(sink.buf ? sink.buf : "", sink.len, 0);
	token = yyjson_get_str(yyjson_obj_get(yyjson_doc_get_root(d), "token"));
	if (!token)
		token = yyjson_get_str(yyjson_obj_get(yyjson_doc_get_root(d), "access_token"));
	if (!token || !*token || strlen(token) > REG_TOKEN_MAX || strpbrk(token, " \r\n\t")) {
		yyjson_doc_free(d);
		free(sink.buf);
		reg_fail(r, REGISTRY_AUTH);
		return bh_error(err, 0, "%s: the token endpoint %s answered no usable token", url,
		                realm);
	}
	if (r->token) {
		memset(r->token, 0, strlen(r->token));
		free(r->token);
	}
	r->token = strdup(token);
	yyjson_doc_free(d);
	if (sink.buf)
		memset(sink.buf, 0, sink.len);
	free(sink.buf);
	if (!r->token) {
		reg_fail(r, REGISTRY_LOCAL);
		return bh_error(err, ENOMEM, "%s: keep the token", url);
	}
	snprintf(r->token_scope, sizeof(r->token_scope), "%s", scope);
	r->auth = REG_AUTH_BEARER;
	return 0;
}

int reg_auth_challenge(struct registry *r, const char *url, const char *www_auth,
                       struct bh_error *err)
{
	if (!strncasecmp(www_auth, "Basic", 5) && (!www_auth[5] || www_auth[5] == ' ')) {
		if (!r->username) {
			reg_fail(r, REGISTRY_AUTH);
			r->last.http_status = 401;
			return bh_error(err, 0,
			                "%s: HTTP 401: the registry wants a user name and "
			                "password (Basic) and none were given",
			                url);
		}
		if (r->auth == REG_AUTH_BASIC) {
			reg_fail(r, REGISTRY_AUTH);
			r->last.http_status = 401;
			return bh_error(err, 0, "%s: HTTP 401: the registry refused user %s", url,
			                r->username);
		}
		r->auth = REG_AUTH_BASIC;
		return 0;
	}
	if (!strncasecmp(www_auth, "Bearer ", 7))
		return fetch_token(r, url, www_auth, err);
	reg_fail(r, REGISTRY_AUTH);
	r->last.http_status = 401;
	return bh_error(err, 0, "%s: HTTP 401 with an auth scheme we do not speak: %s", url,
	                www_auth);
}

int registry_auth_export(const struct registry *r, char *out, size_t size)
{
	int n = 0;

	if (r->auth == REG_AUTH_BASIC)
		n = snprintf(out, size, "basic");
	else if (r->auth == REG_AUTH_BEARER && r->token)
		n = snprintf(out, size, "bearer %s", r->token);
	else if (size)
		out[0] = 0;
	return n < 0 || (size_t)n >= size ? -1 : 0;
}

int registry_auth_import(struct registry *r, const char *saved)
{
	if (!strcmp(saved, "basic")) {
		if (!r->username)
			return -1;
		r->auth = REG_AUTH_BASIC;
	} else if (!strncmp(saved, "bearer ", 7) && saved[7] && strlen(saved + 7) <= REG_TOKEN_MAX &&
		   !strpbrk(saved + 7, " \r\n\t")) {
		char *t = strdup(saved + 7);

		if (!t)
			return -1;
		if (r->token) {
			memset(r->token, 0, strlen(r->token));
			free(r->token);
		}
		r->token = t;
		r->auth = REG_AUTH_BEARER;
	} else if (saved[0]) {
		return -1;
	}
	return 0;
}
