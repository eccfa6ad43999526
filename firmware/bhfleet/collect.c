/* The retained statuses of a fleet, from the broker. MQTT 3.1.1 has no
 * marker for "every retained message was sent": the broker sends them
 * right after the SUBACK, so the view is complete once none has arrived
 * for settle_ms. The subscription is QoS 0, so that a large fleet is not
 * held back by the broker's in-flight window. */
#include "bhfleet.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

struct device *view_update(struct fleet_view *v, const char *name, const void *payload,
                           size_t len)
{
	struct device *d = NULL;
	yyjson_doc *doc;

	for (size_t i = 0; i < v->n && !d; i++)
		if (!strcmp(v->dev[i].name, name))
			d = &v->dev[i];
	if (!d) {
		if (v->n == v->cap) {
			size_t cap = v->cap ? 2 * v->cap : 64;
			struct device *more = realloc(v->dev, cap * sizeof(*more));

			if (!more)
				return NULL;
			v->dev = more;
			v->cap = cap;
		}
		d = &v->dev[v->n++];
		memset(d, 0, sizeof(*d));
		snprintf(d->name, sizeof(d->name), "%s", name);
	}
	d->raw[0] = 0;
	if (len == strlen(REPORT_OFFLINE) && !memcmp(payload, REPORT_OFFLINE, len)) {
		d->online = false; /* the last status seen (cache) stays */
		return d;
	}
	doc = yyjson_read(payload, len, 0);
	if (!yyjson_is_obj(yyjson_doc_get_root(doc))) {
		yyjson_doc_free(doc);
		d->online = false;
		snprintf(d->raw, sizeof(d->raw), "%.*s", (int)(len < 40 ? len : 40),
		         (const char *)payload);
		for (char *c = d->raw; *c; c++)
			if (*c < 0x20 || *c >= 0x7f)
				*c = '?';
		return d;
	}
	yyjson_doc_free(d->doc);
	d->doc = doc;
	d->online = true;
	return d;
}

void view_free(struct fleet_view *v)
{
	for (size_t i = 0; i < v->n; i++)
		yyjson_doc_free(v->dev[i].doc);
	free(v->dev);
	memset(v, 0, sizeof(*v));
}

static struct {
	struct options *o;
	struct fleet_view *v;
	void (*changed)(const struct options *o, const struct device *d);
	bool subscribed, settled;
	int64_t last;
} c;

static void on_message(void *arg, const struct mqtt_publish *m)
{
	size_t plen = strlen(c.o->prefix);
	char name[REPORT_DEVICE_MAX];
	const char *dev;
	size_t dlen;
	struct device *d;

	/* <prefix>/<device>/status */
	if (m->topic_len <= plen + 8 || memcmp(m->topic, c.o->prefix, plen) ||
	    m->topic[plen] != '/' || memcmp(m->topic + m->topic_len - 7, "/status", 7))
		return;
	dev = m->topic + plen + 1;
	dlen = m->topic_len - plen - 8;
	if (!dlen || dlen >= sizeof(name))
		return;
	memcpy(name, dev, dlen);
	name[dlen] = 0;
	if (!report_device_valid(name))
		return;
	d = view_update(c.v, name, m->payload, m->payload_len);
	c.last = mono_ms();
	if (d && c.settled && c.changed)
		c.changed(c.o, d);
}

static void on_suback(void *arg, uint16_t id, const char *filter, uint8_t granted)
{
	c.subscribed = true;
	c.last = mono_ms();
}

int collect(struct options *o, struct fleet_view *v,
            void (*changed)(const struct options *o, const struct device *d),
            struct bh_error *err)
{
	char filter[REPORT_PREFIX_MAX + 16];
	struct mqtt_client *mc;
	int64_t start = mono_ms();
	/* The snapshot, or the connection of a watch, within the timeout
	 * (default 10 s); a watch without one goes on for ever. */
	int64_t deadline = start + (int64_t)(o->timeout_s ? o->timeout_s : 10) * 1000;
	int64_t end = o->watch && o->timeout_s ? deadline : -1;
	int rc = 0;

	c.o = o;
	c.v = v;
	c.changed = changed;
	o->mqtt.cb = (struct mqtt_session_cb){.on_message = on_message, .on_suback = on_suback};
	mc = mqtt_client_new(&o->mqtt, mono_ms(), err);
	if (!mc)
		return -1;
	snprintf(filter, sizeof(filter), "%s/+/status", o->prefix);
	if (mqtt_subscribe(mc, filter, 0, NULL, err) < 0) {
		mqtt_client_free(mc);
		return -1;
	}
	for (;;) {
		int64_t now = mono_ms();
		int t = mqtt_timeout_ms(mc, now);
		int64_t until = c.settled ? end : c.subscribed ? c.last + o->settle_ms : deadline;
		struct pollfd p = {.fd = mqtt_fd(mc), .events = mqtt_events(mc)};

		if (until >= 0 && (t < 0 || until - now < t))
			t = until > now ? (int)(until - now) : 0;
		if (poll(&p, 1, t) < 0 && errno != EINTR) {
			rc = bh_error(err, errno, "poll");
			break;
		}
		now = mono_ms();
		if (mqtt_step(mc, now, err) < 0) {
			rc = -1; /* an operator's tool says why at once */
			break;
		}
		if (!c.settled && c.subscribed && now >= c.last + o->settle_ms) {
			c.settled = true;
			if (!o->watch)
				break;
			if (changed)
				changed(o, NULL); /* the snapshot is complete */
		}
		if (!c.subscribed && now >= deadline) {
			rc = bh_error(err, ETIMEDOUT, "no answer from the broker %s:%s within %u s",
			              o->host, o->port, o->timeout_s);
			break;
		}
		if (c.settled && end >= 0 && now >= end)
			break;
	}
	mqtt_disconnect(mc, mono_ms());
	for (int i = 0; i < 100 && mqtt_state(mc) != MQTT_STOPPED; i++) {
		struct pollfd p = {.fd = mqtt_fd(mc), .events = mqtt_events(mc)};
		struct bh_error ignored;

		poll(&p, 1, 20);
		mqtt_step(mc, mono_ms(), &ignored);
	}
	mqtt_client_free(mc);
	return rc;
}
