/* Fleet sync between bhd and its fetcher, bhsync (docs/fleet.md).
 *
 * bhd decides when to poll and applies what a poll brought; it never talks
 * to the network. For each poll it starts bhsync as an unprivileged user
 * with a request on stdin; bhsync polls the registry (libbulkhead's
 * registry client), reads and verifies the desired state, downloads the
 * bundles and the update the state needs that the device does not have,
 * into its own folder, and answers with a result on stdout. bhd verifies
 * the state again itself and installs the files through the same paths as
 * `bhctl install` and `bhctl update`.
 *
 * Both messages are JSON (sync_request_write/read, sync_result_write/
 * read); the structs below are what they carry. */
#ifndef BULKHEAD_SYNC_H
#define BULKHEAD_SYNC_H

#include <bulkhead/backoff.h>
#include <bulkhead/error.h>
#include <bulkhead/registry.h>
#include <bulkhead/state.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SYNC_PATH_MAX    256
#define SYNC_SECRET_MAX  256
#define SYNC_KEY_PEM_MAX 4096
#define SYNC_FAILED_MAX  8
#define SYNC_HAVE_MAX    (STATE_MAX_WORKLOADS * 2)
#define SYNC_MESSAGE_MAX (64 * 1024)  /* either message, as JSON */
#define SYNC_STATE_FILE  "state.dsse" /* in the work folder */

/* Where a device syncs from: built-in defaults (Kconfig), overridden by
 * the device's provisioning (/data/fleet/config.json). */
struct sync_config {
	char registry[REGISTRY_HOST_MAX]; /* host[:port]; "" when not provisioned */
	char repository[REGISTRY_REPO_MAX];
	char group[STATE_NAME_MAX];
	char ca_file[SYNC_PATH_MAX];     /* PEM bundle the registry must chain to */
	char client_cert[SYNC_PATH_MAX]; /* mutual TLS, with client_key; "" when none */
	char client_key[SYNC_PATH_MAX];
	char client_key_pem[SYNC_KEY_PEM_MAX]; /* or the key itself: bhd reads the key file,
	                                          which its unprivileged fetcher may not */
	char username[128];                    /* Basic / token endpoint; "" anonymous */
	char password[SYNC_SECRET_MAX];
	uint32_t poll_interval; /* seconds, until a state says otherwise */
};

struct sync_request {
	struct sync_config cfg;
	char keys_dir[SYNC_PATH_MAX];          /* trusted state keys */
	char work_dir[SYNC_PATH_MAX];          /* where downloads go */
	char settled[REGISTRY_DIGEST_LEN + 1]; /* the state manifest last applied as far
	                                         as it goes ("": none) */
	bool force;                            /* fetch the state even when unchanged */
	uint64_t applied_serial;
	char running_version[STATE_VERSION_MAX];
	bool update_allowed; /* the running boot is confirmed */
	char failed_updates[SYNC_FAILED_MAX][REGISTRY_DIGEST_LEN + 1];
	size_t n_failed;
	char have[SYNC_HAVE_MAX][REGISTRY_DIGEST_LEN + 1]; /* bundle files installed (SHA-256) */
	size_t n_have;
};

enum sync_outcome {
	SYNC_UNCHANGED, /* the group's tag still names the settled state */
	SYNC_READY,     /* a verified state, and every file it needs */
	SYNC_FAILED,    /* see error, fault, verdict */
};

struct sync_file {
	char name[STATE_NAME_MAX];           /* the workload ("" for the update) */
	char layer[REGISTRY_DIGEST_LEN + 1]; /* SHA-256 of the bundle / update file */
	char path[SYNC_PATH_MAX];            /* downloaded file; "" when the device has it */
};

struct sync_result {
	enum sync_outcome outcome;
	char state_digest[REGISTRY_DIGEST_LEN + 1]; /* the state artifact's manifest */
	uint64_t serial;
	uint32_t poll_interval; /* the state's, seconds */
	struct sync_file workloads[STATE_MAX_WORKLOADS];
	size_t n_workloads;
	struct sync_file update; /* layer "" when no update is due */
	char note[256];          /* e.g. why a due update was not fetched */
	/* What the poll cost. */
	uint64_t requests, bytes_received, refetched;
	/* SYNC_FAILED: the cause. */
	char error[BH_ERROR_MAX];
	enum registry_fault fault; /* REGISTRY_OK when not the registry's */
	long http_status, retry_after_s;
	char verdict[32]; /* state_verdict_name(), "" when not the state's */
};

int sync_request_write(const struct sync_request *q, char **json, size_t *len,
                       struct bh_error *err);
int sync_request_read(const char *json, size_t len, struct sync_request *q, struct bh_error *err);
int sync_result_write(const struct sync_result *r, char **json, size_t *len, struct bh_error *err);
int sync_result_read(const char *json, size_t len, struct sync_result *r, struct bh_error *err);

/* The next poll: interval seconds with +-20% jitter (r: a random value in
 * [0, 1)), in milliseconds. */
int64_t sync_next_poll_ms(uint32_t interval, double r);
/* After a failed poll: exponential backoff from 30 s, doubling up to an
 * hour, with jitter (backoff.h), never sooner than the registry's
 * Retry-After (-1: none). backoff_reset() after a poll that worked. */
#define SYNC_BACKOFF_FIRST_MS 30000
#define SYNC_BACKOFF_MAX_MS   3600000
void sync_backoff_init(struct backoff *b, uint64_t seed);
int64_t sync_retry_ms(struct backoff *b, long retry_after_s);

#endif
