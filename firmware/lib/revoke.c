/* Key revocation lists (include/bulkhead/revoke.h): the signature first,
 * then the fields; and the rule that a revoked key stays revoked. */
#include <bulkhead/dsse.h>
#include <bulkhead/json.h>
#include <bulkhead/revoke.h>
#include <bulkhead/state.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yyjson.h>

static int key_id_valid(const char *id)
{
	if (strlen(id) != SIGN_KEY_ID_LEN)
		return 0;
	for (; *id; id++)
		if (!isdigit((unsigned char)*id) && !(*id >= 'a' && *id <= 'f'))
			return 0;
	return 1;
}

const struct revoked_key *revoke_find(const struct revocations *r, const char *key_id)
{
	for (size_t i = 0; r && i < r->n; i++)
		if (!strcmp(r->keys[i].key_id, key_id))
			return &r->keys[i];
	return NULL;
}

int revoke_add(struct revocations *r, const char *key_id, const char *reason, struct bh_error *err)
{
	struct revoked_key *k;

	if (!key_id_valid(key_id))
		return bh_error(err, 0, "'%s' is not a key id (%d lowercase hex digits)", key_id,
		                SIGN_KEY_ID_LEN);
	if (reason && strlen(reason) >= REVOKE_REASON_MAX)
		return bh_error(err, 0, "the reason for %s is longer than %d characters", key_id,
		                REVOKE_REASON_MAX - 1);
	if (revoke_find(r, key_id))
		return 0;
	if (r->n == REVOKE_MAX_KEYS)
		return bh_error(err, 0, "a list revokes at most %d keys", REVOKE_MAX_KEYS);
	k = &r->keys[r->n++];
	snprintf(k->key_id, sizeof(k->key_id), "%s", key_id);
	snprintf(k->reason, sizeof(k->reason), "%s", reason ? reason : "");
	return 0;
}

static int parse_revoked(yyjson_val *arr, const char *what, struct revocations *r,
                         struct bh_error *err)
{
	static const char *const keys[] = {"key_id", "reason", NULL};
	struct json_path p, q;
	yyjson_val *k;
	size_t i, max;

	if (json_array_max(arr, "$.revoked", REVOKE_MAX_KEYS, err) < 0)
		return bh_error_wrap(err, "%s", what);
	yyjson_arr_foreach(arr, i, max, k)
	{
		char id[SIGN_KEY_ID_LEN + 2], reason[REVOKE_REASON_MAX] = "";
		const char *at = json_at(&p, "$.revoked", "[%zu]", i);

		if (json_object(k, at, err) < 0 || json_known_keys(k, at, keys, err) < 0)
			return bh_error_wrap(err, "%s", what);
		if (!yyjson_obj_get(k, "key_id"))
			return bh_error(err, 0, "%s: %s.key_id is missing", what, at);
		if (json_string_copy(yyjson_obj_get(k, "key_id"), json_at(&q, at, ".key_id"), id,
		                     sizeof(id), err) < 0)
			return bh_error_wrap(err, "%s", what);
		if (yyjson_obj_get(k, "reason") &&
		    json_string_copy(yyjson_obj_get(k, "reason"), json_at(&q, at, ".reason"),
		                     reason, sizeof(reason), err) < 0)
			return bh_error_wrap(err, "%s", what);
		if (revoke_find(r, id))
			return bh_error(err, 0, "%s: %s.key_id %s is listed twice", what, at, id);
		if (revoke_add(r, id, reason, err) < 0)
			return bh_error_wrap(err, "%s: %s.key_id", what, at);
	}
	return 0;
}

int revoke_parse(const char *json, size_t len, const char *what, struct revocations *r,
                 struct bh_error *err)
{
	static const char *const keys[] = {"format", "serial", "issued", "revoked", NULL};
	yyjson_doc *d = yyjson_read(json, len, 0);
	yyjson_val *root = yyjson_doc_get_root(d), *v;
	const char *format = NULL, *issued = NULL;
	int rc = -1;

	memset(r, 0, sizeof(*r));
	if (!yyjson_is_obj(root)) {
		bh_error(err, 0, "%s: the revocation list is not a JSON object", what);
		goto out;
	}
	if (json_known_keys(root, "$", keys, err) < 0 ||
	    json_string(yyjson_obj_get(root, "format"), "$.format", &format, err) < 0) {
		bh_error_wrap(err, "%s", what);
		goto out;
	}
	if (!format || strcmp(format, REVOKE_FORMAT)) {
		bh_error(err, 0, "%s: format is '%s', expected %s", what,
		         format ? format : "missing", REVOKE_FORMAT);
		goto out;
	}
	v = yyjson_obj_get(root, "serial");
	if (!yyjson_is_uint(v) || yyjson_get_uint(v) == 0) {
		bh_error(err, 0, "%s: serial must be a whole number from 1 up", what);
		goto out;
	}
	r->serial = yyjson_get_uint(v);
	if (json_string(yyjson_obj_get(root, "issued"), "$.issued", &issued, err) < 0) {
		bh_error_wrap(err, "%s", what);
		goto out;
	}
	if (!issued || state_time_parse(issued, &r->issued) < 0) {
		bh_error(err, 0, "%s: issued must be a UTC time like 2026-12-06T16:00:00Z", what);
		goto out;
	}
	v = yyjson_obj_get(root, "revoked");
	if (!v) {
		bh_error(err, 0, "%s: revoked is missing", what);
		goto out;
	}
	rc = parse_revoked(v, what, r, err);
out:
	yyjson_doc_free(d);
	return rc;
}

int revoke_read(const char *envelope, size_t len, const char *what, const char *keys_dir,
                struct revocations *r, struct bh_error *err)
{
	char *payload = NULL, key_id[SIGN_KEY_ID_LEN + 1];
	enum dsse_failure why;
	size_t plen = 0;
	int rc;

	memset(r, 0, sizeof(*r));
	if (len > REVOKE_MAX_BYTES)
		return bh_error(err, 0, "%s: %zu bytes, a revocation list is at most %d", what, len,
		                REVOKE_MAX_BYTES);
	/* Nothing of the payload is parsed before its signature is checked. */
	if (dsse_open(envelope, len, what, REVOKE_PAYLOAD_TYPE, keys_dir, &payload, &plen, key_id,
	              &why, err) < 0)
		return -1;
	rc = revoke_parse(payload, plen, what, r, err);
	free(payload);
	if (rc == 0)
		snprintf(r->signer, sizeof(r->signer), "%s", key_id);
	return rc;
}

int revoke_write(const struct revocations *r, char **json, size_t *len, struct bh_error *err)
{
	yyjson_mut_doc *d = yyjson_mut_doc_new(NULL);
	yyjson_mut_val *root, *arr;
	char issued[21];

	if (!d)
		return bh_error(err, ENOMEM, "write the revocation list");
	state_time_format(r->issued, issued);
	root = yyjson_mut_obj(d);
	yyjson_mut_doc_set_root(d, root);
	yyjson_mut_obj_add_str(d, root, "format", REVOKE_FORMAT);
	yyjson_mut_obj_add_uint(d, root, "serial", r->serial);
	yyjson_mut_obj_add_strcpy(d, root, "issued", issued);
	arr = yyjson_mut_obj_add_arr(d, root, "revoked");
	for (size_t i = 0; i < r->n; i++) {
		yyjson_mut_val *k = yyjson_mut_arr_add_obj(d, arr);

		yyjson_mut_obj_add_str(d, k, "key_id", r->keys[i].key_id);
		if (r->keys[i].reason[0])
			yyjson_mut_obj_add_str(d, k, "reason", r->keys[i].reason);
	}
	*json = yyjson_mut_write(d, YYJSON_WRITE_PRETTY_TWO_SPACES, len);
	yyjson_mut_doc_free(d);
	if (!*json)
		return bh_error(err, ENOMEM, "write the revocation list");
	return 0;
}

int revoke_check(const struct revocations *r, const char *list, const char *key_id,
                 const char *what, struct bh_error *err)
{
	const struct revoked_key *k = revoke_find(r, key_id);

	if (!k)
		return 0;
	return bh_error(err, 0,
	                "%s: signed by key %s, revoked by %s (serial %" PRIu64 "%s%s): refused",
	                what, key_id, list, r->serial, k->reason[0] ? ": " : "", k->reason);
}

enum revoke_order revoke_compare(const struct revocations *held, const struct revocations *next,
                                 const char *what, struct bh_error *err)
{
	if (!held)
		return REVOKE_NEWER;
	if (next->serial < held->serial)
		return REVOKE_OLDER;
	for (size_t i = 0; i < held->n; i++)
		if (!revoke_find(next, held->keys[i].key_id)) {
			bh_error(err, 0,
			         "%s: serial %" PRIu64 " leaves out key %s, which serial %" PRIu64
			         " revokes: a revoked key stays revoked",
			         what, next->serial, held->keys[i].key_id, held->serial);
			return REVOKE_CONFLICT;
		}
	if (next->serial > held->serial)
		return REVOKE_NEWER;
	if (next->n != held->n) {
		bh_error(err, 0, "%s: serial %" PRIu64 " is held already with other keys", what,
		         next->serial);
		return REVOKE_CONFLICT;
	}
	return REVOKE_SAME;
}
