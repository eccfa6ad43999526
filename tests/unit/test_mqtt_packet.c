/* The MQTT 3.1.1 codec: the encoders against bytes that Debian's
 * mosquitto_pub and mosquitto_sub sent, the decoder against bytes the
 * mosquitto broker sent (tests/fuzz/corpus_mqtt.py captured both), and
 * each malformed packet refused with an error that names the packet type
 * and the problem. */
#include <bulkhead/mqtt_packet.h>

#include <stdlib.h>
#include <string.h>

#include "tap.h"

static size_t unhex(const char *hex, uint8_t *out)
{
	size_t n = 0;

	for (; hex[0] && hex[1]; hex += 2) {
		unsigned v;

		sscanf(hex, "%2x", &v);
		out[n++] = (uint8_t)v;
	}
	return n;
}

static int same(const uint8_t *buf, ssize_t len, const char *hex)
{
	uint8_t want[512];
	size_t n = unhex(hex, want);

	return len == (ssize_t)n && memcmp(buf, want, n) == 0;
}

static void encoders(void)
{
	struct bh_error err = {0};
	uint8_t buf[512];
	ssize_t n;
	struct mqtt_connect c = {
		.client_id = "dev1",
		.keepalive_s = 30,
		.clean_session = true,
		.will_topic = "bulkhead/dev1/status",
		.will_payload = "offline",
		.will_len = 7,
		.will_qos = 1,
		.will_retain = true,
	};
	struct mqtt_connect plain = {.client_id = "dev1", .keepalive_s = 60};
	struct mqtt_publish p = {.topic = "bulkhead/dev1/status", .topic_len = 20,
				 .payload = "online", .payload_len = 6, .qos = 1, .retain = true,
				 .id = 1};

	/* mosquitto_pub -V mqttv311 -i dev1 -k 30 --will-topic bulkhead/dev1/status
	 * --will-payload offline --will-qos 1 --will-retain -q 1 -r -m online */
	n = mqtt_encode_connect(buf, sizeof(buf), &c, &err);
	ok(same(buf, n, "102f00044d515454042e001e000464657631001462756c6b686561642f646576312f73746174"
			"757300076f66666c696e65"),
	   "CONNECT with keepalive and a retained QoS 1 will is the bytes mosquitto_pub sends");
	ok(mqtt_encode_connect(NULL, 0, &c, &err) == n, "a size query returns the same length");
	n = mqtt_encode_connect(buf, sizeof(buf), &plain, &err);
	ok(same(buf, n, "101000044d5154540400003c000464657631"),
	   "CONNECT without clean session is the bytes mosquitto_sub -c sends");
	n = mqtt_encode_publish(buf, sizeof(buf), &p, &err);
	ok(same(buf, n, "331e001462756c6b686561642f646576312f73746174757300016f6e6c696e65"),
	   "retained QoS 1 PUBLISH is the bytes mosquitto_pub sends");
	p.dup = true;
	n = mqtt_encode_publish(buf, sizeof(buf), &p, &err);
	ok(n > 0 && buf[0] == 0x3b, "DUP sets bit 3 of the first byte (0x%02x)", buf[0]);
	n = mqtt_encode_subscribe(buf, sizeof(buf), 1, "bulkhead/dev1/cmd", 1, &err);
	ok(same(buf, n, "82160001001162756c6b686561642f646576312f636d6401"),
	   "SUBSCRIBE at QoS 1 is the bytes mosquitto_sub sends");
	n = mqtt_encode_empty(buf, sizeof(buf), MQTT_DISCONNECT, &err);
	ok(same(buf, n, "e000"), "DISCONNECT is e0 00");
	n = mqtt_encode_empty(buf, sizeof(buf), MQTT_PINGREQ, &err);
	ok(same(buf, n, "c000"), "PINGREQ is c0 00");
	n = mqtt_encode_puback(buf, sizeof(buf), 0x1234, &err);
	ok(same(buf, n, "40021234"), "PUBACK carries the packet id");
	memset(buf, 0xaa, sizeof(buf));
	n = mqtt_encode_publish(buf, 31, &p, &err);
	ok(n == 32 && buf[0] == 0xaa && buf[30] == 0xaa,
	   "a buffer one byte too small gets the needed length (%zd) and nothing written", n);
}

static void remaining_lengths(void)
{
	static const size_t sizes[] = {0, 127, 128, 16383, 16384, 2097151, 2097152};
	struct bh_error err = {0};
	size_t i;

	for (i = 0; i < sizeof(sizes) / sizeof(sizes[0]); i++) {
		size_t body = sizes[i] >= 3 ? sizes[i] - 3 : 0, len;
		struct mqtt_publish p = {.topic = "t", .topic_len = 1, .payload_len = body};
		uint8_t *buf, *payload = calloc(1, body + 1);
		struct mqtt_header h;
		ssize_t n;

		p.payload = payload;
		n = mqtt_encode_publish(NULL, 0, &p, &err);
		buf = malloc((size_t)n);
		mqtt_encode_publish(buf, (size_t)n, &p, &err);
		len = (size_t)n;
		ok(mqtt_parse_header(buf, len, len, &h, &err) == 1 && h.remaining == 3 + body &&
			   h.header_len + h.remaining == len,
		   "remaining length %zu survives encoding and parsing", 3 + body);
		ok(mqtt_parse_header(buf, h.header_len - 1, len, &h, &err) == 0,
		   "a header cut short asks for more bytes (remaining %zu)", 3 + body);
		free(buf);
		free(payload);
	}
}

/* The captured broker bytes, decoded packet by packet. */
static void captured(void)
{
	/* CONNACK, SUBACK, PUBACK, the cmd message at QoS 1, PUBACK, PINGRESP. */
	static const char session[] = "200200009003000101400200023219001162756c6b686561642f646576312f"
				      "636d64000173796e6340020003d000";
	static const uint8_t want_types[] = {MQTT_CONNACK, MQTT_SUBACK,	 MQTT_PUBACK,
					     MQTT_PUBLISH, MQTT_PUBACK, MQTT_PINGRESP};
	struct bh_error err = {0};
	uint8_t buf[256];
	size_t len = unhex(session, buf), at = 0, k = 0;
	bool good = true;

	while (at < len && k < sizeof(want_types)) {
		struct mqtt_header h;
		struct mqtt_packet p;

		if (mqtt_parse_header(buf + at, len - at, 4096, &h, &err) != 1 ||
		    mqtt_decode(buf + at, h.header_len + h.remaining, &p, &err) < 0 ||
		    p.type != want_types[k]) {
			good = false;
			break;
		}
		if (p.type == MQTT_PUBLISH)
			good &= p.u.publish.qos == 1 && p.u.publish.id == 1 &&
				p.u.publish.topic_len == 17 &&
				memcmp(p.u.publish.topic, "bulkhead/dev1/cmd", 17) == 0 &&
				p.u.publish.payload_len == 4 &&
				memcmp(p.u.publish.payload, "sync", 4) == 0;
		if (p.type == MQTT_SUBACK)
			good &= p.u.suback.id == 1 && p.u.suback.count == 1 &&
				p.u.suback.codes[0] == 1;
		at += h.header_len + h.remaining;
		k++;
	}
	ok(good && at == len && k == sizeof(want_types),
	   "mosquitto's CONNACK, SUBACK, PUBACK, PUBLISH and PINGRESP decode with their fields "
	   "(%s)",
	   good ? "fine" : err.msg);
	len = unhex("20020100", buf);
	{
		struct mqtt_packet p;

		ok(mqtt_decode(buf, len, &p, &err) == 0 && p.u.connack.session_present &&
			   p.u.connack.return_code == 0,
		   "CONNACK with session present");
	}
}

/* Each malformed packet, with the words its error must carry. */
static void malformed(void)
{
	static const struct {
		const char *hex, *want, *name;
	} cases[] = {
		{"2003000000", "CONNACK: remaining length is 3, not 2", "CONNACK too long"},
		{"20020006", "CONNACK: return code 6 is not defined", "unknown CONNACK code"},
		{"20020200", "CONNACK: reserved acknowledge flags 0x02", "CONNACK reserved flag"},
		{"20020105", "CONNACK: session present with refusal code 5",
		 "session present on a refusal"},
		{"21020000", "CONNACK: fixed header flags are 0x1", "CONNACK flags"},
		{"3605000174 0001", "PUBLISH: qos 3 is reserved", "QoS 3"},
		{"380400017478", "PUBLISH: DUP is set on a qos 0 message", "DUP on QoS 0"},
		{"30050009747474", "PUBLISH: topic length 9 is more than the 3 bytes left",
		 "topic length past the end"},
		{"300100", "PUBLISH: packet ends inside the topic length", "PUBLISH cut short"},
		{"30040002c0af", "PUBLISH: topic is not valid UTF-8 at byte 0", "overlong UTF-8"},
		{"30040002eda0", "PUBLISH: topic is not valid UTF-8", "truncated UTF-8"},
		{"30050003eda080", "PUBLISH: topic is not valid UTF-8 at byte 0", "UTF-16 surrogate"},
		{"3004000261 00", "PUBLISH: topic is not valid UTF-8 at byte 1", "NUL in a topic"},
		{"300300012b", "PUBLISH: topic holds the wildcard '+'", "wildcard in a topic"},
		{"3002 0000", "PUBLISH: topic is empty", "empty topic"},
		{"32050001740000", "PUBLISH: packet id is 0", "QoS 1 with packet id 0"},
		{"32030001 74", "PUBLISH: packet ends inside the packet id", "QoS 1 without packet id"},
		{"400100", "PUBACK: packet ends inside the packet id", "PUBACK too short"},
		{"4003000100", "PUBACK: 1 unexpected bytes after the last field", "PUBACK too long"},
		{"40020000", "PUBACK: packet id is 0", "PUBACK id 0"},
		{"42020001", "PUBACK: fixed header flags are 0x2, not 0x0", "PUBACK flags"},
		{"60020001", "PUBREL: fixed header flags are 0x0, not 0x2", "PUBREL flags"},
		{"900200 01", "SUBACK: no return codes", "SUBACK without codes"},
		{"9003000103", "SUBACK: return code 0x03 of filter 1", "SUBACK code 3"},
		{"d00100", "PINGRESP: 1 unexpected bytes", "PINGRESP with a body"},
		{"1000", "CONNECT: only a client sends this packet", "CONNECT from a broker"},
		{"8200", "SUBSCRIBE: only a client sends this packet", "SUBSCRIBE from a broker"},
		{"c000", "PINGREQ: only a client sends", "PINGREQ from a broker"},
		{"e000", "DISCONNECT: only a client sends", "DISCONNECT from a broker (3.1.1)"},
		{"0000", "reserved type 0: not an MQTT 3.1.1 packet type", "reserved type 0"},
		{"f000", "reserved type 15: not an MQTT 3.1.1 packet type", "reserved type 15"},
		{"3080808080 01", "PUBLISH: remaining length takes more than 4 bytes",
		 "a fifth remaining-length byte"},
		{"308000", "remaining length 0 is not in its shortest encoding",
		 "a non-minimal remaining length"},
		{"d00200", "PINGRESP: remaining length 2, but 1 bytes follow", "a length past the end"},
		{"d00000", "PINGRESP: remaining length 0, but 1 bytes follow", "bytes past the length"},
		{"d0", "ends inside its fixed header", "a lone first byte"},
	};
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char hex[128];
		uint8_t buf[64];
		struct mqtt_packet p;
		struct bh_error err = {0};
		size_t n = 0, j;
		int rc;

		for (j = 0; cases[i].hex[j]; j++)
			if (cases[i].hex[j] != ' ')
				hex[n++] = cases[i].hex[j];
		hex[n] = 0;
		n = unhex(hex, buf);
		rc = mqtt_decode(buf, n, &p, &err);
		ok(rc < 0 && strstr(err.msg, cases[i].want), "%s is refused: \"%s\"", cases[i].name,
		   rc < 0 ? err.msg : "accepted");
	}
}

static void limits(void)
{
	struct bh_error err = {0};
	struct mqtt_header h;
	/* PUBLISH announcing 268435455 bytes: refused before any is read. */
	static const uint8_t huge[] = {0x30, 0xff, 0xff, 0xff, 0x7f};
	static const uint8_t big[] = {0x30, 0x80, 0x80, 0x04};
	uint8_t buf[16];
	struct mqtt_publish p = {.topic = "a/#", .topic_len = 3};
	ssize_t n;

	ok(mqtt_parse_header(huge, sizeof(huge), 65536, &h, &err) < 0 &&
		   strstr(err.msg, "PUBLISH: packet of 268435460 bytes exceeds the limit of 65536"),
	   "the largest remaining length is refused over the limit: \"%s\"", err.msg);
	ok(mqtt_parse_header(big, sizeof(big), 65536, &h, &err) < 0 &&
		   strstr(err.msg, "exceeds the limit"),
	   "a 64 KiB packet is refused from its header alone");
	n = mqtt_encode_publish(buf, sizeof(buf), &p, &err);
	ok(n < 0 && strstr(err.msg, "publish: topic holds the wildcard '#'"),
	   "the encoder refuses a wildcard in a topic name: \"%s\"", err.msg);
	p.topic = "a";
	p.topic_len = 1;
	p.qos = 1;
	n = mqtt_encode_publish(buf, sizeof(buf), &p, &err);
	ok(n < 0 && strstr(err.msg, "packet id other than 0"), "the encoder wants an id for QoS 1");
	p.qos = 2;
	p.id = 1;
	ok(mqtt_encode_publish(buf, sizeof(buf), &p, &err) < 0 && strstr(err.msg, "qos 2"),
	   "the encoder refuses QoS 2: \"%s\"", err.msg);
	ok(mqtt_encode_subscribe(buf, sizeof(buf), 1, "a/#/b", 1, &err) < 0 &&
		   strstr(err.msg, "'#' at byte 2 is not the whole last level"),
	   "a filter with '#' before the end is refused: \"%s\"", err.msg);
	ok(mqtt_encode_subscribe(buf, sizeof(buf), 1, "a/b+", 1, &err) < 0 &&
		   strstr(err.msg, "'+' at byte 3 does not fill a whole level"),
	   "a filter with '+' inside a level is refused: \"%s\"", err.msg);
	ok(mqtt_encode_subscribe(NULL, 0, 1, "bulkhead/+/status", 1, &err) > 0 &&
		   mqtt_encode_subscribe(NULL, 0, 1, "#", 0, &err) > 0,
	   "'+' as a level and '#' alone are filters");
	{
		struct mqtt_connect c = {.client_id = "", .clean_session = false};

		ok(mqtt_encode_connect(buf, sizeof(buf), &c, &err) < 0 &&
			   strstr(err.msg, "empty client id needs a clean session"),
		   "an empty client id without a clean session is refused");
	}
}

static void utf8(void)
{
	static const struct {
		const char *s;
		ssize_t want;
	} cases[] = {
		{"plain", -1},
		{"caf\xc3\xa9", -1},
		{"\xe2\x82\xac", -1},	  /* U+20AC */
		{"\xf0\x9f\x98\x80", -1}, /* U+1F600 */
		{"\xf4\x90\x80\x80", 0},  /* above U+10FFFF */
		{"\xe0\x80\xaf", 0},	  /* overlong '/' */
		{"ab\xff", 2},
		{"\xc3", 0},
	};
	size_t i;
	bool good = true;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ssize_t got = mqtt_utf8_check((const uint8_t *)cases[i].s, strlen(cases[i].s));

		if (got != cases[i].want) {
			printf("#   case %zu: got %zd, want %zd\n", i, got, cases[i].want);
			good = false;
		}
	}
	ok(good, "UTF-8: valid forms pass, overlong, out of range, stray and cut bytes do not");
}

int main(void)
{
	encoders();
	remaining_lengths();
	captured();
	malformed();
	limits();
	utf8();
	return done();
}
