/* Running one kind of hook, as the runtime spec says: each hook in order,
 * with the container's state JSON on its stdin, its args as argv and
 * exactly its env as the environment (none given: an empty one, nothing of
 * bhc's leaks), a failure stopping the rest.
 *
 * A hook runs in a process group of its own; on timeout the whole group is
 * killed (SIGKILL), so a shell script's sleeping child goes too and cannot
 * hold bhc's stdio open. An exec failure comes back over a close-on-exec
 * pipe, so the error says why instead of "status 127".
 *
 * createContainer (ns_pidfd): the path is opened in the runtime's mount
 * namespace, then the hook enters the container's namespaces (user
 * included: it is the container's root, as under runc) and runs from the
 * fd (execveat). startContainer runs in the init, as the
 * container's user, with the container's seccomp filter loaded first. */
#include "libbhc.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef AT_EMPTY_PATH
#define AT_EMPTY_PATH 0x1000
#endif

/* createContainer: every namespace of the container's init but its pid
 * namespace (which would only hold the hook's children), as the
 * container's root. Host root could not even create a file in the
 * container's tmpfs (its owner is not mapped there), and it is less
 * privilege: the hook can change the container, not the host. */
static int enter_container(int pidfd)
{
	if (setns(pidfd, CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWUTS | CLONE_NEWIPC |
	                     CLONE_NEWCGROUP) < 0)
		return -1;
	if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		return -1;
	return 0;
}

/* The child, between fork and exec: errors go to errfd as an errno. */
__attribute__((noreturn)) static void child(const struct bhc_hook *h,
                                            const struct bhc_hook_run *how, int in, int errfd)
{
	static const char *const none[] = {NULL};
	const char *const *argv = h->args && h->args[0] ? h->args : (const char *[]){h->path, NULL};
	struct bh_error ignored;
	sigset_t all;
	int e, exe = -1;

	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	signal(SIGPIPE, SIG_DFL);
	setpgid(0, 0);
	if (how->ns_pidfd >= 0) {
		/* Opened here, in the runtime namespace; a script's interpreter
		 * reads it as /dev/fd/4 after the exec. */
		exe = open(h->path, O_PATH | O_CLOEXEC);
		if (exe < 0 || enter_container(how->ns_pidfd) < 0)
			goto fail;
	}
	/* Moved above 10 first, so that placing them cannot clobber one. */
	in = fcntl(in, F_DUPFD_CLOEXEC, 10);
	e = fcntl(errfd, F_DUPFD_CLOEXEC, 10);
	errfd = e >= 0 ? e : errfd;
	if (exe >= 0)
		exe = fcntl(exe, F_DUPFD_CLOEXEC, 10);
	if (in < 0 || e < 0 || (how->ns_pidfd >= 0 && exe < 0) || dup2(in, 0) < 0 ||
	    dup2(errfd, 3) < 0 || fcntl(3, F_SETFD, FD_CLOEXEC) < 0 ||
	    (exe >= 0 && dup2(exe, 4) < 0))
		goto fail;
	errfd = 3;
	exe = exe >= 0 ? 4 : -1;
	/* Nothing of bhc's but stdio reaches the hook. */
	syscall(SYS_close_range, exe >= 0 ? 5 : 4, ~0U, 0);
	if (how->cwd && chdir(how->cwd) < 0)
		goto fail;
	if (how->seccomp && bhc_seccomp_load(how->seccomp, &ignored) < 0) {
		errno = ignored.code ? ignored.code : EPERM;
		goto fail;
	}
	if (exe >= 0)
		syscall(SYS_execveat, exe, "", (char *const *)argv,
		        (char *const *)(h->env ? h->env : none), AT_EMPTY_PATH);
	else
		execve(h->path, (char *const *)argv, (char *const *)(h->env ? h->env : none));
fail:
	e = errno;
	if (write(errfd, &e, sizeof(e)) < 0)
		_exit(126);
	_exit(127);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Feeds the state to the hook and waits for it, within the timeout.
 * Returns 0 with *status, or 1 on timeout (the group killed and reaped). */
static int feed_and_wait(pid_t pid, int out, const char *state, const struct bhc_hook *h,
                         int *status, struct bh_error *err)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	long long deadline = h->timeout ? now_ms() + h->timeout * 1000LL : 0;
	size_t len = strlen(state), done = 0;
	int r = 0;

	if (pidfd < 0) {
		r = bh_error(err, errno, "pidfd_open the hook");
		kill(-pid, SIGKILL);
		goto reap;
	}
	for (;;) {
		struct pollfd p[2] = {{pidfd, POLLIN, 0}, {out, POLLOUT, 0}};
		int wait_ms = deadline ? (int)(deadline - now_ms()) : -1;
		int n;

		if (deadline && wait_ms <= 0) {
			kill(-pid, SIGKILL);
			r = 1;
			break;
		}
		n = poll(p, out >= 0 ? 2 : 1, wait_ms);
		if (n < 0 && errno != EINTR) {
			r = bh_error(err, errno, "wait for the hook");
			kill(-pid, SIGKILL);
			break;
		}
		if (n > 0 && p[0].revents)
			break;
		if (n > 0 && out >= 0 && p[1].revents) {
			ssize_t w =
			    (p[1].revents & POLLOUT) ? write(out, state + done, len - done) : -1;

			/* A hook that does not read its stdin (EPIPE) is fine. */
			if (w > 0)
				done += (size_t)w;
			if (w < 0 || done == len) {
				close(out);
				out = -1;
			}
		}
	}
	close(pidfd);
reap:
	if (out >= 0)
		close(out);
	while (waitpid(pid, status, 0) < 0)
		if (errno != EINTR) {
			*status = 0;
			break;
		}
	return r;
}

static int run_one(const struct bhc_hook *h, const char *what, const struct bhc_hook_run *how,
                   struct bh_error *err)
{
	struct sigaction ign = {.sa_handler = SIG_IGN}, old;
	int in[2], ep[2], status = 0, e = 0, r;
	pid_t pid;

	if (pipe2(in, O_CLOEXEC) < 0)
		return bh_error(err, errno, "%s: pipe", what);
	if (pipe2(ep, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		return bh_error(err, errno, "%s: pipe", what);
	}
	/* A hook that exits without reading its stdin must not kill bhc. */
	sigaction(SIGPIPE, &ign, &old);
	pid = fork();
	if (pid == 0)
		child(h, how, in[0], ep[1]);
	close(in[0]);
	close(ep[1]);
	if (pid < 0) {
		e = errno;
		close(in[1]);
		close(ep[0]);
		sigaction(SIGPIPE, &old, NULL);
		return bh_error(err, e, "%s: fork", what);
	}
	setpgid(pid, pid); /* also here: kill(-pid) must not wait for the child */
	fcntl(in[1], F_SETFL, O_NONBLOCK);
	r = feed_and_wait(pid, in[1], how->state_json, h, &status, err);
	sigaction(SIGPIPE, &old, NULL);
	if (r < 0) {
		close(ep[0]);
		return bh_error_wrap(err, "%s", what);
	}
	if (read(ep[0], &e, sizeof(e)) != sizeof(e))
		e = 0;
	close(ep[0]);
	if (r == 1)
		return bh_error(err, 0, "%s: timed out after %d s: killed", what, h->timeout);
	if (e)
		return bh_error(err, e, "%s: run", what);
	if (WIFSIGNALED(status))
		return bh_error(err, 0, "%s: killed by signal %d", what, WTERMSIG(status));
	if (WEXITSTATUS(status))
		return bh_error(err, 0, "%s: exited with status %d", what, WEXITSTATUS(status));
	return 0;
}

int bhc_hooks_run(const struct bhc_hooks *h, enum bhc_hook_kind k, const struct bhc_hook_run *how,
                  struct bh_error *err)
{
	for (size_t i = 0; i < h->n[k]; i++) {
		char what[4200];

		snprintf(what, sizeof(what), "$.hooks.%s[%zu] (%s)", bhc_hook_names[k], i,
		         h->list[k][i].path);
		if (run_one(&h->list[k][i], what, how, err) < 0)
			return -1;
	}
	return 0;
}

/* poststart and poststop: the spec says a failing one is a warning, and
 * the remaining hooks and the lifecycle go on. */
void bhc_hooks_run_warn(const struct bhc_hooks *h, enum bhc_hook_kind k, const char *bundle,
                        const struct bhc_hook_run *how)
{
	for (size_t i = 0; i < h->n[k]; i++) {
		struct bh_error err = {0};
		char field[64];

		snprintf(field, sizeof(field), "$.hooks.%s[%zu]", bhc_hook_names[k], i);
		if (run_one(&h->list[k][i], h->list[k][i].path, how, &err) < 0)
			bhc_warn_bundle(bundle, field,
			                "hook failed, ignored as the runtime spec says: %s",
			                err.msg);
	}
}
