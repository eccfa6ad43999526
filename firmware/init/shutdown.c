#include "init.h"

#include <signal.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <unistd.h>

void init_shutdown(enum init_halt how)
{
	init_log("stopping: terminating all processes");
	kill(-1, SIGTERM);
	sleep(1);
	kill(-1, SIGKILL);
	sync();
	umount2("/tmp", MNT_DETACH);
	umount2("/run", MNT_DETACH);
	init_log("%s", how == INIT_REBOOT ? "rebooting" : "powering off");
	reboot(how == INIT_REBOOT ? RB_AUTOBOOT : RB_POWER_OFF);
	/* reboot() only returns on failure; PID 1 must never exit. */
	for (;;)
		pause();
}
