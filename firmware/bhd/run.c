/* Running workloads: start each enabled one, capture its output, restart
 * it by its policy with exponential backoff, stop it on request. A
 * container runs as `bhc run` in the foreground; a VM as `bhv`. Both are
 * bhd's children, so their exit is the workload's. */
#include "bhd.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

/* A run this long resets the count of restarts in a row. */
#define STABLE_RUN_MS 30000
#define MAX_BACKOFF_MS 60000

bool workload_enabled(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), MANIFESTS_DIR "/%s.stopped", name);
	return access(path, F_OK) < 0;
}

void workload_set_enabled(const char *name, bool on)
{
	char path[256];

	snprintf(path, sizeof(path), MANIFESTS_DIR "/%s.stopped", name);
	if (on)
		unlink(path);
	else
		close(open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600));
}

/* The child: output to the pipe, no other fd, default signals, exec. */
static void exec_child(char **argv, int out, int keep_fd)
{
	sigset_t none;

	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	for (int s = 1; s < NSIG; s++)
		signal(s, SIG_DFL);
	setsid();
	dup2(out, 1);
	dup2(out, 2);
	close(0);
	open("/dev/null", O_RDONLY);
	if (keep_fd >= 0) {
		/* The tap: the one fd a VM monitor inherits, as fd 3. */
		dup2(keep_fd, 3);
		syscall(SYS_close_range, 4, ~0U, 0);
	} else {
		syscall(SYS_close_range, 3, ~0U, 0);
	}
	execv(argv[0], argv);
	dprintf(2, "bhd: exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

int workload_start(struct workload *w, int epfd, struct bh_error *err)
{
	char *argv[64], store[4096], bundle[256];
	struct epoll_event ev = {.events = EPOLLIN};
	int out[2];
	pid_t pid;

	if (w->state == WS_RUNNING)
		return 0;
	/* A key revoked since the install: it never starts again. */
	if (w->signer[0] && revoked_check(w->signer, w->m.name, err) < 0) {
		w->state = WS_REVOKED;
		bhd_log("bhd: %s: not started: %s", w->m.name, err->msg);
		return bh_error_wrap(err, "not started");
	}
	if (!w->verified && workload_verify(w, err) < 0) {
		w->state = WS_FAILED;
		return -1;
	}
	if (net_setup(w, err) < 0)
		goto fail;
	if (w->m.mode == WL_CONTAINER) {
		if (container_prepare(w, bundle, sizeof(bundle), err) < 0)
			goto fail;
		argv[0] = BHC;
		argv[1] = "run";
		argv[2] = "--bundle";
		argv[3] = bundle;
		argv[4] = "--root";
		argv[5] = BHC_ROOT;
		argv[6] = w->m.name;
		argv[7] = NULL;
	} else if (vm_prepare(w, argv, 64, store, sizeof(store), err) < 0) {
		goto fail;
	}
	if (pipe2(out, O_CLOEXEC) < 0) {
		bh_error(err, errno, "start %s: pipe", w->m.name);
		goto fail;
	}
	pid = fork();
	if (pid == 0)
		exec_child(argv, out[1], w->m.mode == WL_VM ? w->tap_fd : -1);
	close(out[1]);
	if (pid < 0) {
		close(out[0]);
		bh_error(err, errno, "start %s: fork", w->m.name);
		goto fail;
	}
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	w->out_fd = out[0];
	/* Each run starts a new line: an unfinished last line of the run
	 * before is not glued to this one's first. */
	line_split_init(&w->out, LINE_SPLIT_MAX, true);
	ev.data.fd = out[0];
	epoll_ctl(epfd, EPOLL_CTL_ADD, out[0], &ev);
	w->pid = pid;
	w->state = WS_RUNNING;
	w->started_at = now_ms();
	w->runs++;
	if (proxies_open(w, epfd, err) < 0)
		bhd_log("bhd: %s: %s", w->m.name, err->msg);
	bhd_log("bhd: started %s (%s, pid %d)", w->m.name, w->m.mode == WL_VM ? "vm" : "container",
		(int)pid);
	return 0;
fail:
	net_teardown(w);
	w->state = WS_FAILED;
	return -1;
}

static void cleanup_run(struct workload *w)
{
	proxies_close(w);
	if (w->m.mode == WL_CONTAINER && container_leftover(w))
		container_cleanup(w);
	net_teardown(w);
}

static void schedule(struct workload *w, int status)
{
	bool failed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
	/* bhv's status 2: the guest asked for a reboot. */
	bool reboot = w->m.mode == WL_VM && WIFEXITED(status) && WEXITSTATUS(status) == 2;
	int64_t delay;

	if (!workload_enabled(w->m.name)) {
		w->state = WS_STOPPED;
		return;
	}
	if (w->m.restart == WL_RESTART_NEVER ||
	    (w->m.restart == WL_RESTART_ON_FAILURE && !failed && !reboot)) {
		w->state = failed ? WS_FAILED : WS_EXITED;
		return;
	}
	if (now_ms() - w->started_at >= STABLE_RUN_MS)
		w->restarts = 0;
	if (w->m.max_restarts && w->restarts >= w->m.max_restarts && !reboot) {
		w->state = WS_FAILED;
		bhd_log("bhd: %s gave up after %u restarts", w->m.name, w->restarts);
		return;
	}
	delay = reboot ? 0 : w->m.restart_delay_ms;
	for (uint32_t i = 0; i < w->restarts && delay < MAX_BACKOFF_MS; i++)
		delay *= 2;
	if (delay > MAX_BACKOFF_MS)
		delay = MAX_BACKOFF_MS;
	w->restarts++;
	w->state = WS_BACKOFF;
	w->next_at = now_ms() + delay;
	bhd_log("bhd: restarting %s in %lld ms (restart %u%s)", w->m.name, (long long)delay,
		w->restarts, reboot ? ", the guest rebooted" : "");
}

bool workload_child_exited(pid_t pid, int status)
{
	for (int i = 0; i < WORKLOADS_MAX; i++) {
		struct workload *w = &workloads[i];

		if (!w->used || w->pid != pid)
			continue;
		w->pid = 0;
		w->last_status = status;
		if (WIFSIGNALED(status))
			bhd_log("bhd: %s ended by signal %d", w->m.name, WTERMSIG(status));
		else
			bhd_log("bhd: %s exited with status %d", w->m.name, WEXITSTATUS(status));
		cleanup_run(w);
		if (w->state == WS_RUNNING) {
			schedule(w, status);
			report_workload_exited(w);
		}
		return true;
	}
	return false;
}

int64_t workloads_tick(int epfd)
{
	int64_t next = -1, now = now_ms();

	for (int i = 0; i < WORKLOADS_MAX; i++) {
		struct workload *w = &workloads[i];
		struct bh_error err;

		if (!w->used)
			continue;
		/* First pass after start-up: every enabled workload. */
		if ((w->state == WS_STOPPED && w->runs == 0 && workload_enabled(w->m.name)) ||
		    (w->state == WS_BACKOFF && now >= w->next_at)) {
			if (workload_start(w, epfd, &err) < 0) {
				bhd_log("bhd: %s: %s", w->m.name, err.msg);
				w->runs++;
			}
		}
		if (w->state == WS_BACKOFF && (next < 0 || w->next_at - now < next))
			next = w->next_at - now > 0 ? w->next_at - now : 0;
	}
	return next;
}

bool workload_output(int fd)
{
	for (int i = 0; i < WORKLOADS_MAX; i++) {
		struct workload *w = &workloads[i];

		if (!w->used || w->out_fd != fd)
			continue;
		workload_output_read(w);
		return true;
	}
	return false;
}

void workload_stop(struct workload *w, bool disable)
{
	int64_t deadline;
	int status;

	if (disable)
		workload_set_enabled(w->m.name, false);
	if (w->pid <= 0) {
		if (w->state == WS_BACKOFF || w->state == WS_FAILED || w->state == WS_EXITED ||
		    w->state == WS_REVOKED)
			w->state = WS_STOPPED;
		return;
	}
	/* bhc passes SIGTERM on to the container's process; bhv to the guest
	 * as a power button press. */
	w->state = WS_STOPPED;
	kill(w->pid, SIGTERM);
	deadline = now_ms() + STOP_TIMEOUT_MS;
	while (now_ms() < deadline) {
		if (waitpid(w->pid, &status, WNOHANG) == w->pid) {
			w->pid = 0;
			break;
		}
		usleep(20000);
	}
	if (w->pid > 0) {
		bhd_log("bhd: %s did not stop within %d ms: killing it", w->m.name, STOP_TIMEOUT_MS);
		kill(w->pid, SIGKILL);
		waitpid(w->pid, &status, 0);
		w->pid = 0;
	}
	if (w->out_fd >= 0) {
		workload_output(w->out_fd);
		if (w->out_fd >= 0)
			close(w->out_fd);
		w->out_fd = -1;
	}
	cleanup_run(w);
	bhd_log("bhd: stopped %s", w->m.name);
}

void workloads_stop_all(void)
{
	for (int i = 0; i < WORKLOADS_MAX; i++)
		if (workloads[i].used)
			workload_stop(&workloads[i], false);
}
