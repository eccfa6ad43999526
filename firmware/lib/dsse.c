/* DSSE envelopes over ECDSA P-256 (include/bulkhead/dsse.h). */
#include <bulkhead/dsse.h>

#include <dirent.h>
#include <errno.h>
#include <mbedtls/base64.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yyjson.h>

int dsse_pae(const char *type, const void *payload, size_t len, char **out, size_t *out_len,
             struct bh_error *err)
{
	size_t tlen = strlen(type), cap = tlen + len + 64;
	char *p = malloc(cap);
	int n;

	if (!p)
		return bh_error(err, ENOMEM, "encode the envelope");
	n = snprintf(p, cap, "DSSEv1 %zu %s %zu ", tlen, type, len);
	memcpy(p + n, payload, len);
	*out = p;
	*out_len = (size_t)n + len;
	return 0;
}

static char *b64_encode(const void *data, size_t len)
{
	size_t olen = 0, cap = 4 * ((len + 2) / 3) + 1;
	char *o = malloc(cap);

	if (o && mbedtls_base64_encode((unsigned char *)o, cap, &olen, data, len) != 0) {
		free(o);
		return NULL;
	}
	return o;
}

/* Decodes standard base64 into a malloc'd, NUL-terminated buffer. */
static int b64_decode(const char *s, unsigned char **out, size_t *len)
{
	size_t slen = strlen(s), cap = slen / 4 * 3 + 3;
	unsigned char *o = malloc(cap);

	if (!o || mbedtls_base64_decode(o, cap - 1, len, (const unsigned char *)s, slen) != 0) {
		free(o);
		return -1;
	}
	o[*len] = 0;
	*out = o;
	return 0;
}

int dsse_sign(const char *type, const void *payload, size_t len, const char *key_pem,
              char **envelope, size_t *envelope_len, struct bh_error *err)
{
	unsigned char sig[SIGN_MAX_SIG];
	char id[SIGN_KEY_ID_LEN + 1], *pae = NULL, *b64p = NULL, *b64s = NULL;
	size_t pae_len = 0, sig_len = 0;
	yyjson_mut_doc *d = NULL;
	yyjson_mut_val *root, *sigs, *s;
	int rc = -1;

	if (sign_key_id(key_pem, id, err) < 0 ||
	    dsse_pae(type, payload, len, &pae, &pae_len, err) < 0 ||
	    sign_data(key_pem, pae, pae_len, sig, &sig_len, err) < 0)
		goto out;
	b64p = b64_encode(payload, len);
	b64s = b64_encode(sig, sig_len);
	d = yyjson_mut_doc_new(NULL);
	if (!b64p || !b64s || !d) {
		bh_error(err, ENOMEM, "encode the envelope");
		goto out;
	}
	root = yyjson_mut_obj(d);
	yyjson_mut_doc_set_root(d, root);
	yyjson_mut_obj_add_str(d, root, "payloadType", type);
	yyjson_mut_obj_add_str(d, root, "payload", b64p);
	sigs = yyjson_mut_obj_add_arr(d, root, "signatures");
	s = yyjson_mut_arr_add_obj(d, sigs);
	yyjson_mut_obj_add_str(d, s, "keyid", id);
	yyjson_mut_obj_add_str(d, s, "sig", b64s);
	*envelope = yyjson_mut_write(d, YYJSON_WRITE_PRETTY_TWO_SPACES, envelope_len);
	if (!*envelope) {
		bh_error(err, ENOMEM, "encode the envelope");
		goto out;
	}
	rc = 0;
out:
	yyjson_mut_doc_free(d);
	free(pae);
	free(b64p);
	free(b64s);
	return rc;
}

/* The trusted key file with this id in dir, into path. */
static int find_key(const char *dir, const char *id, char *path, size_t cap, struct bh_error *err)
{
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return bh_error(err, errno, "open trusted keys %s", dir);
	while ((e = readdir(d))) {
		char kid[SIGN_KEY_ID_LEN + 1];
		struct bh_error ignored;
		size_t n = strlen(e->d_name);

		if (n < 5 || strcmp(e->d_name + n - 4, ".pem"))
			continue;
		snprintf(path, cap, "%s/%s", dir, e->d_name);
		if (sign_key_id(path, kid, &ignored) == 0 && !strcmp(kid, id)) {
			closedir(d);
			return 1;
		}
	}
	closedir(d);
	return 0;
}

#define MALFORMED(...) (*why = DSSE_MALFORMED, bh_error(err, 0, __VA_ARGS__))

int dsse_open(const char *envelope, size_t len, const char *what, const char *type,
              const char *keys_dir, char **payload, size_t *payload_len,
              char key_id[SIGN_KEY_ID_LEN + 1], enum dsse_failure *why, struct bh_error *err)
{
	yyjson_doc *d = yyjson_read(envelope, len, 0);
	yyjson_val *root = yyjson_doc_get_root(d), *sigs, *s;
	const char *ptype, *p64;
	unsigned char *body = NULL;
	char *pae = NULL, unknown[DSSE_MAX_SIGNATURES * (SIGN_KEY_ID_LEN + 2) + 1] = "";
	size_t body_len = 0, pae_len = 0, i, max;
	int bad = 0, rc = -1;

	*why = DSSE_OK;
	*payload = NULL;
	key_id[0] = 0;
	if (!yyjson_is_obj(root)) {
		MALFORMED("%s: not a signed envelope (not a JSON object)", what);
		goto out;
	}
	ptype = yyjson_get_str(yyjson_obj_get(root, "payloadType"));
	p64 = yyjson_get_str(yyjson_obj_get(root, "payload"));
	sigs = yyjson_obj_get(root, "signatures");
	if (!ptype || !p64 || !yyjson_is_arr(sigs)) {
		MALFORMED(
		    "%s: not a signed envelope (payloadType, payload and signatures are needed)",
		    what);
		goto out;
	}
	if (strcmp(ptype, type)) {
		MALFORMED("%s: payloadType is %s, expected %s", what, ptype, type);
		goto out;
	}
	if (b64_decode(p64, &body, &body_len) < 0) {
		MALFORMED("%s: payload is not base64", what);
		goto out;
	}
	if (yyjson_arr_size(sigs) == 0 || yyjson_arr_size(sigs) > DSSE_MAX_SIGNATURES) {
		MALFORMED("%s: signatures must hold 1 to %d signatures", what, DSSE_MAX_SIGNATURES);
		goto out;
	}
	if (!keys_dir)
		goto accepted;
	if (dsse_pae(type, body, body_len, &pae, &pae_len, err) < 0) {
		*why = DSSE_MALFORMED;
		goto out;
	}
	yyjson_arr_foreach(sigs, i, max, s)
	{
		const char *id = yyjson_get_str(yyjson_obj_get(s, "keyid"));
		const char *sig64 = yyjson_get_str(yyjson_obj_get(s, "sig"));
		unsigned char *sig = NULL;
		char path[4096];
		size_t sig_len = 0;
		int found;

		if (!id || !sig64 || strlen(id) != SIGN_KEY_ID_LEN) {
			MALFORMED("%s: signatures[%zu] needs a keyid of %d hex digits and a sig",
			          what, i, SIGN_KEY_ID_LEN);
			goto out;
		}
		found = find_key(keys_dir, id, path, sizeof(path), err);
		if (found < 0) {
			*why = DSSE_UNKNOWN_KEY;
			goto out;
		}
		if (!found) {
			strcat(unknown, unknown[0] ? ", " : "");
			strcat(unknown, id);
			continue;
		}
		if (b64_decode(sig64, &sig, &sig_len) < 0) {
			MALFORMED("%s: signatures[%zu].sig is not base64", what, i);
			goto out;
		}
		if (sign_verify_file(path, pae, pae_len, sig, sig_len, err) == 0) {
			free(sig);
			strcpy(key_id, id);
			goto accepted;
		}
		free(sig);
		bad = 1;
	}
	if (bad) {
		*why = DSSE_BAD_SIGNATURE;
		bh_error_wrap(err, "%s: bad signature (tampered, or signed over other bytes)",
		              what);
	} else {
		*why = DSSE_UNKNOWN_KEY;
		bh_error(err, 0,
		         "%s: signed by an unknown key (%s): not among the trusted keys in %s",
		         what, unknown, keys_dir);
	}
	goto out;
accepted:
	*payload = (char *)body;
	*payload_len = body_len;
	body = NULL;
	rc = 0;
out:
	free(body);
	free(pae);
	yyjson_doc_free(d);
	return rc;
}
