/* Signed key revocation lists, bulkhead-revocations/1 (docs/vendor.md):
 * the ids of signing keys a device must no longer trust, whatever trust
 * root holds them. A list travels as the payload of a DSSE envelope
 * (include/bulkhead/dsse.h) signed by an update key, the release
 * authority (/etc/bulkhead/keys/updates/):
 *
 *   {"format": "bulkhead-revocations/1", "serial": 3,
 *    "issued": "2026-12-07T10:00:00Z",
 *    "revoked": [{"key_id": "<32 hex>", "reason": "laptop stolen"}]}
 *
 * "reason" is optional. A list replaces another only when its serial is
 * higher and it still names every key the other revokes: a key once
 * revoked stays revoked (revoke_compare). */
#ifndef BULKHEAD_REVOKE_H
#define BULKHEAD_REVOKE_H

#include <bulkhead/error.h>
#include <bulkhead/sign.h>

#include <stddef.h>
#include <stdint.h>

#define REVOKE_FORMAT       "bulkhead-revocations/1"
#define REVOKE_PAYLOAD_TYPE "application/vnd.bulkhead.revocations.v1+json"
#define REVOKE_MAX_BYTES    (128 * 1024) /* the envelope */
#define REVOKE_MAX_KEYS     256
#define REVOKE_REASON_MAX   128 /* with the NUL */

struct revoked_key {
	char key_id[SIGN_KEY_ID_LEN + 1];
	char reason[REVOKE_REASON_MAX]; /* "" when none was given */
};

struct revocations {
	uint64_t serial;
	int64_t issued; /* seconds since the epoch, UTC */
	struct revoked_key keys[REVOKE_MAX_KEYS];
	size_t n;
	char signer[SIGN_KEY_ID_LEN + 1]; /* the key that signed it (revoke_read) */
};

/* Checks the envelope's signature against the public keys in keys_dir
 * BEFORE the payload is parsed (keys_dir NULL: no signature check, for
 * bhpack's own reading of a list it is about to sign), then parses it.
 * Errors name `what` and say what is wrong: not an envelope, unknown key,
 * bad signature, a field. */
int revoke_read(const char *envelope, size_t len, const char *what, const char *keys_dir,
                struct revocations *r, struct bh_error *err);

/* Parses and validates a payload's fields only. Errors name the field. */
int revoke_parse(const char *json, size_t len, const char *what, struct revocations *r,
                 struct bh_error *err);

/* The payload JSON of r (malloc'd), fields in the documented order. */
int revoke_write(const struct revocations *r, char **json, size_t *len, struct bh_error *err);

/* The entry revoking key_id, or NULL. r may be NULL (no list). */
const struct revoked_key *revoke_find(const struct revocations *r, const char *key_id);

/* Adds key_id (reason may be NULL) unless r lists it already. */
int revoke_add(struct revocations *r, const char *key_id, const char *reason, struct bh_error *err);

/* Refuses a file signed by a key r revokes: -1 with "what: signed by key
 * <id>, revoked by <list> (serial N: reason)", else 0. */
int revoke_check(const struct revocations *r, const char *list, const char *key_id,
                 const char *what, struct bh_error *err);

/* How a list that arrives (next) relates to the one held. */
enum revoke_order {
	REVOKE_NEWER,    /* a higher serial naming every key held: it replaces it */
	REVOKE_SAME,     /* the same serial and the same keys */
	REVOKE_OLDER,    /* a lower serial: the held list stays */
	REVOKE_CONFLICT, /* would un-revoke a key, or the same serial with other keys */
};
/* held may be NULL (nothing held: any list is NEWER). For CONFLICT, err
 * names `what` and the key it would un-revoke. */
enum revoke_order revoke_compare(const struct revocations *held, const struct revocations *next,
                                 const char *what, struct bh_error *err);

#endif
