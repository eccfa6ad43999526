/* ECDSA P-256 over SHA-256 with mbedTLS: the signatures of workload bundles
 * and update files. Keys are PEM files; a key's id is the first 16 bytes of
 * the SHA-256 of its public key (DER), in hex. */
#ifndef BULKHEAD_SIGN_H
#define BULKHEAD_SIGN_H

#include <bulkhead/error.h>

#include <stddef.h>

#define SIGN_KEY_ID_LEN 32 /* hex characters */
#define SIGN_MAX_SIG    160

/* Writes a new key pair (private key mode 0600); refuses to overwrite. */
int sign_keygen(const char *private_pem, const char *public_pem, struct bh_error *err);
/* The id of a public or private key file. */
int sign_key_id(const char *pem_path, char id[SIGN_KEY_ID_LEN + 1], struct bh_error *err);
/* Signs SHA-256(data) with a private key; sig receives DER. */
int sign_data(const char *private_pem, const void *data, size_t len, unsigned char *sig,
	      size_t *sig_len, struct bh_error *err);
/* Finds the public key with this id among dir/ *.pem and checks the
 * signature. Errors say "unknown key" or "bad signature". */
int sign_verify_in_dir(const char *dir, const char *key_id, const void *data, size_t len,
		       const unsigned char *sig, size_t sig_len, struct bh_error *err);
/* Checks with one given public key file. */
int sign_verify_file(const char *public_pem, const void *data, size_t len,
		     const unsigned char *sig, size_t sig_len, struct bh_error *err);

#endif
