/* The ordered end: services in reverse start order within their timeouts,
 * then whatever is left, then sync, unmount and power off or reboot. */
#include "init.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/wait.h>
#include <unistd.h>

static void kill_the_rest(void)
{
	int64_t deadline;

	kill(-1, SIGTERM);
	deadline = now_ms() + 2000;
	while (now_ms() < deadline) {
		if (waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD)
			return;
		usleep(20000);
	}
	kill(-1, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)
		;
}

void init_shutdown(enum init_halt how)
{
	static const char *const unmount[] = {"/data", "/tmp", "/run"};

	init_log("%s: stopping services", how == INIT_REBOOT ? "reboot" : "poweroff");
	services_stop_all();
	kill_the_rest();
	sync();
	for (size_t i = 0; i < sizeof(unmount) / sizeof(unmount[0]); i++)
		if (umount2(unmount[i], 0) < 0 && errno != EINVAL && errno != ENOENT) {
			init_log("unmount %s: %s; remounting it read-only", unmount[i],
				 bh_strerror(errno));
			mount(NULL, unmount[i], NULL, MS_REMOUNT | MS_RDONLY, NULL);
		}
	sync();
	if (how == INIT_POWEROFF)
		watchdog_disarm();
	init_log("%s", how == INIT_REBOOT ? "rebooting" : "powering off");
	reboot(how == INIT_REBOOT ? RB_AUTOBOOT : RB_POWER_OFF);
	/* reboot() returns only on failure; PID 1 must never exit. */
	init_log("reboot(): %s", bh_strerror(errno));
	for (;;)
		pause();
}
