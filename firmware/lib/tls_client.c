#include <bulkhead/tls_client.h>

#include <errno.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>
#include <netdb.h>
#include <poll.h>
#include <psa/crypto.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* mbedTLS writes at most one record per call. */
#define RECORD_MAX 16384

struct tls_client {
	mbedtls_entropy_context entropy;
	mbedtls_ctr_drbg_context drbg;
	mbedtls_x509_crt ca, own;
	mbedtls_pk_context key;
	mbedtls_ssl_config conf;
	mbedtls_ssl_context ssl;
	int fd;
	bool tcp_up, established;
	short events;
	struct addrinfo *addrs, *next_addr;
	char peer[320];    /* "host:port" for messages */
	char name[256];    /* the name the server's certificate must carry */
	int sys_errno;     /* errno of the last failed send or recv */
	size_t retry_len;  /* a write that must be repeated with this length */
};

static int mbed_error(struct bh_error *err, int rc, const char *what, const char *path)
{
	char text[160];

	mbedtls_strerror(rc, text, sizeof(text));
	return bh_error(err, 0, "%s %s: %s (mbedTLS -0x%04x)", what, path, text, (unsigned)-rc);
}

static int load(struct tls_client *t, const struct tls_client_config *cfg, struct bh_error *err)
{
	static const char pers[] = "bulkhead-tls-client";
	int rc;

	if (psa_crypto_init() != PSA_SUCCESS)
		return bh_error(err, 0, "initialise PSA crypto");
	if (mbedtls_ctr_drbg_seed(&t->drbg, mbedtls_entropy_func, &t->entropy,
				  (const unsigned char *)pers, sizeof(pers)) != 0)
		return bh_error(err, 0, "seed the random generator");
	rc = mbedtls_x509_crt_parse_file(&t->ca, cfg->ca_file);
	if (rc != 0)
		return mbed_error(err, rc, "load CA certificates from", cfg->ca_file);
	rc = mbedtls_x509_crt_parse_file(&t->own, cfg->cert_file);
	if (rc != 0)
		return mbed_error(err, rc, "load the device certificate from", cfg->cert_file);
	/* A process that may not open the key file is handed the key itself. */
	if (cfg->key_pem)
		rc = mbedtls_pk_parse_key(&t->key, (const unsigned char *)cfg->key_pem,
					  strlen(cfg->key_pem) + 1, NULL, 0, mbedtls_ctr_drbg_random,
					  &t->drbg);
	else
		rc = mbedtls_pk_parse_keyfile(&t->key, cfg->key_file, NULL, mbedtls_ctr_drbg_random,
					      &t->drbg);
	if (rc != 0)
		return mbed_error(err, rc, "load the device key from",
				  cfg->key_pem ? "the PEM text given" : cfg->key_file);
	if (mbedtls_pk_check_pair(&t->own.pk, &t->key, mbedtls_ctr_drbg_random, &t->drbg) != 0)
		return bh_error(err, 0, "key %s does not belong to certificate %s",
				cfg->key_pem ? "(given as PEM text)" : cfg->key_file, cfg->cert_file);
	rc = mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT,
					 MBEDTLS_SSL_TRANSPORT_STREAM, MBEDTLS_SSL_PRESET_DEFAULT);
	if (rc != 0)
		return mbed_error(err, rc, "configure", "TLS");
	mbedtls_ssl_conf_min_tls_version(&t->conf, MBEDTLS_SSL_VERSION_TLS1_2);
	mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
	mbedtls_ssl_conf_ca_chain(&t->conf, &t->ca, NULL);
	mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
	rc = mbedtls_ssl_conf_own_cert(&t->conf, &t->own, &t->key);
	if (rc != 0)
		return mbed_error(err, rc, "use the device certificate", cfg->cert_file);
	return 0;
}

struct tls_client *tls_client_new(const struct tls_client_config *cfg, struct bh_error *err)
{
	struct tls_client *t = calloc(1, sizeof(*t));

	if (!t) {
		bh_error(err, errno, "allocate a TLS client");
		return NULL;
	}
	t->fd = -1;
	mbedtls_entropy_init(&t->entropy);
	mbedtls_ctr_drbg_init(&t->drbg);
	mbedtls_x509_crt_init(&t->ca);
	mbedtls_x509_crt_init(&t->own);
	mbedtls_pk_init(&t->key);
	mbedtls_ssl_config_init(&t->conf);
	mbedtls_ssl_init(&t->ssl);
	if (load(t, cfg, err) < 0) {
		tls_client_free(t);
		return NULL;
	}
	return t;
}

void tls_client_close(struct tls_client *t)
{
	if (t->established)
		mbedtls_ssl_close_notify(&t->ssl); /* best effort: the socket is non-blocking */
	mbedtls_ssl_free(&t->ssl);
	mbedtls_ssl_init(&t->ssl);
	if (t->fd >= 0)
		close(t->fd);
	t->fd = -1;
	t->tcp_up = t->established = false;
	t->events = 0;
	t->retry_len = 0;
	if (t->addrs)
		freeaddrinfo(t->addrs);
	t->addrs = t->next_addr = NULL;
}

void tls_client_free(struct tls_client *t)
{
	if (!t)
		return;
	tls_client_close(t);
	mbedtls_ssl_config_free(&t->conf);
	mbedtls_pk_free(&t->key);
	mbedtls_x509_crt_free(&t->own);
	mbedtls_x509_crt_free(&t->ca);
	mbedtls_ctr_drbg_free(&t->drbg);
	mbedtls_entropy_free(&t->entropy);
	free(t);
}

int tls_client_fd(const struct tls_client *t)
{
	return t->fd;
}

short tls_client_events(const struct tls_client *t)
{
	return t->events;
}

uint64_t tls_client_random(struct tls_client *t)
{
	uint64_t v = 0;

	mbedtls_ctr_drbg_random(&t->drbg, (unsigned char *)&v, sizeof(v));
	return v;
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
	struct tls_client *t = ctx;
	ssize_t n = send(t->fd, buf, len, MSG_NOSIGNAL);

	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return MBEDTLS_ERR_SSL_WANT_WRITE;
	t->sys_errno = errno;
	return MBEDTLS_ERR_NET_SEND_FAILED;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
	struct tls_client *t = ctx;
	ssize_t n = recv(t->fd, buf, len, 0);

	if (n >= 0)
		return (int)n;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return MBEDTLS_ERR_SSL_WANT_READ;
	t->sys_errno = errno;
	return MBEDTLS_ERR_NET_RECV_FAILED;
}

/* Starts connecting to the next address; 0 while one is in progress. */
static int try_next_address(struct tls_client *t, struct bh_error *err)
{
	int last = t->sys_errno ? t->sys_errno : ECONNREFUSED;

	for (; t->next_addr; t->next_addr = t->next_addr->ai_next) {
		struct addrinfo *a = t->next_addr;

		t->fd = socket(a->ai_family, a->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			       a->ai_protocol);
		if (t->fd < 0) {
			last = errno;
			continue;
		}
		if (connect(t->fd, a->ai_addr, a->ai_addrlen) == 0 || errno == EINPROGRESS) {
			t->next_addr = a->ai_next;
			t->events = POLLOUT;
			return 0;
		}
		last = errno;
		close(t->fd);
		t->fd = -1;
	}
	return bh_error(err, last, "connect to %s", t->peer);
}

int tls_client_connect(struct tls_client *t, const char *host, const char *port,
		       const char *server_name, struct bh_error *err)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM};
	int rc;

	tls_client_close(t);
	snprintf(t->peer, sizeof(t->peer), "%s:%s", host, port);
	snprintf(t->name, sizeof(t->name), "%s", server_name ? server_name : host);
	t->sys_errno = 0;
	rc = getaddrinfo(host, port, &hints, &t->addrs);
	if (rc != 0) {
		t->addrs = NULL;
		return bh_error(err, rc == EAI_SYSTEM ? errno : 0, "resolve %s%s%s", t->peer,
				rc == EAI_SYSTEM ? "" : ": ", rc == EAI_SYSTEM ? "" : gai_strerror(rc));
	}
	t->next_addr = t->addrs;
	return try_next_address(t, err);
}

static const char *alert_name(unsigned char a)
{
	switch (a) {
	case MBEDTLS_SSL_ALERT_MSG_HANDSHAKE_FAILURE:
		return "handshake failure";
	case MBEDTLS_SSL_ALERT_MSG_BAD_CERT:
		return "bad certificate";
	case MBEDTLS_SSL_ALERT_MSG_UNSUPPORTED_CERT:
		return "unsupported certificate";
	case MBEDTLS_SSL_ALERT_MSG_CERT_REVOKED:
		return "certificate revoked";
	case MBEDTLS_SSL_ALERT_MSG_CERT_EXPIRED:
		return "certificate expired";
	case MBEDTLS_SSL_ALERT_MSG_CERT_UNKNOWN:
		return "certificate unknown";
	case MBEDTLS_SSL_ALERT_MSG_UNKNOWN_CA:
		return "unknown CA";
	case MBEDTLS_SSL_ALERT_MSG_ACCESS_DENIED:
		return "access denied";
	case MBEDTLS_SSL_ALERT_MSG_DECRYPT_ERROR:
		return "decrypt error";
	case MBEDTLS_SSL_ALERT_MSG_PROTOCOL_VERSION:
		return "protocol version";
	case MBEDTLS_SSL_ALERT_MSG_INTERNAL_ERROR:
		return "internal error";
	case MBEDTLS_SSL_ALERT_MSG_UNRECOGNIZED_NAME:
		return "unrecognized name";
	case MBEDTLS_SSL_ALERT_MSG_CERT_REQUIRED:
		return "certificate required";
	default:
		return "alert";
	}
}

/* What this device can tell about its own certificate's dates. */
static void own_cert_hint(const struct tls_client *t, char *buf, size_t size)
{
	const mbedtls_x509_time *to = &t->own.valid_to, *from = &t->own.valid_from;

	buf[0] = 0;
	if (mbedtls_x509_time_is_past(to))
		snprintf(buf, size, "; this device's certificate expired on %04d-%02d-%02d %02d:%02d:%02d UTC",
			 to->year, to->mon, to->day, to->hour, to->min, to->sec);
	else if (mbedtls_x509_time_is_future(from))
		snprintf(buf, size, "; this device's certificate is valid only from %04d-%02d-%02d "
				    "%02d:%02d:%02d UTC (is the clock right?)",
			 from->year, from->mon, from->day, from->hour, from->min, from->sec);
}

/* Turns an mbedTLS failure into the reason a person can act on. */
static int tls_failure(struct tls_client *t, int rc, const char *what, struct bh_error *err)
{
	char text[256], hint[128];
	uint32_t flags;
	unsigned char alert;

	switch (rc) {
	case MBEDTLS_ERR_X509_CERT_VERIFY_FAILED:
		flags = mbedtls_ssl_get_verify_result(&t->ssl);
		mbedtls_x509_crt_verify_info(text, sizeof(text), "", flags);
		for (char *p = text; (p = strchr(p, '\n'));)
			*p = p[1] ? ';' : 0;
		return bh_error(err, 0, "%s %s: the broker's certificate is not trusted for \"%s\": %s",
				what, t->peer, t->name, text);
	case MBEDTLS_ERR_SSL_FATAL_ALERT_MESSAGE:
		/* mbedTLS keeps the received alert only in its record buffer;
		 * there is no accessor, and the reason matters to the operator. */
		alert = t->ssl.MBEDTLS_PRIVATE(in_msg)[1];
		own_cert_hint(t, hint, sizeof(hint));
		return bh_error(err, 0, "%s %s: the broker refused the session with TLS alert \"%s\" (%u)%s",
				what, t->peer, alert_name(alert), alert, hint);
	case MBEDTLS_ERR_NET_SEND_FAILED:
	case MBEDTLS_ERR_NET_RECV_FAILED:
		return bh_error(err, t->sys_errno, "%s %s", what, t->peer);
	case MBEDTLS_ERR_SSL_CONN_EOF:
	case MBEDTLS_ERR_SSL_PEER_CLOSE_NOTIFY:
	case 0:
		own_cert_hint(t, hint, sizeof(hint));
		return bh_error(err, 0, "%s %s: the broker closed the connection%s", what, t->peer,
				t->established ? "" : hint);
	default:
		mbedtls_strerror(rc, text, sizeof(text));
		return bh_error(err, 0, "%s %s: %s (mbedTLS -0x%04x)", what, t->peer, text,
				(unsigned)-rc);
	}
}

/* 1 once the TCP connection is up, 0 while waiting, -1 when no address
 * answered. */
static int tcp_progress(struct tls_client *t, struct bh_error *err)
{
	struct pollfd p = {.fd = t->fd, .events = POLLOUT};
	socklen_t len = sizeof(int);
	int soerr = 0;

	if (poll(&p, 1, 0) == 0)
		return 0;
	if (getsockopt(t->fd, SOL_SOCKET, SO_ERROR, &soerr, &len) < 0)
		soerr = errno;
	if (soerr == 0)
		return 1;
	t->sys_errno = soerr;
	close(t->fd);
	t->fd = -1;
	return try_next_address(t, err) < 0 ? -1 : 0;
}

static int ssl_start(struct tls_client *t, struct bh_error *err)
{
	int rc = mbedtls_ssl_setup(&t->ssl, &t->conf);

	if (rc == 0)
		rc = mbedtls_ssl_set_hostname(&t->ssl, t->name);
	if (rc != 0)
		return tls_failure(t, rc, "set up TLS with", err);
	mbedtls_ssl_set_bio(&t->ssl, t, bio_send, bio_recv, NULL);
	return 0;
}

/* 0 and the events to wait for when rc asks to wait; -1 otherwise. */
static int want(struct tls_client *t, int rc)
{
	if (rc == MBEDTLS_ERR_SSL_WANT_READ)
		t->events = POLLIN;
	else if (rc == MBEDTLS_ERR_SSL_WANT_WRITE)
		t->events = POLLOUT;
	else
		return -1;
	return 0;
}

int tls_client_handshake(struct tls_client *t, struct bh_error *err)
{
	int rc;

	if (t->fd < 0)
		return bh_error(err, ENOTCONN, "TLS handshake");
	if (!t->tcp_up) {
		rc = tcp_progress(t, err);
		if (rc <= 0)
			return rc;
		t->tcp_up = true;
		if (ssl_start(t, err) < 0)
			return -1;
	}
	do
		rc = mbedtls_ssl_handshake(&t->ssl);
	while (rc == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET);
	if (rc == 0) {
		t->established = true;
		t->events = POLLIN;
		return 1;
	}
	if (want(t, rc) == 0)
		return 0;
	return tls_failure(t, rc, "TLS handshake with", err);
}

ssize_t tls_client_read(struct tls_client *t, void *buf, size_t len, struct bh_error *err)
{
	int rc;

	if (!t->established)
		return bh_error(err, ENOTCONN, "read from %s", t->peer);
	do
		rc = mbedtls_ssl_read(&t->ssl, buf, len);
	while (rc == MBEDTLS_ERR_SSL_RECEIVED_NEW_SESSION_TICKET);
	if (rc > 0)
		return rc;
	if (want(t, rc) == 0)
		return 0;
	return tls_failure(t, rc, "read from", err);
}

ssize_t tls_client_write(struct tls_client *t, const void *buf, size_t len, struct bh_error *err)
{
	size_t n = len < RECORD_MAX ? len : RECORD_MAX;
	int rc;

	if (!t->established)
		return bh_error(err, ENOTCONN, "write to %s", t->peer);
	/* mbedTLS already holds the record of a write that had to wait; the
	 * repeat must pass the same length, or it reports the wrong count. */
	if (t->retry_len)
		n = t->retry_len;
	if (n > len)
		return bh_error(err, EINVAL, "write to %s: a repeated write got fewer bytes", t->peer);
	rc = mbedtls_ssl_write(&t->ssl, buf, n);
	if (rc >= 0) {
		t->retry_len = 0;
		return rc;
	}
	if (want(t, rc) == 0) {
		t->retry_len = n;
		return 0;
	}
	return tls_failure(t, rc, "write to", err);
}
