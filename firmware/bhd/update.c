/* Firmware updates into the inactive root slot (docs/update.md), and what
 * `bhctl update --status` shows.
 *
 * Order of an update, so that a power cut at any point leaves the running
 * slot booting: (1) every check, before anything is written: signature
 * (by an update key no revocation list names), hashes of every member,
 * board, arch, version; (2) the inactive slot's
 * UKI is removed from the ESP, so no entry names a slot being written;
 * (3) slot.img is streamed into the slot's partition while hashed, then
 * read back and hashed again; (4) the slot's UKI is written to the ESP
 * under a temporary name, fsynced and renamed to
 * bulkhead-<version>-<slot>+3-0.efi: systemd-boot tries it (newest
 * version first) at most 3 times; (5) the new image's SBOM replaces the
 * one stored for that slot. Until the running boot is confirmed healthy
 * (confirm.c) the other slot is its fallback, and no update may write it. */
#include "bhd.h"

#include <bulkhead/bundle.h>
#include <bulkhead/fs.h>
#include <bulkhead/hash.h>
#include <bulkhead/slot.h>
#include <bulkhead/tar.h>
#include <bulkhead/update.h>

#include <errno.h>
#include <fcntl.h>
#include <mbedtls/sha256.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#define UPDATE_STORE "/data/update"

/* The signed hash of a member the checks found. */
static const char *member_sha(const struct bundle *b, const char *name)
{
	const struct bundle_member *m = bundle_member(b, name);

	return m ? m->sha256 : "";
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

int update_apply(int fd, bool allow_downgrade, char *out, size_t size, struct bh_error *err)
{
	char board[64] = "", version[UPDATE_VERSION_MAX] = "", dev[64], path[512], tmp[512];
	char member[16], target;
	struct update_manifest m;
	struct esp_entry entries[16];
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
	if (!boot_is_confirmed())
		return bh_error(err, 0, "update: this boot of slot %c is not confirmed healthy yet "
			 "(bhd confirms it after %d s healthy; see bhctl update --status): refused, "
			 "slot %c stays the fallback", slot, BH_UPDATE_HEALTH_SECONDS, target);
	os_release("BULKHEAD_BOARD", board, sizeof(board));
	os_release("IMAGE_VERSION", version, sizeof(version));
	uname(&u);
	/* 1. Every check before anything is written. */
	if (update_check(fd, "update", UPDATE_KEYS, board, u.machine, version, allow_downgrade, &b,
			 &m, err) < 0)
		return -1;
	if (revoked_check(b.key_id, "update", err) < 0) {
		bundle_free(&b);
		return -1;
	}
	snprintf(path, sizeof(path), BH_SLOT_PREFIX "%c", target);
	if (partition_find(path, dev, sizeof(dev), &bytes, err) < 0)
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
	if (esp_sync(ESP_UKI_DIR) < 0) {
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
	if (rc == 0 && (rename(tmp, path) < 0 || esp_sync(ESP_UKI_DIR) < 0))
		rc = bh_error(err, errno, "update: rename %s to %s", tmp, path);
	if (rc < 0) {
		unlink(tmp);
		goto umount;
	}
	/* 5. The SBOM of what slot target now holds. */
	if (store_sbom(&b, target, err) < 0)
		bhd_log("bhd: update: %s (the update itself is complete)", err->msg);
	report_update_applied(m.version, target);
	update_trial_begin(m.version, target);
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
	struct esp_entry entries[16];
	char slot = bh_running_slot(), version[UPDATE_VERSION_MAX] = "?", good[2][UPDATE_VERSION_MAX];
	size_t n, len = 0;

	if (!slot)
		return bh_error(err, 0, "update: the root is not an A/B slot (booted without "
			 "disk.img?)");
	os_release("IMAGE_VERSION", version, sizeof(version));
	if (esp_mount(err) < 0)
		return -1;
	n = esp_entries(entries, 16);
	esp_good_version('a', good[0], sizeof(good[0]));
	esp_good_version('b', good[1], sizeof(good[1]));
	esp_umount();
	len += (size_t)snprintf(out + len, size - len, "running: slot %c, version %s\n", slot,
				version);
	for (char s = 'a'; s <= 'b'; s++) {
		bool any = false;

		for (size_t i = 0; i < n && len < size; i++) {
			const struct esp_entry *e = &entries[i];

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
