/* Internal interfaces of bhfleet, the operator's view of a fleet. */
#ifndef BHFLEET_H
#define BHFLEET_H

#include <bulkhead/error.h>
#include <bulkhead/mqtt.h>
#include <bulkhead/report.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yyjson.h>

/* One gateway as its retained status topic shows it. */
struct device {
	char name[REPORT_DEVICE_MAX];
	bool online;       /* a status document; false: "offline" (its will, or a poweroff) */
	yyjson_doc *doc;   /* the last status document seen (online, or from the cache) */
	char raw[64];      /* a payload that is neither: shown as it is */
};

struct fleet_view {
	struct device *dev;
	size_t n, cap;
};

struct options {
	struct mqtt_config mqtt;
	char host[REGISTRY_HOST_MAX], port[8];
	const char *prefix, *cache;
	bool json, watch;
	unsigned settle_ms, timeout_s;
};

/* Subscribes to <prefix>/+/status and collects the retained statuses until
 * none has come for settle_ms (collect.c); with watch, goes on and calls
 * changed() for each later one. */
int collect(struct options *o, struct fleet_view *v,
            void (*changed)(const struct options *o, const struct device *d),
            struct bh_error *err);
/* Takes a status payload for device name. Returns the entry. */
struct device *view_update(struct fleet_view *v, const char *name, const void *payload,
                           size_t len);
void view_free(struct fleet_view *v);

/* Output (show.c): the table or JSON, and the cache of last statuses. */
void show_header(void);
void show_line(const struct device *d);
int show_json(const struct fleet_view *v);
void show_watch(const struct options *o, const struct device *d);
int cache_load(const char *path, struct fleet_view *v, struct bh_error *err);
int cache_save(const char *path, const struct fleet_view *v, struct bh_error *err);

#endif
