/* The MQTT packet decoder and the session behind it, fed what a hostile
 * broker could send: the input is the byte stream after the TLS layer. It
 * is framed as the client frames it (mqtt_parse_header with a 4 KiB limit)
 * and each packet goes through mqtt_session_handle until the first error.
 * Every refusal must say why, and what the session would send back must
 * stay well-formed MQTT. The seeds are mosquitto's own bytes
 * (tests/fuzz/corpus_mqtt.py). */
#include <bulkhead/mqtt_session.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PACKET 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void on_message(void *arg, const struct mqtt_publish *m)
{
	volatile uint8_t sink = 0;
	size_t i;

	/* Touch every byte the decoder handed out: ASan checks the bounds. */
	for (i = 0; i < m->topic_len; i++)
		sink ^= (uint8_t)m->topic[i];
	for (i = 0; i < m->payload_len; i++)
		sink ^= ((const uint8_t *)m->payload)[i];
	(void)arg;
}

static void refused_without_reason(const struct bh_error *err)
{
	if (err->msg[0] == 0)
		abort();
}

/* What the session queued to send must frame into whole packets. */
static void check_out(const struct mqtt_session *s)
{
	struct bh_error err;
	size_t at = 0;

	while (at < s->out_len) {
		struct mqtt_header h;

		if (mqtt_parse_header(s->out + at, s->out_len - at, SIZE_MAX, &h, &err) != 1)
			abort();
		at += h.header_len + h.remaining;
	}
	if (at != s->out_len)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct mqtt_connect conn = {.client_id = "dev1", .keepalive_s = 30};
	struct mqtt_session_cb cb = {.on_message = on_message};
	struct mqtt_publish p = {.topic = "bulkhead/dev1/events", .topic_len = 20,
				 .payload = "{}", .payload_len = 2, .qos = 1};
	struct mqtt_session s;
	struct mqtt_packet pkt;
	struct bh_error err = {0};
	size_t at = 0;

	/* The decoder alone, on the whole input as one packet. */
	if (mqtt_decode(data, size, &pkt, &err) < 0)
		refused_without_reason(&err);

	mqtt_session_init(&s, 8, 1 << 20);
	mqtt_session_publish(&s, &p, NULL, &err);
	mqtt_session_subscribe(&s, "bulkhead/dev1/cmd", 1, NULL, &err);
	mqtt_session_connect(&s, &conn, &err);
	for (;;) {
		struct mqtt_header h;
		int rc = mqtt_parse_header(data + at, size - at, MAX_PACKET, &h, &err);

		if (rc < 0)
			refused_without_reason(&err);
		if (rc <= 0 || h.header_len + h.remaining > size - at)
			break;
		if (mqtt_session_handle(&s, data + at, h.header_len + h.remaining, &cb, &err) < 0) {
			refused_without_reason(&err);
			break;
		}
		check_out(&s);
		mqtt_session_consumed(&s, s.out_len);
		at += h.header_len + h.remaining;
	}
	mqtt_session_free(&s);
	return 0;
}
