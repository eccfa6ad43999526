/* The console for init's own messages, and the debug profile's shell. */
#include "init.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* The kernel hands PID 1 /dev/console as fds 0-2 when it can open it;
 * make sure of it. */
void console_open(void)
{
	int fd;

	if (fcntl(STDOUT_FILENO, F_GETFD) >= 0)
		return;
	fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd < 0)
		return;
	dup2(fd, 0);
	dup2(fd, 1);
	dup2(fd, 2);
	if (fd > 2)
		close(fd);
}

/* The shell gets the real serial device behind /dev/console (the last
 * name in /sys/class/tty/console/active), so that it can be a controlling
 * terminal with job control. */
pid_t debug_shell_start(void)
{
	char active[128] = "", tty[160];
	pid_t pid;
	int fd;

	fd = open("/sys/class/tty/console/active", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		ssize_t n = read(fd, active, sizeof(active) - 1);

		close(fd);
		active[n > 0 ? n : 0] = 0;
	}
	active[strcspn(active, "\n")] = 0;
	snprintf(tty, sizeof(tty), "/dev/%s",
		 strrchr(active, ' ') ? strrchr(active, ' ') + 1 : (*active ? active : "console"));
	pid = fork();
	if (pid == 0) {
		static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/root",
					     "TERM=vt100", "PS1=\\h:\\w# ", NULL};
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setsid();
		fd = open(tty, O_RDWR | O_CLOEXEC);
		if (fd >= 0) {
			ioctl(fd, TIOCSCTTY, 1);
			dup2(fd, 0);
			dup2(fd, 1);
			dup2(fd, 2);
		}
		if (chdir("/root") < 0) {
			/* The shell starts in / instead. */
		}
		execle("/bin/sh", "-sh", (char *)NULL, envp);
		_exit(127);
	}
	return pid;
}
