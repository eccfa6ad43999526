/* The Secure Boot keys a first boot enrols (BH_SECURE_BOOT_ENROLL,
 * docs/vendor.md "Secure Boot enrolment"). disk.img carries PK.auth,
 * KEK.auth and db.auth in the ESP's /loader/keys/auto; systemd-boot writes
 * them into the firmware's variables when it finds the firmware in setup
 * mode, and resets. Once the firmware reports Secure Boot on (SecureBoot
 * 1, SetupMode 0) they have done their work, and left there they are a
 * danger: a firmware that falls back to setup mode (a cleared variable
 * store, "reset to setup mode" in its menu) enrols whatever set lies
 * there, and whoever could write the ESP could have left theirs. So bhd
 * removes them at every boot that finds Secure Boot on, and never while it
 * is off, when they are still needed.
 *
 * systemd-boot enrols only when it can read all three files, so PK.auth
 * goes first and alone, synced before anything else: a power cut after it
 * leaves a set nobody can enrol, and the next boot, Secure Boot still on,
 * removes the rest. Then the other .auth files, the empty auto/ folder (an
 * empty one still gives systemd-boot an enrolment entry to try) and
 * keys/. A/B updates write only /EFI/Linux and /loader/bulkhead, so they
 * never bring the files back. */
#include "bhd.h"

#include <bulkhead/error.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

/* EFI_GLOBAL_VARIABLE: the vendor GUID of SecureBoot and SetupMode. */
#define EFI_GLOBAL_GUID "8be4df61-93ca-11d2-aa0d-00e098032b8c"
#ifndef EFIVARS_DIR
#define EFIVARS_DIR "/sys/firmware/efi/efivars"
#endif
/* Where bhd mounts efivarfs (read-only, for a moment) when nobody has. */
#ifndef EFIVARS_MOUNT
#define EFIVARS_MOUNT RUN_DIR "/efivars"
#endif
#define ENROL_DIR "/loader/keys/auto"

/* The firmware's Secure Boot state, each 0 or 1. */
struct secure_boot_state {
	int secure_boot, setup_mode;
};

/* A one-byte EFI_GLOBAL_VARIABLE as efivarfs shows it: 4 bytes of
 * attributes, then the value. */
static int efi_u8(const char *dir, const char *name, int *value, struct bh_error *err)
{
	unsigned char buf[16];
	char path[256];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s-" EFI_GLOBAL_GUID, dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return bh_error(err, errno, "read the EFI variable %s", path);
	n = read(fd, buf, sizeof(buf));
	if (n < 0) {
		int e = errno;

		close(fd);
		return bh_error(err, e, "read the EFI variable %s", path);
	}
	close(fd);
	if (n != 5 || buf[4] > 1)
		return bh_error(err, 0, "the EFI variable %s is not one byte 0 or 1 (%zd bytes)",
		                path, n);
	*value = buf[4];
	return 0;
}

static int secure_boot_read(const char *efivars, struct secure_boot_state *s, struct bh_error *err)
{
	if (efi_u8(efivars, "SecureBoot", &s->secure_boot, err) < 0 ||
	    efi_u8(efivars, "SetupMode", &s->setup_mode, err) < 0)
		return -1;
	return 0;
}

/* From efivarfs where it is mounted, or from one mounted read-only here
 * for the time of the reading. */
static int secure_boot_state_read(struct secure_boot_state *s, struct bh_error *err)
{
	int rc;

	if (secure_boot_read(EFIVARS_DIR, s, err) == 0)
		return 0;
	if (err->code != ENOENT)
		return -1;
	if (mkdir(EFIVARS_MOUNT, 0700) < 0 && errno != EEXIST)
		return bh_error(err, errno, "mkdir %s", EFIVARS_MOUNT);
	if (mount("efivarfs", EFIVARS_MOUNT, "efivarfs",
	          MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL) < 0) {
		rc = bh_error(err, errno, "mount efivarfs on %s", EFIVARS_MOUNT);
	} else {
		rc = secure_boot_read(EFIVARS_MOUNT, s, err);
		umount2(EFIVARS_MOUNT, MNT_DETACH);
	}
	rmdir(EFIVARS_MOUNT);
	return rc;
}

static bool is_auth(const char *name)
{
	size_t n = strlen(name);

	return n > 5 && !strcasecmp(name + n - 5, ".auth");
}

/* How many .auth files esp's /loader/keys/auto holds. */
static int enrol_files_count(const char *esp)
{
	char path[256];
	struct dirent *de;
	int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "%s" ENROL_DIR, esp);
	d = opendir(path);
	while (d && (de = readdir(d)))
		n += is_auth(de->d_name);
	if (d)
		closedir(d);
	return n;
}

static void append(char *out, size_t size, const char *name)
{
	size_t n = strlen(out);

	snprintf(out + n, size - n, "%s%s", n ? " " : "", name);
}

/* Removes the .auth files from esp's /loader/keys/auto, PK.auth first and
 * synced alone, then the folder and /loader/keys when they are empty.
 * Their names go into removed. Stops at the first failure: whatever is
 * left is removed at the next boot. */
static int enrol_files_remove(const char *esp, char *removed, size_t size, struct bh_error *err)
{
	char dir[256], keys[256], loader[256];
	struct dirent *de;
	int fd, rc = 0;
	DIR *d;

	removed[0] = 0;
	snprintf(loader, sizeof(loader), "%s/loader", esp);
	snprintf(keys, sizeof(keys), "%s/loader/keys", esp);
	snprintf(dir, sizeof(dir), "%s" ENROL_DIR, esp);
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : bh_error(err, errno, "open %s", dir);
	if (unlinkat(fd, "PK.auth", 0) == 0)
		append(removed, size, "PK.auth");
	else if (errno != ENOENT)
		rc = bh_error(err, errno, "remove %s/PK.auth", dir);
	if (rc == 0 && fsync(fd) < 0)
		rc = bh_error(err, errno, "sync %s", dir);
	d = rc == 0 ? fdopendir(fd) : NULL;
	if (rc == 0 && !d)
		rc = bh_error(err, errno, "read %s", dir);
	while (rc == 0 && (de = readdir(d))) {
		if (!is_auth(de->d_name))
			continue;
		if (unlinkat(fd, de->d_name, 0) < 0)
			rc = bh_error(err, errno, "remove %s/%s", dir, de->d_name);
		else
			append(removed, size, de->d_name);
	}
	if (rc == 0 && fsync(fd) < 0)
		rc = bh_error(err, errno, "sync %s", dir);
	if (d)
		closedir(d); /* closes fd */
	else
		close(fd);
	if (rc < 0)
		return rc;
	/* Anything else a vendor put beside them stays, and so do the
	 * folders holding it. */
	if (rmdir(dir) < 0 && errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST)
		return bh_error(err, errno, "remove %s", dir);
	if (rmdir(keys) < 0 && errno != ENOENT && errno != ENOTEMPTY && errno != EEXIST)
		return bh_error(err, errno, "remove %s", keys);
	if (esp_sync(loader) < 0)
		return bh_error(err, errno, "sync %s", loader);
	return 0;
}

/* What to do with the files on the ESP mounted on esp, given the state
 * read (state_err: why it could not be, or NULL). One log line when there
 * are files. */
static void enrol_files_settle(const struct secure_boot_state *s, const char *state_err,
                               const char *esp)
{
	char removed[128];
	struct bh_error err;
	int n = enrol_files_count(esp);

	if (n == 0)
		return;
	if (state_err) {
		bhd_log("bhd: secure boot: %s; the %d key files in the ESP's " ENROL_DIR
		        " are kept",
		        state_err, n);
	} else if (!s->secure_boot || s->setup_mode) {
		bhd_log(
		    "bhd: secure boot: off (SecureBoot %d, SetupMode %d): the %d key files in the "
		    "ESP's " ENROL_DIR " are kept for systemd-boot to enrol",
		    s->secure_boot, s->setup_mode, n);
	} else if (enrol_files_remove(esp, removed, sizeof(removed), &err) < 0) {
		bhd_log(
		    "bhd: secure boot: on, but the enrolled key files are not all removed from the "
		    "ESP: %s (removed: %s; the rest at the next boot)",
		    err.msg, removed[0] ? removed : "none");
	} else {
		bhd_log(
		    "bhd: secure boot: on (SecureBoot 1, SetupMode 0): removed the enrolled key "
		    "files %s from the ESP's " ENROL_DIR,
		    removed);
	}
}

void secure_boot_enrol_settle(void)
{
	struct secure_boot_state s = {-1, -1};
	struct bh_error state_err, err;
	bool known;

	if (access("/sys/firmware/efi", F_OK) < 0)
		return; /* not started by UEFI firmware: no variables, no ESP of ours */
	known = secure_boot_state_read(&s, &state_err) == 0;
	/* UEFI: a firmware without Secure Boot has no SecureBoot variable. */
	if (!known && state_err.code == ENOENT && strstr(state_err.msg, "/SecureBoot-"))
		snprintf(state_err.msg, sizeof(state_err.msg),
		         "the firmware has no Secure Boot (no SecureBoot variable)");
	if (esp_mount(&err) < 0)
		return; /* not booted from disk.img */
	enrol_files_settle(&s, known ? NULL : state_err.msg, ESP_MOUNT);
	esp_umount();
}
