/* DSSE, the Dead Simple Signing Envelope (secure-systems-lab/dsse v1):
 *   {"payloadType": "...", "payload": "<base64>",
 *    "signatures": [{"keyid": "...", "sig": "<base64>"}]}
 * Each signature is ECDSA P-256 over SHA-256 (DER, include/bulkhead/sign.h)
 * of the pre-authentication encoding
 *   "DSSEv1" SP LEN(payloadType) SP payloadType SP LEN(payload) SP payload
 * (LEN in ASCII decimal), so the type is signed with the bytes. keyid is
 * our key id (sign_key_id). The desired state travels in one. */
#ifndef BULKHEAD_DSSE_H
#define BULKHEAD_DSSE_H

#include <bulkhead/error.h>
#include <bulkhead/sign.h>

#include <stddef.h>

#define DSSE_MAX_SIGNATURES 8

enum dsse_failure {
	DSSE_OK = 0,
	DSSE_MALFORMED,     /* not an envelope, or not of the expected payloadType */
	DSSE_UNKNOWN_KEY,   /* no signature is by a trusted key */
	DSSE_BAD_SIGNATURE, /* a trusted key's signature does not verify: tampered */
};

/* The pre-authentication encoding (malloc'd). */
int dsse_pae(const char *payload_type, const void *payload, size_t len, char **out, size_t *out_len,
             struct bh_error *err);

/* Signs payload with a private key into a new envelope (malloc'd JSON). */
int dsse_sign(const char *payload_type, const void *payload, size_t len, const char *key_pem,
              char **envelope, size_t *envelope_len, struct bh_error *err);

/* Checks an envelope against the public keys in keys_dir (*.pem) and gives
 * its payload (malloc'd, NUL-terminated) and the key that signed it. Nothing
 * in the payload is looked at. keys_dir NULL skips the signatures (bhpack's
 * own checks of a file it is about to publish). */
int dsse_open(const char *envelope, size_t len, const char *what, const char *payload_type,
              const char *keys_dir, char **payload, size_t *payload_len,
              char key_id[SIGN_KEY_ID_LEN + 1], enum dsse_failure *why, struct bh_error *err);

#endif
