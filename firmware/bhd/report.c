/* Telemetry (docs/fleet.md, "Telemetry"): bhd keeps bhreport running and
 * talks to it over two pipes (include/bulkhead/report.h).
 *
 * bhd never talks to the broker itself. bhreport runs as the fetcher's
 * unprivileged user with no capabilities and no new privileges; it gets
 * the device key as PEM text in its configuration (it may not read the
 * key file) and owns REPORT_DIR, where its event queue lives. When it
 * ends it is started again after a delay that doubles from 1 s to 5 min
 * (reset by a run of a minute). Of what it says, bhd acts on two commands
 * only, `sync` (a poll now, at most once a minute) and `report` (a fresh
 * status), and on nothing else: the broker is not trusted.
 *
 * Events wait in memory until bhreport says they are on /data
 * (queued_id), and are sent again to a restarted bhreport; at most
 * PENDING_MAX wait, the oldest dropped and counted beyond that. The
 * status is sent whenever its stable part changed (checked at most every
 * STATUS_CHECK_MS, in the loop's own wake-ups) and whenever bhreport
 * asks. Writes to bhreport never block bhd: what the pipe does not take
 * waits in a buffer flushed on EPOLLOUT; a bhreport that lets it grow
 * past OUT_MAX is stuck and is killed. */
#include "bhd.h"

#include <bulkhead/autoconf.h>
#include <bulkhead/backoff.h>
#include <bulkhead/fs.h>
#include <bulkhead/provision.h>
#include <bulkhead/report.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <yyjson.h>

#ifndef BH_FLEET_BROKER
#define BH_FLEET_BROKER ""
#endif
#ifndef BH_FLEET_TOPIC_PREFIX
#define BH_FLEET_TOPIC_PREFIX "bulkhead"
#endif
#ifndef BH_FLEET_STATUS_PERIOD
#define BH_FLEET_STATUS_PERIOD 15
#endif

#define PENDING_MAX      64
#define OUT_MAX          (256 * 1024)
#define STATUS_CHECK_MS  250
#define STABLE_RUN_MS    60000
#define SYNC_CMD_GAP_MS  60000 /* a broker's `sync` at most this often */
#define STOP_WAIT_MS     5000

static struct {
	bool configured;
	char why_not[160]; /* when not configured */
	struct report_config cfg;
	char key_file[SYNC_PATH_MAX];
	pid_t pid;
	int in_fd, out_fd; /* to bhreport's stdin, from its stdout */
	char *obuf;
	size_t olen;
	bool polling_out;
	struct report_lines lines;
	int64_t started, next_start;
	struct backoff retry;
	struct {
		unsigned id;
		char *json;
	} pending[PENDING_MAX];
	size_t npending;
	unsigned next_id;
	uint64_t dropped; /* events lost here, not yet told to bhreport */
	char *sent_stable; /* the stable status bhreport last got */
	int64_t next_check, last_sync_cmd;
	/* What bhreport last said, for bhctl fleet. */
	bool online;
	char error[BH_ERROR_MAX];
	uint64_t queued, queue_dropped;
	int64_t since; /* wall clock of the last change of online */
	int epfd;
} rp = {.in_fd = -1, .out_fd = -1, .epfd = -1};

/* Configuration ------------------------------------------------------------ */

static bool readable(const char *path)
{
	return access(path, R_OK) == 0;
}

void report_init(void)
{
	struct report_config *c = &rp.cfg;
	char broker[REGISTRY_HOST_MAX] = BH_FLEET_BROKER;
	struct provision p;
	struct bh_error err;
	uint32_t minutes = BH_FLEET_STATUS_PERIOD;
	size_t len;
	char *text;

	memset(c, 0, sizeof(*c));
	snprintf(c->prefix, sizeof(c->prefix), "%s", BH_FLEET_TOPIC_PREFIX);
	text = readable(FLEET_PROVISION) ? bh_read_file(FLEET_PROVISION, PROVISION_MAX, &len, &err)
	                                 : NULL;
	if (text && provision_parse(text, len, FLEET_PROVISION, &p, &err) == 0) {
		if (p.broker[0])
			snprintf(broker, sizeof(broker), "%s", p.broker);
		if (p.topic_prefix[0])
			snprintf(c->prefix, sizeof(c->prefix), "%s", p.topic_prefix);
		if (p.status_period)
			minutes = p.status_period;
		provision_free(&p);
	}
	if (text) {
		memset(text, 0, len);
		free(text);
	}
	c->status_period_s = minutes * 60;
	snprintf(c->device, sizeof(c->device), "%s", fleet.device_id);
	snprintf(c->cert_file, sizeof(c->cert_file), "%s", FLEET_CERT);
	snprintf(rp.key_file, sizeof(rp.key_file), "%s", FLEET_KEY);
	snprintf(c->ca_file, sizeof(c->ca_file), "%s",
	         readable(FLEET_BROKER_CA)           ? FLEET_BROKER_CA
	         : readable(FLEET_BUILTIN_BROKER_CA) ? FLEET_BUILTIN_BROKER_CA
	                                             : fleet.cfg.ca_file);
	snprintf(c->queue_dir, sizeof(c->queue_dir), "%s", REPORT_DIR);
	snprintf(c->sbom, sizeof(c->sbom), "%s", readable(IMAGE_SBOM) ? IMAGE_SBOM : "");
	snprintf(c->advisories, sizeof(c->advisories), "%s",
	         readable(FLEET_ADVISORIES) ? FLEET_ADVISORIES : "");
	if (!broker[0])
		snprintf(rp.why_not, sizeof(rp.why_not), "no broker (bhpack provision --broker)");
	else if (report_broker_split(broker, c->host, sizeof(c->host), c->port, sizeof(c->port),
	                             &err) < 0)
		snprintf(rp.why_not, sizeof(rp.why_not), "%s", err.msg);
	else if (!c->device[0] || !readable(FLEET_CERT) || !readable(FLEET_KEY))
		snprintf(rp.why_not, sizeof(rp.why_not),
		         "no device identity (bhpack provision --device-id)");
	else if (!c->ca_file[0])
		snprintf(rp.why_not, sizeof(rp.why_not), "no CA for the broker (--broker-ca)");
	rp.configured = !rp.why_not[0];
	if (mkdir(REPORT_DIR, 0700) < 0 && errno != EEXIST)
		bhd_log("bhd: telemetry: mkdir %s: %s", REPORT_DIR, strerror(errno));
	if (chown(REPORT_DIR, BHSYNC_UID, BHSYNC_UID) < 0 || chmod(REPORT_DIR, 0700) < 0)
		bhd_log("bhd: telemetry: chown %s: %s", REPORT_DIR, strerror(errno));
	backoff_init(&rp.retry, 1000, 300000, (uint64_t)now_ms() ^ (uint64_t)getpid() << 32);
	if (rp.configured)
		bhd_log("bhd: telemetry: reporting to %s:%s as %s under %s/%s, status every %u min",
		        c->host, c->port, c->device, c->prefix, c->device, minutes);
	else
		bhd_log("bhd: telemetry: not provisioned (%s): no reporting", rp.why_not);
	if (access(WATCHDOG_RESET, F_OK) == 0)
		report_watchdog_reset();
	report_data_repaired();
}

/* Writing to bhreport ------------------------------------------------------- */

static void stop_polling_out(void)
{
	if (rp.polling_out)
		epoll_ctl(rp.epfd, EPOLL_CTL_DEL, rp.in_fd, NULL);
	rp.polling_out = false;
}

static void flush(void)
{
	while (rp.olen) {
		ssize_t n = write(rp.in_fd, rp.obuf, rp.olen);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		memmove(rp.obuf, rp.obuf + n, rp.olen - (size_t)n);
		rp.olen -= (size_t)n;
	}
	if (rp.olen && !rp.polling_out) {
		struct epoll_event ev = {.events = EPOLLOUT, .data.fd = rp.in_fd};

		rp.polling_out = epoll_ctl(rp.epfd, EPOLL_CTL_ADD, rp.in_fd, &ev) == 0;
	} else if (!rp.olen) {
		stop_polling_out();
	}
}

/* One line (json without its newline) to bhreport. */
static void send_line(const char *json, size_t len)
{
	char *more;

	if (rp.in_fd < 0)
		return;
	if (rp.olen + len + 1 > OUT_MAX) {
		bhd_log("bhd: telemetry: bhreport (pid %d) reads nothing: killed", rp.pid);
		kill(rp.pid, SIGKILL);
		return;
	}
	more = realloc(rp.obuf, rp.olen + len + 1);
	if (!more)
		return;
	rp.obuf = more;
	memcpy(rp.obuf + rp.olen, json, len);
	rp.obuf[rp.olen + len] = '\n';
	rp.olen += len + 1;
	flush();
}

static void send_status(void)
{
	char *stable = report_status_stable(), *vol = report_status_volatile(), *line;
	size_t len;

	if (!stable || !vol) {
		free(stable);
		free(vol);
		return;
	}
	len = strlen(stable) + strlen(vol) + 32;
	line = malloc(len);
	if (line) {
		len = (size_t)snprintf(line, len, "{\"status\":%s,\"volatile\":%s}", stable, vol);
		send_line(line, len);
		free(line);
		free(rp.sent_stable);
		rp.sent_stable = stable;
		stable = NULL;
	}
	free(stable);
	free(vol);
}

static void send_event(unsigned id, const char *json)
{
	size_t len = strlen(json) + 48;
	char *line = malloc(len);

	if (!line)
		return;
	len = (size_t)snprintf(line, len, "{\"event\":%s,\"id\":%u}", json, id);
	send_line(line, len);
	free(line);
}

void report_send_event(char *json)
{
	if (!rp.configured || !json) {
		free(json);
		return;
	}
	if (rp.npending == PENDING_MAX) {
		/* bhreport has not taken them for a while: the oldest goes. */
		free(rp.pending[0].json);
		memmove(rp.pending, rp.pending + 1, --rp.npending * sizeof(rp.pending[0]));
		rp.dropped++;
	}
	rp.pending[rp.npending].id = ++rp.next_id;
	rp.pending[rp.npending++].json = json;
	send_event(rp.next_id, json);
}

/* bhreport's process ---------------------------------------------------------- */

/* The child: the fetcher's user, no capabilities, no new privileges, only
 * its two pipes (and stderr for its log). */
static void exec_reporter(int in, int out)
{
	gid_t gid = BHSYNC_UID;

	if (dup2(in, 0) < 0 || dup2(out, 1) < 0 || setgroups(0, NULL) < 0 ||
	    setresgid(gid, gid, gid) < 0 || setresuid(BHSYNC_UID, BHSYNC_UID, BHSYNC_UID) < 0 ||
	    prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 || prctl(PR_SET_PDEATHSIG, SIGKILL) < 0) {
		fprintf(stderr, "bhd: telemetry: drop privileges for %s: %s\n", BHREPORT,
		        strerror(errno));
		_exit(126);
	}
	syscall(SYS_close_range, 3, ~0U, 0);
	execl(BHREPORT, "bhreport", (char *)NULL);
	fprintf(stderr, "bhd: telemetry: exec %s: %s\n", BHREPORT, strerror(errno));
	_exit(127);
}

static int spawn(int epfd, struct bh_error *err)
{
	struct epoll_event ev = {.events = EPOLLIN};
	int in[2], out[2];
	char *json, *key;
	size_t len, klen;
	pid_t pid;

	key = bh_read_file(rp.key_file, SYNC_KEY_PEM_MAX - 1, &klen, err);
	if (!key)
		return bh_error_wrap(err, "the device key");
	memcpy(rp.cfg.key_pem, key, klen + 1);
	memset(key, 0, klen);
	free(key);
	rp.cfg.backoff_cap_ms = 300000;
	len = 0;
	json = NULL;
	if (report_config_write(&rp.cfg, &json, &len, err) < 0) {
		memset(rp.cfg.key_pem, 0, sizeof(rp.cfg.key_pem));
		return -1;
	}
	memset(rp.cfg.key_pem, 0, sizeof(rp.cfg.key_pem));
	if (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0) {
		int e = errno;

		memset(json, 0, len);
		free(json);
		return bh_error(err, e, "pipe");
	}
	pid = fork();
	if (pid == 0)
		exec_reporter(in[0], out[1]);
	close(in[0]);
	close(out[1]);
	if (pid < 0) {
		close(in[1]);
		close(out[0]);
		memset(json, 0, len);
		free(json);
		return bh_error(err, errno, "fork");
	}
	rp.pid = pid;
	rp.in_fd = in[1];
	rp.out_fd = out[0];
	rp.epfd = epfd;
	rp.started = now_ms();
	/* The configuration (a few KiB, with the key) goes first, written
	 * directly into the empty pipe, never through the buffer. */
	json[len] = '\n';
	if (bh_write_all(rp.in_fd, json, len + 1) < 0)
		bhd_log("bhd: telemetry: write the configuration: %s", strerror(errno));
	memset(json, 0, len + 1);
	free(json);
	fcntl(rp.in_fd, F_SETFL, O_NONBLOCK);
	fcntl(rp.out_fd, F_SETFL, O_NONBLOCK);
	ev.data.fd = rp.out_fd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, rp.out_fd, &ev);
	send_status();
	if (rp.dropped) {
		char line[64];

		send_line(line, (size_t)snprintf(line, sizeof(line), "{\"dropped\":%llu}",
		                                 (unsigned long long)rp.dropped));
		rp.dropped = 0;
	}
	for (size_t i = 0; i < rp.npending; i++)
		send_event(rp.pending[i].id, rp.pending[i].json);
	return 0;
}

static void close_pipes(void)
{
	stop_polling_out();
	if (rp.in_fd >= 0)
		close(rp.in_fd);
	if (rp.out_fd >= 0) {
		epoll_ctl(rp.epfd, EPOLL_CTL_DEL, rp.out_fd, NULL);
		close(rp.out_fd);
	}
	rp.in_fd = rp.out_fd = -1;
	rp.olen = 0;
	report_lines_free(&rp.lines);
}

bool report_child_exited(pid_t pid, int status)
{
	int64_t wait;

	if (!pid || pid != rp.pid)
		return false;
	rp.pid = 0;
	close_pipes();
	if (now_ms() - rp.started >= STABLE_RUN_MS)
		backoff_reset(&rp.retry);
	wait = backoff_next(&rp.retry);
	rp.next_start = now_ms() + wait;
	rp.online = false;
	free(rp.sent_stable);
	rp.sent_stable = NULL;
	bhd_log("bhd: telemetry: bhreport %s %d; started again in %lld ms",
	        WIFEXITED(status) ? "exited with status" : "was killed by signal",
	        WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status), (long long)wait);
	return true;
}

/* What bhreport says -------------------------------------------------------- */

static void on_connection(yyjson_val *root)
{
	bool online = !strcmp(yyjson_get_str(yyjson_obj_get(root, "connection")), "online");
	const char *error = yyjson_get_str(yyjson_obj_get(root, "error"));

	if (online != rp.online) {
		rp.since = (int64_t)time(NULL);
		if (online)
			bhd_log("bhd: telemetry: online (%s:%s)", rp.cfg.host, rp.cfg.port);
		else
			bhd_log("bhd: telemetry: offline%s%s", error && *error ? ": " : "",
			        error ? error : "");
	}
	rp.online = online;
	snprintf(rp.error, sizeof(rp.error), "%s", error ? error : "");
	rp.queued = yyjson_get_uint(yyjson_obj_get(root, "queued"));
	rp.queue_dropped = yyjson_get_uint(yyjson_obj_get(root, "dropped"));
}

static void on_command(const char *cmd)
{
	int64_t now = now_ms();

	if (!strcmp(cmd, "report")) {
		send_status();
	} else if (!strcmp(cmd, "sync") && fleet.provisioned) {
		if (rp.last_sync_cmd && now - rp.last_sync_cmd < SYNC_CMD_GAP_MS) {
			bhd_log("bhd: telemetry: the broker's sync ignored: one came %lld s ago",
			        (long long)((now - rp.last_sync_cmd) / 1000));
			return;
		}
		rp.last_sync_cmd = now;
		bhd_log("bhd: telemetry: the broker asks for a sync: polling now");
		sync_now();
	} else {
		bhd_log("bhd: telemetry: command \"%.32s\" from bhreport ignored", cmd);
	}
}

static void on_line(void *arg, char *line, size_t len)
{
	yyjson_doc *doc = yyjson_read(line, len, 0);
	yyjson_val *root = yyjson_doc_get_root(doc), *v;

	if (yyjson_is_str(yyjson_obj_get(root, "connection"))) {
		on_connection(root);
	} else if ((v = yyjson_obj_get(root, "queued_id"))) {
		unsigned id = (unsigned)yyjson_get_uint(v);

		for (size_t i = 0; i < rp.npending; i++)
			if (rp.pending[i].id == id) {
				free(rp.pending[i].json);
				memmove(rp.pending + i, rp.pending + i + 1,
				        (--rp.npending - i) * sizeof(rp.pending[0]));
				break;
			}
	} else if (yyjson_is_str(v = yyjson_obj_get(root, "want"))) {
		send_status();
	} else if (yyjson_is_str(v = yyjson_obj_get(root, "cmd"))) {
		on_command(yyjson_get_str(v));
	}
	/* Anything else from an unprivileged process is not acted on. */
	yyjson_doc_free(doc);
}

bool report_output(int fd, int epfd)
{
	int rc;

	if (fd < 0)
		return false;
	if (fd == rp.in_fd) {
		flush();
		return true;
	}
	if (fd != rp.out_fd)
		return false;
	rc = report_lines_read(&rp.lines, fd, on_line, NULL);
	if (rc <= 0 && rp.out_fd >= 0) {
		/* It is ending: its exit is reaped. */
		epoll_ctl(epfd, EPOLL_CTL_DEL, rp.out_fd, NULL);
		close(rp.out_fd);
		rp.out_fd = -1;
	}
	return true;
}

int64_t report_tick(int epfd)
{
	int64_t now = now_ms();
	struct bh_error err;
	char *stable;

	rp.epfd = epfd;
	if (!rp.configured)
		return -1;
	if (!rp.pid) {
		if (now < rp.next_start)
			return rp.next_start - now;
		if (spawn(epfd, &err) < 0) {
			rp.next_start = now + backoff_next(&rp.retry);
			bhd_log("bhd: telemetry: start %s: %s", BHREPORT, err.msg);
			return rp.next_start - now;
		}
	}
	if (now < rp.next_check)
		return rp.next_check - now;
	rp.next_check = now + STATUS_CHECK_MS;
	stable = report_status_stable();
	if (stable && (!rp.sent_stable || strcmp(stable, rp.sent_stable)))
		send_status();
	free(stable);
	return -1; /* checked again when the loop next wakes */
}

void report_stop(void)
{
	int64_t deadline = now_ms() + STOP_WAIT_MS;
	int status;

	if (!rp.pid)
		return;
	send_line("{\"stop\":true}", 13);
	while (now_ms() < deadline) {
		if (rp.olen)
			flush();
		if (rp.out_fd >= 0)
			report_output(rp.out_fd, rp.epfd);
		if (waitpid(rp.pid, &status, WNOHANG) == rp.pid) {
			rp.pid = 0;
			close_pipes();
			return;
		}
		usleep(20000);
	}
	bhd_log("bhd: telemetry: bhreport did not stop within %d ms: killed", STOP_WAIT_MS);
	kill(rp.pid, SIGKILL);
	waitpid(rp.pid, &status, 0);
	rp.pid = 0;
	close_pipes();
}

void report_status_text(char *out, size_t size)
{
	char t[21];

	if (!rp.configured) {
		snprintf(out, size, "telemetry:   not provisioned (%s)\n", rp.why_not);
		return;
	}
	if (rp.since)
		state_time_format(rp.since, t);
	snprintf(out, size,
	         "telemetry:   %s:%s as %s, topics %s/%s/...: %s%s%s%s%s\n"
	         "events:      %llu queued on /data, %llu dropped\n",
	         rp.cfg.host, rp.cfg.port, rp.cfg.device, rp.cfg.prefix, rp.cfg.device,
	         !rp.pid ? "bhreport not running" : rp.online ? "online" : "offline",
	         rp.since ? " since " : "", rp.since ? t : "", rp.error[0] ? ": " : "", rp.error,
	         (unsigned long long)rp.queued, (unsigned long long)rp.queue_dropped);
}
