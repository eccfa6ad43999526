/* What init does for A/B boot (docs/update.md, "Boot counting"): the halt
 * entry, and the boot deadline.
 *
 * systemd-boot counts every boot of a slot; bhd re-arms the counter once
 * the boot is healthy and then creates BOOT_CONFIRMED. A boot that never
 * gets there must end, or its try would never be used up: a hang resets
 * through the watchdog, a kernel panic through panic=-1, but a system that
 * runs without getting healthy (a workload that never starts, a stuck
 * agent) would stay up for ever. So init, which needs nothing else to
 * work, reboots when the deadline passes without BOOT_CONFIRMED. Only a
 * root from an A/B slot has a deadline: a kernel booted directly (no
 * firmware, no counter) has nothing to fall back to.
 *
 * When every slot has used up its tries, systemd-boot starts the halt
 * entry: this init, from an initramfs, with bulkhead_halt=1 in its
 * environment (the kernel passes unknown name=value arguments on). It
 * says so on the console and halts: restarting would only try the broken
 * slots again. */
#include "init.h"

#include <bulkhead/autoconf.h>
#include <bulkhead/slot.h>

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef BH_BOOT_DEADLINE_SECONDS
#define BH_BOOT_DEADLINE_SECONDS 300
#endif

static int64_t deadline = -1;

bool boot_halt_requested(void)
{
	const char *v = getenv("bulkhead_halt");

	return v && !strcmp(v, "1");
}

void boot_halt(void)
{
	int fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);

	if (fd >= 0) {
		dup2(fd, STDOUT_FILENO);
		dup2(fd, STDERR_FILENO);
	}
	init_log("halt: no bootable root slot is left. Every slot's boot entry has used up its "
		 "tries without a healthy boot (a changed or unreadable root, or a system that never "
		 "got healthy). This device stops here and will not restart by itself. Recover it by "
		 "flashing a good disk.img (docs/update.md).");
	sync();
	reboot(RB_HALT_SYSTEM);
	for (;;)
		pause();
}

void boot_deadline_arm(int64_t now)
{
	char slot = bh_running_slot();

	if (!slot || BH_BOOT_DEADLINE_SECONDS == 0)
		return;
	deadline = now + BH_BOOT_DEADLINE_SECONDS * 1000LL;
	init_log("boot deadline: slot %c must be confirmed healthy within %d s, or this boot is "
		 "ended and counted as failed", slot, BH_BOOT_DEADLINE_SECONDS);
}

int64_t boot_deadline_tick(int64_t now)
{
	if (deadline < 0)
		return -1;
	if (access(BOOT_CONFIRMED, F_OK) == 0) {
		deadline = -1;
		return -1;
	}
	if (now < deadline)
		return deadline - now;
	deadline = -1;
	init_log("boot deadline: not confirmed healthy within %d s: rebooting (systemd-boot has "
		 "counted this try)", BH_BOOT_DEADLINE_SECONDS);
	return 0;
}
