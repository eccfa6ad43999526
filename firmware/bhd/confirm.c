/* The confirmation of every boot (docs/update.md, "Boot counting").
 *
 * Every boot is counted, not only a new slot's: systemd-boot takes one try
 * from the entry it starts (+3 -> +2-1), and bhd re-arms the running
 * slot's entry to +3 once the boot is healthy. So a slot that fails later,
 * e.g. a block of its root that went bad, uses up its tries too and the
 * other slot boots. A slot is "known good" once bhd has re-armed it after
 * a healthy boot of its version: ESP /loader/bulkhead/good-<slot> holds
 * that version. A new slot must run with every enabled workload healthy; a
 * known-good one only needs init and bhd up, so that a workload's own
 * failure never rolls the firmware back. Then bhd creates BOOT_CONFIRMED,
 * which stops init's boot deadline (firmware/init/boot.c). */
#include "bhd.h"

#include <bulkhead/slot.h>
#include <bulkhead/update.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Set once this boot is settled: confirmed healthy, or known damaged, or
 * not from a slot at all; ready is only the first. */
static bool settled, ready;

bool boot_is_confirmed(void)
{
	return ready;
}

static bool workloads_healthy(int64_t now)
{
	for (int i = 0; i < WORKLOADS_MAX; i++) {
		const struct workload *w = &workloads[i];

		/* A workload refused for its revoked key is not the new
		 * image's failure: an update that brings the revocation
		 * must still be kept. */
		if (w->used && workload_enabled(w->m.name) && w->state != WS_REVOKED &&
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
	struct esp_entry entries[16];
	size_t n;
	int found = 0;

	if (esp_mount(err) < 0)
		return -1;
	if (trial && esp_set_good_version(slot, version, err) < 0)
		goto fail;
	n = esp_entries(entries, 16);
	for (size_t i = 0; i < n; i++) {
		char from[512], to[512];

		if (entries[i].slot != slot || strcmp(entries[i].version, version))
			continue;
		found = 1;
		snprintf(from, sizeof(from), ESP_UKI_DIR "/%s", entries[i].name);
		snprintf(to, sizeof(to), ESP_UKI_DIR "/bulkhead-%s-%c+%d.efi", version, slot, TRIES);
		if (strcmp(from, to) && (rename(from, to) < 0 || esp_sync(ESP_UKI_DIR) < 0)) {
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
			bh_strerror(errno));
	else
		close(fd);
}

int64_t boot_confirm_tick(int64_t started)
{
	static int trial = -1;
	char version[UPDATE_VERSION_MAX] = "", good[UPDATE_VERSION_MAX];
	struct bh_error err;
	int64_t now = now_ms(), due = started + BH_UPDATE_HEALTH_SECONDS * 1000LL;
	char slot;

	if (settled)
		return -1;
	slot = bh_running_slot();
	if (!slot) { /* not booted from disk.img: nothing counts the boot */
		settled = true;
		return -1;
	}
	os_release("IMAGE_VERSION", version, sizeof(version));
	if (trial < 0) {
		if (esp_mount(&err) < 0) {
			bhd_log("bhd: boot check: %s", err.msg);
			trial = 1;
		} else {
			esp_good_version(slot, good, sizeof(good));
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
		settled = true;
		return -1;
	}
	settled = true;
	if (rearm(slot, version, trial, &err) < 0)
		bhd_log("bhd: slot %c: re-arm the boot counter: %s (this boot is confirmed anyway: "
			"rebooting would not mend the ESP)", slot, err.msg);
	else if (trial)
		bhd_log("bhd: slot %c (version %s) is healthy: kept, %d tries re-armed", slot, version,
			TRIES);
	else
		bhd_log("bhd: slot %c (version %s) boot healthy: %d tries re-armed", slot, version, TRIES);
	ready = true;
	confirm_boot();
	return -1;
}
