/* What bhd reports of the last firmware update written
 * (firmware/bhd/update_trial.c), with the record in a scratch folder and
 * the boot id, running version and confirmation set by the test: nothing
 * before the reboot; after it, "update kept" once the boot of the new
 * version is confirmed, "rolled back" when another version runs; each
 * reported once, the record then gone; a damaged record is named, removed
 * and reports nothing. */
#include "tap.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char trial_dir[128], trial_file[192];
#define UPDATE_TRIAL_DIR  trial_dir
#define UPDATE_TRIAL_FILE trial_file
#include "update_trial.c"

static char logged[4096], reported[512], boot_id[40], running[64];
static bool confirmed;

void bhd_log(const char *fmt, ...)
{
	va_list ap;
	size_t len = strlen(logged);

	va_start(ap, fmt);
	vsnprintf(logged + len, sizeof(logged) - len, fmt, ap);
	va_end(ap);
	strncat(logged, "\n", sizeof(logged) - strlen(logged) - 1);
}

void fleet_boot_id(char *out, size_t size)
{
	snprintf(out, size, "%s", boot_id);
}

int os_release(const char *key, char *out, size_t size)
{
	(void)key;
	snprintf(out, size, "%s", running);
	return 0;
}

bool boot_is_confirmed(void)
{
	return confirmed;
}

void report_update_kept(const char *version)
{
	size_t len = strlen(reported);

	snprintf(reported + len, sizeof(reported) - len, "kept %s;", version);
}

void report_rolled_back(const char *version, const char *run)
{
	size_t len = strlen(reported);

	snprintf(reported + len, sizeof(reported) - len, "rolled back %s running %s;", version,
	         run);
}

/* A new bhd in boot `boot` running version `ver`: its tick runs anew. */
static void start_bhd(const char *boot, const char *ver, bool conf)
{
	snprintf(boot_id, sizeof(boot_id), "%s", boot);
	snprintf(running, sizeof(running), "%s", ver);
	confirmed = conf;
	reported[0] = logged[0] = 0;
	trial_settled = false;
}

static bool record_exists(void)
{
	return access(trial_file, F_OK) == 0;
}

static void outcomes(void)
{
	struct update_trial t = {.version = "2.0", .slot = 'b', .boot = "boot-1"};
	struct update_trial none = {0};

	ok(update_trial_outcome(&none, "boot-2", "2.0", true) == TRIAL_NONE,
	   "no record: nothing to report");
	ok(update_trial_outcome(&t, "boot-1", "1.0", true) == TRIAL_NOT_REBOOTED,
	   "the boot that wrote the update: not rebooted yet");
	ok(update_trial_outcome(&t, "boot-2", "2.0", false) == TRIAL_WAIT,
	   "the new version booted, not yet confirmed: wait");
	ok(update_trial_outcome(&t, "boot-2", "2.0", true) == TRIAL_KEPT,
	   "the new version confirmed: kept");
	ok(update_trial_outcome(&t, "boot-2", "1.0", true) == TRIAL_ROLLED_BACK,
	   "another version running after the reboot: rolled back");
	ok(update_trial_outcome(&t, "", "2.0", true) == TRIAL_NONE, "no boot id: nothing decided");
}

int main(void)
{
	char tmpl[] = "/tmp/bh-update-trial-XXXXXX";
	char *dir = mkdtemp(tmpl);
	FILE *f;

	if (!dir)
		return 1;
	snprintf(trial_dir, sizeof(trial_dir), "%s", dir);
	snprintf(trial_file, sizeof(trial_file), "%s/update-trial.json", dir);
	outcomes();

	/* Kept: written in boot-1, rebooted, confirmed later. */
	start_bhd("boot-1", "1.0", true);
	update_trial_begin("2.0", 'b');
	ok(record_exists(), "update_trial_begin records the update written (%s)", trial_file);
	update_trial_tick();
	ok(!reported[0] && record_exists(),
	   "before the reboot nothing is reported and the record stays (%s)", reported);
	start_bhd("boot-2", "2.0", false);
	update_trial_tick();
	ok(!reported[0] && record_exists(), "the new version booted, unconfirmed: nothing yet (%s)",
	   reported);
	confirmed = true;
	update_trial_tick();
	ok(!strcmp(reported, "kept 2.0;") && !record_exists(),
	   "once the boot is confirmed: \"update kept\" 2.0, the record removed (%s)", reported);
	update_trial_tick();
	start_bhd("boot-3", "2.0", true);
	update_trial_tick();
	ok(!reported[0], "reported once: nothing more in this boot or the next (%s)", reported);

	/* Rolled back: the older slot booted. */
	start_bhd("boot-3", "2.0", true);
	update_trial_begin("3.0", 'a');
	start_bhd("boot-4", "2.0", false);
	update_trial_tick();
	ok(!strcmp(reported, "rolled back 3.0 running 2.0;") && !record_exists(),
	   "another version after the reboot: \"rolled back\" 3.0 (running 2.0), record removed "
	   "(%s)",
	   reported);

	/* A second update before the reboot: the last one written counts. */
	start_bhd("boot-5", "2.0", true);
	update_trial_begin("3.0", 'a');
	update_trial_begin("3.1", 'a');
	start_bhd("boot-6", "3.1", true);
	update_trial_tick();
	ok(!strcmp(reported, "kept 3.1;"),
	   "two updates before one reboot: the last written is kept (%s)", reported);

	/* A damaged record. */
	f = fopen(trial_file, "w");
	fputs("{\"version\": 7}", f);
	fclose(f);
	start_bhd("boot-7", "3.1", true);
	update_trial_tick();
	ok(!reported[0] && !record_exists() && strstr(logged, trial_file) &&
	       strstr(logged, "$.version"),
	   "a damaged record is named with its field, removed, and reports nothing (%s)", logged);
	rmdir(dir);
	return done();
}
