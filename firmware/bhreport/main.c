/* bhreport: publishes a gateway's status and events to its fleet's MQTT
 * broker and passes the broker's two commands (sync, report) to bhd
 * (include/bulkhead/report.h, docs/fleet.md "Telemetry"). bhd starts it as
 * an unprivileged user with no capabilities, writes its configuration as
 * the first line of its stdin and keeps the pipes open; messages for the
 * log go to stderr.
 *
 *   bhreport     (configuration, then messages, on stdin; replies on stdout) */
#include "bhreport.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* The first line, read a byte at a time so that nothing after it is
 * taken from the pipe before the loop reads it. */
static int read_config(struct report_config *cfg, struct bh_error *err)
{
	static char line[REPORT_LINE_MAX + 1];
	size_t len = 0;
	int rc;

	for (;;) {
		ssize_t n = read(0, line + len, 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return bh_error(err, n < 0 ? errno : 0, "no configuration on stdin");
		if (line[len] == '\n')
			break;
		if (++len == REPORT_LINE_MAX)
			return bh_error(err, 0, "the configuration is over %d bytes", REPORT_LINE_MAX);
	}
	rc = report_config_read(line, len, cfg, err);
	memset(line, 0, len);
	return rc;
}

int main(int argc, char **argv)
{
	static struct report_config cfg;
	struct bh_error err;

	if (argc != 1) {
		fprintf(stderr, "usage: bhreport < configuration and messages (JSON lines)\n");
		return 2;
	}
	if (read_config(&cfg, &err) < 0) {
		bh_error_print(&err, "bhreport");
		return 2;
	}
	return reporter_run(&cfg);
}
