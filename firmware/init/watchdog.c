/* The hardware watchdog: armed at boot, petted while the system is healthy,
 * so that a hung system (or a critical service that gave up) resets. */
#include "init.h"

#include <bulkhead/autoconf.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/watchdog.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

static int wd_fd = -1;
static int64_t next_pet;
static int interval_ms;

/* Whether the watchdog reset the machine before this boot: the driver's
 * boot status (the i6300esb keeps the flag across the reset), told to bhd
 * (WATCHDOG_RESET in firmware/bhd/bhd.h), which reports it to the fleet. */
static void note_watchdog_reset(void)
{
	int flags = 0, fd;

	if (ioctl(wd_fd, WDIOC_GETBOOTSTATUS, &flags) < 0 || !(flags & WDIOF_CARDRESET))
		return;
	init_log("watchdog: the last reset was the watchdog's");
	fd = open("/run/bulkhead/watchdog-reset", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
}

void watchdog_open(void)
{
	int timeout = BH_WATCHDOG_TIMEOUT;

	wd_fd = open("/dev/watchdog", O_WRONLY | O_CLOEXEC);
	if (wd_fd < 0) {
		init_log("watchdog: no /dev/watchdog (%s): a hung system will not reset",
			 bh_strerror(errno));
		return;
	}
	if (ioctl(wd_fd, WDIOC_SETTIMEOUT, &timeout) < 0)
		init_log("watchdog: set timeout %d s: %s", timeout, bh_strerror(errno));
	if (ioctl(wd_fd, WDIOC_GETTIMEOUT, &timeout) < 0 || timeout <= 0)
		timeout = BH_WATCHDOG_TIMEOUT;
	interval_ms = timeout * 1000 / 3;
	init_log("watchdog: armed, %d s timeout", timeout);
	note_watchdog_reset();
	watchdog_pet(now_ms());
}

void watchdog_pet(int64_t now)
{
	if (wd_fd < 0 || now < next_pet)
		return;
	if (ioctl(wd_fd, WDIOC_KEEPALIVE, 0) < 0 && write(wd_fd, "\0", 1) < 0)
		init_log("watchdog: keepalive: %s", bh_strerror(errno));
	next_pet = now + interval_ms;
}

int64_t watchdog_next(void)
{
	return wd_fd < 0 ? -1 : next_pet;
}

/* The magic close: only a clean poweroff disarms it. */
void watchdog_disarm(void)
{
	if (wd_fd < 0)
		return;
	if (write(wd_fd, "V", 1) < 0)
		init_log("watchdog: disarm: %s", bh_strerror(errno));
	close(wd_fd);
	wd_fd = -1;
}
