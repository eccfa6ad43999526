/* The messages between bhd and bhreport (include/bulkhead/report.h): the
 * configuration round-trips and refuses what MQTT cannot carry, naming the
 * field; broker addresses, device ids and topic prefixes; the line reader
 * hands over whole lines, across reads, and drops an overlong one. */
#include "tap.h"

#include <bulkhead/report.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct bh_error err;
static char got[4][128];
static int ngot;

static void collect(void *arg, char *line, size_t len)
{
	if (ngot < 4)
		snprintf(got[ngot], sizeof(got[0]), "%.*s", (int)len, line);
	ngot++;
}

int main(void)
{
	static struct report_config c, c2;
	char host[256], port[8], *json, *big;
	size_t len;
	int p[2];
	struct report_lines l = {0};

	snprintf(c.host, sizeof(c.host), "broker.example");
	snprintf(c.port, sizeof(c.port), "8883");
	snprintf(c.ca_file, sizeof(c.ca_file), "/data/fleet/broker-ca.pem");
	snprintf(c.cert_file, sizeof(c.cert_file), "/data/fleet/device.pem");
	snprintf(c.key_pem, sizeof(c.key_pem), "-----BEGIN PRIVATE KEY-----\nx\n-----END PRIVATE KEY-----\n");
	snprintf(c.device, sizeof(c.device), "gw-0001");
	snprintf(c.prefix, sizeof(c.prefix), "bulkhead");
	snprintf(c.queue_dir, sizeof(c.queue_dir), "/data/report");
	c.status_period_s = 900;
	c.queue_max = 256;
	ok(report_config_write(&c, &json, &len, &err) == 0 &&
	       report_config_read(json, len, &c2, &err) == 0 && !memcmp(&c, &c2, sizeof(c)),
	   "the configuration round-trips: %s", err.msg);
	free(json);
	c.device[2] = '+';
	ok(report_config_write(&c, &json, &len, &err) == 0 &&
	       report_config_read(json, len, &c2, &err) < 0 && strstr(err.msg, "$.config.device") &&
	       !c2.key_pem[0],
	   "a device id with a wildcard is refused, and the key is wiped: %s", err.msg);
	free(json);
	json = "{\"config\":{\"host\":\"h\",\"colour\":1}}";
	ok(report_config_read(json, strlen(json), &c2, &err) < 0 &&
	       strstr(err.msg, "colour"),
	   "an unknown field is refused: %s", err.msg);
	ok(report_broker_split("broker.example:8883", host, sizeof(host), port, sizeof(port), &err) == 0 &&
	       !strcmp(host, "broker.example") && !strcmp(port, "8883"),
	   "host:port splits");
	ok(report_broker_split("[fd00::1]:8883", host, sizeof(host), port, sizeof(port), &err) == 0 &&
	       !strcmp(host, "fd00::1"),
	   "[v6]:port splits");
	ok(report_broker_split("fd00::1:8883", host, sizeof(host), port, sizeof(port), &err) < 0 &&
	       report_broker_split("b:0", host, sizeof(host), port, sizeof(port), &err) < 0 &&
	       report_broker_split("b:", host, sizeof(host), port, sizeof(port), &err) < 0 &&
	       report_broker_split("user@b:1", host, sizeof(host), port, sizeof(port), &err) < 0,
	   "a bare v6 address, port 0, no port and a user@ are refused");
	ok(report_device_valid("gw-0001.lab_A") && !report_device_valid("") &&
	       !report_device_valid("a/b") && !report_device_valid("a#") &&
	       !report_device_valid("0123456789012345678901234567890123456789012345678901234567890123"),
	   "device ids: letters, digits, . _ -, 1 to 63");
	ok(report_prefix_valid("bulkhead") && report_prefix_valid("acme/eu-1") &&
	       !report_prefix_valid("/a") && !report_prefix_valid("a/") &&
	       !report_prefix_valid("a//b") && !report_prefix_valid("$SYS") &&
	       !report_prefix_valid("a/+"),
	   "topic prefixes: levels, no wildcard, no $, no empty level");

	if (pipe2(p, O_CLOEXEC) < 0)
		return 1;
	fcntl(p[0], F_SETFL, O_NONBLOCK);
	if (write(p[1], "{\"a\":1}\n{\"b\"", 12) != 12)
		return 1;
	report_lines_read(&l, p[0], collect, NULL);
	if (write(p[1], ":2}\n\n", 5) != 5)
		return 1;
	report_lines_read(&l, p[0], collect, NULL);
	ok(ngot == 2 && !strcmp(got[0], "{\"a\":1}") && !strcmp(got[1], "{\"b\":2}"),
	   "whole lines are handed over, across reads; an empty line is skipped");
	big = malloc(REPORT_LINE_MAX + 100);
	memset(big, 'x', REPORT_LINE_MAX + 99);
	big[REPORT_LINE_MAX + 99] = '\n';
	ngot = 0;
	for (size_t off = 0; off < REPORT_LINE_MAX + 100;) {
		ssize_t n = write(p[1], big + off, REPORT_LINE_MAX + 100 - off > 4096 ? 4096
		                                                                      : REPORT_LINE_MAX + 100 - off);

		off += (size_t)n;
		report_lines_read(&l, p[0], collect, NULL);
	}
	if (write(p[1], "ok\n", 3) != 3)
		return 1;
	report_lines_read(&l, p[0], collect, NULL);
	ok(ngot == 1 && !strcmp(got[0], "ok") && l.overlong == 1,
	   "a line over %d bytes is dropped and counted; the next one arrives", REPORT_LINE_MAX);
	close(p[1]);
	ok(report_lines_read(&l, p[0], collect, NULL) == 0, "the end of the pipe is 0");
	report_lines_free(&l);
	free(big);
	close(p[0]);
	return done();
}
