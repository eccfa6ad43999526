/* The events a gateway reports (docs/fleet.md, "Telemetry"), each built
 * here and called from the one place where it happens:
 *
 *   installed, removed          install.c      workload, version
 *   update applied              update.c       version, slot (written)
 *   update kept, rolled back    update_trial.c version (running)
 *   watchdog reset              report.c       boot (init saw the reset)
 *   data repaired               report.c       fsck, repair, reinstall, mounted, reason
 *   crash loop                  run.c          workload, restarts, gave_up, exit
 *   sync error                  sync.c         error, failures
 *
 * bhreport adds format, device, seq and time. */
#include "bhd.h"

#include <bulkhead/fs.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yyjson.h>

/* A crash loop: this many restarts in a row without a stable run. */
#define CRASH_LOOP_RESTARTS 3
#define WATCHDOG_REPORTED   FLEET_DIR "/watchdog-reported" /* the boot last reported */
#define DATA_REPORTED       FLEET_DIR "/data-reported"     /* the boot last reported */

static yyjson_mut_val *event(yyjson_mut_doc **doc, const char *type)
{
	yyjson_mut_val *o;

	*doc = yyjson_mut_doc_new(NULL);
	o = yyjson_mut_obj(*doc);
	yyjson_mut_doc_set_root(*doc, o);
	yyjson_mut_obj_add_str(*doc, o, "type", type);
	return o;
}

static void send(yyjson_mut_doc *doc)
{
	report_send_event(yyjson_mut_write(doc, 0, NULL));
	yyjson_mut_doc_free(doc);
}

static void workload_event(const char *type, const char *name, const char *version)
{
	yyjson_mut_doc *doc;
	yyjson_mut_val *o = event(&doc, type);

	yyjson_mut_obj_add_strcpy(doc, o, "workload", name);
	yyjson_mut_obj_add_strcpy(doc, o, "version", version);
	send(doc);
}

void report_installed(const char *name, const char *version)
{
	workload_event("installed", name, version);
}

void report_removed(const char *name, const char *version)
{
	workload_event("removed", name, version);
}

void report_update_applied(const char *version, char slot)
{
	char s[2] = {slot, 0};
	yyjson_mut_doc *doc;
	yyjson_mut_val *o = event(&doc, "update applied");

	yyjson_mut_obj_add_strcpy(doc, o, "version", version);
	yyjson_mut_obj_add_strcpy(doc, o, "slot", s);
	send(doc);
}

void report_update_kept(const char *version)
{
	yyjson_mut_doc *doc;
	yyjson_mut_val *o = event(&doc, "update kept");

	yyjson_mut_obj_add_strcpy(doc, o, "version", version);
	send(doc);
}

void report_rolled_back(const char *version, const char *running)
{
	yyjson_mut_doc *doc;
	yyjson_mut_val *o = event(&doc, "rolled back");

	yyjson_mut_obj_add_strcpy(doc, o, "version", version);
	yyjson_mut_obj_add_strcpy(doc, o, "running", running);
	send(doc);
}

void report_workload_exited(const struct workload *w)
{
	bool gave_up = w->state == WS_FAILED && w->m.max_restarts &&
	               w->restarts >= w->m.max_restarts;
	yyjson_mut_doc *doc;
	yyjson_mut_val *o;
	int st = w->last_status;

	if (!gave_up && !(w->state == WS_BACKOFF && w->restarts == CRASH_LOOP_RESTARTS))
		return;
	o = event(&doc, "crash loop");
	yyjson_mut_obj_add_strcpy(doc, o, "workload", w->m.name);
	yyjson_mut_obj_add_strcpy(doc, o, "version", w->m.version);
	yyjson_mut_obj_add_uint(doc, o, "restarts", w->restarts);
	yyjson_mut_obj_add_bool(doc, o, "gave_up", gave_up);
	yyjson_mut_obj_add_str(doc, o, "exit", WIFSIGNALED(st) ? "signal" : "status");
	yyjson_mut_obj_add_int(doc, o, "code", WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	send(doc);
}

/* The first failure after a poll that worked, and each new cause: the
 * backoff's retries of the same cause are not news. */
void report_sync_failed(const char *why, unsigned failures)
{
	static char last[BH_ERROR_MAX];
	yyjson_mut_doc *doc;
	yyjson_mut_val *o;

	if (failures > 1 && !strcmp(last, why))
		return;
	snprintf(last, sizeof(last), "%s", why);
	o = event(&doc, "sync error");
	yyjson_mut_obj_add_strcpy(doc, o, "error", why);
	yyjson_mut_obj_add_uint(doc, o, "failures", failures);
	send(doc);
}

/* Whether this boot's event was reported already (bhd may restart within
 * a boot): done holds the id of the boot last reported. When not, the
 * caller reports it and calls again with mark set. */
static bool reported_this_boot(const char *done, bool mark)
{
	char boot[40], seen[40] = "";
	struct bh_error err;
	char *text;

	fleet_boot_id(boot, sizeof(boot));
	if (!boot[0])
		return true;
	if (mark) {
		if (bh_write_atomic(done, boot, strlen(boot), 0644, &err) < 0)
			bhd_log("bhd: telemetry: %s", err.msg);
		return true;
	}
	text = access(done, F_OK) == 0 ? bh_read_file(done, sizeof(seen) - 1, NULL, &err) : NULL;
	if (text) {
		snprintf(seen, sizeof(seen), "%s", text);
		free(text);
	}
	return !strcmp(seen, boot);
}

/* Once per boot that followed a watchdog reset, though bhd may restart. */
void report_watchdog_reset(void)
{
	char boot[40];
	yyjson_mut_doc *doc;
	yyjson_mut_val *o;

	if (reported_this_boot(WATCHDOG_REPORTED, false))
		return;
	fleet_boot_id(boot, sizeof(boot));
	bhd_log("bhd: this boot followed a reset by the hardware watchdog");
	o = event(&doc, "watchdog reset");
	yyjson_mut_obj_add_strcpy(doc, o, "boot", boot);
	send(doc);
	reported_this_boot(WATCHDOG_REPORTED, true);
}

/* One "key=value" line of init's DATA_STATUS, or "" when it has none. */
static void data_field(const char *text, const char *key, char *out, size_t size)
{
	size_t klen = strlen(key);

	*out = 0;
	for (const char *l = text; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		if (!strncmp(l, key, klen) && l[klen] == '=') {
			snprintf(out, size, "%.*s", (int)strcspn(l + klen + 1, "\n"), l + klen + 1);
			return;
		}
}

/* Once per boot whose /data init repaired at a cost (e2fsck -fy, or the
 * installed workloads reinstalled) or could not mount (the gateway runs on
 * a tmpfs): docs/hardening.md, "Power cuts and /data". A journal replayed
 * after a power cut loses nothing and is not news. */
void report_data_repaired(void)
{
	char fsck[12], repair[12], reinstall[4], mounted[16], reason[400];
	struct bh_error err;
	yyjson_mut_doc *doc;
	yyjson_mut_val *o;
	char *text = bh_read_file(DATA_STATUS, 4096, NULL, &err);

	if (!text)
		return;
	data_field(text, "fsck", fsck, sizeof(fsck));
	data_field(text, "repair", repair, sizeof(repair));
	data_field(text, "reinstall", reinstall, sizeof(reinstall));
	data_field(text, "mounted", mounted, sizeof(mounted));
	data_field(text, "reason", reason, sizeof(reason));
	free(text);
	if (strcmp(reinstall, "1") && (!repair[0] || !strcmp(repair, "-1")) &&
	    strcmp(mounted, "tmpfs"))
		return;
	if (reported_this_boot(DATA_REPORTED, false))
		return;
	o = event(&doc, "data repaired");
	yyjson_mut_obj_add_int(doc, o, "fsck", atoi(fsck[0] ? fsck : "-1"));
	yyjson_mut_obj_add_int(doc, o, "repair", atoi(repair[0] ? repair : "-1"));
	yyjson_mut_obj_add_bool(doc, o, "reinstall", !strcmp(reinstall, "1"));
	yyjson_mut_obj_add_strcpy(doc, o, "mounted", mounted);
	if (reason[0])
		yyjson_mut_obj_add_strcpy(doc, o, "reason", reason);
	send(doc);
	reported_this_boot(DATA_REPORTED, true);
}
