/* The service supervisor: starts services when their dependencies are up,
 * restarts them by policy with exponential backoff, gives up after too many
 * failures in a row, and stops them in reverse order at shutdown. */
#include "init.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* A run that lasts this long resets the count of failed runs in a row. */
#define STABLE_RUN_MS 10000
/* A longer line of a service's output is logged in parts of this size. */
#define SERVICE_LINE_MAX 256

static struct service services[SERVICES_MAX];
static int n_services;
static int start_order[SERVICES_MAX], n_start_order;

static struct service *find(const char *name)
{
	for (int i = 0; i < n_services; i++)
		if (!strcmp(services[i].cfg.name, name))
			return &services[i];
	return NULL;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int services_load(const char *dir)
{
	char *names[SERVICES_MAX * 2];
	int n = 0, loaded = 0;
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d) {
		if (errno != ENOENT)
			init_log("services: open %s: %s", dir, strerror(errno));
		return 0;
	}
	while ((e = readdir(d)) && n < (int)(sizeof(names) / sizeof(names[0]))) {
		size_t len = strlen(e->d_name);

		if (len > 8 && !strcmp(e->d_name + len - 8, ".service"))
			names[n++] = strdup(e->d_name);
	}
	closedir(d);
	qsort(names, n, sizeof(names[0]), cmp_names);
	for (int i = 0; i < n; i++) {
		struct service_config cfg;
		struct bh_error err;
		char path[512];

		if (!names[i])
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		free(names[i]);
		if (service_parse(path, &cfg, &err) < 0) {
			init_log("service file rejected: %s", err.msg);
			continue;
		}
		if (find(cfg.name)) {
			/* A reload sees the files it loaded before again. */
			if (strcmp(find(cfg.name)->cfg.file, path))
				init_log("service file rejected: %s: a service named %s exists "
					 "already", path, cfg.name);
			service_config_free(&cfg);
			continue;
		}
		if (n_services == SERVICES_MAX) {
			init_log("service file rejected: %s: more than %d services", path,
				 SERVICES_MAX);
			service_config_free(&cfg);
			continue;
		}
		memset(&services[n_services], 0, sizeof(services[0]));
		services[n_services].cfg = cfg;
		services[n_services].state = SVC_WAITING;
		services[n_services].out_fd = -1;
		n_services++;
		loaded++;
	}
	return loaded;
}

static bool is_up(const struct service *s)
{
	return s->cfg.type == SERVICE_ONESHOT ? s->state == SVC_DONE : s->state == SVC_RUNNING;
}

/* 1: every dependency is up, 0: not yet, -1: one can never come up. */
static int deps_ready(struct service *s)
{
	for (int i = 0; i < s->cfg.n_after; i++) {
		struct service *d = find(s->cfg.after[i]);

		if (!d) {
			init_log("service %s: dependency '%s' (field 'after' of %s) does not exist",
				 s->cfg.name, s->cfg.after[i], s->cfg.file);
			return -1;
		}
		if (d->state == SVC_FAILED) {
			init_log("service %s: not started: dependency %s failed", s->cfg.name,
				 d->cfg.name);
			return -1;
		}
		if (!is_up(d))
			return 0;
	}
	return 1;
}

static void cgroup_prepare(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), CGROUP_ROOT "/system/%s", name);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		init_log("service %s: mkdir %s: %s", name, path, strerror(errno));
}

static void schedule_restart(struct service *s, int64_t now, bool failed)
{
	int64_t delay;

	if (s->cfg.restart == RESTART_NEVER || (!failed && s->cfg.restart == RESTART_ON_FAILURE)) {
		s->state = failed ? SVC_FAILED : SVC_STOPPED;
		if (failed)
			init_log("service %s failed; its policy is not to restart it", s->cfg.name);
		return;
	}
	if (now - s->started_at >= STABLE_RUN_MS)
		s->restarts = 0;
	s->restarts++;
	if (s->cfg.max_restarts && s->restarts > s->cfg.max_restarts) {
		s->state = SVC_FAILED;
		init_log("service %s gave up after %d restarts%s", s->cfg.name, s->cfg.max_restarts,
			 s->cfg.critical ? ": it is critical, the system is unhealthy" : "");
		return;
	}
	delay = s->cfg.restart_delay_ms;
	for (int i = 1; i < s->restarts && delay < s->cfg.restart_max_delay_ms; i++)
		delay *= 2;
	if (delay > s->cfg.restart_max_delay_ms)
		delay = s->cfg.restart_max_delay_ms;
	s->state = SVC_BACKOFF;
	s->next_at = now + delay;
	init_log("service %s: restart %d%s%d in %lld ms", s->cfg.name, s->restarts,
		 s->cfg.max_restarts ? " of " : "", s->cfg.max_restarts, (long long)delay);
}

static void start(struct service *s, int epfd, int64_t now)
{
	int out[2], status[2];
	struct epoll_event ev = {.events = EPOLLIN};
	char msg[256];
	ssize_t n;
	pid_t pid;

	if (pipe2(out, O_CLOEXEC) < 0) {
		init_log("service %s: pipe: %s", s->cfg.name, strerror(errno));
		schedule_restart(s, now, true);
		return;
	}
	if (pipe2(status, O_CLOEXEC) < 0) {
		init_log("service %s: pipe: %s", s->cfg.name, strerror(errno));
		close(out[0]);
		close(out[1]);
		schedule_restart(s, now, true);
		return;
	}
	cgroup_prepare(s->cfg.name);
	pid = fork();
	if (pid == 0)
		service_exec(&s->cfg, out[1], status[1]);
	close(out[1]);
	close(status[1]);
	if (pid < 0) {
		init_log("service %s: fork: %s", s->cfg.name, strerror(errno));
		close(out[0]);
		close(status[0]);
		schedule_restart(s, now, true);
		return;
	}
	s->pid = pid;
	s->started_at = now;
	s->state = SVC_RUNNING;
	/* The status pipe closes on a successful exec and carries the reason
	 * of a failed one; the child exits right after writing it. */
	n = read(status[0], msg, sizeof(msg) - 1);
	close(status[0]);
	if (n > 0) {
		msg[n] = 0;
		init_log("service %s: cannot start: %s", s->cfg.name, msg);
	}
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	s->out_fd = out[0];
	line_split_init(&s->out, SERVICE_LINE_MAX, false);
	ev.data.fd = out[0];
	epoll_ctl(epfd, EPOLL_CTL_ADD, out[0], &ev);
	if (n <= 0)
		init_log("service %s started (pid %d)", s->cfg.name, (int)pid);
	for (int i = 0; i < n_start_order; i++)
		if (start_order[i] == (int)(s - services))
			return;
	start_order[n_start_order++] = (int)(s - services);
}

int64_t services_tick(int epfd, int64_t now)
{
	int64_t next = -1;
	bool progress = true;

	/* Starting one service can make another's dependencies ready. */
	while (progress) {
		progress = false;
		for (int i = 0; i < n_services; i++) {
			struct service *s = &services[i];

			if (s->state == SVC_WAITING) {
				int r = deps_ready(s);

				if (r < 0) {
					s->state = SVC_FAILED;
					progress = true;
				} else if (r > 0) {
					start(s, epfd, now);
					progress = true;
				}
			} else if (s->state == SVC_BACKOFF && now >= s->next_at) {
				start(s, epfd, now);
				progress = true;
			}
		}
	}
	for (int i = 0; i < n_services; i++)
		if (services[i].state == SVC_BACKOFF &&
		    (next < 0 || services[i].next_at - now < next))
			next = services[i].next_at - now;
	return next;
}

bool services_child_exited(pid_t pid, int status, int64_t now)
{
	for (int i = 0; i < n_services; i++) {
		struct service *s = &services[i];
		bool failed;

		if (s->pid != pid || pid <= 0)
			continue;
		s->pid = 0;
		failed = !WIFEXITED(status) || WEXITSTATUS(status) != 0;
		if (WIFSIGNALED(status))
			init_log("service %s (pid %d) killed by signal %d", s->cfg.name, (int)pid,
				 WTERMSIG(status));
		else
			init_log("service %s (pid %d) exited with status %d", s->cfg.name,
				 (int)pid, WEXITSTATUS(status));
		if (s->state == SVC_STOPPING)
			s->state = SVC_STOPPED;
		else if (s->cfg.type == SERVICE_ONESHOT && !failed)
			s->state = SVC_DONE;
		else
			schedule_restart(s, now, failed);
		return true;
	}
	return false;
}

static void emit(void *ctx, const char *line, size_t len)
{
	const struct service *s = ctx;

	service_log_line(s->cfg.name, line);
}

bool services_output(int fd)
{
	for (int i = 0; i < n_services; i++) {
		struct service *s = &services[i];
		struct bh_error err;

		if (s->out_fd != fd)
			continue;
		/* At most this much of one service per wakeup: the epoll set is
		 * level-triggered, so a service that writes without pause
		 * cannot keep init from its signals, timers and watchdog. */
		if (line_split_read(&s->out, fd, 16 * 1024, emit, s, &err) <= 0) {
			line_split_finish(&s->out, emit, s);
			close(fd); /* also leaves the epoll set */
			s->out_fd = -1;
		}
		return true;
	}
	return false;
}

bool services_all_critical_up(void)
{
	for (int i = 0; i < n_services; i++)
		if (services[i].cfg.critical && !is_up(&services[i]))
			return false;
	return true;
}

bool services_critical_failed(void)
{
	for (int i = 0; i < n_services; i++)
		if (services[i].cfg.critical && services[i].state == SVC_FAILED)
			return true;
	return false;
}

/* Kills whatever is left in the service's cgroup, orphans included. */
static void cgroup_kill(const char *name)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), CGROUP_ROOT "/system/%s/cgroup.kill", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (write(fd, "1", 1) < 0)
			init_log("service %s: %s: %s", name, path, strerror(errno));
		close(fd);
	}
}

void services_stop_all(void)
{
	for (int k = n_start_order - 1; k >= 0; k--) {
		struct service *s = &services[start_order[k]];
		int64_t deadline;
		int status;

		if (s->pid <= 0) {
			cgroup_kill(s->cfg.name);
			continue;
		}
		init_log("stopping service %s", s->cfg.name);
		s->state = SVC_STOPPING;
		kill(s->pid, SIGTERM);
		deadline = now_ms() + s->cfg.stop_timeout_ms;
		while (now_ms() < deadline) {
			pid_t r = waitpid(s->pid, &status, WNOHANG);

			if (r == s->pid || (r < 0 && errno == ECHILD)) {
				s->pid = 0;
				break;
			}
			usleep(20000);
		}
		if (s->pid > 0) {
			init_log("service %s did not stop within %d ms: killing it", s->cfg.name,
				 s->cfg.stop_timeout_ms);
			kill(s->pid, SIGKILL);
			waitpid(s->pid, &status, 0);
			s->pid = 0;
		}
		cgroup_kill(s->cfg.name);
		s->state = SVC_STOPPED;
	}
}
