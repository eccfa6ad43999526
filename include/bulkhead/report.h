/* Fleet telemetry between bhd and its reporter, bhreport (docs/fleet.md,
 * "Telemetry").
 *
 * bhd never talks to the broker itself. It starts bhreport once, as the
 * fetcher's unprivileged user with no capabilities, and keeps it running
 * (restarted with backoff when it ends). The two speak JSON lines over a
 * pair of pipes, one object per line:
 *
 *   bhd -> bhreport
 *     {"config": {...}}                  first line: struct report_config
 *     {"status": {...}, "volatile": {...}}  the device's status; bhreport
 *                                        publishes it when the first part
 *                                        changed, when asked, and every
 *                                        status period
 *     {"event": {...}, "id": N}          an event to queue on /data and send
 *     {"dropped": N}                     events bhd lost before bhreport
 *                                        queued them (it was not running)
 *     {"stop": true}                     a clean poweroff: publish "offline",
 *                                        disconnect, exit
 *   bhreport -> bhd
 *     {"connection": "online"|"offline", "error": "...", "queued": n,
 *      "dropped": n}                    the broker session and the queue
 *     {"queued_id": N}                   event N is on /data (bhd forgets it)
 *     {"want": "status"}                 send a fresh status now
 *     {"cmd": "sync"|"report"}           a command from the broker; bhd
 *                                        acts on no other
 *
 * Topics under the prefix (default "bulkhead"): <prefix>/<device>/status
 * (retained, QoS 1; the last will and a clean poweroff leave "offline"),
 * <prefix>/<device>/events (QoS 1) and <prefix>/<device>/cmd (read). */
#ifndef BULKHEAD_REPORT_H
#define BULKHEAD_REPORT_H

#include <bulkhead/error.h>
#include <bulkhead/registry.h>
#include <bulkhead/state.h>
#include <bulkhead/sync.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REPORT_LINE_MAX       (64 * 1024) /* one message, as JSON */
#define REPORT_PREFIX_MAX     64
#define REPORT_DEVICE_MAX     64
#define REPORT_STATUS_FORMAT  "bulkhead-status/1"
#define REPORT_EVENT_FORMAT   "bulkhead-event/1"
#define REPORT_OFFLINE        "offline" /* the status topic's last will */
#define REPORT_QUEUE_DEFAULT  256       /* events kept while offline */
#define REPORT_PERIOD_DEFAULT 900       /* seconds between statuses at least */

struct report_config {
	char host[REGISTRY_HOST_MAX];
	char port[8];
	char server_name[REGISTRY_HOST_MAX]; /* "" : host */
	char ca_file[SYNC_PATH_MAX];         /* the CAs the broker's certificate chains to */
	char cert_file[SYNC_PATH_MAX];       /* the device certificate (world-readable) */
	char key_pem[SYNC_KEY_PEM_MAX];      /* the device key: bhreport may not read its file */
	char device[REPORT_DEVICE_MAX];      /* client id and topic level; the certificate's CN */
	char prefix[REPORT_PREFIX_MAX];
	uint32_t keepalive_s;      /* 0: 60 */
	uint32_t status_period_s;  /* 0: REPORT_PERIOD_DEFAULT */
	char queue_dir[SYNC_PATH_MAX]; /* bhreport's own folder on /data */
	uint32_t queue_max;        /* 0: REPORT_QUEUE_DEFAULT */
	char sbom[SYNC_PATH_MAX];  /* the image's SPDX document ("": none) */
	char advisories[SYNC_PATH_MAX]; /* an OSV file to match it against ("": none) */
	uint32_t backoff_cap_ms;   /* longest reconnect delay; 0: the client's default */
};

int report_config_write(const struct report_config *c, char **json, size_t *len,
                        struct bh_error *err);
/* Reads {"config": {...}}, checking every field (errors name it). The
 * caller wipes its copy of the line: it holds the key. */
int report_config_read(const char *json, size_t len, struct report_config *c,
                       struct bh_error *err);

/* "host:port" (or "[v6]:port") into its parts; the port is required. */
int report_broker_split(const char *broker, char *host, size_t host_size, char *port,
                        size_t port_size, struct bh_error *err);
/* A device id: 1 to 63 of A-Z a-z 0-9 . _ - (a user name and a topic level). */
bool report_device_valid(const char *id);
/* A topic prefix: levels of those characters separated by '/', no empty
 * level, at most REPORT_PREFIX_MAX - 1 bytes. */
bool report_prefix_valid(const char *prefix);
/* "<prefix>/<device>/<leaf>". */
void report_topic(const struct report_config *c, const char *leaf, char *out, size_t size);

/* JSON lines from a non-blocking pipe: whole lines are handed to fn; a
 * line longer than REPORT_LINE_MAX is dropped (counted in overlong). */
struct report_lines {
	char *buf;
	size_t len;
	bool skipping; /* inside an overlong line */
	unsigned overlong;
};
/* Reads what fd has. 1 while open, 0 at its end, -1 on an error (errno). */
int report_lines_read(struct report_lines *l, int fd,
                      void (*fn)(void *arg, char *line, size_t len), void *arg);
void report_lines_free(struct report_lines *l);

#endif
