/* The MQTT session without a network: packet ids, the QoS 1 queue kept
 * across reconnects and sent again in order with DUP, subscriptions made
 * again when the broker lost the session, acknowledgements, and packets
 * out of place. */
#include <bulkhead/mqtt_session.h>

#include <errno.h>
#include <string.h>

#include "tap.h"

struct seen {
	int connects, session_present;
	uint16_t pubacks[16];
	int npubacks;
	uint16_t suback_id;
	uint8_t granted;
	char filter[64];
	char message[64];
	int messages;
};

static void on_connect(void *arg, bool session_present)
{
	struct seen *s = arg;

	s->connects++;
	s->session_present = session_present;
}

static void on_puback(void *arg, uint16_t id)
{
	struct seen *s = arg;

	if (s->npubacks < 16)
		s->pubacks[s->npubacks++] = id;
}

static void on_suback(void *arg, uint16_t id, const char *filter, uint8_t granted)
{
	struct seen *s = arg;

	s->suback_id = id;
	s->granted = granted;
	snprintf(s->filter, sizeof(s->filter), "%s", filter);
}

static void on_message(void *arg, const struct mqtt_publish *m)
{
	struct seen *s = arg;

	snprintf(s->message, sizeof(s->message), "%.*s=%.*s", (int)m->topic_len, m->topic,
		 (int)m->payload_len, (const char *)m->payload);
	s->messages++;
}

/* The packets in s->out as "PUBLISH:1:dup" words, separated by spaces. */
static const char *out_packets(struct mqtt_session *s)
{
	static char text[512];
	size_t at = 0, n = 0;
	struct bh_error err;

	text[0] = 0;
	while (at < s->out_len) {
		struct mqtt_header h;
		const uint8_t *p = s->out + at;
		char word[48];

		if (mqtt_parse_header(p, s->out_len - at, 65536, &h, &err) != 1)
			return "malformed";
		if (h.type == MQTT_PUBLISH) {
			size_t tl = (size_t)(p[h.header_len] << 8 | p[h.header_len + 1]);
			const uint8_t *id = p + h.header_len + 2 + tl;

			snprintf(word, sizeof(word), "PUBLISH:%u%s", (h.flags & 6) ? id[0] << 8 | id[1] : 0,
				 h.flags & 8 ? ":dup" : "");
		} else if (h.type == MQTT_SUBSCRIBE || h.type == MQTT_PUBACK) {
			snprintf(word, sizeof(word), "%s:%u", mqtt_type_name(h.type),
				 p[h.header_len] << 8 | p[h.header_len + 1]);
		} else {
			snprintf(word, sizeof(word), "%s", mqtt_type_name(h.type));
		}
		n += (size_t)snprintf(text + n, sizeof(text) - n, "%s%s", n ? " " : "", word);
		at += h.header_len + h.remaining;
	}
	return text;
}

static int feed(struct mqtt_session *s, const uint8_t *pkt, size_t len, struct seen *seen,
		struct bh_error *err)
{
	struct mqtt_session_cb cb = {.arg = seen,
				     .on_connect = on_connect,
				     .on_message = on_message,
				     .on_puback = on_puback,
				     .on_suback = on_suback};

	return mqtt_session_handle(s, pkt, len, &cb, err);
}

static int pub(struct mqtt_session *s, const char *topic, uint8_t qos, uint16_t *id,
	       struct bh_error *err)
{
	struct mqtt_publish p = {.topic = topic, .topic_len = strlen(topic), .payload = "x",
				 .payload_len = 1, .qos = qos};

	return mqtt_session_publish(s, &p, id, err);
}

static const struct mqtt_connect conn = {.client_id = "dev1", .keepalive_s = 30};
static const uint8_t connack[] = {0x20, 2, 0, 0}, connack_present[] = {0x20, 2, 1, 0};

static void reconnect(struct mqtt_session *s)
{
	struct bh_error err;

	mqtt_session_offline(s);
	mqtt_session_connect(s, &conn, &err);
	mqtt_session_consumed(s, s->out_len);
}

static void delivery(void)
{
	struct mqtt_session s;
	struct seen seen = {0};
	struct bh_error err = {0};
	uint16_t id = 0, sub_id = 0, ids[3];
	uint8_t ack[4] = {0x40, 2, 0, 0};
	int i;

	mqtt_session_init(&s, 16, 65536);
	i = pub(&s, "bulkhead/dev1/events", 1, &id, &err);
	ok(i == 0 && id == 1 && s.out_len == 0,
	   "offline, a QoS 1 message is queued (id %u) and nothing is sent", id);
	ok(pub(&s, "bulkhead/dev1/events", 0, NULL, &err) < 0 && err.code == ENOTCONN,
	   "offline, a QoS 0 message is refused: \"%s\"", err.msg);
	mqtt_session_connect(&s, &conn, &err);
	ok(!strcmp(out_packets(&s), "CONNECT"), "a connection starts with CONNECT alone");
	ok(feed(&s, connack, sizeof(connack), &seen, &err) == 0 && s.online && seen.connects == 1,
	   "CONNACK accepted brings the session online");
	ok(!strcmp(out_packets(&s), "CONNECT PUBLISH:1"),
	   "the message queued offline follows CONNACK, without DUP: %s", out_packets(&s));
	mqtt_session_consumed(&s, s.out_len);
	mqtt_session_subscribe(&s, "bulkhead/dev1/cmd", 1, &sub_id, &err);
	for (i = 0; i < 3; i++)
		pub(&s, "bulkhead/dev1/events", 1, &ids[i], &err);
	ok(!strcmp(out_packets(&s), "SUBSCRIBE:2 PUBLISH:3 PUBLISH:4 PUBLISH:5"),
	   "online, SUBSCRIBE and messages go out at once, in order: %s", out_packets(&s));
	ack[3] = 3;
	i = feed(&s, ack, sizeof(ack), &seen, &err);
	ok(i == 0 && seen.npubacks == 1 &&
		   seen.pubacks[0] == 3 && s.pending == 4,
	   "PUBACK 3 releases message 3 only (%zu still wait)", s.pending);

	/* The connection breaks with 1, 4, 5 and the SUBSCRIBE unacknowledged. */
	reconnect(&s);
	ok(feed(&s, connack_present, sizeof(connack_present), &seen, &err) == 0 &&
		   seen.session_present,
	   "a CONNACK with session present");
	ok(!strcmp(out_packets(&s), "PUBLISH:1:dup SUBSCRIBE:2 PUBLISH:4:dup PUBLISH:5:dup"),
	   "with the session kept, everything unacknowledged goes out again in order, "
	   "messages with DUP: %s",
	   out_packets(&s));

	reconnect(&s);
	feed(&s, connack, sizeof(connack), &seen, &err);
	ok(!strcmp(out_packets(&s), "PUBLISH:1:dup PUBLISH:4:dup PUBLISH:5:dup SUBSCRIBE:6"),
	   "without a session on the broker, the subscription is made again under a new id: %s",
	   out_packets(&s));
	{
		uint8_t suback[] = {0x90, 3, 0, 6, 1};

		ok(feed(&s, suback, sizeof(suback), &seen, &err) == 0 && seen.suback_id == 6 &&
			   seen.granted == 1 && !strcmp(seen.filter, "bulkhead/dev1/cmd"),
		   "SUBACK reports the filter and the granted QoS");
	}
	for (i = 0; i < 3; i++) {
		ack[3] = (uint8_t)(i == 0 ? 1 : i + 3);
		feed(&s, ack, sizeof(ack), &seen, &err);
	}
	ok(s.pending == 0 && seen.npubacks == 4, "after every PUBACK nothing waits");
	ack[3] = 4;
	ok(feed(&s, ack, sizeof(ack), &seen, &err) == 0 && seen.npubacks == 4,
	   "a second PUBACK for the same id is ignored");
	mqtt_session_free(&s);
}

static void incoming(void)
{
	struct mqtt_session s;
	struct seen seen = {0};
	struct bh_error err = {0};
	/* QoS 1 PUBLISH bulkhead/dev1/cmd "sync", id 0x0102. */
	static const uint8_t cmd[] = {0x32, 0x19, 0, 17, 'b', 'u', 'l', 'k', 'h', 'e', 'a',
				      'd',  '/',  'd', 'e', 'v', '1', '/', 'c', 'm', 'd', 1,
				      2,    's',  'y', 'n', 'c'};
	static const uint8_t pubrec[] = {0x50, 2, 0, 1}, pingresp[] = {0xd0, 0};

	mqtt_session_init(&s, 16, 65536);
	mqtt_session_connect(&s, &conn, &err);
	ok(feed(&s, cmd, sizeof(cmd), &seen, &err) < 0 &&
		   strstr(err.msg, "PUBLISH: received before CONNACK"),
	   "a PUBLISH before CONNACK is refused: \"%s\"", err.msg);
	feed(&s, connack, sizeof(connack), &seen, &err);
	mqtt_session_consumed(&s, s.out_len);
	ok(feed(&s, cmd, sizeof(cmd), &seen, &err) == 0 && seen.messages == 1 &&
		   !strcmp(seen.message, "bulkhead/dev1/cmd=sync") &&
		   !strcmp(out_packets(&s), "PUBACK:258"),
	   "a QoS 1 message is delivered and acknowledged with its id: %s", out_packets(&s));
	ok(feed(&s, connack, sizeof(connack), &seen, &err) < 0 &&
		   strstr(err.msg, "CONNACK: a second one"),
	   "a second CONNACK is refused: \"%s\"", err.msg);
	ok(feed(&s, pubrec, sizeof(pubrec), &seen, &err) < 0 &&
		   strstr(err.msg, "PUBREC: the device sent no QoS 2 message"),
	   "QoS 2 traffic the device never started is refused: \"%s\"", err.msg);
	mqtt_session_ping(&s, &err);
	ok(s.ping_outstanding && feed(&s, pingresp, sizeof(pingresp), &seen, &err) == 0 &&
		   !s.ping_outstanding,
	   "PINGRESP answers the outstanding PINGREQ");
	mqtt_session_free(&s);
}

static void refusals(void)
{
	struct mqtt_session s;
	struct seen seen = {0};
	struct bh_error err = {0};
	static const uint8_t refused[] = {0x20, 2, 0, 5};
	uint8_t ack[4] = {0x40, 2, 0, 0};
	uint16_t id = 0, sub = 0;
	int i;

	mqtt_session_init(&s, 4, 65536);
	mqtt_session_connect(&s, &conn, &err);
	ok(feed(&s, refused, sizeof(refused), &seen, &err) < 0 &&
		   strstr(err.msg, "the broker refused the connection: not authorized (CONNACK code 5)"),
	   "a refused CONNACK is an error with its reason: \"%s\"", err.msg);
	mqtt_session_subscribe(&s, "bulkhead/dev1/cmd", 1, &sub, &err);
	for (i = 0; i < 3; i++)
		pub(&s, "e", 1, &id, &err);
	ok(pub(&s, "e", 1, &id, &err) < 0 && err.code == EAGAIN,
	   "a full queue refuses the next QoS 1 message with EAGAIN: \"%s\"", err.msg);
	reconnect(&s);
	feed(&s, connack_present, sizeof(connack_present), &seen, &err);
	ack[3] = (uint8_t)sub;
	ok(feed(&s, ack, sizeof(ack), &seen, &err) < 0 && strstr(err.msg, "belongs to a SUBSCRIBE") &&
		   s.pending == 4,
	   "a PUBACK naming a SUBSCRIBE's id is refused and releases nothing: \"%s\"", err.msg);
	mqtt_session_free(&s);
}

static void ids(void)
{
	struct mqtt_session s;
	struct bh_error err = {0};
	uint16_t a = 0, b = 0, c = 0;

	mqtt_session_init(&s, 16, 65536);
	s.last_id = 65533;
	pub(&s, "e", 1, &a, &err); /* 65534 */
	s.last_id = 0;
	pub(&s, "e", 1, &b, &err); /* 1 */
	s.last_id = 65533;
	pub(&s, "e", 1, &c, &err); /* 65534 in use, then 65535 */
	ok(a == 65534 && b == 1 && c == 65535, "ids in use are skipped (%u %u %u)", a, b, c);
	pub(&s, "e", 1, &a, &err);
	ok(a == 2, "after 65535 ids wrap to 1, skipping those in use (got %u)", a);
	mqtt_session_free(&s);
}

int main(void)
{
	delivery();
	incoming();
	refusals();
	ids();
	return done();
}
