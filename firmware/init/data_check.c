/* Checking /data at every boot, and what init does with what e2fsck finds
 * (docs/hardening.md, "Power cuts and /data").
 *
 * e2fsck -p runs before every mount. After a power cut it replays the
 * journal; it checks the whole filesystem only when the kernel marked it
 * as having errors (ext4 does when it meets damage at run time, as in
 * "deleted inode referenced"). Its exit status decides:
 *   0       clean: mount;
 *   1, 2    repaired what is safe to repair unattended: mount. When the
 *           filesystem was marked as having errors, those repairs can
 *           have cleared entries of installed files (an entry naming a
 *           deleted inode is cleared, its file gone): the installed
 *           workloads are reinstalled as below. A journal replayed or
 *           counts fixed on a filesystem without errors lose nothing;
 *   4       damage -p must not repair alone (a block claimed twice, an
 *           entry naming a deleted inode): e2fsck -fy repairs it, which
 *           may delete what it cannot place. Files may be gone, so after
 *           the mount the installed workloads are removed and reinstalled
 *           (bhd installs the image's own bundles as on a first boot, the
 *           fleet's sync its own); the workloads' volumes and the fleet
 *           identity are kept;
 *   other   (8: it could not check, e.g. no superblock left; or -fy left
 *           damage): /data is not mounted but left as it is for recovery,
 *           and the gateway runs on a tmpfs.
 * Each case is said on the console and recorded in DATA_STATUS. */
#include "init.h"

#include <bulkhead/fs.h>

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* What e2fsck's exit status means (e2fsck(8)). */
#define FSCK_CORRECTED     1
#define FSCK_REBOOT        2
#define FSCK_UNCORRECTED   4

/* The superblock's s_state has EXT2_ERROR_FS: the kernel (or tune2fs -E
 * force_fsck) marked the filesystem as damaged. */
static bool marked_with_errors(const char *dev)
{
	uint8_t sb[1024];
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : pread(fd, sb, sizeof(sb), 1024);

	if (fd >= 0)
		close(fd);
	return n == (ssize_t)sizeof(sb) && (sb[56] | sb[57] << 8) == 0xEF53 && (sb[0x3a] & 0x02);
}

static bool mountable(int status)
{
	return status >= 0 && (status & ~(FSCK_CORRECTED | FSCK_REBOOT)) == 0;
}

int data_check(const char *dev, struct data_status *st)
{
	char *const preen[] = {"/sbin/e2fsck", "-p", (char *)dev, NULL};
	char *const fix[] = {"/sbin/e2fsck", "-f", "-y", (char *)dev, NULL};
	bool damaged = marked_with_errors(dev);

	if (damaged)
		init_log("data: %s is marked as having errors: e2fsck checks all of it", dev);
	st->fsck = data_run(preen);
	if (mountable(st->fsck)) {
		if (st->fsck)
			init_log("data: e2fsck repaired %s (exit status %d)", dev, st->fsck);
		if (st->fsck && damaged) {
			init_log("data: the repairs on %s may have removed installed files", dev);
			st->reinstall = true;
		}
		return 0;
	}
	if (st->fsck != FSCK_UNCORRECTED) {
		snprintf(st->reason, sizeof(st->reason),
			 "e2fsck could not check %s (exit status %d): it stays unmounted and "
			 "untouched for recovery", dev, st->fsck);
		return -1;
	}
	init_log("data: e2fsck -p found damage on %s it must not repair unattended (exit status "
		 "%d): repairing it with e2fsck -fy, which may delete what it cannot place", dev,
		 st->fsck);
	st->repair = data_run(fix);
	if (!mountable(st->repair)) {
		snprintf(st->reason, sizeof(st->reason),
			 "e2fsck -fy could not repair %s either (exit status %d): it stays unmounted "
			 "and untouched for recovery", dev, st->repair);
		return -1;
	}
	st->reinstall = true;
	return 0;
}

void data_clear_installed(void)
{
	/* bhd's installed workloads (the layout is firmware/bhd/bhd.h's)
	 * and bhsync's downloads: all of it comes back from the image and
	 * the registry. */
	static const char *const cleared[] = {"/data/manifests", "/data/workloads", "/data/sbom",
					      "/data/sync"};

	init_log("data: the repair may have lost files: removing the installed workloads "
		 "(/data/manifests, /data/workloads, /data/sbom) and the fleet's downloads "
		 "(/data/sync); bhd reinstalls the image's own bundles and the fleet sync its "
		 "workloads; kept: the workloads' volumes (/data/volumes), the fleet identity "
		 "(/data/fleet) and the rest");
	for (size_t i = 0; i < sizeof(cleared) / sizeof(cleared[0]); i++)
		if (bh_remove_tree(cleared[i]) < 0)
			init_log("data: remove %s: %s", cleared[i], bh_strerror(errno));
	sync();
}

/* The first superblock's has_journal feature. */
static int has_journal(const char *dev)
{
	uint8_t sb[1024];
	int fd = open(dev, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : pread(fd, sb, sizeof(sb), 1024);

	if (fd >= 0)
		close(fd);
	if (n != (ssize_t)sizeof(sb))
		return -1;
	return (sb[0x5c] & 0x04) != 0; /* s_feature_compat & EXT3_FEATURE_COMPAT_HAS_JOURNAL */
}

void data_add_journal(const char *dev, struct data_status *st)
{
	char *const argv[] = {"/sbin/tune2fs", "-j", (char *)dev, NULL};
	int status;

	if (has_journal(dev) != 0)
		return;
	init_log("data: %s has no journal (ext2, formatted by an older image): adding one "
		 "(tune2fs -j)", dev);
	status = data_run(argv);
	if (status != 0)
		init_log("data: tune2fs -j %s failed (exit status %d): /data stays without a "
			 "journal this boot", dev, status);
	else
		st->journal_added = true;
}
