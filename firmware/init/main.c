/* PID 1 of the Bulkhead host: mounts the kernel filesystems, says what
 * booted, reaps every orphan and turns signals into a clean shutdown. */
#include "init.h"

#include <bulkhead/autoconf.h>
#include <bulkhead/version.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

void init_log(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(line), "init: ");
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);
	strcat(line, "\n");
	if (write(STDOUT_FILENO, line, strlen(line)) < 0) {
		/* Nowhere left to report it. */
	}
}

/* The kernel hands PID 1 the console as fds 0-2 when /dev/console exists;
 * reopen it once devtmpfs is mounted in case it did not. */
static void open_console(void)
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

static void print_boot_complete(void)
{
	struct utsname u;
	struct statvfs root;
	const char *rootmode = "unknown";

	if (uname(&u) != 0)
		strcpy(u.release, "unknown");
	if (statvfs("/", &root) == 0)
		rootmode = (root.f_flag & ST_RDONLY) ? "read-only" : "read-write";
	init_log("bulkhead boot complete: firmware %s, board %s, profile %s, kernel %s, pid %d, root %s",
		 BH_VERSION, BH_BOARD_NAME, BH_PROFILE, u.release, (int)getpid(), rootmode);
}

#ifdef BH_PROFILE_DEBUG
/* Debug images give a root shell on the console, restarted when it exits. */
static pid_t start_debug_shell(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		sigset_t none;

		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		setsid();
		execl("/bin/sh", "-sh", (char *)NULL);
		_exit(127);
	}
	return pid;
}
#endif

int main(void)
{
	struct bh_error err;
	sigset_t set;
	int sig;

	if (getpid() != 1) {
		fprintf(stderr, "init: must run as PID 1\n");
		return 1;
	}
	/* Signals are taken synchronously with sigwait, never in handlers. */
	sigfillset(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (init_mount_all(&err) < 0)
		init_log("%s", err.msg);
	open_console();
	print_boot_complete();
#ifdef BH_PROFILE_DEBUG
	pid_t shell = start_debug_shell();
#endif
	for (;;) {
		if (sigwait(&set, &sig) != 0)
			continue;
		switch (sig) {
		case SIGCHLD: {
			pid_t pid;

			while ((pid = waitpid(-1, NULL, WNOHANG)) > 0) {
#ifdef BH_PROFILE_DEBUG
				if (pid == shell)
					shell = start_debug_shell();
#endif
			}
			break;
		}
		case SIGTERM:
		case SIGUSR2:
		case SIGPWR:
			init_shutdown(INIT_POWEROFF);
		case SIGINT:
		case SIGUSR1:
			init_shutdown(INIT_REBOOT);
		default:
			break;
		}
	}
}
