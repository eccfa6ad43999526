#include <bulkhead/sign.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PEM_MAX 8192

struct rng {
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
};

static int rng_init(struct rng *r, struct bh_error *err)
{
	static const char pers[] = "bulkhead-sign";

	mbedtls_entropy_init(&r->entropy);
	mbedtls_ctr_drbg_init(&r->drbg);
	if (mbedtls_ctr_drbg_seed(&r->drbg, mbedtls_entropy_func, &r->entropy,
				  (const unsigned char *)pers, sizeof(pers)) != 0)
		return bh_error(err, 0, "seed the random generator");
	return 0;
}

static void rng_free(struct rng *r)
{
	mbedtls_ctr_drbg_free(&r->drbg);
	mbedtls_entropy_free(&r->entropy);
}

static int read_pem(const char *path, unsigned char *buf, size_t *len, struct bh_error *err)
{
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return bh_error(err, errno, "open key %s", path);
	n = read(fd, buf, PEM_MAX);
	close(fd);
	if (n < 0)
		return bh_error(err, errno, "read key %s", path);
	if (n >= PEM_MAX)
		return bh_error(err, 0, "key %s is larger than %d bytes", path, PEM_MAX - 1);
	buf[n] = 0;
	*len = (size_t)n + 1; /* mbedTLS wants the NUL counted for PEM */
	return 0;
}

/* Loads a private key, or failing that a public key. */
static int load_key(mbedtls_pk_context *pk, const char *path, bool want_private, struct rng *r,
		    struct bh_error *err)
{
	unsigned char buf[PEM_MAX];
	size_t len = 0;
	int rc;

	if (read_pem(path, buf, &len, err) < 0)
		return -1;
	rc = mbedtls_pk_parse_key(pk, buf, len, NULL, 0, mbedtls_ctr_drbg_random, &r->drbg);
	if (rc != 0 && !want_private) {
		mbedtls_pk_free(pk);
		mbedtls_pk_init(pk);
		rc = mbedtls_pk_parse_public_key(pk, buf, len);
	}
	memset(buf, 0, sizeof(buf));
	if (rc != 0)
		return bh_error(err, 0, "%s is not a %s key in PEM (mbedTLS error -0x%04x)", path,
				want_private ? "private" : "PEM", (unsigned)-rc);
	if (!mbedtls_pk_can_do(pk, MBEDTLS_PK_ECKEY) ||
	    mbedtls_pk_ec(*pk)->MBEDTLS_PRIVATE(grp).id != MBEDTLS_ECP_DP_SECP256R1)
		return bh_error(err, 0, "%s is not an ECDSA P-256 key", path);
	return 0;
}

/* A key loaded with the random generator that signing needs; key_close()
 * frees both, also after a failed key_open(). */
struct key {
	mbedtls_pk_context pk;
	struct rng r;
};

static int key_open(struct key *k, const char *path, bool want_private, struct bh_error *err)
{
	mbedtls_pk_init(&k->pk);
	if (rng_init(&k->r, err) < 0)
		return -1;
	return load_key(&k->pk, path, want_private, &k->r, err);
}

static void key_close(struct key *k)
{
	mbedtls_pk_free(&k->pk);
	rng_free(&k->r);
}

static int key_id(mbedtls_pk_context *pk, char id[SIGN_KEY_ID_LEN + 1], struct bh_error *err)
{
	unsigned char der[512], hash[32];
	int n = mbedtls_pk_write_pubkey_der(pk, der, sizeof(der));

	if (n < 0)
		return bh_error(err, 0, "encode public key (mbedTLS error -0x%04x)", (unsigned)-n);
	/* mbedtls writes DER at the end of the buffer. */
	mbedtls_sha256(der + sizeof(der) - n, (size_t)n, hash, 0);
	for (int i = 0; i < SIGN_KEY_ID_LEN / 2; i++)
		snprintf(id + 2 * i, 3, "%02x", hash[i]);
	return 0;
}

static int write_new(const char *path, const unsigned char *data, mode_t mode, struct bh_error *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	size_t len = strlen((const char *)data);

	if (fd < 0)
		return bh_error(err, errno, "create %s", path);
	if (write(fd, data, len) != (ssize_t)len || fsync(fd) < 0) {
		int e = errno;

		close(fd);
		unlink(path);
		return bh_error(err, e, "write %s", path);
	}
	close(fd);
	return 0;
}

int sign_keygen(const char *private_pem, const char *public_pem, struct bh_error *err)
{
	mbedtls_pk_context pk;
	unsigned char buf[PEM_MAX];
	struct rng r;
	int rc = -1;

	mbedtls_pk_init(&pk);
	if (rng_init(&r, err) < 0)
		goto out;
	if (mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0 ||
	    mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(pk), mbedtls_ctr_drbg_random,
				&r.drbg) != 0) {
		bh_error(err, 0, "generate an ECDSA P-256 key");
		goto out;
	}
	if (mbedtls_pk_write_key_pem(&pk, buf, sizeof(buf)) != 0 ||
	    write_new(private_pem, buf, 0600, err) < 0) {
		if (!err->msg[0])
			bh_error(err, 0, "encode the private key");
		goto out;
	}
	if (mbedtls_pk_write_pubkey_pem(&pk, buf, sizeof(buf)) != 0 ||
	    write_new(public_pem, buf, 0644, err) < 0) {
		unlink(private_pem);
		goto out;
	}
	rc = 0;
out:
	memset(buf, 0, sizeof(buf));
	mbedtls_pk_free(&pk);
	rng_free(&r);
	return rc;
}

int sign_key_id(const char *pem_path, char id[SIGN_KEY_ID_LEN + 1], struct bh_error *err)
{
	struct key k;
	int rc = key_open(&k, pem_path, false, err);

	if (rc == 0)
		rc = key_id(&k.pk, id, err);
	key_close(&k);
	return rc;
}

int sign_data(const char *private_pem, const void *data, size_t len, unsigned char *sig,
	      size_t *sig_len, struct bh_error *err)
{
	unsigned char hash[32];
	struct key k;
	int rc = key_open(&k, private_pem, true, err);

	if (rc == 0) {
		mbedtls_sha256(data, len, hash, 0);
		if (mbedtls_pk_sign(&k.pk, MBEDTLS_MD_SHA256, hash, sizeof(hash), sig, SIGN_MAX_SIG,
				    sig_len, mbedtls_ctr_drbg_random, &k.r.drbg) != 0)
			rc = bh_error(err, 0, "sign with %s", private_pem);
	}
	key_close(&k);
	return rc;
}

static int verify_pk(mbedtls_pk_context *pk, const char *what, const void *data, size_t len,
		     const unsigned char *sig, size_t sig_len, struct bh_error *err)
{
	unsigned char hash[32];

	mbedtls_sha256(data, len, hash, 0);
	if (mbedtls_pk_verify(pk, MBEDTLS_MD_SHA256, hash, sizeof(hash), sig, sig_len) != 0)
		return bh_error(err, 0, "bad signature: it does not verify with %s", what);
	return 0;
}

int sign_verify_file(const char *public_pem, const void *data, size_t len,
		     const unsigned char *sig, size_t sig_len, struct bh_error *err)
{
	struct key k;
	int rc = key_open(&k, public_pem, false, err);

	if (rc == 0)
		rc = verify_pk(&k.pk, public_pem, data, len, sig, sig_len, err);
	key_close(&k);
	return rc;
}

int sign_verify_in_dir(const char *dir, const char *id, const void *data, size_t len,
		       const unsigned char *sig, size_t sig_len, struct bh_error *err)
{
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		return bh_error(err, errno, "open trusted keys %s", dir);
	while ((e = readdir(d))) {
		char path[4096], kid[SIGN_KEY_ID_LEN + 1];
		struct bh_error ignored;
		size_t n = strlen(e->d_name);

		if (n < 5 || strcmp(e->d_name + n - 4, ".pem"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		if (sign_key_id(path, kid, &ignored) < 0 || strcmp(kid, id))
			continue;
		closedir(d);
		return sign_verify_file(path, data, len, sig, sig_len, err);
	}
	closedir(d);
	return bh_error(err, 0, "signed by an unknown key: %s is not among the trusted keys in %s",
			id, dir);
}
