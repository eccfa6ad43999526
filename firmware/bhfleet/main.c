/* bhfleet: the operator's view of a fleet (docs/fleet.md, "Telemetry").
 * Connects to the MQTT broker with an operator's certificate, reads the
 * retained status of every gateway and prints one line each: device,
 * firmware version, slot, whether the boot is confirmed, workloads running
 * out of total, advisories, last seen, online or offline.
 *
 *   bhfleet --broker HOST:PORT --ca CA.pem --cert OP.pem --key OP.key
 *           [--server-name NAME] [--prefix P] [--json] [--watch]
 *           [--cache FILE] [--settle-ms N] [--timeout S] */
#include "bhfleet.h"

#include <bulkhead/version.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int usage(void)
{
	fprintf(stderr,
	        "usage: bhfleet --broker HOST:PORT --ca CA.pem --cert OPERATOR.pem --key OPERATOR.key\n"
	        "               [--server-name NAME] [--prefix P] [--json] [--watch]\n"
	        "               [--cache FILE] [--settle-ms N] [--timeout S]\n"
	        "Prints the retained status of every gateway under P (default bulkhead):\n"
	        "device, version, slot, confirmed, workloads running/total, advisories,\n"
	        "last seen, online or offline. --watch goes on printing each status that\n"
	        "changes (for --timeout S, else until stopped); --cache keeps each gateway's\n"
	        "last status in FILE, so that one gone offline still shows what it ran.\n"
	        "--timeout: for the snapshot, default 10 s. (bhfleet %s)\n",
	        BH_VERSION);
	return 2;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(((const struct device *)a)->name, ((const struct device *)b)->name);
}

static void watch_changed(const struct options *o, const struct device *d)
{
	static bool header;

	if (!d && !header) {
		header = true;
		if (!o->json)
			show_header();
	}
	show_watch(o, d);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"broker", required_argument, NULL, 'b'},  {"ca", required_argument, NULL, 'a'},
	    {"cert", required_argument, NULL, 'c'},    {"key", required_argument, NULL, 'k'},
	    {"server-name", required_argument, NULL, 'n'}, {"prefix", required_argument, NULL, 'p'},
	    {"json", no_argument, NULL, 'j'},          {"watch", no_argument, NULL, 'w'},
	    {"cache", required_argument, NULL, 'C'},   {"settle-ms", required_argument, NULL, 's'},
	    {"timeout", required_argument, NULL, 't'}, {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0}};
	static struct options o = {.prefix = "bulkhead", .settle_ms = 500};
	struct fleet_view v = {0};
	const char *broker = NULL;
	char client_id[48];
	struct bh_error err;
	int c, rc;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'b': broker = optarg; break;
		case 'a': o.mqtt.tls.ca_file = optarg; break;
		case 'c': o.mqtt.tls.cert_file = optarg; break;
		case 'k': o.mqtt.tls.key_file = optarg; break;
		case 'n': o.mqtt.server_name = optarg; break;
		case 'p': o.prefix = optarg; break;
		case 'j': o.json = true; break;
		case 'w': o.watch = true; break;
		case 'C': o.cache = optarg; break;
		case 's': o.settle_ms = (unsigned)strtoul(optarg, NULL, 10); break;
		case 't': o.timeout_s = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'h': usage(); return 0;
		default: return usage();
		}
	}
	if (optind != argc || !broker || !o.mqtt.tls.ca_file || !o.mqtt.tls.cert_file ||
	    !o.mqtt.tls.key_file)
		return usage();
	if (!report_prefix_valid(o.prefix)) {
		fprintf(stderr, "bhfleet: --prefix %s: not a topic prefix\n", o.prefix);
		return 2;
	}
	if (report_broker_split(broker, o.host, sizeof(o.host), o.port, sizeof(o.port), &err) < 0) {
		bh_error_print(&err, "bhfleet: --broker");
		return 2;
	}
	snprintf(client_id, sizeof(client_id), "bhfleet-%d-%u", (int)getpid(),
	         (unsigned)(rand() ^ (unsigned)getpid() << 8));
	o.mqtt.host = o.host;
	o.mqtt.port = o.port;
	o.mqtt.client_id = client_id;
	o.mqtt.clean_session = true;
	o.mqtt.keepalive_s = 30;
	if (o.cache && cache_load(o.cache, &v, &err) < 0) {
		bh_error_print(&err, "bhfleet");
		return 2;
	}
	rc = collect(&o, &v, o.watch ? watch_changed : NULL, &err);
	if (rc < 0) {
		bh_error_print(&err, "bhfleet");
		view_free(&v);
		return 2;
	}
	if (!o.watch) {
		qsort(v.dev, v.n, sizeof(v.dev[0]), by_name);
		if (o.json) {
			show_json(&v);
		} else {
			show_header();
			for (size_t i = 0; i < v.n; i++)
				show_line(&v.dev[i]);
		}
	}
	if (o.cache && cache_save(o.cache, &v, &err) < 0) {
		bh_error_print(&err, "bhfleet");
		rc = -1;
	}
	view_free(&v);
	return rc < 0 ? 2 : 0;
}
