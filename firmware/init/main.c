/* PID 1 of the Bulkhead host: mounts, hardening sysctls, cgroups, /data,
 * network, watchdog, services; then an event loop that reaps every child,
 * supervises services and turns signals and the power button into a clean
 * shutdown. It never exits. */
#include "init.h"

#include <bulkhead/autoconf.h>
#include <bulkhead/version.h>

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/reboot.h>
#include <sys/signalfd.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#ifdef BH_PROFILE_DEBUG
static pid_t shell_pid = -1;
#endif

/* An image built with BH_ALLOW_TEST_KEYS says so in its os-release
 * (rootfs/keys.mk): it trusts keys whose private halves are public. */
static bool built_with_test_keys(void)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/etc/os-release", "re");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !strcmp(line, "VARIANT=\"TEST KEYS\"\n");
	fclose(f);
	return found;
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
	init_log("bulkhead boot complete: firmware %s, board %s, profile %s, kernel %s, pid %d, "
		 "root %s",
		 BH_VERSION, BH_BOARD_NAME, BH_PROFILE, u.release, (int)getpid(), rootmode);
	if (built_with_test_keys())
		init_log("TEST KEYS: not for shipping (this image trusts and is signed by the "
			 "TEST-ONLY keys of board/common/keys, whose private halves are public)");
}

static void reap(int64_t now)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if (services_child_exited(pid, status, now))
			continue;
#ifdef BH_PROFILE_DEBUG
		if (pid == shell_pid)
			shell_pid = debug_shell_start();
#endif
	}
}

/* Returns true when the system must stop; sets *how. */
static bool handle_signal(int sfd, int epfd, enum init_halt *how)
{
	struct signalfd_siginfo si;

	if (read(sfd, &si, sizeof(si)) != sizeof(si))
		return false;
	switch (si.ssi_signo) {
	case SIGCHLD:
		reap(now_ms());
		return false;
	/* The sysvinit and BusyBox convention, so that their halt, poweroff
	 * and reboot commands work: USR1 halt, USR2 poweroff, TERM reboot. */
	case SIGUSR1:
	case SIGUSR2:
	case SIGPWR:
		*how = INIT_POWEROFF;
		return true;
	case SIGTERM:
	case SIGINT: /* Ctrl-Alt-Del */
		*how = INIT_REBOOT;
		return true;
	case SIGHUP:
#ifdef BH_PROFILE_DEBUG
		init_log("reloading: loading new services from " RUNTIME_SERVICES_DIR);
		services_load(RUNTIME_SERVICES_DIR);
#else
		(void)epfd;
#endif
		return false;
	default:
		return false;
	}
}

int main(void)
{
	struct epoll_event ev = {.events = EPOLLIN};
	enum init_halt how = INIT_POWEROFF;
	int64_t init_start = now_ms();
	struct bh_error err;
	bool ready = false;
	sigset_t set;
	int sfd, epfd;

	if (getpid() != 1) {
		fprintf(stderr, "init: must run as PID 1\n");
		return 1;
	}
	if (boot_halt_requested())
		boot_halt();
	/* Signals are taken synchronously through a signalfd, never in
	 * handlers; Ctrl-Alt-Del becomes SIGINT instead of an instant reboot. */
	sigfillset(&set);
	sigprocmask(SIG_BLOCK, &set, NULL);
	reboot(RB_DISABLE_CAD);
	if (init_mount_all(&err) < 0)
		init_log("%s", err.msg);
	console_open();
	init_sysctl(SYSCTL_CONF);
	if (init_cgroups(&err) < 0)
		init_log("cgroups: %s", err.msg);
	init_network();
	init_data();
	watchdog_open();

	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	ev.data.fd = sfd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev);
	if (power_buttons_open(epfd) == 0)
		init_log("no power button found: poweroff only by signal");
	services_load(SERVICES_DIR);
	print_boot_complete();
	boot_deadline_arm(init_start);
#ifdef BH_PROFILE_DEBUG
	shell_pid = debug_shell_start();
#endif

	for (;;) {
		struct epoll_event events[16];
		int64_t now = now_ms(), timeout, wd, dl;
		int n;

		timeout = services_tick(epfd, now);
		if (!ready && services_all_critical_up()) {
			ready = true;
			init_log("ready: %lld.%03lld s since kernel start (init %lld ms)",
				 (long long)(now / 1000), (long long)(now % 1000),
				 (long long)(now - init_start));
		}
		/* Healthy means a critical service has not given up; otherwise
		 * the watchdog is left to reset the machine. */
		if (!services_critical_failed())
			watchdog_pet(now);
		dl = boot_deadline_tick(now);
		if (dl == 0)
			init_shutdown(INIT_REBOOT);
		if (dl > 0 && (timeout < 0 || dl < timeout))
			timeout = dl;
		wd = watchdog_next();
		if (wd >= 0 && !services_critical_failed() && (timeout < 0 || wd - now < timeout))
			timeout = wd > now ? wd - now : 0;
		n = epoll_wait(epfd, events, 16, timeout < 0 ? -1 : (int)timeout);
		for (int i = 0; i < n; i++) {
			int fd = events[i].data.fd;

			if (fd == sfd) {
				if (handle_signal(sfd, epfd, &how))
					init_shutdown(how);
			} else if (!services_output(fd) && power_button_pressed(fd)) {
				init_log("power button pressed");
				init_shutdown(INIT_POWEROFF);
			}
		}
		/* A SIGCHLD can be merged with others in one read; reap anyway. */
		reap(now_ms());
	}
}
