/* A gateway's provisioning document (include/bulkhead/provision.h). */
#include <bulkhead/json.h>
#include <bulkhead/provision.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void wipe_free(char *s)
{
	if (s) {
		memset(s, 0, strlen(s));
		free(s);
	}
}

void provision_free(struct provision *p)
{
	free(p->ca);
	free(p->device_cert);
	free(p->broker_ca);
	wipe_free(p->device_key);
	memset(p->password, 0, sizeof(p->password));
	p->ca = p->device_cert = p->device_key = p->broker_ca = NULL;
}

/* An optional string field into a fixed buffer. */
static int opt_str(yyjson_val *root, const char *key, char *out, size_t size, struct bh_error *err)
{
	yyjson_val *v = yyjson_obj_get(root, key);
	struct json_path path;

	return v ? json_string_copy(v, json_at(&path, "$.", "%s", key), out, size, err) : 0;
}

/* An optional PEM text of one or more blocks of the kind `what`. */
static int opt_pem(yyjson_val *root, const char *key, const char *kind, char **out,
                   struct bh_error *err)
{
	yyjson_val *v = yyjson_obj_get(root, key);
	struct json_path path;
	const char *s;

	if (!v)
		return 0;
	json_at(&path, "$.", "%s", key);
	if (json_string(v, path.s, &s, err) < 0)
		return -1;
	if (strlen(s) >= PROVISION_PEM_MAX)
		return bh_error(err, 0, "%s: longer than %d bytes", path.s, PROVISION_PEM_MAX - 1);
	if (strncmp(s, "-----BEGIN ", 11) || !strstr(s, kind) || !strstr(s, "-----END "))
		return bh_error(err, 0, "%s: not a PEM %s", path.s, kind);
	*out = strdup(s);
	return *out ? 0 : bh_error(err, 0, "%s: out of memory", path.s);
}

int provision_parse(const char *json, size_t len, const char *what, struct provision *p,
                    struct bh_error *err)
{
	static const char *const keys[] = {
	    "format",   "registry",      "repository", "group",       "ca",         "username",
	    "password", "poll_interval", "device_id",  "device_cert", "device_key", "broker",
	    "broker_ca", "topic_prefix", "status_period", NULL};
	char format[32] = "";
	yyjson_read_err e;
	yyjson_doc *doc;
	yyjson_val *root, *v;
	int rc = -1;

	memset(p, 0, sizeof(*p));
	if (len > PROVISION_MAX)
		return bh_error(err, 0, "%s: %zu bytes, at most %d", what, len, PROVISION_MAX);
	doc = yyjson_read_opts((char *)json, len, 0, NULL, &e);
	if (!doc)
		return bh_error(err, 0, "%s: not JSON: %s at byte %zu", what, e.msg, e.pos);
	root = yyjson_doc_get_root(doc);
	if (json_object(root, "$", err) < 0 || json_known_keys(root, "$", keys, err) < 0 ||
	    json_string_copy(yyjson_obj_get(root, "format"), "$.format", format, sizeof(format),
	                     err) < 0)
		goto out;
	if (strcmp(format, PROVISION_FORMAT)) {
		bh_error(err, 0, "$.format: \"%s\", expected \"%s\"", format, PROVISION_FORMAT);
		goto out;
	}
	if (opt_str(root, "registry", p->registry, sizeof(p->registry), err) < 0 ||
	    opt_str(root, "repository", p->repository, sizeof(p->repository), err) < 0 ||
	    opt_str(root, "group", p->group, sizeof(p->group), err) < 0 ||
	    opt_str(root, "username", p->username, sizeof(p->username), err) < 0 ||
	    opt_str(root, "password", p->password, sizeof(p->password), err) < 0 ||
	    opt_str(root, "device_id", p->device_id, sizeof(p->device_id), err) < 0 ||
	    opt_pem(root, "ca", "CERTIFICATE", &p->ca, err) < 0 ||
	    opt_pem(root, "device_cert", "CERTIFICATE", &p->device_cert, err) < 0 ||
	    opt_pem(root, "device_key", "PRIVATE KEY", &p->device_key, err) < 0 ||
	    opt_str(root, "broker", p->broker, sizeof(p->broker), err) < 0 ||
	    opt_str(root, "topic_prefix", p->topic_prefix, sizeof(p->topic_prefix), err) < 0 ||
	    opt_pem(root, "broker_ca", "CERTIFICATE", &p->broker_ca, err) < 0)
		goto out;
	if ((v = yyjson_obj_get(root, "status_period"))) {
		uint64_t n;

		if (json_u64_range(v, "$.status_period", 1, PROVISION_PERIOD_MAX, &n, err) < 0)
			goto out;
		p->status_period = (uint32_t)n;
	}
	if (p->device_id[0] && !report_device_valid(p->device_id)) {
		bh_error(err, 0, "$.device_id: \"%s\" is not a device id (1 to 63 of A-Z a-z 0-9 . _ -)",
		         p->device_id);
		goto out;
	}
	if (p->topic_prefix[0] && !report_prefix_valid(p->topic_prefix)) {
		bh_error(err, 0, "$.topic_prefix: \"%s\" is not a topic prefix (levels of A-Z a-z 0-9 "
		                 ". _ - separated by /)", p->topic_prefix);
		goto out;
	}
	if (p->broker[0]) {
		char host[REGISTRY_HOST_MAX], port[8];

		if (report_broker_split(p->broker, host, sizeof(host), port, sizeof(port), err) < 0) {
			bh_error_wrap(err, "$.broker");
			goto out;
		}
	}
	if ((v = yyjson_obj_get(root, "poll_interval"))) {
		uint64_t n;

		if (json_u64_range(v, "$.poll_interval", STATE_POLL_MIN, STATE_POLL_MAX, &n, err) <
		    0)
			goto out;
		p->poll_interval = (uint32_t)n;
	}
	if (p->group[0] && !registry_tag_valid(p->group)) {
		bh_error(err, 0, "$.group: \"%s\" cannot be part of a tag", p->group);
		goto out;
	}
	if (!p->device_cert != !p->device_key) {
		bh_error(err, 0, "$.device_cert and $.device_key come together");
		goto out;
	}
	if (!p->username[0] != !p->password[0]) {
		bh_error(err, 0, "$.username and $.password come together");
		goto out;
	}
	rc = 0;
out:
	yyjson_doc_free(doc);
	if (rc < 0) {
		bh_error_wrap(err, "%s", what);
		provision_free(p);
	}
	return rc;
}

int provision_write(const struct provision *p, char **json, size_t *len, struct bh_error *err)
{
	yyjson_mut_doc *doc = yyjson_mut_doc_new(NULL);
	yyjson_mut_val *root;

	if (!doc)
		return bh_error(err, 0, "provisioning: out of memory");
	root = yyjson_mut_obj(doc);
	yyjson_mut_doc_set_root(doc, root);
	yyjson_mut_obj_add_str(doc, root, "format", PROVISION_FORMAT);
#define ADD_STR(k)                                                                                 \
	if (p->k[0])                                                                               \
	yyjson_mut_obj_add_strcpy(doc, root, #k, p->k)
	ADD_STR(registry);
	ADD_STR(repository);
	ADD_STR(group);
	ADD_STR(username);
	ADD_STR(password);
	ADD_STR(device_id);
	ADD_STR(broker);
	ADD_STR(topic_prefix);
#undef ADD_STR
	if (p->status_period)
		yyjson_mut_obj_add_uint(doc, root, "status_period", p->status_period);
	if (p->broker_ca)
		yyjson_mut_obj_add_strcpy(doc, root, "broker_ca", p->broker_ca);
	if (p->poll_interval)
		yyjson_mut_obj_add_uint(doc, root, "poll_interval", p->poll_interval);
	if (p->ca)
		yyjson_mut_obj_add_strcpy(doc, root, "ca", p->ca);
	if (p->device_cert)
		yyjson_mut_obj_add_strcpy(doc, root, "device_cert", p->device_cert);
	if (p->device_key)
		yyjson_mut_obj_add_strcpy(doc, root, "device_key", p->device_key);
	*json = yyjson_mut_write(doc, YYJSON_WRITE_PRETTY, len);
	yyjson_mut_doc_free(doc);
	return *json ? 0 : bh_error(err, 0, "provisioning: out of memory");
}
