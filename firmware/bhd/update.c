/* Firmware updates into the inactive root slot, and the confirmation of
 * every boot (docs/update.md).
 *
 * Order of an update, so that a power cut at any point leaves the running
 * slot booting: (1) every check, before anything is written: signature,
 * hashes of every member, board, arch, version; (2) the inactive slot's
 * UKI is removed from the ESP, so no entry names a slot being written;
 * (3) slot.img is streamed into the slot's partition while hashed, then
 * read back and hashed again; (4) the slot's UKI is written to the ESP
 * under a temporary name, fsynced and renamed to
 * bulkhead-<version>-<slot>+3-0.efi: systemd-boot tries it (newest
 * version first) at most 3 times; (5) the new image's SBOM replaces the
 * one stored for that slot.
 *
 * Every boot is counted, not only a new slot's: systemd-boot takes one try
 * from the entry it starts (+3 -> +2-1), and bhd re-arms the running
 * slot's entry to +3 once the boot is healthy (update_tick). So a slot
 * that fails later, e.g. a block of its root that went bad, uses up its
 * tries too and the other slot boots. A slot is "known good" once bhd has
 * re-armed it after a healthy boot of its version: ESP
 * /loader/bulkhead/good-<slot> holds that version. A new slot must run
 * with every enabled workload healthy; a known-good one only needs init
 * and bhd up, so that a workload's own failure never rolls the firmware
 * back. Then bhd creates BOOT_CONFIRMED, which stops init's boot deadline
 * (firmware/init/boot.c). */
#include "bhd.h"

#include <bulkhead/autoconf.h>
#include <bulkhead/bundle.h>
#include <bulkhead/fs.h>
#include <bulkhead/hash.h>
#include <bulkhead/slot.h>
#include <bulkhead/tar.h>
#include <bulkhead/update.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define ESP_MOUNT    RUN_DIR "/esp"
#define ESP_UKI_DIR  ESP_MOUNT "/EFI/Linux"
#define ESP_GOOD_DIR ESP_MOUNT "/loader/bulkhead"
#define BOOT_CONFIRMED RUN_DIR "/boot-confirmed"
#define UPDATE_STORE "/data/update"
#define TRIES        3

#ifndef BH_UPDATE_HEALTH_SECONDS
#define BH_UPDATE_HEALTH_SECONDS 60
#endif

/* A value of /etc/os-release, unquoted. */
static int os_release(const char *key, char *out, size_t size)
{
	char line[256];
	size_t n = strlen(key);
	FILE *f = fopen("/etc/os-release", "re");
	int found = -1;

	if (!f)
		return -1;
	while (found < 0 && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == '=') {
			char *v = line + n + 1;

			v[strcspn(v, "\n")] = 0;
			if (*v == '"' && strlen(v) >= 2) {
				v++;
				v[strlen(v) - 1] = 0;
			}
			snprintf(out, size, "%s", v);
			found = 0;
		}
	fclose(f);
	return found;
}

/* The partition named label: its /dev path and size in bytes. */
static int find_partition(const char *label, char *dev, size_t size, uint64_t *bytes,
			  struct bh_error *err)
{
	DIR *d = opendir("/sys/class/block");
	struct dirent *de;
	char path[512], buf[1024], want[96];
	int rc = -1;

	snprintf(want, sizeof(want), "\nPARTNAME=%s\n", label);
	while (d && rc < 0 && (de = readdir(d))) {
		unsigned long long sectors = 0;
		FILE *f;
		size_t n;

		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/class/block/%s/uevent", de->d_name);
		f = fopen(path, "re");
		if (!f)
			continue;
		buf[0] = '\n';
		n = fread(buf + 1, 1, sizeof(buf) - 2, f);
		buf[n + 1] = 0;
		fclose(f);
		if (!strstr(buf, want))
			continue;
		snprintf(dev, size, "/dev/%s", de->d_name);
		snprintf(path, sizeof(path), "/sys/class/block/%s/size", de->d_name);
		f = fopen(path, "re");
		if (f) {
			if (fscanf(f, "%llu", &sectors) != 1)
				sectors = 0;
			fclose(f);
		}
		*bytes = sectors * 512;
		rc = 0;
	}
	if (d)
		closedir(d);
	if (rc < 0)
		bh_error(err, 0, "no partition named %s: this system was not booted from a Bulkhead "
			 "disk image", label);
	return rc;
}

static int esp_mount(struct bh_error *err)
{
	char dev[64];
	uint64_t bytes;

	if (find_partition("bulkhead-esp", dev, sizeof(dev), &bytes, err) < 0)
		return -1;
	if (mkdir(ESP_MOUNT, 0700) < 0 && errno != EEXIST)
		return bh_error(err, errno, "mkdir %s", ESP_MOUNT);
	umount2(ESP_MOUNT, MNT_DETACH); /* a mount left by a failed attempt */
	if (mount(dev, ESP_MOUNT, "vfat", MS_NOSUID | MS_NODEV | MS_NOEXEC, "umask=077") < 0)
		return bh_error(err, errno, "mount the ESP %s on %s", dev, ESP_MOUNT);
	return 0;
}

static void esp_umount(void)
{
	sync();
	if (umount(ESP_MOUNT) < 0)
		umount2(ESP_MOUNT, MNT_DETACH);
}

static int sync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int rc = fd < 0 ? -1 : fsync(fd);

	if (fd >= 0)
		close(fd);
	return rc;
}

/* A UKI's file name: bulkhead-<version>-<slot>[+<left>[-<done>]].efi. */
struct entry {
	char name[256];
	char version[UPDATE_VERSION_MAX];
	char slot;
	int counted, left, done;
};

static bool parse_entry(const char *name, struct entry *e)
{
	char buf[256], *plus, *end;
	size_t n = strlen(name);

	memset(e, 0, sizeof(*e));
	if (n >= sizeof(buf) || n < 16 || strncmp(name, "bulkhead-", 9) ||
	    strcmp(name + n - 4, ".efi"))
		return false;
	snprintf(e->name, sizeof(e->name), "%s", name);
	snprintf(buf, sizeof(buf), "%.*s", (int)(n - 4 - 9), name + 9);
	plus = strchr(buf, '+');
	if (plus) {
		*plus++ = 0;
		e->counted = 1;
		e->left = (int)strtol(plus, &end, 10);
		e->done = *end == '-' ? (int)strtol(end + 1, &end, 10) : 0;
	}
	n = strlen(buf);
	if (n < 3 || buf[n - 2] != '-' || (buf[n - 1] != 'a' && buf[n - 1] != 'b'))
		return false;
	e->slot = buf[n - 1];
	buf[n - 2] = 0;
	snprintf(e->version, sizeof(e->version), "%s", buf);
	return update_version_valid(e->version);
}

/* The entries on the mounted ESP; stale temporary files of an update cut
 * short are removed on the way. */
static size_t esp_entries(struct entry *out, size_t max)
{
	DIR *d = opendir(ESP_UKI_DIR);
	struct dirent *de;
	size_t n = 0;

	while (d && (de = readdir(d))) {
		size_t len = strlen(de->d_name);

		if (len > 4 && !strcmp(de->d_name + len - 4, ".tmp")) {
			unlinkat(dirfd(d), de->d_name, 0);
			continue;
		}
		if (n < max && parse_entry(de->d_name, &out[n]))
			n++;
	}
	if (d)
		closedir(d);
	return n;
}

/* The version slot last booted healthy, from ESP_GOOD_DIR/good-<slot>;
 * "" when there is none. */
static void good_version(char slot, char *out, size_t size)
{
	char path[128];
	FILE *f;

	out[0] = 0;
	snprintf(path, sizeof(path), ESP_GOOD_DIR "/good-%c", slot);
	f = fopen(path, "re");
	if (!f)
		return;
	if (!fgets(out, (int)size, f))
		out[0] = 0;
	out[strcspn(out, "\n")] = 0;
	fclose(f);
}

static int set_good_version(char slot, const char *version, struct bh_error *err)
{
	char path[128], text[UPDATE_VERSION_MAX + 1];

	if (mkdir(ESP_GOOD_DIR, 0700) < 0 && errno != EEXIST)
		return bh_error(err, errno, "mkdir %s", ESP_GOOD_DIR);
	snprintf(path, sizeof(path), ESP_GOOD_DIR "/good-%c", slot);
	snprintf(text, sizeof(text), "%s\n", version);
	return bh_write_atomic(path, text, strlen(text), 0600, err);
}

static const char *member_sha(const struct bundle *b, const char *name)
{
	for (size_t i = 0; i < b->n_members; i++)
		if (!strcmp(b->members[i].name, name))
			return b->members[i].sha256;
	return "";
}

/* Streams member of the update at fd into outfd while hashing it; the
 * hash must be the signed one. */
static int copy_member(int fd, const struct bundle *b, const char *member, int outfd,
		       const char *dest, struct bh_error *err)
{
	static unsigned char buf[1 << 20];
	mbedtls_sha256_context ctx;
	struct tar_reader tr;
	unsigned char d[32];
	char hex[65];
	uint64_t size, done = 0;
	ssize_t n = 0;
	FILE *f;
	int rc = 0;

	if (bundle_open_member(fd, "update", b, member, &f, &tr, &size, err) < 0)
		return -1;
	mbedtls_sha256_init(&ctx);
	mbedtls_sha256_starts(&ctx, 0);
	while (rc == 0 && (n = tar_read(&tr, buf, sizeof(buf), err)) > 0) {
		mbedtls_sha256_update(&ctx, buf, (size_t)n);
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(outfd, buf + off, (size_t)(n - off));

			if (w <= 0) {
				rc = bh_error(err, errno, "write %s", dest);
				break;
			}
			off += w;
		}
		done += (uint64_t)n;
	}
	fclose(f);
	mbedtls_sha256_finish(&ctx, d);
	mbedtls_sha256_free(&ctx);
	if (rc < 0 || n < 0)
		return -1;
	hex_encode(d, 32, hex);
	if (done != size || strcmp(hex, member_sha(b, member)))
		return bh_error(err, 0, "update: %s changed while it was written to %s", member, dest);
	if (fsync(outfd) < 0)
		return bh_error(err, errno, "write %s", dest);
	return 0;
}

/* Reads back the first bytes of dev and compares their hash. */
static int verify_written(const char *dev, uint64_t bytes, const char *sha, struct bh_error *err)
{
	char hex[65];
	uint64_t got;
	int rc, fd = open(dev, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return bh_error(err, errno, "open %s", dev);
	/* Drop cached pages: read what the device holds. */
	posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED);
	rc = sha256_fd(fd, dev, bytes, hex, &got, err);
	close(fd);
	if (rc < 0)
		return bh_error_wrap(err, "read back");
	if (got != bytes)
		return bh_error(err, 0, "read back %s: it ends after %llu bytes", dev,
				(unsigned long long)got);
	if (strcmp(hex, sha))
		return bh_error(err, 0, "%s does not read back what was written (sha256 %s, wrote %s)",
				dev, hex, sha);
	return 0;
}

static int store_sbom(const struct bundle *b, char slot, struct bh_error *err)
{
	char path[128];

	if (mkdir(UPDATE_STORE, 0700) < 0 && errno != EEXIST)
		return bh_error(err, errno, "mkdir %s", UPDATE_STORE);
	snprintf(path, sizeof(path), UPDATE_STORE "/slot-%c.spdx.json", slot);
	return bh_write_atomic(path, b->sbom, b->sbom_len, 0644, err);
}

/* True once this boot was confirmed healthy (update_tick). Until then the
 * running slot may still be abandoned, and the other one is the fallback:
 * an update must not overwrite it. */
static bool boot_confirmed;

int update_apply(int fd, bool allow_downgrade, char *out, size_t size, struct bh_error *err)
{
	char board[64] = "", version[UPDATE_VERSION_MAX] = "", dev[64], path[512], tmp[512];
	char member[16], target;
	struct update_manifest m;
	struct entry entries[16];
	struct utsname u;
	struct bundle b;
	uint64_t bytes;
	size_t n;
	int rc = -1, outfd;
	char slot = bh_running_slot();

	if (!slot)
		return bh_error(err, 0, "update: the root is not an A/B slot (booted without "
			 "disk.img?): nothing to update");
	target = slot == 'a' ? 'b' : 'a';
	if (!boot_confirmed)
		return bh_error(err, 0, "update: this boot of slot %c is not confirmed healthy yet "
			 "(bhd confirms it after %d s healthy; see bhctl update --status): refused, "
			 "slot %c stays the fallback", slot, BH_UPDATE_HEALTH_SECONDS, target);
	os_release("BULKHEAD_BOARD", board, sizeof(board));
	os_release("IMAGE_VERSION", version, sizeof(version));
	uname(&u);
	/* 1. Every check before anything is written. */
	if (update_check(fd, "update", TRUSTED_KEYS, board, u.machine, version, allow_downgrade, &b,
			 &m, err) < 0)
		return -1;
	snprintf(path, sizeof(path), BH_SLOT_PREFIX "%c", target);
	if (find_partition(path, dev, sizeof(dev), &bytes, err) < 0)
		goto out;
	if (m.slot_bytes > bytes) {
		bh_error(err, 0, "update: slot.img is %llu bytes, slot %c (%s) holds %llu: refused",
			 (unsigned long long)m.slot_bytes, target, dev, (unsigned long long)bytes);
		goto out;
	}
	if (esp_mount(err) < 0)
		goto out;
	/* 2. No entry may name the slot while it is written, and it is no
	 * longer known good. */
	snprintf(path, sizeof(path), ESP_GOOD_DIR "/good-%c", target);
	if (unlink(path) < 0 && errno != ENOENT) {
		bh_error(err, errno, "update: remove %s", path);
		goto umount;
	}
	n = esp_entries(entries, 16);
	for (size_t i = 0; i < n; i++)
		if (entries[i].slot == target) {
			snprintf(path, sizeof(path), ESP_UKI_DIR "/%s", entries[i].name);
			if (unlink(path) < 0) {
				bh_error(err, errno, "update: remove %s", path);
				goto umount;
			}
		}
	if (sync_dir(ESP_UKI_DIR) < 0) {
		bh_error(err, errno, "update: sync %s", ESP_UKI_DIR);
		goto umount;
	}
	/* 3. The slot, then what it reads back. */
	outfd = open(dev, O_WRONLY | O_CLOEXEC);
	if (outfd < 0) {
		bh_error(err, errno, "update: open %s", dev);
		goto umount;
	}
	rc = copy_member(fd, &b, "slot.img", outfd, dev, err);
	close(outfd);
	if (rc < 0 || (rc = verify_written(dev, m.slot_bytes, member_sha(&b, "slot.img"), err)) < 0)
		goto umount;
	/* 4. The UKI, complete under a temporary name, then renamed. */
	rc = -1;
	snprintf(member, sizeof(member), "uki-%c.efi", target);
	snprintf(tmp, sizeof(tmp), ESP_UKI_DIR "/bulkhead-%s-%c.tmp", m.version, target);
	snprintf(path, sizeof(path), ESP_UKI_DIR "/bulkhead-%s-%c+%d-0.efi", m.version, target,
		 TRIES);
	outfd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (outfd < 0) {
		bh_error(err, errno, "update: create %s", tmp);
		goto umount;
	}
	rc = copy_member(fd, &b, member, outfd, tmp, err);
	close(outfd);
	if (rc == 0 && (rename(tmp, path) < 0 || sync_dir(ESP_UKI_DIR) < 0))
		rc = bh_error(err, errno, "update: rename %s to %s", tmp, path);
	if (rc < 0) {
		unlink(tmp);
		goto umount;
	}
	/* 5. The SBOM of what slot target now holds. */
	if (store_sbom(&b, target, err) < 0)
		bhd_log("bhd: update: %s (the update itself is complete)", err->msg);
	snprintf(out, size, "update %s written to slot %c (%s); it boots on the next restart "
		 "(%d tries, kept once healthy for %d s)\n", m.version, target, dev, TRIES,
		 BH_UPDATE_HEALTH_SECONDS);
	bhd_log("bhd: update %s written to slot %c", m.version, target);
	rc = 0;
umount:
	esp_umount();
out:
	bundle_free(&b);
	return rc;
}

int update_status(char *out, size_t size, struct bh_error *err)
{
	struct entry entries[16];
	char slot = bh_running_slot(), version[UPDATE_VERSION_MAX] = "?", good[2][UPDATE_VERSION_MAX];
	size_t n, len = 0;

	if (!slot)
		return bh_error(err, 0, "update: the root is not an A/B slot (booted without "
			 "disk.img?)");
	os_release("IMAGE_VERSION", version, sizeof(version));
	if (esp_mount(err) < 0)
		return -1;
	n = esp_entries(entries, 16);
	good_version('a', good[0], sizeof(good[0]));
	good_version('b', good[1], sizeof(good[1]));
	esp_umount();
	len += (size_t)snprintf(out + len, size - len, "running: slot %c, version %s\n", slot,
				version);
	for (char s = 'a'; s <= 'b'; s++) {
		bool any = false;

		for (size_t i = 0; i < n && len < size; i++) {
			const struct entry *e = &entries[i];

			if (e->slot != s)
				continue;
			any = true;
			char state[48];

			if (e->counted && e->left == 0)
				snprintf(state, sizeof(state), "bad (no tries left)");
			else if (!e->counted)
				snprintf(state, sizeof(state), "%s, not counted",
					 strcmp(good[s - 'a'], e->version) ? "trial" : "good");
			else
				snprintf(state, sizeof(state), "%s, %d tries left",
					 strcmp(good[s - 'a'], e->version) ? "trial" : "good", e->left);
			len += (size_t)snprintf(out + len, size - len, "slot %c: version %s, %s%s\n", s,
						e->version, state, s == slot ? ", booted" : "");
		}
		if (!any && len < size)
			len += (size_t)snprintf(out + len, size - len, "slot %c: empty (no entry)%s\n",
						s, s == slot ? ", booted" : "");
	}
	return 0;
}

/* The confirmation of a boot: see the top of this file. */
static bool confirmed;

static bool workloads_healthy(int64_t now)
{
	for (int i = 0; i < WORKLOADS_MAX; i++) {
		const struct workload *w = &workloads[i];

		if (w->used && workload_enabled(w->m.name) &&
		    (w->state != WS_RUNNING || now - w->started_at < BH_UPDATE_HEALTH_SECONDS * 1000LL))
			return false;
	}
	return true;
}

/* Re-arms the running slot's entry: bulkhead-<version>-<slot>+3.efi, and
 * records the version as known good (first, so that a power cut between
 * the two leaves at worst a good slot with a try less). */
static int rearm(char slot, const char *version, bool trial, struct bh_error *err)
{
	struct entry entries[16];
	size_t n;
	int found = 0;

	if (esp_mount(err) < 0)
		return -1;
	if (trial && set_good_version(slot, version, err) < 0)
		goto fail;
	n = esp_entries(entries, 16);
	for (size_t i = 0; i < n; i++) {
		char from[512], to[512];

		if (entries[i].slot != slot || strcmp(entries[i].version, version))
			continue;
		found = 1;
		snprintf(from, sizeof(from), ESP_UKI_DIR "/%s", entries[i].name);
		snprintf(to, sizeof(to), ESP_UKI_DIR "/bulkhead-%s-%c+%d.efi", version, slot, TRIES);
		if (strcmp(from, to) && (rename(from, to) < 0 || sync_dir(ESP_UKI_DIR) < 0)) {
			bh_error(err, errno, "rename %s to %s", from, to);
			goto fail;
		}
	}
	esp_umount();
	if (!found)
		return bh_error(err, 0, "no boot entry of slot %c version %s on the ESP", slot, version);
	return 0;
fail:
	esp_umount();
	return -1;
}

/* Reads every block of the running root through dm-verity before the boot
 * is confirmed. A block that went bad where this boot did not read it
 * would otherwise be found only later, after the counter was re-armed,
 * and reset the machine without using up a try: the slot would never give
 * way. Read now, it resets the machine while this try still counts
 * (panic_on_corruption), or, were the table without it, fails the read. */
static int scrub_root(struct bh_error *err)
{
	static unsigned char buf[256 * 1024];
	uint64_t total = 0;
	ssize_t n;
	int fd = open("/dev/dm-0", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return bh_error(err, errno, "open /dev/dm-0");
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		total += (uint64_t)n;
	if (n < 0) {
		int e = errno;

		close(fd);
		return bh_error(err, e, "read /dev/dm-0 at byte %llu", (unsigned long long)total);
	}
	close(fd);
	return 0;
}

static void confirm_boot(void)
{
	int fd = open(BOOT_CONFIRMED, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

	if (fd < 0)
		bhd_log("bhd: create %s: %s (init's boot deadline will end this boot)", BOOT_CONFIRMED,
			strerror(errno));
	else
		close(fd);
}

int64_t update_tick(int64_t started)
{
	static int trial = -1;
	char version[UPDATE_VERSION_MAX] = "", good[UPDATE_VERSION_MAX];
	struct bh_error err;
	int64_t now = now_ms(), due = started + BH_UPDATE_HEALTH_SECONDS * 1000LL;
	char slot;

	if (confirmed)
		return -1;
	slot = bh_running_slot();
	if (!slot) { /* not booted from disk.img: nothing counts the boot */
		confirmed = true;
		return -1;
	}
	os_release("IMAGE_VERSION", version, sizeof(version));
	if (trial < 0) {
		if (esp_mount(&err) < 0) {
			bhd_log("bhd: boot check: %s", err.msg);
			trial = 1;
		} else {
			good_version(slot, good, sizeof(good));
			esp_umount();
			trial = strcmp(good, version) != 0;
			bhd_log("bhd: slot %c, version %s: %s; confirmed after %d s healthy", slot, version,
				trial ? "new (on trial)" : "known good", BH_UPDATE_HEALTH_SECONDS);
		}
	}
	if (now < due)
		return due - now;
	if (trial && !workloads_healthy(now))
		return 1000;
	bhd_log("bhd: slot %c: reading every block of the root through dm-verity", slot);
	if (scrub_root(&err) < 0) {
		/* Unconfirmed: init's boot deadline ends this boot. */
		bhd_log("bhd: slot %c is damaged: %s; not confirming this boot", slot, err.msg);
		confirmed = true;
		return -1;
	}
	confirmed = true;
	if (rearm(slot, version, trial, &err) < 0)
		bhd_log("bhd: slot %c: re-arm the boot counter: %s (this boot is confirmed anyway: "
			"rebooting would not mend the ESP)", slot, err.msg);
	else if (trial)
		bhd_log("bhd: slot %c (version %s) is healthy: kept, %d tries re-armed", slot, version,
			TRIES);
	else
		bhd_log("bhd: slot %c (version %s) boot healthy: %d tries re-armed", slot, version, TRIES);
	boot_confirmed = true;
	confirm_boot();
	return -1;
}
