/* A gateway's own identity for bhpack provision (docs/fleet.md): a new
 * ECDSA P-256 key and an X.509 certificate for it, CN = the device id,
 * for client authentication only, signed by the vendor's device CA. The
 * same identity serves mutual TLS to the registry and to the MQTT broker,
 * where `use_identity_as_username` makes the CN the device's name. */
#include "bhpack.h"

#include <bulkhead/fs.h>
#include <bulkhead/report.h>

#include <mbedtls/asn1write.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define PEM_MAX 4096

static int tls_fail(struct bh_error *err, int rc, const char *what)
{
	char msg[128];

	mbedtls_strerror(rc, msg, sizeof(msg));
	return bh_error(err, 0, "%s: %s", what, msg);
}

int device_identity_make(const char *id, const char *ca_key, const char *ca_cert, unsigned days,
                         char **cert_pem, char **key_pem, struct bh_error *err)
{
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_pk_context key, issuer_key;
	mbedtls_x509_crt issuer;
	mbedtls_x509write_cert crt;
	mbedtls_asn1_sequence eku = {0};
	unsigned char serial[16];
	char subject[96], issuer_name[512], not_before[16], not_after[16];
	time_t now = time(NULL), until = now + (time_t)days * 86400;
	struct tm tm;
	int rc = -1, r;

	*cert_pem = *key_pem = NULL;
	if (!report_device_valid(id))
		return bh_error(err, 0,
		                "--device-id '%s': use 1 to 63 letters, digits, '-', '_', '.'", id);
	mbedtls_entropy_init(&entropy);
	mbedtls_ctr_drbg_init(&drbg);
	mbedtls_pk_init(&key);
	mbedtls_pk_init(&issuer_key);
	mbedtls_x509_crt_init(&issuer);
	mbedtls_x509write_crt_init(&crt);
	*cert_pem = calloc(1, PEM_MAX);
	*key_pem = calloc(1, PEM_MAX);
	if (!*cert_pem || !*key_pem) {
		bh_error(err, 0, "out of memory");
		goto out;
	}
	if ((r = mbedtls_ctr_drbg_seed(&drbg, mbedtls_entropy_func, &entropy,
	                               (const unsigned char *)id, strlen(id))) != 0) {
		tls_fail(err, r, "seed the random generator");
		goto out;
	}
	if ((r = mbedtls_x509_crt_parse_file(&issuer, ca_cert)) != 0) {
		tls_fail(err, r, ca_cert);
		goto out;
	}
	if ((r = mbedtls_pk_parse_keyfile(&issuer_key, ca_key, NULL, mbedtls_ctr_drbg_random,
	                                  &drbg)) != 0) {
		tls_fail(err, r, ca_key);
		goto out;
	}
	if (mbedtls_pk_check_pair(&issuer.pk, &issuer_key, mbedtls_ctr_drbg_random, &drbg) != 0) {
		bh_error(err, 0, "%s is not the key of %s", ca_key, ca_cert);
		goto out;
	}
	if ((r = mbedtls_pk_setup(&key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY))) != 0 ||
	    (r = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(key),
	                             mbedtls_ctr_drbg_random, &drbg)) != 0) {
		tls_fail(err, r, "generate the device key");
		goto out;
	}
	gmtime_r(&now, &tm);
	strftime(not_before, sizeof(not_before), "%Y%m%d%H%M%S", &tm);
	gmtime_r(&until, &tm);
	strftime(not_after, sizeof(not_after), "%Y%m%d%H%M%S", &tm);
	snprintf(subject, sizeof(subject), "CN=%s", id);
	mbedtls_ctr_drbg_random(&drbg, serial, sizeof(serial));
	serial[0] &= 0x7f; /* a positive INTEGER */
	eku.buf.tag = MBEDTLS_ASN1_OID;
	eku.buf.p = (unsigned char *)MBEDTLS_OID_CLIENT_AUTH;
	eku.buf.len = MBEDTLS_OID_SIZE(MBEDTLS_OID_CLIENT_AUTH);
	mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
	mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
	mbedtls_x509write_crt_set_subject_key(&crt, &key);
	mbedtls_x509write_crt_set_issuer_key(&crt, &issuer_key);
	if ((r = mbedtls_x509write_crt_set_subject_name(&crt, subject)) != 0) {
		tls_fail(err, r, "the certificate's subject");
		goto out;
	}
	if (mbedtls_x509_dn_gets(issuer_name, sizeof(issuer_name), &issuer.subject) < 0 ||
	    mbedtls_x509write_crt_set_issuer_name(&crt, issuer_name) != 0) {
		bh_error(err, 0, "%s: its subject cannot be an issuer name", ca_cert);
		goto out;
	}
	if ((r = mbedtls_x509write_crt_set_serial_raw(&crt, serial, sizeof(serial))) != 0 ||
	    (r = mbedtls_x509write_crt_set_validity(&crt, not_before, not_after)) != 0 ||
	    (r = mbedtls_x509write_crt_set_basic_constraints(&crt, 0, -1)) != 0 ||
	    (r = mbedtls_x509write_crt_set_key_usage(&crt, MBEDTLS_X509_KU_DIGITAL_SIGNATURE)) !=
	        0 ||
	    (r = mbedtls_x509write_crt_set_ext_key_usage(&crt, &eku)) != 0 ||
	    (r = mbedtls_x509write_crt_set_subject_key_identifier(&crt)) != 0 ||
	    (r = mbedtls_x509write_crt_set_authority_key_identifier(&crt)) != 0) {
		tls_fail(err, r, "the certificate's fields");
		goto out;
	}
	if ((r = mbedtls_x509write_crt_pem(&crt, (unsigned char *)*cert_pem, PEM_MAX,
	                                   mbedtls_ctr_drbg_random, &drbg)) != 0 ||
	    (r = mbedtls_pk_write_key_pem(&key, (unsigned char *)*key_pem, PEM_MAX)) != 0) {
		tls_fail(err, r, "write the device certificate and key");
		goto out;
	}
	rc = 0;
out:
	if (rc < 0) {
		if (*key_pem)
			memset(*key_pem, 0, PEM_MAX);
		free(*cert_pem);
		free(*key_pem);
		*cert_pem = *key_pem = NULL;
	}
	mbedtls_x509write_crt_free(&crt);
	mbedtls_x509_crt_free(&issuer);
	mbedtls_pk_free(&issuer_key);
	mbedtls_pk_free(&key);
	mbedtls_ctr_drbg_free(&drbg);
	mbedtls_entropy_free(&entropy);
	return rc;
}
