/* The messages between bhd and bhreport (include/bulkhead/report.h): the
 * reporter's configuration, names and topics, and the line reader both
 * ends use on their pipes. */
#include <bulkhead/json.h>
#include <bulkhead/report.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	       c == '-' || c == '_' || c == '.';
}

bool report_device_valid(const char *id)
{
	size_t n = strlen(id);

	if (!n || n >= REPORT_DEVICE_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!name_char(id[i]))
			return false;
	return true;
}

bool report_prefix_valid(const char *prefix)
{
	size_t n = strlen(prefix);

	if (!n || n >= REPORT_PREFIX_MAX || prefix[0] == '/' || prefix[n - 1] == '/')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!(name_char(prefix[i]) || (prefix[i] == '/' && prefix[i + 1] != '/')))
			return false;
	return true;
}

void report_topic(const struct report_config *c, const char *leaf, char *out, size_t size)
{
	snprintf(out, size, "%s/%s/%s", c->prefix, c->device, leaf);
}

int report_broker_split(const char *broker, char *host, size_t host_size, char *port,
                        size_t port_size, struct bh_error *err)
{
	const char *colon, *h = broker;
	size_t hlen;
	char *end;
	unsigned long p;

	if (broker[0] == '[') {
		const char *close = strchr(broker, ']');

		if (!close || close[1] != ':')
			return bh_error(err, 0, "broker \"%s\": expected [address]:port", broker);
		h = broker + 1;
		hlen = (size_t)(close - h);
		colon = close + 1;
	} else {
		colon = strrchr(broker, ':');
		if (!colon || strchr(broker, ':') != colon)
			return bh_error(err, 0, "broker \"%s\": expected host:port", broker);
		hlen = (size_t)(colon - broker);
	}
	errno = 0;
	p = strtoul(colon + 1, &end, 10);
	if (!hlen || hlen >= host_size || !colon[1] || *end || errno || p < 1 || p > 65535)
		return bh_error(err, 0, "broker \"%s\": expected host:port, port 1 to 65535",
		                broker);
	for (size_t i = 0; i < hlen; i++)
		if (h[i] <= ' ' || h[i] == '/' || h[i] == '@' || (unsigned char)h[i] >= 0x7f)
			return bh_error(err, 0, "broker \"%s\": not a host name", broker);
	memcpy(host, h, hlen);
	host[hlen] = 0;
	snprintf(port, port_size, "%lu", p);
	return 0;
}

/* The configuration ------------------------------------------------------- */

int report_config_write(const struct report_config *c, char **json, size_t *len,
                        struct bh_error *err)
{
	yyjson_mut_doc *doc = yyjson_mut_doc_new(NULL);
	yyjson_mut_val *root, *o;

	if (!doc)
		return bh_error(err, ENOMEM, "the reporter's configuration");
	root = yyjson_mut_obj(doc);
	o = yyjson_mut_obj(doc);
	yyjson_mut_doc_set_root(doc, root);
	yyjson_mut_obj_add_val(doc, root, "config", o);
#define S(k) yyjson_mut_obj_add_strcpy(doc, o, #k, c->k)
#define U(k) yyjson_mut_obj_add_uint(doc, o, #k, c->k)
	S(host);
	S(port);
	S(server_name);
	S(ca_file);
	S(cert_file);
	S(key_pem);
	S(device);
	S(prefix);
	U(keepalive_s);
	U(status_period_s);
	S(queue_dir);
	U(queue_max);
	S(sbom);
	S(advisories);
	U(backoff_cap_ms);
#undef S
#undef U
	*json = yyjson_mut_write(doc, 0, len);
	yyjson_mut_doc_free(doc);
	return *json ? 0 : bh_error(err, ENOMEM, "the reporter's configuration");
}

int report_config_read(const char *json, size_t len, struct report_config *c,
                       struct bh_error *err)
{
	static const char *const keys[] = {
	    "host",     "port",   "server_name", "ca_file",         "cert_file", "key_pem",
	    "device",   "prefix", "keepalive_s", "status_period_s", "queue_dir", "queue_max",
	    "sbom",     "advisories", "backoff_cap_ms", NULL};
	yyjson_read_err e;
	yyjson_doc *doc;
	yyjson_val *o;
	int rc = -1;

	memset(c, 0, sizeof(*c));
	doc = yyjson_read_opts((char *)json, len, 0, NULL, &e);
	if (!doc)
		return bh_error(err, 0, "config: not JSON: %s at byte %zu", e.msg, e.pos);
	o = yyjson_obj_get(yyjson_doc_get_root(doc), "config");
	if (json_object(o, "$.config", err) < 0 || json_known_keys(o, "$.config", keys, err) < 0)
		goto out;
#define S(k) json_string_copy(yyjson_obj_get(o, #k), "$.config." #k, c->k, sizeof(c->k), err) < 0
#define U(k, lo, hi)                                                                               \
	(tmp = 0, json_u64_range(yyjson_obj_get(o, #k), "$.config." #k, lo, hi, &tmp, err) < 0) ||   \
	    (c->k = (uint32_t)tmp, 0)
	{
		uint64_t tmp;

		if (S(host) || S(port) || S(server_name) || S(ca_file) || S(cert_file) ||
		    S(key_pem) || S(device) || S(prefix) || U(keepalive_s, 0, 3600) ||
		    U(status_period_s, 0, 7 * 86400) || S(queue_dir) || U(queue_max, 0, 100000) ||
		    S(sbom) || S(advisories) || U(backoff_cap_ms, 0, 86400000))
			goto out;
	}
#undef S
#undef U
	if (!c->host[0] || !c->port[0] || !c->ca_file[0] || !c->cert_file[0] || !c->key_pem[0] ||
	    !c->queue_dir[0]) {
		bh_error(err, 0, "$.config: host, port, ca_file, cert_file, key_pem and queue_dir are "
		                 "required");
		goto out;
	}
	if (!report_device_valid(c->device)) {
		bh_error(err, 0, "$.config.device: \"%s\" is not a device id (1 to 63 of A-Z a-z "
		                 "0-9 . _ -)", c->device);
		goto out;
	}
	if (!report_prefix_valid(c->prefix)) {
		bh_error(err, 0, "$.config.prefix: \"%s\" is not a topic prefix", c->prefix);
		goto out;
	}
	rc = 0;
out:
	yyjson_doc_free(doc);
	if (rc < 0)
		memset(c->key_pem, 0, sizeof(c->key_pem));
	return rc;
}

/* Lines from a pipe -------------------------------------------------------- */

int report_lines_read(struct report_lines *l, int fd,
                      void (*fn)(void *arg, char *line, size_t len), void *arg)
{
	if (!l->buf && !(l->buf = malloc(REPORT_LINE_MAX + 1)))
		return -1;
	for (;;) {
		ssize_t n = read(fd, l->buf + l->len, REPORT_LINE_MAX - l->len);
		size_t start = 0;

		if (n == 0)
			return 0;
		if (n < 0)
			return errno == EAGAIN || errno == EINTR ? 1 : -1;
		l->len += (size_t)n;
		for (size_t i = l->len - (size_t)n; i < l->len; i++) {
			if (l->buf[i] != '\n')
				continue;
			l->buf[i] = 0;
			if (!l->skipping && i > start)
				fn(arg, l->buf + start, i - start);
			l->skipping = false;
			start = i + 1;
		}
		memmove(l->buf, l->buf + start, l->len - start);
		l->len -= start;
		if (l->len == REPORT_LINE_MAX) {
			/* No end in sight: drop it up to its newline. */
			if (!l->skipping)
				l->overlong++;
			l->skipping = true;
			l->len = 0;
		}
	}
}

void report_lines_free(struct report_lines *l)
{
	if (l->buf)
		memset(l->buf, 0, REPORT_LINE_MAX + 1);
	free(l->buf);
	l->buf = NULL;
	l->len = 0;
}
