/* The child side of starting a service: its own session and cgroup, the
 * output pipe as stdout and stderr, then only the privileges its file
 * grants, and exec. Any failure is written to the status pipe for init to
 * log, and the child exits. */
#include "init.h"

#include <bulkhead/caps.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

__attribute__((noreturn)) static void report(int status_fd, const char *msg)
{
	if (write(status_fd, msg, strlen(msg)) < 0) {
		/* init will see the exit status instead. */
	}
	_exit(127);
}

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
		snprintf(msg + n, sizeof(msg) - n, ": %s", bh_strerror(e));
	report(status_fd, msg);
}

/* Only the uid and capabilities the service file grants: exactly `caps`
 * as permitted, effective, inheritable and ambient, so that they survive
 * the exec of a non-setuid binary. */
static void drop_privileges(const struct service_config *cfg, int status_fd)
{
	struct bh_privileges p = {
		.uid = cfg->uid,
		.gid = cfg->gid,
		.bounding = cfg->caps,
		.permitted = cfg->caps,
		.effective = cfg->caps,
		.inheritable = cfg->caps,
		.ambient = cfg->caps,
		.no_new_privs = cfg->no_new_privs,
		.last_cap = bh_cap_last(),
	};
	struct bh_error err;

	if (bh_drop_privileges(&p, &err) < 0)
		report(status_fd, err.msg);
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
