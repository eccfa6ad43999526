/* The status document bhd hands bhreport (docs/fleet.md, "Telemetry"):
 *
 *   stable:   image (version, board, arch, profile), boot (slot, confirmed,
 *             watchdog_reset), workloads (name, version, mode, state,
 *             enabled, restarts), sync (state, serial, applied, stale,
 *             failures, last_error, pending update, rolled back)
 *   volatile: uptime_s, data_free_bytes
 *
 * A change of the stable part is published at once; the volatile part
 * rides along (bhreport adds device, time, the SBOM and its queue). */
#include "bhd.h"

#include <bulkhead/autoconf.h>
#include <bulkhead/slot.h>

#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>
#include <yyjson.h>

static const char *state_name(enum wl_state s)
{
	static const char *const names[] = {"stopped", "running", "restarting", "failed", "exited"};

	return names[s];
}

static char *write_doc(yyjson_mut_doc *doc)
{
	char *json = yyjson_mut_write(doc, 0, NULL);

	yyjson_mut_doc_free(doc);
	return json;
}

char *report_status_stable(void)
{
	yyjson_mut_doc *doc = yyjson_mut_doc_new(NULL);
	yyjson_mut_val *root, *o, *a;
	const struct fleet_applied *ap = &fleet.applied;
	struct sync_summary ss;
	static char version[64];
	static bool version_read;
	char slot[2] = {bh_running_slot(), 0};

	if (!doc)
		return NULL;
	root = yyjson_mut_obj(doc);
	yyjson_mut_doc_set_root(doc, root);
	if (!version_read) /* the image does not change while it runs */
		version_read = os_release("IMAGE_VERSION", version, sizeof(version)) == 0;
	o = yyjson_mut_obj_add_obj(doc, root, "image");
	yyjson_mut_obj_add_strcpy(doc, o, "version", version);
	yyjson_mut_obj_add_str(doc, o, "board", BH_BOARD_NAME);
	yyjson_mut_obj_add_str(doc, o, "arch", BH_ARCH);
	yyjson_mut_obj_add_str(doc, o, "profile", BH_PROFILE);
	o = yyjson_mut_obj_add_obj(doc, root, "boot");
	if (slot[0])
		yyjson_mut_obj_add_strcpy(doc, o, "slot", slot);
	else
		yyjson_mut_obj_add_null(doc, o, "slot");
	yyjson_mut_obj_add_bool(doc, o, "confirmed", boot_is_confirmed());
	yyjson_mut_obj_add_bool(doc, o, "watchdog_reset", access(WATCHDOG_RESET, F_OK) == 0);
	a = yyjson_mut_obj_add_arr(doc, root, "workloads");
	for (int i = 0; i < WORKLOADS_MAX; i++) {
		const struct workload *w = &workloads[i];

		if (!w->used)
			continue;
		o = yyjson_mut_arr_add_obj(doc, a);
		yyjson_mut_obj_add_strcpy(doc, o, "name", w->m.name);
		yyjson_mut_obj_add_strcpy(doc, o, "version", w->m.version);
		yyjson_mut_obj_add_str(doc, o, "mode", w->m.mode == WL_VM ? "vm" : "container");
		yyjson_mut_obj_add_str(doc, o, "state", state_name(w->state));
		yyjson_mut_obj_add_bool(doc, o, "enabled", workload_enabled(w->m.name));
		yyjson_mut_obj_add_uint(doc, o, "restarts", w->restarts);
	}
	sync_summary(&ss);
	o = yyjson_mut_obj_add_obj(doc, root, "sync");
	yyjson_mut_obj_add_bool(doc, o, "provisioned", fleet.provisioned);
	yyjson_mut_obj_add_str(doc, o, "state", ss.state);
	yyjson_mut_obj_add_uint(doc, o, "serial", ap->serial);
	yyjson_mut_obj_add_strcpy(doc, o, "applied", ap->applied);
	yyjson_mut_obj_add_bool(doc, o, "stale", ap->expires && (int64_t)time(NULL) > ap->expires);
	yyjson_mut_obj_add_uint(doc, o, "failures", ss.failures);
	yyjson_mut_obj_add_strcpy(doc, o, "last_error", ss.last_error ? ss.last_error : "");
	yyjson_mut_obj_add_strcpy(doc, o, "pending_update", ap->pending_version);
	a = yyjson_mut_obj_add_arr(doc, o, "rolled_back");
	for (size_t i = 0; i < ap->n_failed; i++)
		yyjson_mut_arr_add_strcpy(doc, a, ap->failed[i]);
	return write_doc(doc);
}

char *report_status_volatile(void)
{
	yyjson_mut_doc *doc = yyjson_mut_doc_new(NULL);
	yyjson_mut_val *root;
	struct statvfs vfs;
	struct timespec up;

	if (!doc)
		return NULL;
	root = yyjson_mut_obj(doc);
	yyjson_mut_doc_set_root(doc, root);
	clock_gettime(CLOCK_BOOTTIME, &up);
	yyjson_mut_obj_add_uint(doc, root, "uptime_s", (uint64_t)up.tv_sec);
	if (statvfs("/data", &vfs) == 0)
		yyjson_mut_obj_add_uint(doc, root, "data_free_bytes",
		                        (uint64_t)vfs.f_bavail * vfs.f_frsize);
	return write_doc(doc);
}
