/* Encoders for the MQTT 3.1.1 packets a device sends. Each first checks
 * every field and computes the length, then writes only when the packet
 * fits, so a caller can size its buffer with a first call. */
#include <bulkhead/mqtt_packet.h>

#include <string.h>

#define PROTOCOL_LEVEL 4 /* MQTT 3.1.1 */

struct writer {
	uint8_t *p;
};

static void put8(struct writer *w, uint8_t v)
{
	*w->p++ = v;
}

static void put16(struct writer *w, uint16_t v)
{
	put8(w, (uint8_t)(v >> 8));
	put8(w, (uint8_t)v);
}

static void put_bytes(struct writer *w, const void *b, size_t n)
{
	if (n)
		memcpy(w->p, b, n);
	w->p += n;
}

/* A two-byte length, then the bytes (strings and binary data alike). */
static void put_field(struct writer *w, const void *b, size_t n)
{
	put16(w, (uint16_t)n);
	put_bytes(w, b, n);
}

static size_t remaining_len_size(size_t n)
{
	return n < 128 ? 1 : n < 16384 ? 2 : n < 2097152 ? 3 : 4;
}

static void put_remaining(struct writer *w, size_t n)
{
	do {
		uint8_t b = n % 128;

		n /= 128;
		put8(w, n ? b | 0x80 : b);
	} while (n);
}

/* The total size of a packet with this remaining length, or -1. */
static ssize_t total_size(const char *type, size_t remaining, struct bh_error *err)
{
	if (remaining > MQTT_REMAINING_MAX)
		return bh_error(err, 0, "%s: %zu bytes after the fixed header, more than MQTT's %u",
				type, remaining, MQTT_REMAINING_MAX);
	return (ssize_t)(1 + remaining_len_size(remaining) + remaining);
}

/* Starts a packet of `size` bytes when it fits in cap; false otherwise. */
static bool start(struct writer *w, uint8_t *buf, size_t cap, ssize_t size, uint8_t first,
		  size_t remaining)
{
	if (!buf || (size_t)size > cap)
		return false;
	w->p = buf;
	put8(w, first);
	put_remaining(w, remaining);
	return true;
}

static int check_binary(const char *what, size_t len, struct bh_error *err)
{
	if (len > 65535)
		return bh_error(err, 0, "%s is %zu bytes long, more than 65535", what, len);
	return 0;
}

static int check_connect(const struct mqtt_connect *c, struct bh_error *err)
{
	size_t id_len = c->client_id ? strlen(c->client_id) : 0;

	if (id_len == 0 && !c->clean_session)
		return bh_error(err, 0, "connect: an empty client id needs a clean session");
	if (id_len && mqtt_check_string("connect: client id", (const uint8_t *)c->client_id,
				       id_len, err) < 0)
		return -1;
	if (c->will_topic) {
		if (mqtt_check_topic("connect: will topic", (const uint8_t *)c->will_topic,
				     strlen(c->will_topic), err) < 0 ||
		    check_binary("connect: will message", c->will_len, err) < 0)
			return -1;
		if (c->will_qos > 1)
			return bh_error(err, 0, "connect: will qos %u is not 0 or 1", c->will_qos);
	} else if (c->will_qos || c->will_retain) {
		return bh_error(err, 0, "connect: will qos or retain without a will topic");
	}
	if (c->password && !c->username)
		return bh_error(err, 0, "connect: a password needs a username");
	if (c->username && mqtt_check_string("connect: username", (const uint8_t *)c->username,
					    strlen(c->username), err) < 0)
		return -1;
	if (c->password && check_binary("connect: password", c->password_len, err) < 0)
		return -1;
	return 0;
}

ssize_t mqtt_encode_connect(uint8_t *buf, size_t cap, const struct mqtt_connect *c,
			    struct bh_error *err)
{
	size_t id_len = c->client_id ? strlen(c->client_id) : 0, remaining;
	uint8_t flags = c->clean_session ? 0x02 : 0;
	struct writer w;
	ssize_t size;

	if (check_connect(c, err) < 0)
		return -1;
	remaining = 10 + 2 + id_len;
	if (c->will_topic) {
		flags |= 0x04 | (uint8_t)(c->will_qos << 3) | (c->will_retain ? 0x20 : 0);
		remaining += 2 + strlen(c->will_topic) + 2 + c->will_len;
	}
	if (c->username) {
		flags |= 0x80;
		remaining += 2 + strlen(c->username);
	}
	if (c->password) {
		flags |= 0x40;
		remaining += 2 + c->password_len;
	}
	size = total_size("connect", remaining, err);
	if (size < 0 || !start(&w, buf, cap, size, MQTT_CONNECT << 4, remaining))
		return size;
	put_field(&w, "MQTT", 4);
	put8(&w, PROTOCOL_LEVEL);
	put8(&w, flags);
	put16(&w, c->keepalive_s);
	put_field(&w, c->client_id, id_len);
	if (c->will_topic) {
		put_field(&w, c->will_topic, strlen(c->will_topic));
		put_field(&w, c->will_payload, c->will_len);
	}
	if (c->username)
		put_field(&w, c->username, strlen(c->username));
	if (c->password)
		put_field(&w, c->password, c->password_len);
	return size;
}

ssize_t mqtt_encode_publish(uint8_t *buf, size_t cap, const struct mqtt_publish *p,
			    struct bh_error *err)
{
	size_t remaining;
	struct writer w;
	ssize_t size;

	if (mqtt_check_topic("publish: topic", (const uint8_t *)p->topic, p->topic_len, err) < 0)
		return -1;
	if (p->qos > 1)
		return bh_error(err, 0, "publish: qos %u is not 0 or 1", p->qos);
	if (p->qos && p->id == 0)
		return bh_error(err, 0, "publish: qos 1 needs a packet id other than 0");
	if (!p->qos && (p->id || p->dup))
		return bh_error(err, 0, "publish: qos 0 takes neither a packet id nor DUP");
	remaining = 2 + p->topic_len + (p->qos ? 2 : 0) + p->payload_len;
	size = total_size("publish", remaining, err);
	if (size < 0 ||
	    !start(&w, buf, cap, size,
		   (uint8_t)(MQTT_PUBLISH << 4 | (p->dup ? 0x08 : 0) | p->qos << 1 | (p->retain ? 1 : 0)),
		   remaining))
		return size;
	put_field(&w, p->topic, p->topic_len);
	if (p->qos)
		put16(&w, p->id);
	put_bytes(&w, p->payload, p->payload_len);
	return size;
}

ssize_t mqtt_encode_subscribe(uint8_t *buf, size_t cap, uint16_t id, const char *filter,
			      uint8_t qos, struct bh_error *err)
{
	size_t len = strlen(filter), remaining = 2 + 2 + len + 1;
	struct writer w;
	ssize_t size;

	if (mqtt_check_filter("subscribe: topic filter", filter, len, err) < 0)
		return -1;
	if (qos > 1)
		return bh_error(err, 0, "subscribe: qos %u is not 0 or 1", qos);
	if (id == 0)
		return bh_error(err, 0, "subscribe: the packet id must not be 0");
	size = total_size("subscribe", remaining, err);
	/* SUBSCRIBE's fixed header flags are 0010 (MQTT-3.8.1-1). */
	if (size < 0 || !start(&w, buf, cap, size, MQTT_SUBSCRIBE << 4 | 0x02, remaining))
		return size;
	put16(&w, id);
	put_field(&w, filter, len);
	put8(&w, qos);
	return size;
}

ssize_t mqtt_encode_puback(uint8_t *buf, size_t cap, uint16_t id, struct bh_error *err)
{
	struct writer w;

	if (id == 0)
		return bh_error(err, 0, "puback: the packet id must not be 0");
	if (start(&w, buf, cap, 4, MQTT_PUBACK << 4, 2))
		put16(&w, id);
	return 4;
}

ssize_t mqtt_encode_empty(uint8_t *buf, size_t cap, enum mqtt_type type, struct bh_error *err)
{
	struct writer w;

	if (type != MQTT_PINGREQ && type != MQTT_DISCONNECT)
		return bh_error(err, 0, "%s is not a packet without a body", mqtt_type_name(type));
	start(&w, buf, cap, 2, (uint8_t)(type << 4), 0);
	return 2;
}
