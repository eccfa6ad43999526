/* The desired state of a device group, bulkhead-state/1 (docs/fleet.md):
 * what firmware and which workloads the gateways of a group should run,
 * how often they poll, a serial that only increases and an expiry time.
 * It travels as the payload of a DSSE envelope (include/bulkhead/dsse.h)
 * signed by a state key the device trusts (/etc/bulkhead/keys/state/):
 *
 *   {"format": "bulkhead-state/1", "group": "lab", "serial": 42,
 *    "issued": "2026-12-06T16:00:00Z", "expires": "2026-12-13T16:00:00Z",
 *    "poll_interval": 300,
 *    "firmware": {"version": "0.1.1767225600", "update": "sha256:..."},
 *    "workloads": [{"name": "demo-web", "version": "1.2", "bundle": "sha256:..."}],
 *    "revocations": {<a signed revocation list's DSSE envelope>}}
 *
 * "firmware" is optional (absent: the firmware is not managed by the
 * state); "update" and "bundle" are digests of the artifact manifests
 * that `bhpack push` printed. "revocations" is optional: a key revocation
 * list (include/bulkhead/revoke.h) as signed by an update key; the state
 * only carries it, the device checks its own signature. */
#ifndef BULKHEAD_STATE_H
#define BULKHEAD_STATE_H

#include <bulkhead/error.h>
#include <bulkhead/registry.h>
#include <bulkhead/revoke.h>
#include <bulkhead/sign.h>

#include <stddef.h>
#include <stdint.h>

#define STATE_FORMAT        "bulkhead-state/1"
#define STATE_PAYLOAD_TYPE  "application/vnd.bulkhead.state.v1+json"
#define STATE_MAX_BYTES     (256 * 1024) /* the envelope */
#define STATE_MAX_WORKLOADS 64
#define STATE_NAME_MAX      64 /* group and workload names, with the NUL */
#define STATE_VERSION_MAX   64
#define STATE_POLL_MIN      10
#define STATE_POLL_MAX      (7 * 24 * 3600)

struct state_workload {
	char name[STATE_NAME_MAX];
	char version[STATE_VERSION_MAX];
	char bundle[REGISTRY_DIGEST_LEN + 1];
};

struct state {
	char group[STATE_NAME_MAX];
	uint64_t serial;
	int64_t issued, expires; /* seconds since the epoch, UTC */
	uint32_t poll_interval;  /* seconds */
	int has_firmware;
	char firmware_version[STATE_VERSION_MAX];
	char firmware_update[REGISTRY_DIGEST_LEN + 1];
	struct state_workload workloads[STATE_MAX_WORKLOADS];
	size_t n_workloads;
	char key_id[SIGN_KEY_ID_LEN + 1]; /* the key that signed it (state_read) */
	/* The revocation list it carries, as JSON (its format checked, not
	 * its signature); revocations_len 0 when none. */
	char revocations[REVOKE_MAX_BYTES + 1];
	size_t revocations_len;
};

/* Why a state was refused. */
enum state_verdict {
	STATE_ACCEPTED = 0,
	STATE_MALFORMED,     /* not an envelope, or a field is missing or wrong */
	STATE_UNKNOWN_KEY,   /* not signed by a trusted state key */
	STATE_BAD_SIGNATURE, /* signed by a trusted key, but altered since */
	STATE_WRONG_GROUP,   /* a valid state of another group */
	STATE_REPLAYED,      /* serial lower than the one applied */
	STATE_EXPIRED,       /* past its expiry time: stale */
};

const char *state_verdict_name(enum state_verdict v);

/* What the device holds the state against. */
struct state_check {
	const char *keys_dir;    /* trusted public keys (*.pem) */
	const char *group;       /* the device's group; NULL: any */
	uint64_t applied_serial; /* 0: nothing applied yet */
	int64_t now;             /* seconds since the epoch */
};

/* Verifies the envelope's signature against c->keys_dir BEFORE any field
 * of the payload is parsed, then parses and validates the state, then
 * checks group, serial (a lower one is a replay; an equal one is the same
 * state) and expiry. Returns 0 with *v = STATE_ACCEPTED, or -1 with *v
 * saying why; for WRONG_GROUP, REPLAYED and EXPIRED *s is filled (the
 * signature was good), so a caller can report what it saw. */
int state_read(const char *envelope, size_t len, const char *what, const struct state_check *c,
               struct state *s, enum state_verdict *v, struct bh_error *err);

/* Parses and validates a payload's fields only (no signature: for the
 * signer's own checks and the fuzzer). Errors name the field. */
int state_parse(const char *json, size_t len, const char *what, struct state *s,
                struct bh_error *err);

/* The payload JSON of s (malloc'd), fields in the documented order. */
int state_write(const struct state *s, char **json, size_t *len, struct bh_error *err);

/* RFC 3339 UTC times, "YYYY-MM-DDTHH:MM:SSZ". */
int state_time_parse(const char *s, int64_t *t);
void state_time_format(int64_t t, char out[21]);

#endif
