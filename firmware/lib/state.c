/* Reading the desired state (include/bulkhead/state.h): signature first,
 * then the fields, then freshness. */
#include <bulkhead/dsse.h>
#include <bulkhead/manifest.h>
#include <bulkhead/state.h>
#include <bulkhead/update.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <yyjson.h>

const char *state_verdict_name(enum state_verdict v)
{
	static const char *const names[] = {
	    [STATE_ACCEPTED] = "accepted",       [STATE_MALFORMED] = "malformed",
	    [STATE_UNKNOWN_KEY] = "unknown-key", [STATE_BAD_SIGNATURE] = "bad-signature",
	    [STATE_WRONG_GROUP] = "wrong-group", [STATE_REPLAYED] = "replayed",
	    [STATE_EXPIRED] = "expired",
	};

	return (unsigned)v < sizeof(names) / sizeof(names[0]) ? names[v] : "unknown";
}

int state_time_parse(const char *s, int64_t *t)
{
	struct tm tm = {0}, back;
	time_t v;
	int n = 0;

	if (strlen(s) != 20 ||
	    sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2dZ%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
	           &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &n) != 6 ||
	    n != 20)
		return -1;
	for (int i = 0; i < 20; i++)
		if (!(i == 4 || i == 7 || i == 10 || i == 13 || i == 16 || i == 19) &&
		    !isdigit((unsigned char)s[i]))
			return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	back = tm;
	v = timegm(&tm);
	/* timegm normalises 2026-02-30 into March: refuse such dates. */
	if (v == (time_t)-1 || tm.tm_mday != back.tm_mday || tm.tm_mon != back.tm_mon ||
	    tm.tm_hour != back.tm_hour || tm.tm_min != back.tm_min || tm.tm_sec != back.tm_sec)
		return -1;
	*t = (int64_t)v;
	return 0;
}

void state_time_format(int64_t t, char out[21])
{
	time_t v = (time_t)t;
	struct tm tm;

	gmtime_r(&v, &tm);
	strftime(out, 21, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

#define FAIL(...) bh_error(err, 0, __VA_ARGS__)

/* Every key of o must be in allowed (NULL-terminated). */
static int only_keys(yyjson_val *o, const char *const *allowed, const char *what, const char *where,
                     struct bh_error *err)
{
	yyjson_val *k, *val;
	size_t i, max;

	yyjson_obj_foreach(o, i, max, k, val)
	{
		const char *name = yyjson_get_str(k);
		int ok = 0;

		for (const char *const *a = allowed; *a && !ok; a++)
			ok = !strcmp(name, *a);
		if (!ok)
			return FAIL("%s: %sunknown field '%s'", what, where, name);
	}
	return 0;
}

static int get_str(yyjson_val *o, const char *key, char *out, size_t cap, const char *what,
                   const char *where, struct bh_error *err)
{
	yyjson_val *v = yyjson_obj_get(o, key);
	const char *s = yyjson_get_str(v);

	if (!v)
		return FAIL("%s: %s%s is missing", what, where, key);
	if (!s)
		return FAIL("%s: %s%s must be a string", what, where, key);
	if (strlen(s) >= cap || strlen(s) != yyjson_get_len(v))
		return FAIL("%s: %s%s is longer than %zu characters", what, where, key, cap - 1);
	strcpy(out, s);
	return 0;
}

static int get_time(yyjson_val *o, const char *key, int64_t *t, const char *what,
                    struct bh_error *err)
{
	char buf[32];

	if (get_str(o, key, buf, sizeof(buf), what, "", err) < 0)
		return -1;
	if (state_time_parse(buf, t) < 0)
		return FAIL("%s: %s '%s' is not a UTC time like 2026-12-06T16:00:00Z", what, key,
		            buf);
	return 0;
}

static int version_valid(const char *v)
{
	size_t n = strlen(v);

	if (n == 0 || n >= STATE_VERSION_MAX || !isalnum((unsigned char)v[0]))
		return 0;
	for (; *v; v++)
		if (!isalnum((unsigned char)*v) && !strchr(".+~^_-", *v))
			return 0;
	return 1;
}

static int parse_firmware(yyjson_val *fw, const char *what, struct state *s, struct bh_error *err)
{
	static const char *const keys[] = {"version", "update", NULL};

	if (!yyjson_is_obj(fw))
		return FAIL("%s: firmware must be an object", what);
	if (only_keys(fw, keys, what, "firmware: ", err) < 0 ||
	    get_str(fw, "version", s->firmware_version, sizeof(s->firmware_version), what,
	            "firmware.", err) < 0 ||
	    get_str(fw, "update", s->firmware_update, sizeof(s->firmware_update), what, "firmware.",
	            err) < 0)
		return -1;
	if (!update_version_valid(s->firmware_version))
		return FAIL("%s: firmware.version '%s' must be 1-63 of 0-9 A-Z a-z . ~ ^ _ -", what,
		            s->firmware_version);
	if (!registry_digest_valid(s->firmware_update))
		return FAIL("%s: firmware.update '%s' is not sha256:<64 hex>", what,
		            s->firmware_update);
	s->has_firmware = 1;
	return 0;
}

static int parse_workloads(yyjson_val *arr, const char *what, struct state *s, struct bh_error *err)
{
	static const char *const keys[] = {"name", "version", "bundle", NULL};
	yyjson_val *w;
	size_t i, max;

	if (!yyjson_is_arr(arr))
		return FAIL("%s: workloads must be an array", what);
	if (yyjson_arr_size(arr) > STATE_MAX_WORKLOADS)
		return FAIL("%s: workloads lists %zu, at most %d are allowed", what,
		            yyjson_arr_size(arr), STATE_MAX_WORKLOADS);
	yyjson_arr_foreach(arr, i, max, w)
	{
		struct state_workload *x = &s->workloads[i];
		char where[40];

		snprintf(where, sizeof(where), "workloads[%zu].", i);
		if (!yyjson_is_obj(w))
			return FAIL("%s: workloads[%zu] must be an object", what, i);
		if (only_keys(w, keys, what, where, err) < 0 ||
		    get_str(w, "name", x->name, sizeof(x->name), what, where, err) < 0 ||
		    get_str(w, "version", x->version, sizeof(x->version), what, where, err) < 0 ||
		    get_str(w, "bundle", x->bundle, sizeof(x->bundle), what, where, err) < 0)
			return -1;
		if (!wl_valid_name(x->name))
			return FAIL("%s: %sname '%s' must be a-z, 0-9, - and _", what, where,
			            x->name);
		if (!version_valid(x->version))
			return FAIL("%s: %sversion '%s' must be 1-63 of 0-9 A-Z a-z . + ~ ^ _ -",
			            what, where, x->version);
		if (!registry_digest_valid(x->bundle))
			return FAIL("%s: %sbundle '%s' is not sha256:<64 hex>", what, where,
			            x->bundle);
		for (size_t j = 0; j < i; j++)
			if (!strcmp(s->workloads[j].name, x->name))
				return FAIL("%s: %sname '%s' is listed twice", what, where,
				            x->name);
		s->n_workloads = i + 1;
	}
	return 0;
}

/* The revocation list it carries: kept as JSON for the device to check
 * its signature (against the update keys, not the state keys); here only
 * its form. */
static int parse_revocations(yyjson_val *v, const char *what, struct state *s,
                             struct bh_error *err)
{
	struct revocations *r;
	char *text, where[512];
	size_t len = 0;
	int rc;

	if (!yyjson_is_obj(v))
		return FAIL("%s: revocations must be a signed revocation list (a JSON object)", what);
	text = yyjson_val_write(v, 0, &len);
	if (!text)
		return bh_error(err, ENOMEM, "%s: revocations", what);
	if (len > REVOKE_MAX_BYTES) {
		free(text);
		return FAIL("%s: revocations is %zu bytes, at most %d", what, len, REVOKE_MAX_BYTES);
	}
	r = malloc(sizeof(*r));
	if (!r) {
		free(text);
		return bh_error(err, ENOMEM, "%s: revocations", what);
	}
	snprintf(where, sizeof(where), "%s: revocations", what);
	rc = revoke_read(text, len, where, NULL, r, err);
	if (rc == 0) {
		memcpy(s->revocations, text, len);
		s->revocations[len] = 0;
		s->revocations_len = len;
	}
	free(r);
	free(text);
	return rc;
}

int state_parse(const char *json, size_t len, const char *what, struct state *s,
                struct bh_error *err)
{
	static const char *const keys[] = {"format",   "group",     "serial",
	                                   "issued",   "expires",   "poll_interval",
	                                   "firmware", "workloads", "revocations",
	                                   NULL};
	yyjson_doc *d = yyjson_read(json, len, 0);
	yyjson_val *root = yyjson_doc_get_root(d), *v, *fw;
	char format[32];
	int rc = -1;

	memset(s, 0, sizeof(*s));
	if (!yyjson_is_obj(root)) {
		FAIL("%s: the state is not a JSON object", what);
		goto out;
	}
	if (only_keys(root, keys, what, "", err) < 0 ||
	    get_str(root, "format", format, sizeof(format), what, "", err) < 0)
		goto out;
	if (strcmp(format, STATE_FORMAT)) {
		FAIL("%s: format is '%s', expected %s", what, format, STATE_FORMAT);
		goto out;
	}
	if (get_str(root, "group", s->group, sizeof(s->group), what, "", err) < 0)
		goto out;
	if (!wl_valid_name(s->group)) {
		FAIL("%s: group '%s' must be a-z, 0-9, - and _", what, s->group);
		goto out;
	}
	v = yyjson_obj_get(root, "serial");
	if (!yyjson_is_uint(v) || yyjson_get_uint(v) == 0) {
		FAIL("%s: serial must be a whole number from 1 up", what);
		goto out;
	}
	s->serial = yyjson_get_uint(v);
	if (get_time(root, "issued", &s->issued, what, err) < 0 ||
	    get_time(root, "expires", &s->expires, what, err) < 0)
		goto out;
	if (s->expires <= s->issued) {
		FAIL("%s: expires must be later than issued", what);
		goto out;
	}
	v = yyjson_obj_get(root, "poll_interval");
	if (!yyjson_is_uint(v) || yyjson_get_uint(v) < STATE_POLL_MIN ||
	    yyjson_get_uint(v) > STATE_POLL_MAX) {
		FAIL("%s: poll_interval must be seconds from %d to %d", what, STATE_POLL_MIN,
		     STATE_POLL_MAX);
		goto out;
	}
	s->poll_interval = (uint32_t)yyjson_get_uint(v);
	fw = yyjson_obj_get(root, "firmware");
	if (fw && parse_firmware(fw, what, s, err) < 0)
		goto out;
	v = yyjson_obj_get(root, "workloads");
	if (!v) {
		FAIL("%s: workloads is missing (an empty list removes every workload)", what);
		goto out;
	}
	if (parse_workloads(v, what, s, err) < 0)
		goto out;
	v = yyjson_obj_get(root, "revocations");
	if (v && parse_revocations(v, what, s, err) < 0)
		goto out;
	rc = 0;
out:
	yyjson_doc_free(d);
	return rc;
}

int state_read(const char *envelope, size_t len, const char *what, const struct state_check *c,
               struct state *s, enum state_verdict *v, struct bh_error *err)
{
	enum dsse_failure why;
	char *payload = NULL, key_id[SIGN_KEY_ID_LEN + 1], at[21];
	size_t plen = 0;
	int rc;

	memset(s, 0, sizeof(*s));
	*v = STATE_MALFORMED;
	if (len > STATE_MAX_BYTES)
		return FAIL("%s: %zu bytes, a state envelope is at most %d", what, len,
		            STATE_MAX_BYTES);
	/* The signature first: nothing of the payload is parsed before it
	 * has been checked against the trusted keys. */
	if (dsse_open(envelope, len, what, STATE_PAYLOAD_TYPE, c->keys_dir, &payload, &plen, key_id,
	              &why, err) < 0) {
		*v = why == DSSE_UNKNOWN_KEY     ? STATE_UNKNOWN_KEY
		     : why == DSSE_BAD_SIGNATURE ? STATE_BAD_SIGNATURE
		                                 : STATE_MALFORMED;
		return -1;
	}
	rc = state_parse(payload, plen, what, s, err);
	free(payload);
	if (rc < 0)
		return -1;
	strcpy(s->key_id, key_id);
	if (c->group && strcmp(c->group, s->group)) {
		*v = STATE_WRONG_GROUP;
		return FAIL("%s: the state is for group %s, this device is in group %s", what,
		            s->group, c->group);
	}
	if (s->serial < c->applied_serial) {
		*v = STATE_REPLAYED;
		return FAIL("%s: serial %" PRIu64 " is lower than the applied %" PRIu64
		            " (an older state replayed)",
		            what, s->serial, c->applied_serial);
	}
	if (c->now >= s->expires) {
		state_time_format(s->expires, at);
		*v = STATE_EXPIRED;
		return FAIL("%s: expired at %s (serial %" PRIu64 "): stale, the registry may be "
		            "withholding a newer state",
		            what, at, s->serial);
	}
	*v = STATE_ACCEPTED;
	return 0;
}
