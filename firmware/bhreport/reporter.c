/* The reporter's loop: one poll() over bhd's pipe and the broker's socket.
 *
 * - The status: bhd sends it whenever its stable part may have changed,
 *   and fresh on request. It is published retained at QoS 1 when that part
 *   differs from what this connection last published, after every
 *   (re)connection, on the broker's `report`, and at least every status
 *   period, but never twice within STATUS_GAP_MS (a crash-looping workload
 *   would otherwise publish at each restart).
 * - Events: each is stored on /data first (queue.c) and acknowledged to
 *   bhd, then published at QoS 1, in seq order, at most EVENT_WINDOW
 *   awaiting their PUBACK; a PUBACK removes the file. The MQTT session
 *   sends unacknowledged ones again after a reconnect, and a restarted
 *   reporter sends everything still on /data: at least once, in order.
 * - Commands: only the payloads "sync" and "report" on this device's cmd
 *   topic, not retained, reach bhd; anything else is logged and dropped.
 *   The broker is not trusted: a command can only make the device do
 *   sooner what it does anyway.
 * - A clean stop (bhd's {"stop": true}) publishes "offline" over the
 *   retained status and disconnects, so the broker drops the last will;
 *   when bhd's pipe just ends, the reporter exits and the will (the same
 *   "offline") is the broker's to publish. */
#include "bhreport.h"
#include "queue.h"

#include <bulkhead/fs.h>
#include <bulkhead/mqtt.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <mbedtls/oid.h>
#include <mbedtls/x509_crt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <yyjson.h>

#define STATUS_GAP_MS 1000
#define WANT_WAIT_MS  2000 /* for bhd's fresh status before publishing the last one */
#define EVENT_WINDOW  16
#define STOP_WAIT_MS  3000 /* for the PUBACK of "offline" at a clean stop */
#define SHOWN_MAX     64   /* bytes of an ignored command put in the log */

static struct {
	struct report_config *cfg;
	struct mqtt_client *mc;
	struct event_queue q;
	struct sbom_info sbom;
	char t_status[256], t_events[256], t_cmd[256];
	char *stable, *vol; /* bhd's latest status, as JSON text */
	char *published;    /* the stable part this connection last published */
	bool force;         /* publish at the next chance, changed or not */
	int64_t want_until; /* waiting for bhd's fresh status until then; 0: not */
	int64_t last_pub, next_period;
	struct {
		uint16_t id;
		uint64_t seq;
	} fl[EVENT_WINDOW];
	size_t nfl;
	uint64_t sent_upto; /* the highest seq handed to the session */
	bool online;
	char error[BH_ERROR_MAX];
	char logged[BH_ERROR_MAX]; /* the last error put in the log */
	bool told;                 /* bhd has heard of the connection at least once */
	bool told_online;
	uint64_t told_queued, told_dropped;
	char told_error[BH_ERROR_MAX];
	bool stopping, offline_sent, offline_acked;
	int64_t stop_deadline;
	uint16_t offline_id;
} r;

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void now_utc(char out[21])
{
	state_time_format((int64_t)time(NULL), out);
}

/* To bhd: one line. bhd always reads its end, so a blocking write only
 * waits while it is busy. */
static void tell(yyjson_mut_doc *doc)
{
	size_t len;
	char *json = yyjson_mut_write(doc, 0, &len);

	if (json) {
		json[len] = '\n'; /* yyjson leaves room for its NUL */
		if (bh_write_all(1, json, len + 1) < 0 && errno != EPIPE)
			fprintf(stderr, "bhreport: write to bhd: %s\n", strerror(errno));
		free(json);
	}
	yyjson_mut_doc_free(doc);
}

static yyjson_mut_doc *message(yyjson_mut_val **root)
{
	yyjson_mut_doc *doc = yyjson_mut_doc_new(NULL);

	*root = yyjson_mut_obj(doc);
	yyjson_mut_doc_set_root(doc, *root);
	return doc;
}

static void tell_connection(void)
{
	yyjson_mut_val *root;
	yyjson_mut_doc *doc;

	if (r.told && r.told_online == r.online && r.told_queued == r.q.n &&
	    r.told_dropped == r.q.dropped && !strcmp(r.told_error, r.error))
		return;
	r.told = true;
	r.told_online = r.online;
	r.told_queued = r.q.n;
	r.told_dropped = r.q.dropped;
	snprintf(r.told_error, sizeof(r.told_error), "%s", r.error);
	doc = message(&root);
	yyjson_mut_obj_add_str(doc, root, "connection", r.online ? "online" : "offline");
	yyjson_mut_obj_add_strcpy(doc, root, "error", r.error);
	yyjson_mut_obj_add_uint(doc, root, "queued", r.q.n);
	yyjson_mut_obj_add_uint(doc, root, "dropped", r.q.dropped);
	yyjson_mut_obj_add_uint(doc, root, "attempts", mqtt_stats(r.mc)->attempts);
	tell(doc);
}

static void want_status(int64_t now)
{
	yyjson_mut_val *root;
	yyjson_mut_doc *doc = message(&root);

	yyjson_mut_obj_add_str(doc, root, "want", "status");
	tell(doc);
	r.want_until = now + WANT_WAIT_MS;
}

/* The status ---------------------------------------------------------------- */

static void add_object(yyjson_mut_doc *doc, yyjson_mut_val *to, const char *text)
{
	yyjson_doc *in = text ? yyjson_read(text, strlen(text), 0) : NULL;
	yyjson_val *k, *v;
	yyjson_obj_iter it;

	yyjson_obj_iter_init(yyjson_doc_get_root(in), &it);
	while ((k = yyjson_obj_iter_next(&it))) {
		v = yyjson_obj_iter_get_val(k);
		yyjson_mut_obj_put(to, yyjson_mut_strcpy(doc, yyjson_get_str(k)),
		                   yyjson_val_mut_copy(doc, v));
	}
	yyjson_doc_free(in);
}

static void publish_status(int64_t now)
{
	yyjson_mut_val *root, *o;
	yyjson_mut_doc *doc = message(&root);
	struct bh_error err;
	char t[21], *json;
	uint16_t id;
	size_t len;

	now_utc(t);
	yyjson_mut_obj_add_str(doc, root, "format", REPORT_STATUS_FORMAT);
	yyjson_mut_obj_add_str(doc, root, "device", r.cfg->device);
	yyjson_mut_obj_add_str(doc, root, "time", t);
	add_object(doc, root, r.stable);
	add_object(doc, root, r.vol);
	o = yyjson_mut_obj(doc);
	if (r.sbom.digest[0])
		yyjson_mut_obj_add_str(doc, o, "digest", r.sbom.digest);
	if (r.sbom.matched) {
		yyjson_mut_obj_add_str(doc, o, "advisory_feed", r.sbom.feed);
		yyjson_mut_obj_add_uint(doc, o, "advisories_checked", r.sbom.advisories);
		yyjson_mut_obj_add_uint(doc, o, "advisories", r.sbom.matching);
		yyjson_mut_obj_add_uint(doc, o, "affected", r.sbom.affected);
		yyjson_mut_obj_add_uint(doc, o, "notes", r.sbom.notes);
	}
	if (r.sbom.error[0])
		yyjson_mut_obj_add_str(doc, o, "error", r.sbom.error);
	yyjson_mut_obj_put(root, yyjson_mut_str(doc, "sbom"), o);
	o = yyjson_mut_obj(doc);
	yyjson_mut_obj_add_uint(doc, o, "queued", r.q.n);
	yyjson_mut_obj_add_uint(doc, o, "dropped", r.q.dropped);
	yyjson_mut_obj_add_uint(doc, o, "next_seq", r.q.next_seq);
	yyjson_mut_obj_put(root, yyjson_mut_str(doc, "events"), o);
	json = yyjson_mut_write(doc, 0, &len);
	yyjson_mut_doc_free(doc);
	if (!json)
		return;
	if (mqtt_publish(r.mc, r.t_status, json, len, 1, true, &id, &err) < 0) {
		fprintf(stderr, "bhreport: publish the status: %s\n", err.msg);
		r.last_pub = now; /* tried again after the gap */
	} else {
		free(r.published);
		r.published = strdup(r.stable ? r.stable : "");
		r.force = false;
		r.last_pub = now;
		r.next_period = now + (int64_t)r.cfg->status_period_s * 1000;
	}
	free(json);
}

static void maybe_publish_status(int64_t now)
{
	if (!r.online || r.stopping)
		return;
	if (now >= r.next_period && !r.force) {
		r.force = true;
		want_status(now);
		if (sbom_info_stale(&r.sbom, r.cfg->advisories))
			sbom_info_load(&r.sbom, r.cfg->sbom, r.cfg->advisories);
	}
	if (r.want_until && now < r.want_until)
		return;
	r.want_until = 0;
	if (!r.stable)
		return; /* nothing from bhd yet */
	if (!r.force && r.published && !strcmp(r.published, r.stable))
		return;
	if (now - r.last_pub < STATUS_GAP_MS)
		return;
	publish_status(now);
}

/* Events ------------------------------------------------------------------ */

static void queue_event(yyjson_val *ev, yyjson_val *id)
{
	yyjson_mut_val *root, *reply;
	yyjson_mut_doc *doc = message(&root), *ack;
	const char *type = yyjson_get_str(yyjson_obj_get(ev, "type"));
	struct bh_error err;
	yyjson_val *k;
	yyjson_obj_iter it;
	char t[21], *json;
	size_t len;

	if (!type) {
		fprintf(stderr, "bhreport: an event from bhd without a type: dropped\n");
		yyjson_mut_doc_free(doc);
		return;
	}
	now_utc(t);
	yyjson_mut_obj_add_str(doc, root, "format", REPORT_EVENT_FORMAT);
	yyjson_mut_obj_add_str(doc, root, "device", r.cfg->device);
	yyjson_mut_obj_add_uint(doc, root, "seq", r.q.next_seq);
	yyjson_mut_obj_add_str(doc, root, "time", t);
	yyjson_obj_iter_init(ev, &it);
	while ((k = yyjson_obj_iter_next(&it)))
		yyjson_mut_obj_put(root, yyjson_mut_strcpy(doc, yyjson_get_str(k)),
		                   yyjson_val_mut_copy(doc, yyjson_obj_iter_get_val(k)));
	json = yyjson_mut_write(doc, 0, &len);
	yyjson_mut_doc_free(doc);
	if (!json || queue_push(&r.q, json, len, &err) < 0) {
		/* bhd must not hold it for ever: counted as dropped instead. */
		fprintf(stderr, "bhreport: queue a %s event: %s; counted as dropped\n", type,
		        json ? err.msg : "out of memory");
		if (queue_add_dropped(&r.q, 1, &err) < 0)
			fprintf(stderr, "bhreport: %s\n", err.msg);
	}
	free(json);
	ack = message(&reply);
	yyjson_mut_obj_add_uint(ack, reply, "queued_id", yyjson_get_uint(id));
	tell(ack);
}

static void pump_events(void)
{
	struct bh_error err;

	while (r.online && r.nfl < EVENT_WINDOW) {
		uint64_t seq = 0;
		uint16_t id;
		size_t len;
		char *data;

		for (size_t i = 0; i < r.q.n && !seq; i++)
			if (r.q.seqs[i] > r.sent_upto)
				seq = r.q.seqs[i];
		if (!seq)
			return;
		if (queue_read(&r.q, seq, &data, &len, &err) < 0) {
			fprintf(stderr, "bhreport: %s: dropped\n", err.msg);
			queue_remove(&r.q, seq);
			if (queue_add_dropped(&r.q, 1, &err) < 0)
				fprintf(stderr, "bhreport: %s\n", err.msg);
			continue;
		}
		if (mqtt_publish(r.mc, r.t_events, data, len, 1, false, &id, &err) < 0) {
			free(data);
			return; /* the session is full: later */
		}
		free(data);
		r.fl[r.nfl].id = id;
		r.fl[r.nfl++].seq = seq;
		r.sent_upto = seq;
	}
}

/* From the broker ---------------------------------------------------------- */

static void on_connect(void *arg, bool session_present)
{
	r.online = true;
	r.error[0] = r.logged[0] = 0;
	fprintf(stderr, "bhreport: connected to %s:%s as %s\n", r.cfg->host, r.cfg->port,
	        r.cfg->device);
	/* The retained status may be a last will's "offline": say it again. */
	r.force = true;
	want_status(mono_ms());
}

static void on_puback(void *arg, uint16_t id)
{
	if (r.stopping && id == r.offline_id) {
		r.offline_acked = true;
		return;
	}
	for (size_t i = 0; i < r.nfl; i++) {
		if (r.fl[i].id != id)
			continue;
		queue_remove(&r.q, r.fl[i].seq);
		r.fl[i] = r.fl[--r.nfl];
		return;
	}
}

/* Shows at most SHOWN_MAX bytes of what a broker sent, printable. */
static void shown(const void *data, size_t len, char *out, size_t size)
{
	const unsigned char *p = data;
	size_t n = 0;

	for (size_t i = 0; i < len && i < SHOWN_MAX && n + 5 < size; i++)
		n += (size_t)snprintf(out + n, size - n, p[i] >= 0x20 && p[i] < 0x7f && p[i] != '"' &&
		                                                 p[i] != '\\'
		                                             ? "%c"
		                                             : "\\x%02x",
		                      p[i]);
	out[n] = 0;
	if (len > SHOWN_MAX)
		snprintf(out + n, size - n, "... (%zu bytes)", len);
}

static void on_message(void *arg, const struct mqtt_publish *m)
{
	static const char *const accepted[] = {"sync", "report"};
	char topic[80], payload[SHOWN_MAX * 4 + 32];
	yyjson_mut_val *root;
	yyjson_mut_doc *doc;
	const char *cmd = NULL;

	for (size_t i = 0; i < 2; i++)
		if (m->payload_len == strlen(accepted[i]) &&
		    !memcmp(m->payload, accepted[i], m->payload_len))
			cmd = accepted[i];
	if (m->topic_len != strlen(r.t_cmd) || memcmp(m->topic, r.t_cmd, m->topic_len) ||
	    m->retain || !cmd) {
		shown(m->topic, m->topic_len, topic, sizeof(topic));
		shown(m->payload, m->payload_len, payload, sizeof(payload));
		fprintf(stderr, "bhreport: ignored a message on \"%s\"%s: \"%s\" (only \"sync\" and "
		                "\"report\" on %s are commands)\n",
		        topic, m->retain ? " (retained)" : "", payload, r.t_cmd);
		return;
	}
	fprintf(stderr, "bhreport: command from the broker: %s\n", cmd);
	if (!strcmp(cmd, "report")) {
		r.force = true;
		want_status(mono_ms());
	}
	doc = message(&root);
	yyjson_mut_obj_add_str(doc, root, "cmd", cmd);
	tell(doc);
}

/* From bhd --------------------------------------------------------------- */

static void start_stop(int64_t now)
{
	struct bh_error err;

	if (r.stopping)
		return;
	r.stopping = true;
	r.stop_deadline = now + STOP_WAIT_MS;
	if (r.online && mqtt_publish(r.mc, r.t_status, REPORT_OFFLINE, strlen(REPORT_OFFLINE), 1,
	                             true, &r.offline_id, &err) == 0)
		r.offline_sent = true;
	else
		r.offline_acked = true; /* nothing to wait for */
}

static void on_line(void *arg, char *line, size_t len)
{
	yyjson_doc *doc = yyjson_read(line, len, 0);
	yyjson_val *root = yyjson_doc_get_root(doc), *v;
	struct bh_error err;

	if (!yyjson_is_obj(root)) {
		fprintf(stderr, "bhreport: a message from bhd that is not a JSON object: ignored\n");
	} else if ((v = yyjson_obj_get(root, "status"))) {
		free(r.stable);
		free(r.vol);
		r.stable = yyjson_val_write(v, 0, NULL);
		r.vol = yyjson_val_write(yyjson_obj_get(root, "volatile"), 0, NULL);
		r.want_until = 0;
	} else if ((v = yyjson_obj_get(root, "event"))) {
		queue_event(v, yyjson_obj_get(root, "id"));
	} else if ((v = yyjson_obj_get(root, "dropped"))) {
		if (queue_add_dropped(&r.q, yyjson_get_uint(v), &err) < 0)
			fprintf(stderr, "bhreport: %s\n", err.msg);
	} else if (yyjson_get_bool(yyjson_obj_get(root, "stop"))) {
		start_stop(mono_ms());
	} else {
		fprintf(stderr, "bhreport: an unknown message from bhd: ignored\n");
	}
	yyjson_doc_free(doc);
}

/* Set up ------------------------------------------------------------------ */

/* The broker's ACL knows the device by its certificate's CN: a device id
 * that differs gets every message refused, which only the broker's log
 * would show. Said once, here. */
static void check_cn(void)
{
	mbedtls_x509_crt crt;

	mbedtls_x509_crt_init(&crt);
	if (mbedtls_x509_crt_parse_file(&crt, r.cfg->cert_file) == 0) {
		for (const mbedtls_x509_name *n = &crt.subject; n; n = n->next) {
			if (MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid))
				continue;
			if (n->val.len != strlen(r.cfg->device) ||
			    memcmp(n->val.p, r.cfg->device, n->val.len))
				fprintf(stderr, "bhreport: warning: the certificate's CN \"%.*s\" is not the "
				                "device id \"%s\": a broker that names devices by their "
				                "certificate will refuse its topics\n",
				        (int)n->val.len, (const char *)n->val.p, r.cfg->device);
			break;
		}
	}
	mbedtls_x509_crt_free(&crt);
}

static int start(struct report_config *cfg, struct bh_error *err)
{
	static struct mqtt_config mc;

	r.cfg = cfg;
	if (!cfg->keepalive_s)
		cfg->keepalive_s = 60;
	if (!cfg->status_period_s)
		cfg->status_period_s = REPORT_PERIOD_DEFAULT;
	report_topic(cfg, "status", r.t_status, sizeof(r.t_status));
	report_topic(cfg, "events", r.t_events, sizeof(r.t_events));
	report_topic(cfg, "cmd", r.t_cmd, sizeof(r.t_cmd));
	if (queue_open(&r.q, cfg->queue_dir, cfg->queue_max ? cfg->queue_max : REPORT_QUEUE_DEFAULT,
	               err) < 0)
		return -1;
	if (r.q.n)
		fprintf(stderr, "bhreport: %zu events wait in %s from before (seq %" PRIu64 " on)\n",
		        r.q.n, cfg->queue_dir, r.q.seqs[0]);
	sbom_info_load(&r.sbom, cfg->sbom, cfg->advisories);
	if (r.sbom.error[0])
		fprintf(stderr, "bhreport: the SBOM: %s\n", r.sbom.error);
	check_cn();
	mc = (struct mqtt_config){
	    .host = cfg->host,
	    .port = cfg->port,
	    .server_name = cfg->server_name[0] ? cfg->server_name : NULL,
	    .tls = {.ca_file = cfg->ca_file, .cert_file = cfg->cert_file, .key_pem = cfg->key_pem},
	    .client_id = cfg->device,
	    .keepalive_s = (uint16_t)cfg->keepalive_s,
	    .will_topic = r.t_status,
	    .will_payload = REPORT_OFFLINE,
	    .will_len = strlen(REPORT_OFFLINE),
	    .will_qos = 1,
	    .will_retain = true,
	    .backoff_cap_ms = cfg->backoff_cap_ms,
	    .cb = {.on_connect = on_connect, .on_message = on_message, .on_puback = on_puback},
	};
	r.mc = mqtt_client_new(&mc, mono_ms(), err);
	/* The key is in the TLS context now; this copy goes. */
	memset(cfg->key_pem, 0, sizeof(cfg->key_pem));
	if (!r.mc)
		return -1;
	return mqtt_subscribe(r.mc, r.t_cmd, 1, NULL, err);
}

static void log_error(const struct bh_error *err)
{
	/* "mqtt (next attempt in N ms): why": the why, logged when it changes. */
	const char *why = strstr(err->msg, "): ");

	why = why ? why + 3 : err->msg;
	snprintf(r.error, sizeof(r.error), "%s", why);
	if (strcmp(r.logged, why))
		fprintf(stderr, "bhreport: %s\n", err->msg);
	snprintf(r.logged, sizeof(r.logged), "%s", why);
}

static int timeout_ms(int64_t now)
{
	int64_t t = mqtt_timeout_ms(r.mc, now);

#define SOONER(at)                                                                                 \
	do {                                                                                       \
		int64_t d = (at) > now ? (at) - now : 0;                                           \
		if (t < 0 || d < t)                                                                \
			t = d;                                                                     \
	} while (0)
	if (r.online && !r.stopping) {
		if (!r.force)
			SOONER(r.next_period);
		if (r.want_until)
			SOONER(r.want_until);
		else if (r.stable && (r.force || !r.published || strcmp(r.published, r.stable)))
			SOONER(r.last_pub + STATUS_GAP_MS);
	}
	if (r.stopping)
		SOONER(r.stop_deadline);
#undef SOONER
	return t > 60000 ? 60000 : (int)t;
}

int reporter_run(struct report_config *cfg)
{
	struct report_lines lines = {0};
	struct bh_error err;
	bool disconnecting = false;

	if (start(cfg, &err) < 0) {
		bh_error_print(&err, "bhreport");
		return 1;
	}
	fcntl(0, F_SETFL, fcntl(0, F_GETFL) | O_NONBLOCK);
	tell_connection();
	while (mqtt_state(r.mc) != MQTT_STOPPED) {
		int64_t now = mono_ms();
		struct pollfd p[2] = {{.fd = r.stopping ? -1 : 0, .events = POLLIN},
		                      {.fd = mqtt_fd(r.mc), .events = mqtt_events(r.mc)}};
		int rc;

		if (poll(p, 2, timeout_ms(now)) < 0 && errno != EINTR) {
			fprintf(stderr, "bhreport: poll: %s\n", strerror(errno));
			return 1;
		}
		if (p[0].revents) {
			rc = report_lines_read(&lines, 0, on_line, NULL);
			if (rc <= 0) {
				/* bhd is gone: leave the last will to the broker. */
				fprintf(stderr, "bhreport: bhd's pipe %s: exiting\n",
				        rc < 0 ? strerror(errno) : "ended");
				report_lines_free(&lines);
				mqtt_client_free(r.mc);
				queue_close(&r.q);
				return 0;
			}
		}
		now = mono_ms();
		if (mqtt_step(r.mc, now, &err) < 0) {
			r.online = false;
			log_error(&err);
		}
		r.online = mqtt_state(r.mc) == MQTT_ONLINE;
		if (r.stopping && !disconnecting && (r.offline_acked || now >= r.stop_deadline)) {
			if (!r.offline_acked)
				fprintf(stderr, "bhreport: no PUBACK for \"offline\" within %d ms\n",
				        STOP_WAIT_MS);
			mqtt_disconnect(r.mc, now);
			disconnecting = true;
			r.stop_deadline = now + STOP_WAIT_MS;
		} else if (disconnecting && now >= r.stop_deadline) {
			break;
		}
		if (!r.stopping) {
			pump_events();
			maybe_publish_status(now);
		}
		tell_connection();
	}
	fprintf(stderr, "bhreport: stopped%s\n",
	        r.offline_sent && r.offline_acked ? ": \"offline\" published" : "");
	report_lines_free(&lines);
	mqtt_client_free(r.mc);
	queue_close(&r.q);
	return 0;
}
