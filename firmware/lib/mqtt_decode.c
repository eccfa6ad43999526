/* The strict decoder for what a broker sends (MQTT 3.1.1). Lengths come
 * from the network, so each one is checked against what is left before it
 * is used; the error names the packet type and the field. */
#include <bulkhead/mqtt_packet.h>

#include <stdint.h>
#include <string.h>

const char *mqtt_type_name(unsigned type)
{
	static const char *const names[] = {
		"reserved type 0", "CONNECT", "CONNACK",  "PUBLISH",  "PUBACK",
		"PUBREC",	   "PUBREL",  "PUBCOMP",  "SUBSCRIBE", "SUBACK",
		"UNSUBSCRIBE",	   "UNSUBACK", "PINGREQ", "PINGRESP", "DISCONNECT",
		"reserved type 15",
	};

	return type < 16 ? names[type] : "invalid type";
}

const char *mqtt_connack_reason(uint8_t code)
{
	static const char *const reasons[] = {
		"accepted",
		"unacceptable protocol version",
		"client identifier rejected",
		"server unavailable",
		"bad user name or password",
		"not authorized",
	};

	return code < 6 ? reasons[code] : "unknown return code";
}

int mqtt_parse_header(const uint8_t *buf, size_t len, size_t max_packet, struct mqtt_header *h,
		      struct bh_error *err)
{
	size_t value = 0, i;

	if (len < 2)
		return 0;
	h->type = buf[0] >> 4;
	h->flags = buf[0] & 0x0f;
	/* Up to four bytes of seven bits each, least significant first. */
	for (i = 1; i < MQTT_HEADER_MAX; i++) {
		if (i >= len)
			return 0;
		value |= (size_t)(buf[i] & 0x7f) << (7 * (i - 1));
		if (!(buf[i] & 0x80))
			break;
	}
	if (i == MQTT_HEADER_MAX)
		return bh_error(err, 0, "%s: remaining length takes more than 4 bytes",
				mqtt_type_name(h->type));
	/* Only the shortest encoding is accepted: one value, one form. */
	if (i > 1 && buf[i] == 0)
		return bh_error(err, 0, "%s: remaining length %zu is not in its shortest encoding",
				mqtt_type_name(h->type), value);
	h->header_len = i + 1;
	h->remaining = value;
	if (h->header_len + value > max_packet)
		return bh_error(err, 0, "%s: packet of %zu bytes exceeds the limit of %zu bytes",
				mqtt_type_name(h->type), h->header_len + value, max_packet);
	return 1;
}

struct reader {
	const uint8_t *p;
	size_t left;
	const char *type;
};

static int get16(struct reader *r, const char *field, uint16_t *v, struct bh_error *err)
{
	if (r->left < 2)
		return bh_error(err, 0, "%s: packet ends inside the %s", r->type, field);
	*v = (uint16_t)(r->p[0] << 8 | r->p[1]);
	r->p += 2;
	r->left -= 2;
	return 0;
}

static int get_id(struct reader *r, uint16_t *id, struct bh_error *err)
{
	if (get16(r, "packet id", id, err) < 0)
		return -1;
	if (*id == 0)
		return bh_error(err, 0, "%s: packet id is 0", r->type);
	return 0;
}

static int expect_end(struct reader *r, struct bh_error *err)
{
	if (r->left)
		return bh_error(err, 0, "%s: %zu unexpected bytes after the last field", r->type,
				r->left);
	return 0;
}

static int decode_connack(struct reader *r, struct mqtt_packet *p, struct bh_error *err)
{
	if (r->left != 2)
		return bh_error(err, 0, "CONNACK: remaining length is %zu, not 2", r->left);
	if (r->p[0] & 0xfe)
		return bh_error(err, 0, "CONNACK: reserved acknowledge flags 0x%02x are set",
				r->p[0] & 0xfe);
	p->u.connack.session_present = r->p[0] & 1;
	p->u.connack.return_code = r->p[1];
	if (r->p[1] > 5)
		return bh_error(err, 0, "CONNACK: return code %u is not defined", r->p[1]);
	if (r->p[1] && p->u.connack.session_present)
		return bh_error(err, 0, "CONNACK: session present with refusal code %u", r->p[1]);
	return 0;
}

static int decode_publish(struct reader *r, uint8_t flags, struct mqtt_packet *p,
			  struct bh_error *err)
{
	struct mqtt_publish *m = &p->u.publish;
	uint16_t topic_len = 0;

	m->dup = flags & 0x08;
	m->qos = (flags >> 1) & 3;
	m->retain = flags & 1;
	if (m->qos == 3)
		return bh_error(err, 0, "PUBLISH: qos 3 is reserved");
	if (m->qos == 0 && m->dup)
		return bh_error(err, 0, "PUBLISH: DUP is set on a qos 0 message");
	if (get16(r, "topic length", &topic_len, err) < 0)
		return -1;
	if (topic_len > r->left)
		return bh_error(err, 0, "PUBLISH: topic length %u is more than the %zu bytes left",
				topic_len, r->left);
	if (mqtt_check_topic("PUBLISH: topic", r->p, topic_len, err) < 0)
		return -1;
	m->topic = (const char *)r->p;
	m->topic_len = topic_len;
	r->p += topic_len;
	r->left -= topic_len;
	m->id = 0;
	if (m->qos && get_id(r, &m->id, err) < 0)
		return -1;
	m->payload = r->p;
	m->payload_len = r->left;
	return 0;
}

static int decode_suback(struct reader *r, struct mqtt_packet *p, struct bh_error *err)
{
	size_t i;

	if (get_id(r, &p->u.suback.id, err) < 0)
		return -1;
	if (r->left == 0)
		return bh_error(err, 0, "SUBACK: no return codes");
	for (i = 0; i < r->left; i++)
		if (r->p[i] > 2 && r->p[i] != MQTT_SUBACK_FAILURE)
			return bh_error(err, 0, "SUBACK: return code 0x%02x of filter %zu is not 0, 1, "
						"2 or 0x80",
					r->p[i], i + 1);
	p->u.suback.codes = r->p;
	p->u.suback.count = r->left;
	return 0;
}

int mqtt_decode(const uint8_t *buf, size_t len, struct mqtt_packet *p, struct bh_error *err)
{
	struct mqtt_header h;
	struct reader r;
	/* The fixed header flags each type must carry (MQTT-2.2.2-1). */
	static const uint8_t flags[16] = {[MQTT_PUBREL] = 0x02};

	memset(p, 0, sizeof(*p));
	switch (mqtt_parse_header(buf, len, SIZE_MAX, &h, err)) {
	case -1:
		return -1;
	case 0:
		return bh_error(err, 0, "packet of %zu bytes ends inside its fixed header", len);
	}
	r.type = mqtt_type_name(h.type);
	if (h.header_len + h.remaining != len)
		return bh_error(err, 0, "%s: remaining length %zu, but %zu bytes follow the fixed header",
				r.type, h.remaining, len - h.header_len);
	p->type = h.type;
	r.p = buf + h.header_len;
	r.left = h.remaining;
	switch (h.type) {
	case MQTT_CONNECT:
	case MQTT_SUBSCRIBE:
	case MQTT_UNSUBSCRIBE:
	case MQTT_PINGREQ:
	case MQTT_DISCONNECT:
		return bh_error(err, 0, "%s: only a client sends this packet, not a broker", r.type);
	case 0:
	case 15:
		return bh_error(err, 0, "%s: not an MQTT 3.1.1 packet type", r.type);
	}
	if (h.type != MQTT_PUBLISH && h.flags != flags[h.type])
		return bh_error(err, 0, "%s: fixed header flags are 0x%x, not 0x%x", r.type, h.flags,
				flags[h.type]);
	switch (h.type) {
	case MQTT_CONNACK:
		return decode_connack(&r, p, err);
	case MQTT_PUBLISH:
		return decode_publish(&r, h.flags, p, err);
	case MQTT_PUBACK:
	case MQTT_PUBREC:
	case MQTT_PUBREL:
	case MQTT_PUBCOMP:
	case MQTT_UNSUBACK:
		if (get_id(&r, &p->u.id, err) < 0)
			return -1;
		return expect_end(&r, err);
	case MQTT_SUBACK:
		return decode_suback(&r, p, err);
	default: /* MQTT_PINGRESP */
		return expect_end(&r, err);
	}
}
