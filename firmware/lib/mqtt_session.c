#include <bulkhead/mqtt_session.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct mqtt_pending {
	struct mqtt_pending *next;
	uint16_t id;
	bool sent;     /* went out on some connection: a repeat carries DUP */
	int sub;       /* index into subs for a SUBSCRIBE, -1 for a PUBLISH */
	size_t len;
	uint8_t bytes[];
};

void mqtt_session_init(struct mqtt_session *s, size_t max_pending, size_t out_max)
{
	memset(s, 0, sizeof(*s));
	s->max_pending = max_pending;
	s->out_max = out_max;
}

void mqtt_session_free(struct mqtt_session *s)
{
	struct mqtt_pending *p, *next;
	size_t i;

	for (p = s->head; p; p = next) {
		next = p->next;
		free(p);
	}
	for (i = 0; i < s->nsubs; i++)
		free(s->subs[i].filter);
	free(s->out);
	memset(s, 0, sizeof(*s));
}

static int out_append(struct mqtt_session *s, const uint8_t *b, size_t n, struct bh_error *err)
{
	if (n > s->out_max - s->out_len)
		return bh_error(err, EAGAIN, "send buffer full (%zu bytes wait to be written)",
				s->out_len);
	if (s->out_len + n > s->out_cap) {
		size_t cap = s->out_cap ? s->out_cap : 1024;
		uint8_t *o;

		while (cap < s->out_len + n)
			cap *= 2;
		o = realloc(s->out, cap);
		if (!o)
			return bh_error(err, errno, "grow the send buffer to %zu bytes", cap);
		s->out = o;
		s->out_cap = cap;
	}
	memcpy(s->out + s->out_len, b, n);
	s->out_len += n;
	return 0;
}

void mqtt_session_consumed(struct mqtt_session *s, size_t n)
{
	memmove(s->out, s->out + n, s->out_len - n);
	s->out_len -= n;
}

/* Sends a queued packet: a PUBLISH sent before goes out again with DUP. */
static int send_pending(struct mqtt_session *s, struct mqtt_pending *p, struct bh_error *err)
{
	size_t at = s->out_len;

	if (out_append(s, p->bytes, p->len, err) < 0)
		return -1;
	if (p->sub < 0 && p->sent)
		s->out[at] |= 0x08;
	p->sent = true;
	return 0;
}

static bool id_in_use(const struct mqtt_session *s, uint16_t id)
{
	const struct mqtt_pending *p;

	for (p = s->head; p; p = p->next)
		if (p->id == id)
			return true;
	return false;
}

static uint16_t next_id(struct mqtt_session *s)
{
	do
		s->last_id = s->last_id == 65535 ? 1 : s->last_id + 1;
	while (id_in_use(s, s->last_id));
	return s->last_id;
}

/* A new queue entry of len bytes with a free packet id, for the caller
 * to fill and commit(). */
static struct mqtt_pending *enqueue(struct mqtt_session *s, size_t len, int sub,
				    struct bh_error *err)
{
	struct mqtt_pending *p;

	if (s->pending >= s->max_pending) {
		bh_error(err, EAGAIN, "%zu messages already wait for their acknowledgement",
			 s->pending);
		return NULL;
	}
	p = calloc(1, sizeof(*p) + len);
	if (!p) {
		bh_error(err, errno, "queue a message of %zu bytes", len);
		return NULL;
	}
	p->len = len;
	p->sub = sub;
	p->id = next_id(s);
	return p;
}

/* Appends the entry to the queue, and sends it at once when online. */
static int commit(struct mqtt_session *s, struct mqtt_pending *p, struct bh_error *err)
{
	if (s->online && send_pending(s, p, err) < 0) {
		free(p);
		return -1;
	}
	if (s->tail)
		s->tail->next = p;
	else
		s->head = p;
	s->tail = p;
	s->pending++;
	return 0;
}

int mqtt_session_publish(struct mqtt_session *s, const struct mqtt_publish *m, uint16_t *id,
			 struct bh_error *err)
{
	struct mqtt_publish q = *m;
	struct mqtt_pending *p;
	ssize_t len;

	q.dup = false;
	q.id = q.qos ? 1 : 0; /* a placeholder while the size is computed */
	len = mqtt_encode_publish(NULL, 0, &q, err);
	if (len < 0)
		return -1;
	if (q.qos == 0) {
		uint8_t *b;
		int rc;

		if (!s->online)
			return bh_error(err, ENOTCONN, "publish to %.*s: not connected, and qos 0 is "
						       "not kept", (int)q.topic_len, q.topic);
		b = malloc((size_t)len);
		if (!b)
			return bh_error(err, errno, "publish %zd bytes", len);
		mqtt_encode_publish(b, (size_t)len, &q, err);
		rc = out_append(s, b, (size_t)len, err);
		free(b);
		if (id)
			*id = 0;
		return rc;
	}
	p = enqueue(s, (size_t)len, -1, err);
	if (!p)
		return -1;
	q.id = p->id;
	mqtt_encode_publish(p->bytes, p->len, &q, err);
	if (id)
		*id = p->id;
	return commit(s, p, err);
}

static int queue_subscribe(struct mqtt_session *s, size_t sub, uint16_t *id, struct bh_error *err)
{
	struct mqtt_pending *p;
	ssize_t len = mqtt_encode_subscribe(NULL, 0, 1, s->subs[sub].filter, s->subs[sub].qos, err);

	if (len < 0)
		return -1;
	p = enqueue(s, (size_t)len, (int)sub, err);
	if (!p)
		return -1;
	mqtt_encode_subscribe(p->bytes, p->len, p->id, s->subs[sub].filter, s->subs[sub].qos, err);
	if (id)
		*id = p->id;
	return commit(s, p, err);
}

int mqtt_session_subscribe(struct mqtt_session *s, const char *filter, uint8_t qos, uint16_t *id,
			   struct bh_error *err)
{
	size_t i = s->nsubs;

	if (mqtt_encode_subscribe(NULL, 0, 1, filter, qos, err) < 0)
		return -1;
	if (i == MQTT_MAX_SUBS)
		return bh_error(err, ENOSPC, "subscribe to %s: already %d subscriptions", filter,
				MQTT_MAX_SUBS);
	s->subs[i].filter = strdup(filter);
	if (!s->subs[i].filter)
		return bh_error(err, errno, "subscribe to %s", filter);
	s->subs[i].qos = qos;
	s->nsubs++;
	if (queue_subscribe(s, i, id, err) < 0) {
		free(s->subs[i].filter);
		s->nsubs--;
		return -1;
	}
	return 0;
}

int mqtt_session_connect(struct mqtt_session *s, const struct mqtt_connect *c,
			 struct bh_error *err)
{
	ssize_t len = mqtt_encode_connect(NULL, 0, c, err);

	mqtt_session_offline(s);
	if (len < 0)
		return -1;
	if (s->out_cap < (size_t)len) {
		uint8_t *o = realloc(s->out, (size_t)len);

		if (!o)
			return bh_error(err, errno, "connect: allocate %zd bytes", len);
		s->out = o;
		s->out_cap = (size_t)len;
	}
	mqtt_encode_connect(s->out, (size_t)len, c, err);
	s->out_len = (size_t)len;
	return 0;
}

void mqtt_session_offline(struct mqtt_session *s)
{
	s->out_len = 0;
	s->online = false;
	s->ping_outstanding = false;
}

static int append_empty(struct mqtt_session *s, enum mqtt_type type, struct bh_error *err)
{
	uint8_t b[2];

	mqtt_encode_empty(b, sizeof(b), type, err);
	return out_append(s, b, sizeof(b), err);
}

int mqtt_session_ping(struct mqtt_session *s, struct bh_error *err)
{
	if (append_empty(s, MQTT_PINGREQ, err) < 0)
		return -1;
	s->ping_outstanding = true;
	return 0;
}

int mqtt_session_disconnect(struct mqtt_session *s, struct bh_error *err)
{
	return append_empty(s, MQTT_DISCONNECT, err);
}

static struct mqtt_pending *find(struct mqtt_session *s, uint16_t id)
{
	struct mqtt_pending *p;

	for (p = s->head; p && p->id != id; p = p->next)
		;
	return p;
}

/* Removes and returns the queued packet with this id, or NULL. */
static struct mqtt_pending *take(struct mqtt_session *s, uint16_t id)
{
	struct mqtt_pending **link, *prev = NULL;

	for (link = &s->head; *link; prev = *link, link = &(*link)->next) {
		struct mqtt_pending *p = *link;

		if (p->id != id)
			continue;
		*link = p->next;
		if (s->tail == p)
			s->tail = prev;
		s->pending--;
		return p;
	}
	return NULL;
}

/* After CONNACK: without a session on the broker, every subscription is
 * made again (queued SUBSCRIBEs give way to fresh ones); then the queue
 * goes out in order. */
static int resume(struct mqtt_session *s, bool session_present, struct bh_error *err)
{
	struct mqtt_pending *p;
	size_t i;

	if (!session_present) {
		for (p = s->head; p;) {
			struct mqtt_pending *next = p->next;

			if (p->sub >= 0)
				free(take(s, p->id));
			p = next;
		}
	}
	for (p = s->head; p; p = p->next)
		if (send_pending(s, p, err) < 0)
			return -1;
	if (!session_present)
		for (i = 0; i < s->nsubs; i++)
			if (queue_subscribe(s, i, NULL, err) < 0)
				return -1;
	return 0;
}

static int on_connack(struct mqtt_session *s, const struct mqtt_packet *p,
		      const struct mqtt_session_cb *cb, struct bh_error *err)
{
	uint8_t code = p->u.connack.return_code;

	if (s->online)
		return bh_error(err, 0, "CONNACK: a second one on the same connection");
	if (code != 0)
		return bh_error(err, 0, "the broker refused the connection: %s (CONNACK code %u)",
				mqtt_connack_reason(code), code);
	s->online = true;
	if (resume(s, p->u.connack.session_present, err) < 0)
		return -1;
	if (cb->on_connect)
		cb->on_connect(cb->arg, p->u.connack.session_present);
	return 0;
}

static int on_publish(struct mqtt_session *s, const struct mqtt_packet *p,
		      const struct mqtt_session_cb *cb, struct bh_error *err)
{
	const struct mqtt_publish *m = &p->u.publish;
	uint8_t ack[4];

	if (m->qos > 1)
		return bh_error(err, 0, "PUBLISH: qos %u, but the device subscribes at qos 1 at most",
				m->qos);
	if (cb->on_message)
		cb->on_message(cb->arg, m);
	if (m->qos == 0)
		return 0;
	mqtt_encode_puback(ack, sizeof(ack), m->id, err);
	return out_append(s, ack, sizeof(ack), err);
}

static int on_suback(struct mqtt_session *s, const struct mqtt_packet *p,
		     const struct mqtt_session_cb *cb, struct bh_error *err)
{
	uint16_t id = p->u.suback.id;
	struct mqtt_pending *q = find(s, id);
	int sub;

	if (p->u.suback.count != 1)
		return bh_error(err, 0, "SUBACK: %zu return codes for a SUBSCRIBE of one filter",
				p->u.suback.count);
	if (!q)
		return 0; /* the SUBSCRIBE of an earlier connection, already made again */
	if (q->sub < 0)
		return bh_error(err, 0, "SUBACK: packet id %u belongs to a PUBLISH", id);
	sub = q->sub;
	free(take(s, id));
	if (cb->on_suback)
		cb->on_suback(cb->arg, id, s->subs[sub].filter, p->u.suback.codes[0]);
	return 0;
}

static int on_puback(struct mqtt_session *s, uint16_t id, const struct mqtt_session_cb *cb,
		     struct bh_error *err)
{
	struct mqtt_pending *q = find(s, id);

	if (!q)
		return 0; /* acknowledged already: a repeat the broker answered twice */
	if (q->sub >= 0)
		return bh_error(err, 0, "PUBACK: packet id %u belongs to a SUBSCRIBE", id);
	free(take(s, id));
	if (cb->on_puback)
		cb->on_puback(cb->arg, id);
	return 0;
}

int mqtt_session_handle(struct mqtt_session *s, const uint8_t *pkt, size_t len,
			const struct mqtt_session_cb *cb, struct bh_error *err)
{
	struct mqtt_packet p;

	if (mqtt_decode(pkt, len, &p, err) < 0)
		return -1;
	if (!s->online && p.type != MQTT_CONNACK)
		return bh_error(err, 0, "%s: received before CONNACK", mqtt_type_name(p.type));
	switch (p.type) {
	case MQTT_CONNACK:
		return on_connack(s, &p, cb, err);
	case MQTT_PUBLISH:
		return on_publish(s, &p, cb, err);
	case MQTT_PUBACK:
		return on_puback(s, p.u.id, cb, err);
	case MQTT_SUBACK:
		return on_suback(s, &p, cb, err);
	case MQTT_PINGRESP:
		s->ping_outstanding = false;
		return 0;
	default: /* PUBREC, PUBREL, PUBCOMP, UNSUBACK */
		return bh_error(err, 0, "%s: the device sent no QoS 2 message or UNSUBSCRIBE",
				mqtt_type_name(p.type));
	}
}
