/* Polling the fleet's registry (docs/fleet.md, "How a device syncs").
 *
 * bhd never talks to the network itself. When a poll is due it starts
 * bhsync, as its own unprivileged user with no capabilities, hands it a
 * request on stdin (include/bulkhead/sync.h; the device key inside, since
 * bhsync may not read the key file) and reads its result from a pipe in
 * the event loop, so the agent keeps answering while a download runs.
 * A result that brought a state is applied here (reconcile.c).
 *
 * When: every poll interval (the state's, else the configured one) with
 * +-20% jitter; after a failure, exponential backoff up to an hour, never
 * sooner than the registry's Retry-After; at once on `bhctl sync`. A
 * fetcher that outlives SYNC_POLL_TIMEOUT_MS is killed (only that pid). */
#include "bhd.h"

#include <bulkhead/fs.h>
#include <bulkhead/slot.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SYNC_FIRST_POLL_MS   5000
#define SYNC_POLL_TIMEOUT_MS (3600 * 1000LL)

static struct {
	pid_t pid;
	int out_fd;
	char *buf;
	size_t len;
	bool output_done, exited;
	int status;
	int64_t started, next_at;
	unsigned failures;
	struct backoff retry;
	bool retry_ready;
	bool scheduled;
	/* For bhctl fleet. */
	int64_t last_poll; /* wall clock */
	char last_outcome[16];
	char last_error[BH_ERROR_MAX];
	char note[256];
	uint64_t last_requests, last_bytes;
	int epfd;
	bool waiting_confirmation; /* a due update waits for it: poll once it comes */
} sy = {.out_fd = -1, .epfd = -1};

static double jitter(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	srand48(ts.tv_nsec ^ getpid());
	return drand48();
}

static uint32_t interval(void)
{
	return fleet.cfg.poll_interval ? fleet.cfg.poll_interval : 300;
}

void sync_now(void)
{
	sy.scheduled = true;
	sy.next_at = now_ms();
}

static int request_json(char **json, size_t *len, struct bh_error *err)
{
	static struct sync_request q;
	char *key = NULL;
	int rc;

	memset(&q, 0, sizeof(q));
	q.cfg = fleet.cfg;
	if (q.cfg.client_cert[0]) {
		size_t klen;

		key = bh_read_file(q.cfg.client_key, SYNC_KEY_PEM_MAX - 1, &klen, err);
		if (!key)
			return bh_error_wrap(err, "the device key");
		memcpy(q.cfg.client_key_pem, key, klen + 1);
		memset(key, 0, klen);
		free(key);
		q.cfg.client_key[0] = 0;
	}
	snprintf(q.keys_dir, sizeof(q.keys_dir), "%s", STATE_KEYS);
	snprintf(q.work_dir, sizeof(q.work_dir), "%s", SYNC_DIR);
	snprintf(q.settled, sizeof(q.settled), "%s", fleet.applied.settled);
	q.force = false;
	q.applied_serial = fleet.applied.serial;
	if (os_release("IMAGE_VERSION", q.running_version, sizeof(q.running_version)) < 0)
		q.running_version[0] = 0;
	/* Only a confirmed boot of an A/B slot may write the other slot. */
	q.update_allowed =
	    bh_running_slot() != 0 && boot_is_confirmed() && !fleet.applied.pending_update[0];
	for (size_t i = 0; i < fleet.applied.n_failed; i++)
		snprintf(q.failed_updates[q.n_failed++], sizeof(q.failed_updates[0]), "%s",
		         fleet.applied.failed[i]);
	for (size_t i = 0; i < fleet.applied.n_bundles && q.n_have < SYNC_HAVE_MAX; i++)
		if (workload_find(fleet.applied.bundles[i].name))
			snprintf(q.have[q.n_have++], sizeof(q.have[0]), "%s",
			         fleet.applied.bundles[i].layer);
	rc = sync_request_write(&q, json, len, err);
	memset(&q, 0, sizeof(q));
	return rc;
}

/* The child: the fetcher's user, no capabilities, no new privileges. */
static void exec_fetcher(int in, int out)
{
	gid_t gid = BHSYNC_UID;

	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || setgroups(0, NULL) < 0 ||
	    setresgid(gid, gid, gid) < 0 || setresuid(BHSYNC_UID, BHSYNC_UID, BHSYNC_UID) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) {
		fprintf(stderr, "bhd: fleet: drop privileges for %s: %s\n", BHSYNC,
		        bh_strerror(errno));
		_exit(126);
	}
	execl(BHSYNC, "bhsync", "poll", (char *)NULL);
	fprintf(stderr, "bhd: fleet: exec %s: %s\n", BHSYNC, bh_strerror(errno));
	_exit(127);
}

static int spawn(int epfd, struct bh_error *err)
{
	struct epoll_event ev = {.events = EPOLLIN};
	int in[2], out[2];
	size_t len;
	char *json;
	pid_t pid;

	if (request_json(&json, &len, err) < 0)
		return -1;
	if (pipe2(in, O_CLOEXEC) < 0) {
		free(json);
		return bh_error(err, errno, "pipe");
	}
	if (pipe2(out, O_CLOEXEC) < 0) {
		close(in[0]);
		close(in[1]);
		free(json);
		return bh_error(err, errno, "pipe");
	}
	pid = fork();
	if (pid == 0)
		exec_fetcher(in[0], out[1]);
	close(in[0]);
	close(out[1]);
	if (pid < 0) {
		close(in[1]);
		close(out[0]);
		free(json);
		return bh_error(err, errno, "fork");
	}
	/* The request is a few KiB, within a pipe's buffer. */
	if (bh_write_all(in[1], json, len) < 0)
		bhd_log("bhd: fleet: write the request to bhsync: %s", bh_strerror(errno));
	close(in[1]);
	memset(json, 0, len);
	free(json);
	fcntl(out[0], F_SETFL, O_NONBLOCK);
	ev.data.fd = out[0];
	epoll_ctl(epfd, EPOLL_CTL_ADD, out[0], &ev);
	sy.pid = pid;
	sy.out_fd = out[0];
	sy.len = 0;
	sy.output_done = sy.exited = false;
	sy.started = now_ms();
	return 0;
}

static void schedule(int64_t ms)
{
	sy.next_at = now_ms() + ms;
	sy.scheduled = true;
}

static void failed(const char *why, long retry_after_s)
{
	int64_t wait;

	if (!sy.retry_ready) {
		sync_backoff_init(&sy.retry, (uint64_t)now_ms() ^ (uint64_t)getpid() << 32);
		sy.retry_ready = true;
	}
	sy.failures++;
	wait = sync_retry_ms(&sy.retry, retry_after_s);

	snprintf(sy.last_outcome, sizeof(sy.last_outcome), "failed");
	snprintf(sy.last_error, sizeof(sy.last_error), "%s", why);
	bhd_log("bhd: fleet: poll failed: %s; next try in %lld s", why, (long long)(wait / 1000));
	report_sync_failed(why, sy.failures);
	schedule(wait);
}

static const char *fault_name(enum registry_fault f)
{
	static const char *const names[] = {
	    [REGISTRY_OK] = "",
	    [REGISTRY_NETWORK] = "network",
	    [REGISTRY_TLS] = "tls",
	    [REGISTRY_AUTH] = "auth",
	    [REGISTRY_NOT_FOUND] = "not found",
	    [REGISTRY_RATE_LIMITED] = "rate limited",
	    [REGISTRY_SERVER] = "server",
	    [REGISTRY_PROTOCOL] = "protocol",
	    [REGISTRY_INTEGRITY] = "integrity",
	    [REGISTRY_TOO_LARGE] = "too large",
	    [REGISTRY_NO_SPACE] = "no space",
	    [REGISTRY_LOCAL] = "local",
	};

	return (unsigned)f < sizeof(names) / sizeof(names[0]) ? names[f] : "?";
}

static void finish(int epfd)
{
	static struct sync_result res;
	struct bh_error err;
	char why[BH_ERROR_MAX + 128];
	int rc;

	sy.pid = 0;
	sy.last_poll = (int64_t)time(NULL);
	if (!sy.buf || !WIFEXITED(sy.status) || WEXITSTATUS(sy.status) != 0) {
		snprintf(why, sizeof(why), "bhsync %s %d (see its messages above)",
		         WIFEXITED(sy.status) ? "exited with status" : "was killed by signal",
		         WIFEXITED(sy.status) ? WEXITSTATUS(sy.status) : WTERMSIG(sy.status));
		failed(why, -1);
		return;
	}
	if (sync_result_read(sy.buf, sy.len, &res, &err) < 0) {
		failed(err.msg, -1);
		return;
	}
	sy.last_requests = res.requests;
	sy.last_bytes = res.bytes_received;
	if (res.outcome == SYNC_FAILED) {
		snprintf(why, sizeof(why), "%s%s%s%s%s", res.error, res.fault ? " [" : "",
		         fault_name(res.fault), res.fault ? "]" : "",
		         res.verdict[0] ? " [state refused]" : "");
		failed(why, res.retry_after_s);
		return;
	}
	sy.failures = 0;
	if (sy.retry_ready)
		backoff_reset(&sy.retry);
	sy.last_error[0] = 0;
	snprintf(sy.last_outcome, sizeof(sy.last_outcome), "%s",
	         res.outcome == SYNC_READY ? "ready" : "unchanged");
	if (res.outcome == SYNC_READY) {
		if (res.poll_interval)
			fleet.cfg.poll_interval = res.poll_interval;
		sy.note[0] = 0;
		rc = reconcile(&res, epfd, sy.note, sizeof(sy.note), &err);
		if (rc < 0) {
			failed(err.msg, -1);
			return;
		}
		if (rc == 1) {
			bhd_log("bhd: fleet: rebooting into the new slot on trial");
			kill(1, SIGTERM); /* init: an orderly reboot */
		}
		sy.waiting_confirmation = rc == 2;
	}
	schedule(sync_next_poll_ms(interval(), jitter()));
}

/* An update written by a sync and rebooted into: kept once this boot of
 * its version is confirmed (the state is then applied whole), or, when an
 * older slot booted instead, rolled back (never fetched again). The
 * telemetry events for both come from update_trial.c, for every update. */
static void pending_update(void)
{
	struct fleet_applied *a = &fleet.applied;
	char version[STATE_VERSION_MAX] = "", boot[40] = "";
	struct bh_error err;

	if (!a->pending_update[0])
		return;
	if (os_release("IMAGE_VERSION", version, sizeof(version)) < 0)
		return;
	fleet_boot_id(boot, sizeof(boot));
	if (!strcmp(version, a->pending_version)) {
		if (!boot_is_confirmed())
			return;
		bhd_log("bhd: fleet: update %s kept; state serial %llu applied", version,
		        (unsigned long long)a->pending_serial);
		a->serial = a->pending_serial;
		snprintf(a->applied, sizeof(a->applied), "%s", a->pending_state);
	} else if (!strcmp(boot, a->pending_boot)) {
		return; /* bhd restarted before the reboot */
	} else {
		bhd_log("bhd: fleet: update %s rolled back (running %s): it is not tried again",
		        a->pending_version, version);
		if (a->n_failed == SYNC_FAILED_MAX)
			memmove(a->failed[0], a->failed[1], sizeof(a->failed[0]) * --a->n_failed);
		snprintf(a->failed[a->n_failed++], sizeof(a->failed[0]), "%s", a->pending_update);
		snprintf(sy.note, sizeof(sy.note), "update %s rolled back", a->pending_version);
	}
	a->pending_update[0] = a->pending_version[0] = a->pending_state[0] = a->pending_boot[0] = 0;
	a->pending_serial = 0;
	if (fleet_save(&err) < 0)
		bhd_log("bhd: fleet: %s", err.msg);
}

int64_t sync_tick(int epfd)
{
	int64_t now = now_ms();
	struct bh_error err;

	sy.epfd = epfd;
	pending_update();
	if (!fleet.provisioned)
		return -1;
	if (sy.pid) {
		if (now - sy.started > SYNC_POLL_TIMEOUT_MS) {
			bhd_log("bhd: fleet: bhsync (pid %d) ran over %lld s: killed", sy.pid,
			        SYNC_POLL_TIMEOUT_MS / 1000);
			kill(sy.pid, SIGKILL);
			sy.started = now; /* once */
		}
		return 1000;
	}
	if (sy.waiting_confirmation && boot_is_confirmed()) {
		sy.waiting_confirmation = false;
		sync_now();
		now = sy.next_at;
	}
	if (!sy.scheduled) {
		schedule(SYNC_FIRST_POLL_MS);
		return SYNC_FIRST_POLL_MS;
	}
	if (now < sy.next_at)
		return sy.next_at - now;
	if (spawn(epfd, &err) < 0)
		failed(err.msg, -1);
	return sy.pid ? 1000 : sy.next_at - now;
}

static void maybe_finish(int epfd)
{
	if (sy.output_done && sy.exited)
		finish(epfd);
}

bool sync_output(int fd, int epfd)
{
	if (fd != sy.out_fd || fd < 0)
		return false;
	if (!sy.buf && !(sy.buf = malloc(SYNC_MESSAGE_MAX + 1)))
		return true;
	for (;;) {
		ssize_t n = read(fd, sy.buf + sy.len, SYNC_MESSAGE_MAX - sy.len);

		if (n > 0) {
			sy.len += (size_t)n;
			if (sy.len < SYNC_MESSAGE_MAX)
				continue;
			n = 0; /* over the limit: the result will not parse */
		}
		if (n == 0 || errno != EAGAIN) {
			epoll_ctl(epfd, EPOLL_CTL_DEL, fd, NULL);
			close(fd);
			sy.out_fd = -1;
			sy.buf[sy.len] = 0;
			sy.output_done = true;
			maybe_finish(epfd);
		}
		return true;
	}
}

bool sync_child_exited(pid_t pid, int status)
{
	if (!pid || pid != sy.pid)
		return false;
	sy.status = status;
	sy.exited = true;
	maybe_finish(sy.epfd);
	return true;
}

int sync_status(char *out, size_t size)
{
	const struct fleet_applied *a = &fleet.applied;
	int64_t now = now_ms(), wall = (int64_t)time(NULL);
	char t[21];
	size_t n = 0;

#define OUT(...)                                                                                   \
	do {                                                                                       \
		if (n < size)                                                                      \
			n += (size_t)snprintf(out + n, size - n, __VA_ARGS__);                     \
	} while (0)
	if (!fleet.provisioned) {
		OUT("not provisioned: no registry, repository or group (bhpack provision)\n");
		return 0;
	}
	OUT("registry:    %s/%s, group %s%s%s\n", fleet.cfg.registry, fleet.cfg.repository,
	    fleet.cfg.group, fleet.device_id[0] ? ", device " : "", fleet.device_id);
	if (sy.last_poll) {
		state_time_format(sy.last_poll, t);
		OUT("last poll:   %s (%lld s ago): %s, %llu requests, %llu bytes\n", t,
		    (long long)(wall - sy.last_poll), sy.last_outcome,
		    (unsigned long long)sy.last_requests, (unsigned long long)sy.last_bytes);
	} else {
		OUT("last poll:   none yet\n");
	}
	OUT("applied:     serial %llu%s%s\n", (unsigned long long)a->serial,
	    a->applied[0] ? ", " : "", a->applied);
	if (a->settled[0] && strcmp(a->settled, a->applied))
		OUT("settled:     %s (applied as far as it goes)\n", a->settled);
	if (a->expires) {
		state_time_format(a->expires, t);
		OUT("expires:     %s%s\n", t,
		    wall > a->expires ? " -- STALE: the registry serves no newer state" : "");
	}
	if (sy.pid)
		OUT("in progress: polling (bhsync pid %d, %lld s)\n", sy.pid,
		    (long long)((now - sy.started) / 1000));
	else if (a->pending_update[0])
		OUT("in progress: update %s on trial, kept once this boot is confirmed\n",
		    a->pending_version);
	else
		OUT("in progress: nothing; next poll in %lld s\n",
		    (long long)((sy.next_at > now ? sy.next_at - now : 0) / 1000));
	if (sy.note[0])
		OUT("note:        %s\n", sy.note);
	for (size_t i = 0; i < a->n_failed; i++)
		OUT("rolled back: update %s\n", a->failed[i]);
	if (n < size)
		n += revoked_status(out + n, size - n);
	if (sy.last_error[0])
		OUT("last error:  %s (%u failed polls in a row)\n", sy.last_error, sy.failures);
#undef OUT
	return 0;
}

void sync_summary(struct sync_summary *s)
{
	const struct fleet_applied *a = &fleet.applied;

	/* Not "polling": the status is published when this changes, and a
	 * poll (every poll interval, mostly "unchanged") is no news. */
	s->state = !fleet.provisioned          ? "not provisioned"
	           : a->pending_update[0]      ? "update on trial"
	           : sy.waiting_confirmation   ? "waiting for the boot's confirmation"
	           : sy.last_error[0]          ? "failing"
	           : sy.last_poll              ? "idle"
	                                       : "starting";
	s->last_poll = sy.last_poll;
	s->last_outcome = sy.last_outcome;
	s->last_error = sy.last_error;
	s->note = sy.note;
	s->failures = sy.failures;
}
