/* Internal interfaces of bhd, the workload agent. */
#ifndef BULKHEAD_BHD_H
#define BULKHEAD_BHD_H

#include <bulkhead/autoconf.h>
#include <bulkhead/control.h>
#include <bulkhead/error.h>
#include <bulkhead/line_split.h>
#include <bulkhead/manifest.h>
#include <bulkhead/sign.h>
#include <bulkhead/sync.h>
#include <bulkhead/trust.h>
#include <bulkhead/update.h>

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define WORKLOADS_DIR  "/data/workloads"
#define MANIFESTS_DIR  "/data/manifests"
#define SBOM_STORE     "/data/sbom"
#define VOLUMES_DIR    "/data/volumes"
#define RUN_DIR        "/run/bulkhead"
#define LOGS_DIR       RUN_DIR "/logs"
#define BHC_ROOT       RUN_DIR "/bhc"
#define OCI_BUNDLES    RUN_DIR "/workloads"
#define NETNS_DIR      "/run/netns"
/* One trust root per kind of signed file (include/bulkhead/trust.h). */
#define WORKLOAD_KEYS  TRUST_WORKLOAD_KEYS
#define UPDATE_KEYS    TRUST_UPDATE_KEYS
#define EMBEDDED_DIR   "/usr/share/bulkhead/workloads"
#define WORKLOADS_CGROUP "/sys/fs/cgroup/workloads"
#define BHC            "/usr/bin/bhc"
#define BHV            "/usr/bin/bhv"

#define WORKLOADS_MAX 32
#define STOP_TIMEOUT_MS 10000

/* WS_REVOKED: refused at its start, its signing key revoked (revoked.c). */
enum wl_state { WS_STOPPED, WS_RUNNING, WS_BACKOFF, WS_FAILED, WS_EXITED, WS_REVOKED };

struct workload {
	bool used;
	struct wl_manifest m;
	bool has_initrd, has_disk;
	bool verified; /* its files matched its SBOM since bhd started */
	/* The key that signed the bundle it was installed from
	 * (MANIFESTS_DIR/<name>.signer); "" when installed before bhd
	 * recorded it. */
	char signer[SIGN_KEY_ID_LEN + 1];
	enum wl_state state;
	pid_t pid;
	int out_fd;
	int tap_fd;
	int net_index; /* 1..250 while its network exists, 0 otherwise */
	uint32_t restarts, runs;
	int64_t started_at, next_at;
	int last_status; /* wait status of the last run */
	struct line_split out; /* its output, a line at a time (workload_log.c) */
	/* Output rate limit (workload_log.c): a token bucket in bytes, and
	 * the lines dropped over it (since the last report, and in all). */
	int64_t out_tokens, out_refilled_ms;
	uint64_t out_dropped, out_dropped_total;
	int64_t out_noted_ms; /* when the last drop note was written */
};

/* The table (workloads.c). */
extern struct workload workloads[WORKLOADS_MAX];
struct workload *workload_find(const char *name);
/* A cleared entry to fill (set used once it is), or NULL when full. */
struct workload *workload_new(void);
/* A container's root maps to the host uid (and gid) workload_uid_base(w),
 * each entry of the table has its own WORKLOAD_UID_RANGE ids, so no two
 * workloads share one. The base follows the entry, which can change from
 * one install or boot to the next (volume.c moves the volumes along). */
#define WORKLOAD_UID_BASE  1000000u
#define WORKLOAD_UID_RANGE 65536u
uint32_t workload_uid_base(const struct workload *w);

/* bhd's own log lines, and its monotonic clock in ms (log.c). */
int64_t now_ms(void);
__attribute__((format(printf, 1, 2))) void bhd_log(const char *fmt, ...);

/* Install and remove (install.c). The bundle arrives as an open fd. */
int workload_install(int bundle_fd, const char *what, char *name_out, struct bh_error *err);
int workload_remove(const char *name, struct bh_error *err);
/* Loads every installed workload; cleans up half-done installs. */
void workloads_load(void);
/* Installs the bundles the image carries, once. */
void workloads_install_embedded(void);

/* Running them (run.c). */
int workload_start(struct workload *w, int epfd, struct bh_error *err);
void workload_stop(struct workload *w, bool disable);
bool workload_child_exited(pid_t pid, int status);
int64_t workloads_tick(int epfd);
bool workload_output(int fd);
void workloads_stop_all(void);
bool workload_enabled(const char *name);
void workload_set_enabled(const char *name, bool on);

/* Containers and VMs (container.c, vm.c): the runtime's argv. */
int container_prepare(struct workload *w, char *bundle_dir, size_t size, struct bh_error *err);
/* Creates the volume's folder under VOLUMES_DIR, owned in w's uid range,
 * with what an earlier range of w left in it moved along (volume.c);
 * its path in src. */
int volume_prepare(const struct workload *w, const struct wl_volume *v, char *src, size_t size,
		   struct bh_error *err);
bool container_leftover(const struct workload *w);
void container_cleanup(struct workload *w);
int vm_prepare(struct workload *w, char **argv, size_t max, char *store, size_t store_size,
	       struct bh_error *err);

/* Firmware updates into the inactive slot (update.c). */
int update_apply(int fd, bool allow_downgrade, char *out, size_t size, struct bh_error *err);
int update_status(char *out, size_t size, struct bh_error *err);

/* What became of the last update written (update_trial.c): recorded by
 * update_apply, reported as "update kept" or "rolled back" after the
 * reboot, whichever way the update came. */
#define UPDATE_TRIAL_BOOT_MAX 40
struct update_trial {
	char version[UPDATE_VERSION_MAX];
	char slot;
	char boot[UPDATE_TRIAL_BOOT_MAX]; /* the boot that wrote it */
};
enum trial_outcome { TRIAL_NONE, TRIAL_NOT_REBOOTED, TRIAL_WAIT, TRIAL_KEPT, TRIAL_ROLLED_BACK };
enum trial_outcome update_trial_outcome(const struct update_trial *t, const char *boot,
					const char *running, bool confirmed);
void update_trial_begin(const char *version, char slot);
/* Reports the outcome once it is known; call after boot_confirm_tick. */
void update_trial_tick(void);

/* The confirmation of this boot (confirm.c): once it has run healthy for
 * BH_UPDATE_HEALTH_SECONDS, the running slot's tries are re-armed and
 * BOOT_CONFIRMED tells init. Returns ms until the next call, or -1. */
#define BOOT_CONFIRMED RUN_DIR "/boot-confirmed"
#ifndef BH_UPDATE_HEALTH_SECONDS
#define BH_UPDATE_HEALTH_SECONDS 60
#endif
int64_t boot_confirm_tick(int64_t started);
/* Until then the other slot is the fallback, which no update may write. */
bool boot_is_confirmed(void);

/* The EFI system partition (esp.c). Each slot's boot entry is a UKI named
 * bulkhead-<version>-<slot>[+<tries left>[-<tries done>]].efi; a slot
 * known good has ESP_GOOD_DIR/good-<slot> holding its version. */
#define ESP_MOUNT    RUN_DIR "/esp"
#define ESP_UKI_DIR  ESP_MOUNT "/EFI/Linux"
#define ESP_GOOD_DIR ESP_MOUNT "/loader/bulkhead"
#define TRIES        3 /* systemd-boot's tries of a slot's entry */
struct esp_entry {
	char name[256];
	char version[UPDATE_VERSION_MAX];
	char slot;
	int counted, left, done;
};
/* A GPT partition by name: its /dev path and size in bytes. */
int partition_find(const char *label, char *dev, size_t size, uint64_t *bytes,
		   struct bh_error *err);
int esp_mount(struct bh_error *err);
void esp_umount(void);
/* fsync of a folder on the ESP, after a rename in it. */
int esp_sync(const char *dir);
bool esp_entry_parse(const char *name, struct esp_entry *e);
/* The entries on the mounted ESP; stale temporary files are removed. */
size_t esp_entries(struct esp_entry *out, size_t max);
/* The version last known good in slot, "" for none. */
void esp_good_version(char slot, char *out, size_t size);
int esp_set_good_version(char slot, const char *version, struct bh_error *err);

/* A value of /etc/os-release, unquoted (os_release.c); -1 when absent. */
int os_release(const char *key, char *out, size_t size);

/* Networking (net.c): the isolated network and port forwards. */
int net_setup(struct workload *w, struct bh_error *err);
void net_teardown(struct workload *w);
int proxies_open(struct workload *w, int epfd, struct bh_error *err);
void proxies_close(struct workload *w);
bool proxy_event(int fd, uint32_t events, int epfd);

/* Its installed files against its stored SBOM, once per start of bhd
 * (verify.c). */
int workload_verify(struct workload *w, struct bh_error *err);

/* Limits for a manifest that names none (limits.c). */
uint64_t workload_default_memory(void);
void workload_default_limits(struct wl_manifest *m);

/* Each workload's output (workload_log.c): read from its pipe with a byte
 * budget per wakeup, split into lines, rate-limited, logged. */
extern bool workload_output_console;
void workload_output_read(struct workload *w);
void workload_log_line(const char *name, const char *line);
int workload_log_read(const char *name, char **text, struct bh_error *err);

/* The fleet (fleet.c, sync.c, reconcile.c; docs/fleet.md). */
#define FLEET_DIR        "/data/fleet"
#define FLEET_STATUS     FLEET_DIR "/status.json"
#define FLEET_PROVISION  FLEET_DIR "/provision.json"
#define FLEET_CA         FLEET_DIR "/ca.pem"
#define FLEET_CERT       FLEET_DIR "/device.pem"
#define FLEET_KEY        FLEET_DIR "/device.key"
#define FLEET_BUILTIN_CA "/etc/bulkhead/fleet/ca.pem"
#define SYNC_DIR         "/data/sync" /* the fetcher's, and only its */
#define STATE_KEYS       TRUST_STATE_KEYS
#define BHSYNC           "/usr/libexec/bhsync"
#define BHSYNC_UID       64001 /* the fetcher's user and group */

struct fleet_bundle {
	char name[WL_NAME_MAX];
	char layer[REGISTRY_DIGEST_LEN + 1]; /* SHA-256 of the installed bundle file */
};

/* What this gateway applied, in FLEET_STATUS. */
struct fleet_applied {
	uint64_t serial;                           /* of the state applied whole */
	char applied[REGISTRY_DIGEST_LEN + 1];     /* that state's manifest */
	char settled[REGISTRY_DIGEST_LEN + 1];     /* the state applied as far as it goes */
	int64_t expires;                           /* the settled state's expiry */
	char failed[SYNC_FAILED_MAX][REGISTRY_DIGEST_LEN + 1]; /* updates that rolled back */
	size_t n_failed;
	char pending_update[REGISTRY_DIGEST_LEN + 1]; /* written, rebooted into on trial */
	char pending_version[STATE_VERSION_MAX];
	char pending_state[REGISTRY_DIGEST_LEN + 1];
	uint64_t pending_serial;
	char pending_boot[40];                        /* the boot that wrote it */
	struct fleet_bundle bundles[WORKLOADS_MAX];
	size_t n_bundles;
};

struct fleet {
	struct sync_config cfg;
	bool provisioned;
	char device_id[STATE_NAME_MAX];
	struct fleet_applied applied;
};
extern struct fleet fleet;

/* Configuration, provisioning and FLEET_STATUS (fleet.c). */
void fleet_init(void);
int fleet_save(struct bh_error *err);
/* The SHA-256 of name's installed bundle, or NULL when unknown. */
const char *fleet_bundle(const char *name);
/* Records it (NULL: forgets it) and saves. */
void fleet_bundle_set(const char *name, const char *layer);
/* Records the bundle file fd as name's, whichever way it was installed. */
void fleet_note_install(const char *name, int fd);
/* This boot's id (/proc/sys/kernel/random/boot_id). */
void fleet_boot_id(char *out, size_t size);

/* Polling (sync.c): when to poll, the fetcher's process, its result. */
int64_t sync_tick(int epfd);
bool sync_output(int fd, int epfd);
bool sync_child_exited(pid_t pid, int status);
void sync_now(void);
int sync_status(char *out, size_t size);

/* What bhctl fleet and the telemetry status say of the sync (sync.c). */
struct sync_summary {
	const char *state; /* "not provisioned", "update on trial", "failing", ... */
	int64_t last_poll; /* wall clock; 0: none yet */
	const char *last_outcome, *last_error, *note;
	unsigned failures; /* in a row */
};
void sync_summary(struct sync_summary *s);

/* Applying a verified state (reconcile.c): the same install and update
 * paths as bhctl. Returns 1 when the device must reboot into a new slot,
 * 2 when its firmware must wait for this boot's confirmation, 0 when the
 * state is settled, -1 with err when it could not be applied. */
int reconcile(const struct sync_result *res, int epfd, char *note, size_t size,
	      struct bh_error *err);

/* Telemetry (report.c, report_status.c, report_events.c; docs/fleet.md):
 * bhreport, kept running as the fetcher's user, publishes the status and
 * the events to the fleet's MQTT broker (include/bulkhead/report.h). */
#define BHREPORT                "/usr/libexec/bhreport"
#define REPORT_DIR              "/data/report" /* bhreport's own: its event queue */
#define FLEET_BROKER_CA         FLEET_DIR "/broker-ca.pem"
#define FLEET_BUILTIN_BROKER_CA "/etc/bulkhead/fleet/broker-ca.pem"
#define FLEET_ADVISORIES        "/etc/bulkhead/fleet/advisories.json"
#define IMAGE_SBOM              "/usr/share/sbom/image.spdx.json"
#define WATCHDOG_RESET          RUN_DIR "/watchdog-reset" /* init: this boot followed one */
#define DATA_STATUS             RUN_DIR "/data-status" /* init: what /data's check did */
void report_init(void);
int64_t report_tick(int epfd);
bool report_output(int fd, int epfd);
bool report_child_exited(pid_t pid, int status);
/* A clean poweroff or reboot: "offline" published, within a few seconds. */
void report_stop(void);
/* bhctl fleet's lines on telemetry. */
void report_status_text(char *out, size_t size);
/* The status document: the part whose change is published at once, and
 * the part that changes all the time (report_status.c). */
char *report_status_stable(void);
char *report_status_volatile(void);
/* Queues an event (a JSON object with its "type") for the reporter. */
void report_send_event(char *json);
/* The events (report_events.c): one line where each happens. */
void report_installed(const char *name, const char *version);
void report_removed(const char *name, const char *version);
void report_update_applied(const char *version, char slot);
void report_update_kept(const char *version);
void report_rolled_back(const char *version, const char *running);
void report_workload_exited(const struct workload *w);
void report_sync_failed(const char *why, unsigned failures);
void report_watchdog_reset(void);
void report_data_repaired(void);
/* Key revocation lists (revoked.c): the image's and the fleet's. */
#define REVOKED_FLEET FLEET_DIR "/revoked.dsse"
void revoked_load(void);
/* -1 with "what: signed by key K, revoked by LIST (...)" when key_id is
 * revoked by either list. */
int revoked_check(const char *key_id, const char *what, struct bh_error *err);
/* A list a verified state carried (JSON): checked against the update keys
 * and stored when it supersedes the held one; an older one is left
 * out (the log says so); one that would un-revoke a key is refused. */
int revoked_adopt(const char *json, size_t len, const char *what, struct bh_error *err);
/* bhctl fleet's lines about them; the length written. */
size_t revoked_status(char *out, size_t size);

/* Control socket (control.c). */
int control_open(struct bh_error *err);
void control_handle(int lfd, int epfd);

#endif
