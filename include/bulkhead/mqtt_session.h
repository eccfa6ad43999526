/* The MQTT session of a device, without I/O: packet ids, the QoS 1
 * messages and subscriptions that wait for their acknowledgement, and the
 * bytes to send on the current connection. mqtt_client.c moves those bytes
 * over TLS; the unit tests drive this layer directly.
 *
 * Delivery: a QoS 1 PUBLISH stays queued, in order, until its PUBACK. After
 * a reconnect every queued message is sent again in the same order, with
 * DUP set on those that went out before; the broker may so see one twice,
 * never lose one. Subscriptions are remembered and made again whenever the
 * broker has no session for the device (CONNACK's session present = 0). */
#ifndef BULKHEAD_MQTT_SESSION_H
#define BULKHEAD_MQTT_SESSION_H

#include <bulkhead/error.h>
#include <bulkhead/mqtt_packet.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MQTT_MAX_SUBS 8

struct mqtt_pending; /* a queued QoS 1 PUBLISH or a SUBSCRIBE */

struct mqtt_session_cb {
	void *arg;
	void (*on_connect)(void *arg, bool session_present);
	/* m points into the received packet: copy what must outlive the call. */
	void (*on_message)(void *arg, const struct mqtt_publish *m);
	void (*on_puback)(void *arg, uint16_t id);
	/* granted: the QoS the broker granted, or MQTT_SUBACK_FAILURE. */
	void (*on_suback)(void *arg, uint16_t id, const char *filter, uint8_t granted);
};

struct mqtt_session {
	struct mqtt_pending *head, *tail;
	size_t pending, max_pending;
	uint16_t last_id;
	struct {
		char *filter;
		uint8_t qos;
	} subs[MQTT_MAX_SUBS];
	size_t nsubs;
	uint8_t *out; /* bytes for the current connection, not yet written */
	size_t out_len, out_cap, out_max;
	bool online;           /* CONNACK accepted on the current connection */
	bool ping_outstanding; /* PINGREQ sent, PINGRESP not yet seen */
};

/* max_pending: QoS 1 messages and subscriptions awaiting acknowledgement;
 * out_max: bytes that may wait to be written. */
void mqtt_session_init(struct mqtt_session *s, size_t max_pending, size_t out_max);
void mqtt_session_free(struct mqtt_session *s);

/* Queues a message. QoS 1 gets a packet id (*id) and is kept until its
 * PUBACK, across reconnects; QoS 0 is sent only when online (ENOTCONN
 * otherwise). A full queue is EAGAIN. p->id and p->dup are ignored. */
int mqtt_session_publish(struct mqtt_session *s, const struct mqtt_publish *p, uint16_t *id,
			 struct bh_error *err);
/* Remembers the subscription and sends it now or after the next CONNACK. */
int mqtt_session_subscribe(struct mqtt_session *s, const char *filter, uint8_t qos, uint16_t *id,
			   struct bh_error *err);

/* A new connection: forgets unsent bytes and starts with CONNECT. */
int mqtt_session_connect(struct mqtt_session *s, const struct mqtt_connect *c,
			 struct bh_error *err);
/* The connection is gone: nothing more is written on it. */
void mqtt_session_offline(struct mqtt_session *s);
/* Appends PINGREQ or DISCONNECT. */
int mqtt_session_ping(struct mqtt_session *s, struct bh_error *err);
int mqtt_session_disconnect(struct mqtt_session *s, struct bh_error *err);

/* Decodes and acts on one whole packet from the broker. A packet that is
 * malformed or out of place (anything before CONNACK, a second CONNACK,
 * QoS 2 traffic the device never asked for) or a refused CONNACK is an
 * error: the caller drops the connection. */
int mqtt_session_handle(struct mqtt_session *s, const uint8_t *pkt, size_t len,
			const struct mqtt_session_cb *cb, struct bh_error *err);

/* n bytes from the start of s->out were written. */
void mqtt_session_consumed(struct mqtt_session *s, size_t n);

#endif
