/* A device's MQTT client as a command-line program, for
 * tests/integration/test_mqtt.py: it connects with libbulkhead's client
 * (mqtt.h) and runs one poll() loop over the client's socket and stdin, as
 * bhd's loop will. Commands on stdin, one per line:
 *
 *   pub TOPIC QOS RETAIN PAYLOAD     sub FILTER QOS     disconnect
 *
 * Everything that happens is one line on stdout: "connected ...",
 * "error: ...", "queued id=N", "puback id=N", "suback ...", "message TOPIC
 * PAYLOAD", "ping n=N", "pong n=N", "stopped". End of input is a
 * disconnect.
 *
 * mqtt_device --host H --port P --ca F --cert F --key F --id ID
 *     [--server-name N] [--keepalive S] [--will] [--clean] [--max-packet N]
 *     [--backoff BASE_MS,CAP_MS] [--connect-timeout MS] [--ping-timeout MS]
 *     [--give-up N]   (exit 2 after N failed attempts in a row)
 */
#include <bulkhead/mqtt.h>

#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_connect(void *arg, bool session_present)
{
	const struct mqtt_stats *st = mqtt_stats(*(struct mqtt_client **)arg);

	printf("connected session_present=%d attempts=%u\n", session_present, st->attempts);
}

static void on_message(void *arg, const struct mqtt_publish *m)
{
	printf("message %.*s %.*s qos=%u retain=%d\n", (int)m->topic_len, m->topic,
	       (int)m->payload_len, (const char *)m->payload, m->qos, m->retain);
}

static void on_puback(void *arg, uint16_t id)
{
	printf("puback id=%u\n", id);
}

static void on_suback(void *arg, uint16_t id, const char *filter, uint8_t granted)
{
	printf("suback id=%u filter=%s granted=%u\n", id, filter, granted);
}

/* One line of stdin; 1 when the client should stop. */
static int command(struct mqtt_client *c, char *line, int64_t now)
{
	struct bh_error err = {0};
	char *verb = strtok(line, " \n"), *a = strtok(NULL, " \n"), *b = strtok(NULL, " \n");
	char *r = strtok(NULL, " \n"), *payload = strtok(NULL, "\n");
	uint16_t id = 0;
	int rc = -1;

	if (!verb)
		return 0;
	if (!strcmp(verb, "disconnect"))
		return 1;
	if (!strcmp(verb, "pub") && a && b && r)
		rc = mqtt_publish(c, a, payload ? payload : "", payload ? strlen(payload) : 0,
				  (uint8_t)atoi(b), atoi(r), &id, &err);
	else if (!strcmp(verb, "sub") && a && b)
		rc = mqtt_subscribe(c, a, (uint8_t)atoi(b), &id, &err);
	else
		snprintf(err.msg, sizeof(err.msg), "unknown command %s", verb);
	if (rc < 0)
		printf("refused: %s\n", err.msg);
	else
		printf("queued id=%u\n", id);
	return 0;
}

/* Reads what stdin has (never more: stdio would hide buffered lines from
 * poll) and runs each whole line; 1 when the client should stop. */
static int read_commands(struct mqtt_client *c, bool *open)
{
	static char buf[8192];
	static size_t len;
	ssize_t n = read(0, buf + len, sizeof(buf) - 1 - len);
	char *nl;

	if (n <= 0) {
		*open = false;
		return 1;
	}
	len += (size_t)n;
	buf[len] = 0;
	while ((nl = strchr(buf, '\n'))) {
		int stop;

		*nl = 0;
		stop = command(c, buf, now_ms());
		len -= (size_t)(nl + 1 - buf);
		memmove(buf, nl + 1, len + 1);
		if (stop)
			return 1;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: mqtt_device --host H --port P --ca F --cert F --key F --id ID "
			"[options]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"host", 1, NULL, 'h'},	       {"port", 1, NULL, 'p'},
		{"ca", 1, NULL, 'a'},	       {"cert", 1, NULL, 'c'},
		{"key", 1, NULL, 'k'},	       {"id", 1, NULL, 'i'},
		{"server-name", 1, NULL, 'n'}, {"keepalive", 1, NULL, 'K'},
		{"will", 0, NULL, 'w'},	       {"clean", 0, NULL, 'C'},
		{"max-packet", 1, NULL, 'm'},  {"backoff", 1, NULL, 'b'},
		{"connect-timeout", 1, NULL, 't'}, {"ping-timeout", 1, NULL, 'T'},
		{"give-up", 1, NULL, 'g'},     {0},
	};
	struct mqtt_config cfg = {.keepalive_s = 60};
	struct mqtt_client *c = NULL;
	struct bh_error err = {0};
	char will_topic[256];
	unsigned give_up = 0, failures = 0, pings = 0, pongs = 0;
	bool stdin_open = true;
	int o;

	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case 'h': cfg.host = optarg; break;
		case 'p': cfg.port = optarg; break;
		case 'a': cfg.tls.ca_file = optarg; break;
		case 'c': cfg.tls.cert_file = optarg; break;
		case 'k': cfg.tls.key_file = optarg; break;
		case 'i': cfg.client_id = optarg; break;
		case 'n': cfg.server_name = optarg; break;
		case 'K': cfg.keepalive_s = (uint16_t)atoi(optarg); break;
		case 'w': cfg.will_qos = 1; cfg.will_retain = true; break;
		case 'C': cfg.clean_session = true; break;
		case 'm': cfg.max_packet = (size_t)atol(optarg); break;
		case 'b':
			cfg.backoff_base_ms = (uint32_t)atol(optarg);
			cfg.backoff_cap_ms = strchr(optarg, ',') ? (uint32_t)atol(strchr(optarg, ',') + 1) : 0;
			break;
		case 't': cfg.connect_timeout_ms = (uint32_t)atol(optarg); break;
		case 'T': cfg.ping_timeout_ms = (uint32_t)atol(optarg); break;
		case 'g': give_up = (unsigned)atoi(optarg); break;
		default: usage();
		}
	}
	if (!cfg.host || !cfg.port || !cfg.tls.ca_file || !cfg.tls.cert_file ||
	    !cfg.tls.key_file || !cfg.client_id)
		usage();
	if (cfg.will_retain) {
		snprintf(will_topic, sizeof(will_topic), "bulkhead/%s/status", cfg.client_id);
		cfg.will_topic = will_topic;
		cfg.will_payload = "offline";
		cfg.will_len = 7;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	cfg.cb = (struct mqtt_session_cb){.arg = &c,
					  .on_connect = on_connect,
					  .on_message = on_message,
					  .on_puback = on_puback,
					  .on_suback = on_suback};
	c = mqtt_client_new(&cfg, now_ms(), &err);
	if (!c) {
		bh_error_print(&err, "mqtt_device");
		return 1;
	}
	while (mqtt_state(c) != MQTT_STOPPED) {
		struct pollfd p[2] = {{.fd = stdin_open ? 0 : -1, .events = POLLIN},
				      {.fd = mqtt_fd(c), .events = mqtt_events(c)}};
		const struct mqtt_stats *st = mqtt_stats(c);

		if (poll(p, 2, mqtt_timeout_ms(c, now_ms())) < 0 && errno != EINTR) {
			perror("poll");
			return 1;
		}
		if (p[0].revents && read_commands(c, &stdin_open))
			mqtt_disconnect(c, now_ms());
		if (mqtt_step(c, now_ms(), &err) < 0) {
			printf("error: %s\n", err.msg);
			if (give_up && ++failures >= give_up) {
				printf("gave up after %u attempts\n", failures);
				mqtt_client_free(c);
				return 2;
			}
		} else if (mqtt_state(c) == MQTT_ONLINE) {
			failures = 0;
		}
		for (; pings < st->pings; pings++)
			printf("ping n=%u\n", pings + 1);
		for (; pongs < st->pongs; pongs++)
			printf("pong n=%u\n", pongs + 1);
	}
	printf("stopped\n");
	mqtt_client_free(c);
	return 0;
}
