/* bhd's removal of the first-boot Secure Boot key files
 * (firmware/bhd/secure_boot_enrol.c), in scratch folders standing for
 * efivarfs and the mounted ESP: the SecureBoot and SetupMode variables
 * are read as efivarfs shows them; the files are removed only with
 * Secure Boot on and setup mode off, PK.auth first (a removal cut short
 * never leaves PK, KEK and db together) and the rest at the next boot;
 * with Secure Boot off, or its state unknown, they stay. */
#include "tap.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "secure_boot_enrol.c"

static char logged[4096];
static int log_lines;

void bhd_log(const char *fmt, ...)
{
	size_t n = strlen(logged);
	va_list ap;

	if (n)
		n += (size_t)snprintf(logged + n, sizeof(logged) - n, " | ");
	va_start(ap, fmt);
	vsnprintf(logged + n, sizeof(logged) - n, fmt, ap);
	va_end(ap);
	log_lines++;
}

static char root[64], efivars[128], esp[128];

static void put(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "we");

	if (!f || fwrite(data, 1, len, f) != len || fclose(f)) {
		perror(path);
		exit(1);
	}
}

static void var(const char *name, const char *bytes, size_t len)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s-" EFI_GLOBAL_GUID, efivars, name);
	put(path, bytes, len);
}

static bool exists(const char *rel)
{
	char path[256];

	snprintf(path, sizeof(path), "%s%s", esp, rel);
	return access(path, F_OK) == 0;
}

/* A fresh ESP holding loader.conf and the given files of /loader/keys/auto. */
static void esp_with(const char *names)
{
	char cmd[512], path[256];

	snprintf(cmd, sizeof(cmd), "rm -rf %s && mkdir -p %s" ENROL_DIR, esp, esp);
	if (system(cmd) != 0)
		exit(1);
	snprintf(path, sizeof(path), "%s/loader/loader.conf", esp);
	put(path, "timeout 0\nsecure-boot-enroll force\n", 35);
	for (const char *p = names; *p; p += strlen(p) + 1) {
		snprintf(path, sizeof(path), "%s" ENROL_DIR "/%s", esp, p);
		put(path, "auth", 4);
	}
	logged[0] = 0;
	log_lines = 0;
}

/* A directory in place of a file: unlink fails (EISDIR) as a damaged FAT
 * or a read-only ESP would make it. */
static void undeletable(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s" ENROL_DIR "/%s", esp, name);
	unlink(path);
	if (mkdir(path, 0700) < 0) {
		perror(path);
		exit(1);
	}
}

static void deletable(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s" ENROL_DIR "/%s", esp, name);
	rmdir(path);
	put(path, "auth", 4);
}

#define ALL  "PK.auth\0KEK.auth\0db.auth\0"
#define AUTO ENROL_DIR "/"

int main(void)
{
	static const struct secure_boot_state on = {1, 0}, setup = {0, 1}, disabled = {0, 0},
	                                      both = {1, 1};
	struct secure_boot_state s = {-1, -1};
	struct bh_error err = {0};
	char cmd[256];
	int rc;

	/* tmpfs lists a folder newest first: PK.auth, made first, comes
	 * last, so only removing it by name first gets it out before a
	 * failure. */
	snprintf(root, sizeof(root), "/dev/shm/bh-sbenrol-XXXXXX");
	if (!mkdtemp(root)) {
		snprintf(root, sizeof(root), "/tmp/bh-sbenrol-XXXXXX");
		if (!mkdtemp(root))
			return 1;
		diag("no /dev/shm: the folder order is the filesystem's");
	}
	snprintf(efivars, sizeof(efivars), "%s/efivars", root);
	snprintf(esp, sizeof(esp), "%s/esp", root);
	mkdir(efivars, 0700);

	/* efivarfs: 4 bytes of attributes (NV, BS, RT), then the value. */
	var("SecureBoot", "\x06\0\0\0\x01", 5);
	var("SetupMode", "\x06\0\0\0\x00", 5);
	rc = secure_boot_read(efivars, &s, &err);
	ok(rc == 0 && s.secure_boot == 1 && s.setup_mode == 0,
	   "SecureBoot 1 and SetupMode 0 are read from efivarfs (%d, %d) %s", s.secure_boot,
	   s.setup_mode, rc ? err.msg : "");
	var("SetupMode", "\x06\0\0\0\x01", 5);
	rc = secure_boot_read(efivars, &s, &err);
	ok(rc == 0 && s.secure_boot == 1 && s.setup_mode == 1, "SetupMode 1 is read (%d)",
	   s.setup_mode);
	var("SecureBoot", "\x06\0\0\0\x01\x00", 6);
	rc = secure_boot_read(efivars, &s, &err);
	ok(rc < 0 && strstr(err.msg, "SecureBoot-" EFI_GLOBAL_GUID) && strstr(err.msg, "6 bytes"),
	   "a SecureBoot variable of another size is an error naming it: %s", err.msg);
	snprintf(cmd, sizeof(cmd), "%s/SetupMode-" EFI_GLOBAL_GUID, efivars);
	unlink(cmd);
	var("SecureBoot", "\x06\0\0\0\x01", 5);
	rc = secure_boot_read(efivars, &s, &err);
	ok(rc < 0 && err.code == ENOENT && strstr(err.msg, "SetupMode-" EFI_GLOBAL_GUID),
	   "a missing SetupMode is an error naming it: %s", err.msg);

	/* Secure Boot on: every file goes, and the folders they were in. */
	esp_with(ALL);
	enrol_files_settle(&on, NULL, esp);
	ok(!exists(AUTO "PK.auth") && !exists(AUTO "KEK.auth") && !exists(AUTO "db.auth"),
	   "Secure Boot on, setup mode off: PK.auth, KEK.auth and db.auth are removed");
	ok(!exists(ENROL_DIR) && !exists("/loader/keys") && exists("/loader/loader.conf"),
	   "... and the empty auto/ and keys/ folders (loader.conf stays)");
	ok(log_lines == 1 && strstr(logged, "removed the enrolled key files PK.auth ") &&
	       strstr(logged, "KEK.auth") && strstr(logged, "db.auth"),
	   "... in one log line naming them, PK.auth first: %s", logged);

	/* Secure Boot off, or unknown: they stay. */
	esp_with(ALL);
	enrol_files_settle(&setup, NULL, esp);
	ok(exists(AUTO "PK.auth") && exists(AUTO "KEK.auth") && exists(AUTO "db.auth"),
	   "setup mode (Secure Boot off): the files stay for systemd-boot");
	ok(log_lines == 1 && strstr(logged, "kept"), "... and the log says so: %s", logged);
	esp_with(ALL);
	enrol_files_settle(&disabled, NULL, esp);
	ok(exists(AUTO "PK.auth") && exists(AUTO "KEK.auth") && exists(AUTO "db.auth"),
	   "keys enrolled but Secure Boot turned off (SecureBoot 0, SetupMode 0): the files stay");
	esp_with(ALL);
	enrol_files_settle(&both, NULL, esp);
	ok(exists(AUTO "PK.auth") && exists(AUTO "KEK.auth") && exists(AUTO "db.auth"),
	   "SecureBoot 1 with SetupMode 1 (no firmware should say so): the files stay");
	esp_with(ALL);
	enrol_files_settle(&on, "read the EFI variable x: No such file or directory", esp);
	ok(exists(AUTO "PK.auth") && exists(AUTO "KEK.auth") && exists(AUTO "db.auth") &&
	       strstr(logged, "read the EFI variable x") && strstr(logged, "kept"),
	   "state unknown: the files stay, the log says why: %s", logged);
	esp_with("");
	enrol_files_settle(&on, NULL, esp);
	ok(log_lines == 0, "no files: nothing logged (%s)", logged);

	/* Cut short. PK.auth cannot be removed: nothing else is, so the set
	 * is whole (and tried again next boot), never two of three with PK. */
	esp_with(ALL);
	undeletable("PK.auth");
	enrol_files_settle(&on, NULL, esp);
	ok(exists(AUTO "KEK.auth") && exists(AUTO "db.auth") && strstr(logged, "PK.auth") &&
	       strstr(logged, "not all removed"),
	   "PK.auth cannot be removed: KEK.auth and db.auth are left too, the log says so: %s",
	   logged);
	/* KEK.auth cannot be removed: PK.auth is already gone, so what is
	 * left cannot be enrolled; the next boot removes the rest. */
	esp_with(ALL);
	undeletable("KEK.auth");
	enrol_files_settle(&on, NULL, esp);
	ok(!exists(AUTO "PK.auth") && exists(AUTO "KEK.auth"),
	   "KEK.auth cannot be removed: PK.auth was removed before it: %s", logged);
	/* Whatever order the folder lists them in. */
	esp_with(ALL);
	undeletable("KEK.auth");
	undeletable("db.auth");
	enrol_files_settle(&on, NULL, esp);
	ok(!exists(AUTO "PK.auth"),
	   "neither KEK.auth nor db.auth can be removed: PK.auth is gone anyway");
	deletable("KEK.auth");
	deletable("db.auth");
	logged[0] = 0;
	enrol_files_settle(&on, NULL, esp);
	ok(!exists(AUTO "KEK.auth") && !exists(AUTO "db.auth") && !exists(ENROL_DIR) &&
	       strstr(logged, "removed the enrolled key files ") && !strstr(logged, "PK.auth"),
	   "the next boot removes what was left: %s", logged);

	/* A vendor's other file beside them stays, with its folder. */
	esp_with(ALL "README\0");
	enrol_files_settle(&on, NULL, esp);
	ok(!exists(AUTO "PK.auth") && !exists(AUTO "db.auth") && exists(AUTO "README") &&
	       strstr(logged, "removed the enrolled"),
	   "another file in auto/ stays, the .auth files go: %s", logged);

	snprintf(cmd, sizeof(cmd), "rm -rf %s", root);
	if (system(cmd) != 0)
		return 1;
	return done();
}
