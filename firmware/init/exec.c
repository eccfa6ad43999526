/* The child side of starting a service: its own session and cgroup, the
 * output pipe as stdout and stderr, then only the privileges its file
 * grants, and exec. Any failure is written to the status pipe for init to
 * log, and the child exits. */
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

__attribute__((noreturn, format(printf, 2, 3))) static void fail(int status_fd, const char *fmt,
								  ...)
{
	char msg[256];
	va_list ap;
	int n, e = errno;

	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(msg))
		snprintf(msg + n, sizeof(msg) - n, ": %s", strerror(e));
	if (write(status_fd, msg, strlen(msg)) < 0) {
		/* init will see the exit status instead. */
	}
	_exit(127);
}

static int last_cap(void)
{
	char buf[16] = "";
	int fd = open("/proc/sys/kernel/cap_last_cap", O_RDONLY | O_CLOEXEC);

	if (fd >= 0) {
		if (read(fd, buf, sizeof(buf) - 1) < 0)
			buf[0] = 0;
		close(fd);
	}
	return buf[0] ? atoi(buf) : CAP_LAST_CAP;
}

/* Bounding set first (dropping needs CAP_SETPCAP, which setuid takes away),
 * then the ids, then exactly `caps` as permitted, effective, inheritable
 * and ambient, so that they survive the exec of a non-setuid binary. */
static void drop_privileges(const struct service_config *cfg, int status_fd)
{
	struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3};
	struct __user_cap_data_struct data[2];
	int last = last_cap();

	for (int c = 0; c <= last; c++)
		if (!(cfg->caps & (1ULL << c)) && prctl(PR_CAPBSET_DROP, c, 0, 0, 0) < 0)
			fail(status_fd, "drop capability %d from the bounding set", c);
	if (prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		fail(status_fd, "keep capabilities across setuid");
	if (setgroups(0, NULL) < 0)
		fail(status_fd, "clear supplementary groups");
	if (setresgid(cfg->gid, cfg->gid, cfg->gid) < 0)
		fail(status_fd, "set group %u", (unsigned)cfg->gid);
	if (setresuid(cfg->uid, cfg->uid, cfg->uid) < 0)
		fail(status_fd, "set user %u", (unsigned)cfg->uid);
	memset(data, 0, sizeof(data));
	data[0].permitted = data[0].effective = data[0].inheritable = (uint32_t)cfg->caps;
	data[1].permitted = data[1].effective = data[1].inheritable = (uint32_t)(cfg->caps >> 32);
	if (syscall(SYS_capset, &hdr, data) < 0)
		fail(status_fd, "set capabilities");
	if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0) < 0)
		fail(status_fd, "clear ambient capabilities");
	for (int c = 0; c <= last; c++)
		if ((cfg->caps & (1ULL << c)) &&
		    prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, c, 0, 0) < 0)
			fail(status_fd, "raise ambient capability %d", c);
	if (cfg->no_new_privs && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		fail(status_fd, "set no_new_privs");
}

void service_exec(const struct service_config *cfg, int out_fd, int status_fd)
{
	static char *const envp[] = {"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/", NULL};
	sigset_t none;
	char path[256];
	int fd;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	setsid();
	snprintf(path, sizeof(path), CGROUP_ROOT "/system/%s/cgroup.procs", cfg->name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, "0", 1) < 0)
		fail(status_fd, "join %s", path);
	close(fd);
	fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	if (fd < 0 || dup2(fd, 0) < 0 || dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
		fail(status_fd, "set up stdin, stdout and stderr");
	if (chdir("/") < 0)
		fail(status_fd, "chdir /");
	drop_privileges(cfg, status_fd);
	execve(cfg->argv[0], cfg->argv, envp);
	fail(status_fd, "exec %s", cfg->argv[0]);
}
