/* The MQTT client's connection state machine: when to connect, retry,
 * ping and give up on a silent broker. The session (mqtt_session.c) decides
 * what to send; this file moves the bytes through tls_client.c. */
#include <bulkhead/backoff.h>
#include <bulkhead/mqtt.h>

#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

struct mqtt_client {
	struct mqtt_config cfg;
	struct tls_client *tls;
	struct mqtt_session s;
	struct backoff backoff;
	struct mqtt_stats stats;
	enum mqtt_state state;
	int64_t due;       /* next attempt (WAITING) or the deadline of this phase */
	int64_t last_sent; /* last bytes written, for keepalive */
	int64_t last_recv; /* last whole packet read */
	int64_t ping_sent;
	uint8_t *in; /* received bytes not yet a whole packet: at most max_packet */
	size_t in_len;
};

#define DEFAULT(v, d) ((v) ? (v) : (d))

static struct mqtt_connect connect_packet(const struct mqtt_config *cfg)
{
	return (struct mqtt_connect){
		.client_id = cfg->client_id,
		.keepalive_s = cfg->keepalive_s,
		.clean_session = cfg->clean_session,
		.will_topic = cfg->will_topic,
		.will_payload = cfg->will_payload,
		.will_len = cfg->will_len,
		.will_qos = cfg->will_qos,
		.will_retain = cfg->will_retain,
	};
}

/* A configuration mistake is reported once, here, not at every attempt. */
static int check_config(const struct mqtt_config *cfg, struct bh_error *err)
{
	struct mqtt_connect m = connect_packet(cfg);

	if (!cfg->host || !cfg->port || !cfg->client_id || !cfg->tls.ca_file ||
	    !cfg->tls.cert_file || (!cfg->tls.key_file && !cfg->tls.key_pem))
		return bh_error(err, EINVAL, "mqtt: host, port, client id, CA, certificate and key "
					     "are all needed");
	if (mqtt_encode_connect(NULL, 0, &m, err) < 0)
		return bh_error_wrap(err, "mqtt");
	return 0;
}

struct mqtt_client *mqtt_client_new(const struct mqtt_config *cfg, int64_t now_ms,
				    struct bh_error *err)
{
	struct mqtt_client *c = calloc(1, sizeof(*c));

	if (!c) {
		bh_error(err, errno, "allocate an MQTT client");
		return NULL;
	}
	c->cfg = *cfg;
	if (check_config(cfg, err) < 0) {
		free(c);
		return NULL;
	}
	c->cfg.connect_timeout_ms = DEFAULT(cfg->connect_timeout_ms, 10000);
	c->cfg.ping_timeout_ms = DEFAULT(cfg->ping_timeout_ms, 10000);
	c->cfg.max_packet = DEFAULT(cfg->max_packet, 65536);
	if (c->cfg.max_packet < MQTT_HEADER_MAX)
		c->cfg.max_packet = MQTT_HEADER_MAX;
	mqtt_session_init(&c->s, DEFAULT(cfg->max_pending, 64), 4 * c->cfg.max_packet + 65536);
	c->in = malloc(c->cfg.max_packet);
	c->tls = c->in ? tls_client_new(&cfg->tls, err) : NULL;
	if (!c->tls) {
		if (!c->in)
			bh_error(err, errno, "allocate the receive buffer");
		mqtt_client_free(c);
		return NULL;
	}
	backoff_init(&c->backoff, DEFAULT(cfg->backoff_base_ms, 1000),
		     DEFAULT(cfg->backoff_cap_ms, 300000), tls_client_random(c->tls));
	c->state = MQTT_WAITING;
	c->due = now_ms;
	return c;
}

void mqtt_client_free(struct mqtt_client *c)
{
	if (!c)
		return;
	tls_client_free(c->tls);
	mqtt_session_free(&c->s);
	free(c->in);
	free(c);
}

int mqtt_publish(struct mqtt_client *c, const char *topic, const void *payload, size_t len,
		 uint8_t qos, bool retain, uint16_t *id, struct bh_error *err)
{
	struct mqtt_publish p = {.topic = topic, .topic_len = strlen(topic), .payload = payload,
				 .payload_len = len, .qos = qos, .retain = retain};

	if (c->state == MQTT_STOPPED || c->state == MQTT_CLOSING)
		return bh_error(err, ENOTCONN, "publish to %s: the client is stopping", topic);
	return mqtt_session_publish(&c->s, &p, id, err);
}

int mqtt_subscribe(struct mqtt_client *c, const char *filter, uint8_t qos, uint16_t *id,
		   struct bh_error *err)
{
	return mqtt_session_subscribe(&c->s, filter, qos, id, err);
}

static void drop_connection(struct mqtt_client *c)
{
	tls_client_close(c->tls);
	mqtt_session_offline(&c->s);
	c->in_len = 0;
}

/* The connection failed: wait, then try again. Always returns -1. */
static int fail(struct mqtt_client *c, int64_t now, struct bh_error *err)
{
	uint32_t delay = backoff_next(&c->backoff);

	drop_connection(c);
	c->stats.failures++;
	c->state = MQTT_WAITING;
	c->due = now + delay;
	return bh_error_wrap(err, "mqtt (next attempt in %u ms)", delay);
}

void mqtt_disconnect(struct mqtt_client *c, int64_t now_ms)
{
	struct bh_error err;

	if (c->state == MQTT_ONLINE && mqtt_session_disconnect(&c->s, &err) == 0) {
		c->state = MQTT_CLOSING;
		c->due = now_ms + c->cfg.connect_timeout_ms;
		return;
	}
	drop_connection(c);
	c->state = MQTT_STOPPED;
}

int mqtt_fd(const struct mqtt_client *c)
{
	return c->state == MQTT_WAITING || c->state == MQTT_STOPPED ? -1 : tls_client_fd(c->tls);
}

short mqtt_events(const struct mqtt_client *c)
{
	short ev = tls_client_events(c->tls);

	if (c->state == MQTT_WAITING || c->state == MQTT_STOPPED)
		return 0;
	if (c->state == MQTT_CONNECTING)
		return ev;
	return (short)(ev | POLLIN | (c->s.out_len ? POLLOUT : 0));
}

/* When the next PINGREQ is due: keepalive after the older of the last
 * packet sent and the last received, so that a broker that went silent
 * is noticed even while the device keeps publishing. */
static int64_t ping_due(const struct mqtt_client *c)
{
	int64_t last = c->last_sent < c->last_recv ? c->last_sent : c->last_recv;

	return last + (int64_t)c->cfg.keepalive_s * 1000;
}

static int64_t next_deadline(const struct mqtt_client *c)
{
	switch (c->state) {
	case MQTT_STOPPED:
		return -1;
	case MQTT_ONLINE:
		if (c->s.ping_outstanding)
			return c->ping_sent + c->cfg.ping_timeout_ms;
		return c->cfg.keepalive_s ? ping_due(c) : -1;
	default:
		return c->due;
	}
}

int mqtt_timeout_ms(const struct mqtt_client *c, int64_t now_ms)
{
	int64_t d = next_deadline(c);

	if (d < 0)
		return -1;
	if (d <= now_ms)
		return 0;
	return d - now_ms > 86400000 ? 86400000 : (int)(d - now_ms);
}

static int start_attempt(struct mqtt_client *c, int64_t now, struct bh_error *err)
{
	c->stats.attempts++;
	c->state = MQTT_CONNECTING;
	c->due = now + c->cfg.connect_timeout_ms;
	if (tls_client_connect(c->tls, c->cfg.host, c->cfg.port, c->cfg.server_name, err) < 0)
		return fail(c, now, err);
	return 0;
}

/* TCP and TLS are up: CONNECT goes first. */
static int send_connect(struct mqtt_client *c, int64_t now, struct bh_error *err)
{
	struct mqtt_connect m = connect_packet(&c->cfg);

	if (mqtt_session_connect(&c->s, &m, err) < 0)
		return fail(c, now, err);
	c->state = MQTT_CONNACK_WAIT;
	c->last_sent = c->last_recv = now;
	return 0;
}

static int flush(struct mqtt_client *c, int64_t now, struct bh_error *err)
{
	while (c->s.out_len) {
		ssize_t n = tls_client_write(c->tls, c->s.out, c->s.out_len, err);

		if (n < 0)
			return -1;
		if (n == 0)
			break;
		mqtt_session_consumed(&c->s, (size_t)n);
		c->last_sent = now;
	}
	return 0;
}

/* Handles every whole packet in the receive buffer. */
static int handle_input(struct mqtt_client *c, int64_t now, struct bh_error *err)
{
	struct mqtt_header h;
	int rc;

	while ((rc = mqtt_parse_header(c->in, c->in_len, c->cfg.max_packet, &h, err)) == 1) {
		size_t len = h.header_len + h.remaining;
		bool was_online = c->s.online;

		if (len > c->in_len)
			return 0;
		if (mqtt_session_handle(&c->s, c->in, len, &c->cfg.cb, err) < 0)
			return -1;
		if (h.type == MQTT_PINGRESP)
			c->stats.pongs++;
		if (!was_online && c->s.online) {
			c->state = MQTT_ONLINE;
			c->stats.connects++;
			backoff_reset(&c->backoff);
		}
		c->last_recv = now;
		memmove(c->in, c->in + len, c->in_len - len);
		c->in_len -= len;
	}
	return rc;
}

static int receive(struct mqtt_client *c, int64_t now, struct bh_error *err)
{
	for (;;) {
		ssize_t n;

		if (handle_input(c, now, err) < 0)
			return -1;
		n = tls_client_read(c->tls, c->in + c->in_len, c->cfg.max_packet - c->in_len, err);
		if (n <= 0)
			return (int)n;
		c->in_len += (size_t)n;
	}
}

static int check_timers(struct mqtt_client *c, int64_t now, struct bh_error *err)
{
	if (c->state == MQTT_CONNACK_WAIT && now >= c->due)
		return bh_error(err, ETIMEDOUT, "no CONNACK within %u ms", c->cfg.connect_timeout_ms);
	if (c->state == MQTT_CLOSING && now >= c->due)
		return bh_error(err, ETIMEDOUT, "DISCONNECT not written within %u ms",
				c->cfg.connect_timeout_ms);
	if (c->state != MQTT_ONLINE)
		return 0;
	if (c->s.ping_outstanding) {
		if (now >= c->ping_sent + c->cfg.ping_timeout_ms)
			return bh_error(err, ETIMEDOUT, "no PINGRESP within %u ms",
					c->cfg.ping_timeout_ms);
		return 0;
	}
	if (c->cfg.keepalive_s && now >= ping_due(c)) {
		if (mqtt_session_ping(&c->s, err) < 0)
			return -1;
		c->ping_sent = now;
		c->stats.pings++;
	}
	return 0;
}

static int step_connected(struct mqtt_client *c, int64_t now, struct bh_error *err)
{
	if (receive(c, now, err) < 0 || check_timers(c, now, err) < 0 || flush(c, now, err) < 0)
		return -1;
	if (c->state == MQTT_CLOSING && c->s.out_len == 0) {
		drop_connection(c);
		c->state = MQTT_STOPPED;
	}
	return 0;
}

int mqtt_step(struct mqtt_client *c, int64_t now_ms, struct bh_error *err)
{
	int rc;

	switch (c->state) {
	case MQTT_STOPPED:
		return 0;
	case MQTT_WAITING:
		if (now_ms < c->due)
			return 0;
		/* A connect to loopback may be done at once. */
		if (start_attempt(c, now_ms, err) < 0)
			return -1;
		/* fall through */
	case MQTT_CONNECTING:
		rc = tls_client_handshake(c->tls, err);
		if (rc < 0)
			return fail(c, now_ms, err);
		if (rc == 0) {
			if (now_ms >= c->due) {
				bh_error(err, ETIMEDOUT, "no TLS session within %u ms",
					 c->cfg.connect_timeout_ms);
				return fail(c, now_ms, err);
			}
			return 0;
		}
		if (send_connect(c, now_ms, err) < 0)
			return -1;
		/* fall through */
	default:
		if (step_connected(c, now_ms, err) < 0) {
			if (c->state == MQTT_CLOSING) {
				drop_connection(c);
				c->state = MQTT_STOPPED;
				return -1;
			}
			return fail(c, now_ms, err);
		}
		return 0;
	}
}

enum mqtt_state mqtt_state(const struct mqtt_client *c)
{
	return c->state;
}

const struct mqtt_stats *mqtt_stats(const struct mqtt_client *c)
{
	return &c->stats;
}
