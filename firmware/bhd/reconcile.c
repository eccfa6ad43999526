/* Applying a desired state that bhsync brought (docs/fleet.md).
 *
 * bhd trusts nothing the fetcher says: it reads the state envelope again
 * and verifies it against the trusted state keys (serial, group, expiry
 * included) before it uses any field; it opens only files of the form
 * SYNC_DIR/blobs/sha256-<hex>, without following a symlink, and hashes
 * each before use; and each bundle and update then goes through exactly
 * the checks of `bhctl install` and `bhctl update`.
 *
 * A state signed by a revoked key is refused; the revocation list a state
 * carries is adopted first (revoked.c), so that the bundles it lists are
 * held against it.
 *
 * Order: the workloads the state lists (a new or changed bundle replaces
 * the installed one only once it has passed every check), then those it
 * does not list are removed, then the firmware. The serial is recorded as
 * applied only when all of it is done, across the reboot of an update. */
#include "bhd.h"

#include <bulkhead/bundle.h>
#include <bulkhead/fs.h>
#include <bulkhead/hash.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Opens the file a result names for layer: it must be exactly where the
 * fetcher keeps it and hash to the layer. */
static int open_blob(const struct sync_file *f, struct bh_error *err)
{
	char want[SYNC_PATH_MAX], hex[65];
	int fd;

	snprintf(want, sizeof(want), SYNC_DIR "/blobs/sha256-%s", f->layer + 7);
	if (!registry_digest_valid(f->layer) || strcmp(f->path, want))
		return bh_error(err, 0, "bhsync named %s for %s: not where its files are", f->path,
		                f->layer);
	fd = open(want, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return bh_error(err, errno, "open %s", want);
	if (sha256_fd(fd, want, UINT64_MAX, hex, NULL, err) < 0) {
		close(fd);
		return -1;
	}
	if (strcmp(hex, f->layer + 7)) {
		close(fd);
		return bh_error(err, 0, "%s does not hash to %s", want, f->layer);
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		int e = errno;

		close(fd);
		return bh_error(err, e, "seek %s", want);
	}
	return fd;
}

static const struct sync_file *file_of(const struct sync_result *res, const char *name)
{
	for (size_t i = 0; i < res->n_workloads; i++)
		if (!strcmp(res->workloads[i].name, name))
			return &res->workloads[i];
	return NULL;
}

/* One listed workload: nothing when its bundle is installed already, else
 * the new bundle, checked in full before the old one goes. */
static int apply_workload(const struct state_workload *sw, const struct sync_file *f, int epfd,
                          struct bh_error *err)
{
	const char *have = fleet_bundle(sw->name);
	struct workload *w = workload_find(sw->name);
	char name[WL_NAME_MAX];
	struct bundle b;
	int fd, rc;

	if (!f || !f->layer[0])
		return bh_error(err, 0, "bhsync brought nothing for workload %s", sw->name);
	if (w && have && !strcmp(have, f->layer))
		return 0;
	fd = open_blob(f, err);
	if (fd < 0)
		return bh_error_wrap(err, "workload %s", sw->name);
	/* Every check of an install, before anything is removed. */
	if (bundle_check(fd, f->path, WORKLOAD_KEYS, &b, err) < 0) {
		close(fd);
		return bh_error_wrap(err, "workload %s", sw->name);
	}
	if (revoked_check(b.key_id, f->path, err) < 0) {
		bundle_free(&b);
		close(fd);
		return bh_error_wrap(err, "workload %s", sw->name);
	}
	if (strcmp(b.name, sw->name)) {
		bh_error(err, 0, "workload %s: the bundle is workload %s", sw->name, b.name);
		bundle_free(&b);
		close(fd);
		return -1;
	}
	bundle_free(&b);
	if (w && workload_remove(sw->name, err) < 0) {
		close(fd);
		return bh_error_wrap(err, "replace workload %s", sw->name);
	}
	rc = workload_install(fd, f->path, name, err);
	close(fd);
	if (rc < 0)
		return bh_error_wrap(err, "workload %s", sw->name);
	bhd_log("bhd: fleet: workload %s %s %s", sw->name, sw->version,
	        w ? "replaced" : "installed");
	w = workload_find(name);
	if (w && workload_start(w, epfd, err) < 0)
		bhd_log("bhd: fleet: %s: %s", name, err->msg);
	return 0;
}

static bool listed(const struct state *s, const char *name)
{
	for (size_t i = 0; i < s->n_workloads; i++)
		if (!strcmp(s->workloads[i].name, name))
			return true;
	return false;
}

static bool failed_before(const char *digest)
{
	for (size_t i = 0; i < fleet.applied.n_failed; i++)
		if (!strcmp(fleet.applied.failed[i], digest))
			return true;
	return false;
}

/* The firmware the state names: FW_REBOOT when written and the device
 * must reboot, FW_LATER when it cannot be done yet (note says why),
 * FW_DONE when nothing is to do or ever will be (note may say why), -1
 * on failure. */
enum { FW_DONE, FW_REBOOT, FW_LATER };

static int apply_firmware(const struct state *s, const struct sync_result *res, char *note,
                          size_t size, struct bh_error *err)
{
	struct fleet_applied *a = &fleet.applied;
	char version[STATE_VERSION_MAX] = "", out[512];
	int fd, rc;

	if (!s->has_firmware)
		return FW_DONE;
	os_release("IMAGE_VERSION", version, sizeof(version));
	if (!strcmp(version, s->firmware_version))
		return FW_DONE;
	if (failed_before(s->firmware_update)) {
		snprintf(note, size, "update %s rolled back before: not tried again",
		         s->firmware_version);
		return FW_DONE;
	}
	if (!res->update.layer[0] || !boot_is_confirmed()) {
		snprintf(note, size, "%s",
		         res->note[0] ? res->note
		                      : "the update waits until this boot is confirmed");
		return FW_LATER;
	}
	fd = open_blob(&res->update, err);
	if (fd < 0)
		return bh_error_wrap(err, "update %s", s->firmware_version);
	rc = update_apply(fd, false, out, sizeof(out), err);
	close(fd);
	if (rc < 0)
		return bh_error_wrap(err, "update %s", s->firmware_version);
	snprintf(a->pending_update, sizeof(a->pending_update), "%s", s->firmware_update);
	snprintf(a->pending_version, sizeof(a->pending_version), "%s", s->firmware_version);
	snprintf(a->pending_state, sizeof(a->pending_state), "%s", res->state_digest);
	a->pending_serial = s->serial;
	fleet_boot_id(a->pending_boot, sizeof(a->pending_boot));
	return FW_REBOOT;
}

int reconcile(const struct sync_result *res, int epfd, char *note, size_t size,
              struct bh_error *err)
{
	struct state_check chk = {STATE_KEYS, fleet.cfg.group, fleet.applied.serial,
	                          (int64_t)time(NULL)};
	struct fleet_applied *a = &fleet.applied;
	struct state *s = calloc(1, sizeof(*s));
	enum state_verdict v;
	size_t len = 0;
	char *env;
	int rc = -1, fw;

	if (!s)
		return bh_error(err, ENOMEM, "reconcile");
	env = bh_read_file(SYNC_DIR "/" SYNC_STATE_FILE, STATE_MAX_BYTES, &len, err);
	if (!env)
		goto out;
	if (state_read(env, len, res->state_digest, &chk, s, &v, err) < 0) {
		bh_error_wrap(err, "the state (%s)", state_verdict_name(v));
		goto out;
	}
	if (s->serial != res->serial) {
		bh_error(err, 0, "bhsync reported serial %llu for a state of serial %llu",
		         (unsigned long long)res->serial, (unsigned long long)s->serial);
		goto out;
	}
	/* Its signer against the lists held, then against the list it
	 * carries (signed by an update key, so adopted on its own merit,
	 * even when the state turns out to be signed by a key it revokes). */
	if (revoked_check(s->key_id, "the state", err) < 0)
		goto out;
	if (s->revocations_len &&
	    revoked_adopt(s->revocations, s->revocations_len, "the state's revocation list",
	                  err) < 0) {
		bh_error_wrap(err, "state serial %llu", (unsigned long long)s->serial);
		goto out;
	}
	if (revoked_check(s->key_id, "the state", err) < 0)
		goto out;
	bhd_log("bhd: fleet: applying state serial %llu (%zu workloads%s%s)",
	        (unsigned long long)s->serial, s->n_workloads, s->has_firmware ? ", firmware " : "",
	        s->has_firmware ? s->firmware_version : "");
	for (size_t i = 0; i < s->n_workloads; i++)
		if (apply_workload(&s->workloads[i], file_of(res, s->workloads[i].name), epfd,
		                   err) < 0)
			goto out;
	for (int i = 0; i < WORKLOADS_MAX; i++) {
		char name[WL_NAME_MAX];

		if (!workloads[i].used || listed(s, workloads[i].m.name))
			continue;
		snprintf(name, sizeof(name), "%s", workloads[i].m.name);
		if (workload_remove(name, err) < 0)
			goto out;
		bhd_log("bhd: fleet: workload %s removed (not in the state)", name);
	}
	fw = apply_firmware(s, res, note, size, err);
	if (fw < 0)
		goto out;
	/* Settled: the next poll of the same state is one HEAD. Not while
	 * something is left to do once the boot is confirmed. */
	if (fw != FW_LATER)
		snprintf(a->settled, sizeof(a->settled), "%s", res->state_digest);
	a->expires = s->expires;
	if (fw == FW_DONE && !note[0]) {
		a->serial = s->serial;
		snprintf(a->applied, sizeof(a->applied), "%s", res->state_digest);
		bhd_log("bhd: fleet: state serial %llu applied", (unsigned long long)s->serial);
	} else if (note[0]) {
		bhd_log("bhd: fleet: state serial %llu applied but for its firmware: %s",
		        (unsigned long long)s->serial, note);
	}
	rc = fleet_save(err) < 0 ? -1 : fw == FW_REBOOT ? 1 : fw == FW_LATER ? 2 : 0;
out:
	free(env);
	free(s);
	return rc;
}
