/* What became of the last firmware update written, whichever way it came
 * (bhctl update on a debug image, or a fleet sync): after the reboot into
 * it, "update kept" once that boot is confirmed (confirm.c), or "rolled
 * back" when the older slot booted instead. One place decides and reports
 * both, so that a sync and a local update tell the fleet the same things.
 *
 * update.c writes the record (version, slot, the boot that wrote it) once
 * the update is complete; it is removed once its outcome is reported. A
 * power cut between the report and the removal reports it twice, never
 * not at all: the reporter's queue is on /data too. A second update
 * written before the reboot replaces the record: the last one written is
 * the one that boots. */
#include "bhd.h"

#include <bulkhead/fs.h>
#include <bulkhead/json.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yyjson.h>

#ifndef UPDATE_TRIAL_FILE /* a unit test puts it elsewhere */
#define UPDATE_TRIAL_DIR  FLEET_DIR
#define UPDATE_TRIAL_FILE UPDATE_TRIAL_DIR "/update-trial.json"
#endif

enum trial_outcome update_trial_outcome(const struct update_trial *t, const char *boot,
                                        const char *running, bool confirmed)
{
	if (!t->version[0] || !boot[0] || !running[0])
		return TRIAL_NONE;
	if (!strcmp(boot, t->boot))
		return TRIAL_NOT_REBOOTED; /* bhd restarted, or the reboot is to come */
	if (strcmp(running, t->version))
		return TRIAL_ROLLED_BACK;
	return confirmed ? TRIAL_KEPT : TRIAL_WAIT;
}

void update_trial_begin(const char *version, char slot)
{
	char s[2] = {slot, 0}, boot[UPDATE_TRIAL_BOOT_MAX];
	yyjson_mut_doc *doc = yyjson_mut_doc_new(NULL);
	yyjson_mut_val *o = yyjson_mut_obj(doc);
	struct bh_error err;
	size_t len;
	char *json;

	fleet_boot_id(boot, sizeof(boot));
	yyjson_mut_doc_set_root(doc, o);
	yyjson_mut_obj_add_strcpy(doc, o, "version", version);
	yyjson_mut_obj_add_strcpy(doc, o, "slot", s);
	yyjson_mut_obj_add_strcpy(doc, o, "boot", boot);
	json = yyjson_mut_write(doc, 0, &len);
	yyjson_mut_doc_free(doc);
	if (!json || bh_write_atomic(UPDATE_TRIAL_FILE, json, len, 0600, &err) < 0)
		bhd_log("bhd: update: record %s: %s (its outcome will not be reported)",
		        UPDATE_TRIAL_FILE, json ? err.msg : "out of memory");
	free(json);
}

/* 0 with t filled, 0 with t empty when there is no record, -1 when the
 * record cannot be read. */
static int read_record(struct update_trial *t, struct bh_error *err)
{
	yyjson_doc *doc;
	yyjson_val *root;
	char slot[2];
	int rc;

	memset(t, 0, sizeof(*t));
	if (access(UPDATE_TRIAL_FILE, F_OK) < 0)
		return errno == ENOENT ? 0 : bh_error(err, errno, "%s", UPDATE_TRIAL_FILE);
	doc = yyjson_read_file(UPDATE_TRIAL_FILE, 0, NULL, NULL);
	if (!doc)
		return bh_error(err, 0, "%s: not JSON", UPDATE_TRIAL_FILE);
	root = yyjson_doc_get_root(doc);
	rc = json_object(root, "$", err) < 0 ||
	             json_string_copy(yyjson_obj_get(root, "version"), "$.version", t->version,
	                              sizeof(t->version), err) < 0 ||
	             json_string_copy(yyjson_obj_get(root, "slot"), "$.slot", slot, sizeof(slot),
	                              err) < 0 ||
	             json_string_copy(yyjson_obj_get(root, "boot"), "$.boot", t->boot,
	                              sizeof(t->boot), err) < 0
	         ? -1
	         : 0;
	yyjson_doc_free(doc);
	if (rc < 0)
		return bh_error_wrap(err, "%s", UPDATE_TRIAL_FILE);
	t->slot = slot[0];
	return 0;
}

static void forget(void)
{
	struct bh_error err;

	if (unlink(UPDATE_TRIAL_FILE) < 0 && errno != ENOENT)
		bhd_log("bhd: update: remove %s: %s", UPDATE_TRIAL_FILE, bh_strerror(errno));
	else if (bh_sync_path(UPDATE_TRIAL_DIR, &err) < 0)
		bhd_log("bhd: update: %s", err.msg);
}

/* Set once this bhd has nothing more to decide. */
static bool trial_settled;

void update_trial_tick(void)
{
	char boot[UPDATE_TRIAL_BOOT_MAX], running[UPDATE_VERSION_MAX] = "";
	struct update_trial t;
	struct bh_error err;

	if (trial_settled)
		return;
	if (read_record(&t, &err) < 0) {
		bhd_log("bhd: update: %s; removed", err.msg);
		forget();
		trial_settled = true;
		return;
	}
	fleet_boot_id(boot, sizeof(boot));
	os_release("IMAGE_VERSION", running, sizeof(running));
	switch (update_trial_outcome(&t, boot, running, boot_is_confirmed())) {
	case TRIAL_NONE:
	case TRIAL_NOT_REBOOTED:
		trial_settled = true;
		return;
	case TRIAL_WAIT:
		return;
	case TRIAL_KEPT:
		bhd_log("bhd: update %s kept (slot %c, this boot confirmed)", t.version, t.slot);
		report_update_kept(t.version);
		break;
	case TRIAL_ROLLED_BACK:
		bhd_log("bhd: update %s rolled back: slot %c did not stay booted (running %s)",
		        t.version, t.slot, running);
		report_rolled_back(t.version, running);
		break;
	}
	forget();
	trial_settled = true;
}
