/* A gateway's provisioning (docs/fleet.md, "Provisioning"): what makes one
 * device of a fleet itself. `bhpack provision` writes it onto the EFI
 * system partition of a disk image or a flashed disk, as
 * PROVISION_ESP_PATH; on its first boot bhd moves it to /data/fleet (the
 * key 0600) and deletes it from the ESP.
 *
 *   {"format": "bulkhead-provision/1",
 *    "registry": "registry.example:5000", "repository": "acme/fleet",
 *    "group": "lab", "ca": "-----BEGIN CERTIFICATE-----...",
 *    "username": "gw-0001", "password": "...", "poll_interval": 300,
 *    "device_id": "gw-0001", "device_cert": "-----BEGIN...", "device_key": "-----BEGIN...",
 *    "broker": "broker.example:8883", "broker_ca": "-----BEGIN CERTIFICATE-----...",
 *    "topic_prefix": "acme", "status_period": 15}
 *
 * The device identity (id, certificate and key) serves mutual TLS to the
 * registry and to the MQTT broker, whose ACL takes the certificate's CN as
 * the device's name: device_id must be that CN. status_period is in
 * minutes.
 * Every field but format is optional: what is absent comes from the
 * image's built-in defaults (Kconfig, "Fleet"). */
#ifndef BULKHEAD_PROVISION_H
#define BULKHEAD_PROVISION_H

#include <bulkhead/error.h>
#include <bulkhead/registry.h>
#include <bulkhead/report.h>
#include <bulkhead/state.h>

#include <stdint.h>

#define PROVISION_FORMAT   "bulkhead-provision/1"
#define PROVISION_ESP_PATH "/bulkhead/provision.json" /* on the ESP */
#define PROVISION_MAX      (64 * 1024)
#define PROVISION_PEM_MAX  (16 * 1024)
#define PROVISION_PERIOD_MAX (24 * 60) /* status_period, minutes */

struct provision {
	char registry[REGISTRY_HOST_MAX];
	char repository[REGISTRY_REPO_MAX];
	char group[STATE_NAME_MAX];
	char username[128];
	char password[256];
	uint32_t poll_interval; /* 0: not given */
	char device_id[REPORT_DEVICE_MAX];
	char broker[REGISTRY_HOST_MAX];         /* host:port of the MQTT broker */
	char topic_prefix[REPORT_PREFIX_MAX];
	uint32_t status_period;                 /* minutes; 0: not given */
	char *ca, *device_cert, *device_key; /* PEM text, malloc'd; NULL when not given */
	char *broker_ca;
};

/* Parses and checks a provisioning document; errors name `what` and the
 * field. provision_free() releases the PEM texts (the key wiped). */
int provision_parse(const char *json, size_t len, const char *what, struct provision *p,
                    struct bh_error *err);
void provision_free(struct provision *p);
/* The document for p (malloc'd). */
int provision_write(const struct provision *p, char **json, size_t *len, struct bh_error *err);

#endif
