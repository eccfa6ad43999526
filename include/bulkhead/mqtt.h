/* A small MQTT 3.1.1 client for a device reporting to a broker over mutual
 * TLS: CONNECT with keepalive and a last will, PUBLISH at QoS 0 and 1
 * (retained or not), SUBSCRIBE, PINGREQ, DISCONNECT. It never blocks (but
 * for the host name lookup): the caller polls mqtt_fd() for
 * mqtt_events() with mqtt_timeout_ms(), then calls mqtt_step(). A lost or
 * refused connection is retried with exponential backoff and jitter; QoS 1
 * messages wait in order until the broker acknowledges them
 * (mqtt_session.h). Layers: mqtt_packet.h (codec), mqtt_session.h (state),
 * tls_client.h (transport), backoff.h (retry policy). */
#ifndef BULKHEAD_MQTT_H
#define BULKHEAD_MQTT_H

#include <bulkhead/error.h>
#include <bulkhead/mqtt_session.h>
#include <bulkhead/tls_client.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Every string and buffer of the configuration must outlive the client. */
struct mqtt_config {
	const char *host, *port;
	const char *server_name; /* the name the broker's certificate must carry; NULL: host */
	struct tls_client_config tls;
	const char *client_id;
	uint16_t keepalive_s;    /* 0: no keepalive */
	bool clean_session;
	const char *will_topic;  /* NULL: no last will */
	const void *will_payload;
	size_t will_len;
	uint8_t will_qos;
	bool will_retain;
	/* Zero picks the default shown. */
	uint32_t connect_timeout_ms; /* TCP, TLS and CONNACK together: 10000 */
	uint32_t ping_timeout_ms;    /* for PINGRESP: 10000 */
	uint32_t backoff_base_ms;    /* first retry delay: 1000 */
	uint32_t backoff_cap_ms;     /* longest retry delay: 300000 */
	size_t max_packet;           /* largest packet taken from the broker: 65536 */
	size_t max_pending;          /* QoS 1 messages awaiting PUBACK: 64 */
	struct mqtt_session_cb cb;
};

enum mqtt_state {
	MQTT_WAITING,    /* for the next attempt (mqtt_timeout_ms says when) */
	MQTT_CONNECTING, /* TCP and TLS */
	MQTT_CONNACK_WAIT,
	MQTT_ONLINE,
	MQTT_CLOSING, /* DISCONNECT queued, flushing */
	MQTT_STOPPED,
};

struct mqtt_stats {
	unsigned attempts, connects, failures, pings, pongs;
};

struct mqtt_client;

/* Loads the certificates and key; the first attempt is due at once. */
struct mqtt_client *mqtt_client_new(const struct mqtt_config *cfg, int64_t now_ms,
				    struct bh_error *err);
void mqtt_client_free(struct mqtt_client *c);

/* See mqtt_session_publish(): QoS 1 is queued even while offline. */
int mqtt_publish(struct mqtt_client *c, const char *topic, const void *payload, size_t len,
		 uint8_t qos, bool retain, uint16_t *id, struct bh_error *err);
int mqtt_subscribe(struct mqtt_client *c, const char *filter, uint8_t qos, uint16_t *id,
		   struct bh_error *err);
/* Sends DISCONNECT (so the broker drops the last will) and stops. */
void mqtt_disconnect(struct mqtt_client *c, int64_t now_ms);

/* For poll(): the socket (-1: none now), its events, and the milliseconds
 * until mqtt_step() must run even without events (-1: never). */
int mqtt_fd(const struct mqtt_client *c);
short mqtt_events(const struct mqtt_client *c);
int mqtt_timeout_ms(const struct mqtt_client *c, int64_t now_ms);
/* Does what the socket and the clock allow. -1 when the connection failed
 * or broke (err says why): the client is then MQTT_WAITING for its next
 * attempt, with the QoS 1 queue kept. */
int mqtt_step(struct mqtt_client *c, int64_t now_ms, struct bh_error *err);

enum mqtt_state mqtt_state(const struct mqtt_client *c);
const struct mqtt_stats *mqtt_stats(const struct mqtt_client *c);

#endif
