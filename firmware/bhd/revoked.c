/* The key revocation lists bhd holds (docs/vendor.md, "Revoking a key"):
 * the image's (TRUST_REVOKED, on the verified root) and the newest one a
 * desired state carried (REVOKED_FLEET, on /data). A key either names is
 * trusted for nothing: no bundle, update file or state it signed is
 * accepted, and no installed workload it signed starts again.
 *
 * Both are checked against the update keys, the release authority, so a
 * stolen state or workload key cannot revoke anything, nor un-revoke
 * itself. The fleet's list is replaced only by a higher serial that still
 * names every key it revokes (revoke_compare), written whole (temporary
 * file, fsync, rename, fsync of the folder) before it is used. */
#include "bhd.h"

#include <bulkhead/fs.h>
#include <bulkhead/revoke.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Where they are, and the keys that sign them (a unit test,
 * tests/unit/test_bhd_revoked.c, points these at its own folder). */
#ifndef REVOKED_IMAGE_LIST
#define REVOKED_IMAGE_LIST TRUST_REVOKED
#define REVOKED_FLEET_DIR  FLEET_DIR
#define REVOKED_FLEET_LIST REVOKED_FLEET
#define REVOKED_KEYS_DIR   UPDATE_KEYS
#endif

static struct revocations *image_list, *fleet_list;

/* A held list from path, checked as on arrival; NULL when there is none
 * or it is refused (said in the log). */
static struct revocations *load(const char *path)
{
	struct revocations *r = malloc(sizeof(*r));
	struct bh_error err;
	size_t len = 0;
	char *text;

	if (!r)
		return NULL;
	text = bh_read_file(path, REVOKE_MAX_BYTES, &len, &err);
	if (!text) {
		if (err.code != ENOENT)
			bhd_log("bhd: revocations: %s: ignored", err.msg);
		free(r);
		return NULL;
	}
	if (revoke_read(text, len, path, REVOKED_KEYS_DIR, r, &err) < 0) {
		bhd_log("bhd: revocations: %s: ignored", err.msg);
		free(text);
		free(r);
		return NULL;
	}
	free(text);
	bhd_log("bhd: revocations: %s: serial %llu, %zu keys revoked, signed by key %s", path,
	        (unsigned long long)r->serial, r->n, r->signer);
	return r;
}

void revoked_load(void)
{
	free(image_list);
	free(fleet_list);
	image_list = load(REVOKED_IMAGE_LIST);
	fleet_list = load(REVOKED_FLEET_LIST);
}

int revoked_check(const char *key_id, const char *what, struct bh_error *err)
{
	if (revoke_check(image_list, REVOKED_IMAGE_LIST, key_id, what, err) < 0 ||
	    revoke_check(fleet_list, REVOKED_FLEET_LIST, key_id, what, err) < 0)
		return -1;
	return 0;
}

int revoked_adopt(const char *json, size_t len, const char *what, struct bh_error *err)
{
	struct revocations *r = malloc(sizeof(*r));
	enum revoke_order order;

	if (!r)
		return bh_error(err, ENOMEM, "%s", what);
	if (revoke_read(json, len, what, REVOKED_KEYS_DIR, r, err) < 0)
		goto refuse;
	/* A list signed by a key the held lists revoke is refused (a key
	 * may still revoke itself: the held lists do not name it yet). */
	if (revoked_check(r->signer, what, err) < 0)
		goto refuse;
	order = revoke_compare(fleet_list, r, what, err);
	if (order == REVOKE_CONFLICT)
		goto refuse;
	if (order == REVOKE_SAME) {
		free(r);
		return 0;
	}
	if (order == REVOKE_OLDER) {
		bhd_log(
		    "bhd: revocations: %s: serial %llu is older than the held %llu: kept the held "
		    "one",
		    what, (unsigned long long)r->serial, (unsigned long long)fleet_list->serial);
		free(r);
		return 0;
	}
	if (mkdir(REVOKED_FLEET_DIR, 0700) < 0 && errno != EEXIST) {
		bh_error(err, errno, "mkdir %s", REVOKED_FLEET_DIR);
		goto refuse;
	}
	if (bh_write_atomic(REVOKED_FLEET_LIST, json, len, 0644, err) < 0)
		goto refuse;
	free(fleet_list);
	fleet_list = r;
	bhd_log("bhd: revocations: %s: serial %llu adopted, %zu keys revoked, signed by key %s",
	        what, (unsigned long long)r->serial, r->n, r->signer);
	for (int i = 0; i < WORKLOADS_MAX; i++) {
		struct workload *w = &workloads[i];
		struct bh_error why;

		if (w->used && w->signer[0] && revoked_check(w->signer, w->m.name, &why) < 0)
			bhd_log("bhd: %s: its signing key %s is revoked: it will not start again",
			        w->m.name, w->signer);
	}
	return 0;
refuse:
	free(r);
	return -1;
}

size_t revoked_status(char *out, size_t size)
{
	size_t n = 0;

	if (image_list && n < size)
		n += (size_t)snprintf(out + n, size - n,
		                      "revoked:     %zu keys (image, serial %llu)\n", image_list->n,
		                      (unsigned long long)image_list->serial);
	if (fleet_list && n < size)
		n += (size_t)snprintf(out + n, size - n,
		                      "revoked:     %zu keys (fleet, serial %llu)\n", fleet_list->n,
		                      (unsigned long long)fleet_list->serial);
	return n < size ? n : size;
}
