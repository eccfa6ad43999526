/* A non-blocking TLS client connection over mbedTLS with a client
 * certificate (mutual TLS). The server's certificate is always verified
 * against the configured CAs and the expected server name; TLS 1.2 is the
 * oldest version offered. Nothing here blocks except the host name lookup:
 * every call does what the socket allows and says which poll() events it
 * waits for, so a caller's event loop keeps running. */
#ifndef BULKHEAD_TLS_CLIENT_H
#define BULKHEAD_TLS_CLIENT_H

#include <bulkhead/error.h>

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

struct tls_client_config {
	const char *ca_file;   /* PEM: the CAs the server's certificate must chain to */
	const char *cert_file; /* PEM: this device's certificate (and chain) */
	const char *key_file;  /* PEM: its private key */
	const char *key_pem;   /* or the key itself as PEM text (key_file is then unused) */
};

struct tls_client;

/* Loads and checks the CA, certificate and key (the key must match the
 * certificate) and seeds the random generator. */
struct tls_client *tls_client_new(const struct tls_client_config *cfg, struct bh_error *err);
void tls_client_free(struct tls_client *t);

/* Resolves host (blocking, as the resolver does) and starts a non-blocking
 * TCP connect; the handshake will check the server's certificate against
 * server_name. Closes any previous connection first. */
int tls_client_connect(struct tls_client *t, const char *host, const char *port,
		       const char *server_name, struct bh_error *err);
/* Advances the TCP connect (trying each address in turn) and the TLS
 * handshake: 1 when established, 0 when it must wait for
 * tls_client_events(), -1 on failure with the reason (a certificate the
 * server refused, one that we refused, the server's alert). */
int tls_client_handshake(struct tls_client *t, struct bh_error *err);
/* Application data: > 0 bytes moved, 0 when it would block, -1 when the
 * connection failed or the server closed it. A write that returned 0 must
 * be repeated with the same first bytes (mbedTLS holds the record). */
ssize_t tls_client_read(struct tls_client *t, void *buf, size_t len, struct bh_error *err);
ssize_t tls_client_write(struct tls_client *t, const void *buf, size_t len, struct bh_error *err);
/* The socket (-1 when closed) and the poll() events the last call waits for. */
int tls_client_fd(const struct tls_client *t);
short tls_client_events(const struct tls_client *t);
/* Sends close_notify when the session is up (without waiting) and closes. */
void tls_client_close(struct tls_client *t);
/* Random bits from the seeded generator (for reconnect jitter). */
uint64_t tls_client_random(struct tls_client *t);

#endif
