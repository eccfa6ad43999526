/* MQTT 3.1.1 packets, without I/O: encoders for what a device sends
 * (CONNECT, PUBLISH, PUBACK, SUBSCRIBE, PINGREQ, DISCONNECT) and a strict
 * decoder for what a broker sends. The broker is not trusted: every length
 * is bounded before it is used, every reserved bit and field is checked,
 * and a packet a broker must not send is an error that names the packet
 * type and the problem. */
#ifndef BULKHEAD_MQTT_PACKET_H
#define BULKHEAD_MQTT_PACKET_H

#include <bulkhead/error.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

enum mqtt_type {
	MQTT_CONNECT = 1,
	MQTT_CONNACK,
	MQTT_PUBLISH,
	MQTT_PUBACK,
	MQTT_PUBREC,
	MQTT_PUBREL,
	MQTT_PUBCOMP,
	MQTT_SUBSCRIBE,
	MQTT_SUBACK,
	MQTT_UNSUBSCRIBE,
	MQTT_UNSUBACK,
	MQTT_PINGREQ,
	MQTT_PINGRESP,
	MQTT_DISCONNECT,
};

/* The largest remaining length the 4-byte encoding can express. */
#define MQTT_REMAINING_MAX 268435455u
/* A fixed header is at most 1 + 4 bytes. */
#define MQTT_HEADER_MAX 5
/* SUBACK return code for a refused subscription. */
#define MQTT_SUBACK_FAILURE 0x80

/* "PUBLISH", or "reserved type N" for 0 and 15 (a static buffer). */
const char *mqtt_type_name(unsigned type);

struct mqtt_connect {
	const char *client_id;
	uint16_t keepalive_s;
	bool clean_session;
	const char *will_topic; /* NULL: no last will */
	const void *will_payload;
	size_t will_len;
	uint8_t will_qos; /* 0 or 1 */
	bool will_retain;
	const char *username; /* NULL: none */
	const void *password; /* NULL: none; needs a username */
	size_t password_len;
};

struct mqtt_publish {
	const char *topic;
	size_t topic_len;
	const void *payload;
	size_t payload_len;
	uint8_t qos; /* 0 or 1: the device neither sends nor accepts QoS 2 */
	bool retain;
	bool dup;
	uint16_t id; /* non-zero when qos > 0 */
};

/* Each encoder works like snprintf: it returns the packet's full length and
 * writes it only when that fits in cap (buf may be NULL with cap 0 to ask
 * for the size). A field MQTT does not allow is an error (-1). */
ssize_t mqtt_encode_connect(uint8_t *buf, size_t cap, const struct mqtt_connect *c,
			    struct bh_error *err);
ssize_t mqtt_encode_publish(uint8_t *buf, size_t cap, const struct mqtt_publish *p,
			    struct bh_error *err);
ssize_t mqtt_encode_subscribe(uint8_t *buf, size_t cap, uint16_t id, const char *filter,
			      uint8_t qos, struct bh_error *err);
ssize_t mqtt_encode_puback(uint8_t *buf, size_t cap, uint16_t id, struct bh_error *err);
/* PINGREQ or DISCONNECT: the packets that are only a fixed header. */
ssize_t mqtt_encode_empty(uint8_t *buf, size_t cap, enum mqtt_type type, struct bh_error *err);

/* The fixed header at the start of a byte stream. */
struct mqtt_header {
	uint8_t type, flags;
	size_t header_len; /* 2 to 5 */
	size_t remaining;  /* the packet is header_len + remaining bytes */
};

/* 1: *h describes the next packet, 0: more bytes are needed, -1: the header
 * is malformed, or the packet would be larger than max_packet bytes (known
 * before its body is read). */
int mqtt_parse_header(const uint8_t *buf, size_t len, size_t max_packet, struct mqtt_header *h,
		      struct bh_error *err);

/* A packet from a broker, decoded. Pointers point into the decoded bytes. */
struct mqtt_packet {
	uint8_t type;
	union {
		struct {
			bool session_present;
			uint8_t return_code; /* 0: accepted */
		} connack;
		struct mqtt_publish publish;
		uint16_t id; /* PUBACK, PUBREC, PUBREL, PUBCOMP, UNSUBACK */
		struct {
			uint16_t id;
			const uint8_t *codes; /* one per filter of the SUBSCRIBE */
			size_t count;
		} suback;
	} u;
};

/* Decodes one whole packet (exactly len bytes, as mqtt_parse_header framed
 * it) that a broker sent to a client. A packet type only clients send, a
 * reserved type or bit, a length that disagrees with the content, QoS 3,
 * DUP on QoS 0, a zero packet id, or a topic that is not valid UTF-8 or
 * holds a wildcard is an error. */
int mqtt_decode(const uint8_t *buf, size_t len, struct mqtt_packet *p, struct bh_error *err);

/* The CONNACK return codes' meanings ("not authorized"). */
const char *mqtt_connack_reason(uint8_t code);

/* MQTT strings: well-formed UTF-8 (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF) without U+0000. Returns the offset of
 * the first bad byte, or -1 when the string is valid. */
ssize_t mqtt_utf8_check(const uint8_t *s, size_t len);
/* A string field: valid, not empty, at most 65535 bytes. */
int mqtt_check_string(const char *what, const uint8_t *s, size_t len, struct bh_error *err);
/* A topic name (PUBLISH): a valid string, not empty, no '+' or '#'. */
int mqtt_check_topic(const char *what, const uint8_t *s, size_t len, struct bh_error *err);
/* A topic filter (SUBSCRIBE): '+' fills a whole level, '#' only last. */
int mqtt_check_filter(const char *what, const char *s, size_t len, struct bh_error *err);

#endif
