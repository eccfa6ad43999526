/* bhsync agent: one simulated gateway for the fleet simulation
 * (tests/bench/bench_fleet.py, tests/integration/test_fleet_sim.py).
 *
 *   bhsync agent --dir DIR --config REQUEST.json [--seconds N]
 *
 * It polls in a loop exactly as bhd schedules polls (the state's interval
 * with jitter, backoff after a failure) and runs the same poll as on a
 * device, but applies nothing: a READY result counts as converged (what it
 * fetched is recorded as installed, the state as settled). Its progress
 * lives in DIR/agent.json; downloads in DIR/work. Each poll prints one
 * line:
 *   t=<ms since start> outcome=<...> serial=<n> requests=<n> bytes=<n> [error=...] */
#include "bhsync.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "re");
	char *buf = malloc(SYNC_MESSAGE_MAX + 1);

	*len = 0;
	if (!f || !buf) {
		if (f)
			fclose(f);
		free(buf);
		return NULL;
	}
	*len = fread(buf, 1, SYNC_MESSAGE_MAX + 1, f);
	fclose(f);
	if (*len > SYNC_MESSAGE_MAX) {
		free(buf);
		return NULL;
	}
	buf[*len] = 0;
	return buf;
}

/* The request as it stands: the base from --config, the progress from
 * DIR/agent.json (itself a request: what the agent has applied). */
static int load(const char *config, const char *progress, struct sync_request *q,
                struct bh_error *err)
{
	size_t len;
	char *text = slurp(progress, &len);

	if (!text)
		text = slurp(config, &len);
	if (!text)
		return bh_error(err, errno, "read %s", config);
	if (sync_request_read(text, len, q, err) < 0) {
		free(text);
		return -1;
	}
	free(text);
	return 0;
}

static int save(const char *progress, const struct sync_request *q, struct bh_error *err)
{
	char tmp[SYNC_PATH_MAX + 8], *json;
	size_t len;
	FILE *f;

	if (sync_request_write(q, &json, &len, err) < 0)
		return -1;
	snprintf(tmp, sizeof(tmp), "%s.tmp", progress);
	f = fopen(tmp, "we");
	if (!f || fwrite(json, 1, len, f) != len || fclose(f) != 0 || rename(tmp, progress) < 0) {
		free(json);
		return bh_error(err, errno, "write %s", progress);
	}
	free(json);
	return 0;
}

/* "Installs" what a READY poll brought: every file becomes one it has. */
static void apply(struct sync_request *q, const struct sync_result *res)
{
	q->n_have = 0;
	for (size_t i = 0; i < res->n_workloads && q->n_have < SYNC_HAVE_MAX; i++)
		snprintf(q->have[q->n_have++], REGISTRY_DIGEST_LEN + 1, "%s",
		         res->workloads[i].layer);
	if (res->update.layer[0] && q->n_have < SYNC_HAVE_MAX)
		snprintf(q->have[q->n_have++], REGISTRY_DIGEST_LEN + 1, "%s", res->update.layer);
	snprintf(q->settled, sizeof(q->settled), "%s", res->state_digest);
	q->applied_serial = res->serial;
	q->force = false;
}

int agent_main(int argc, char **argv)
{
	static const struct option opts[] = {{"dir", required_argument, NULL, 'd'},
	                                     {"config", required_argument, NULL, 'c'},
	                                     {"seconds", required_argument, NULL, 's'},
	                                     {NULL, 0, NULL, 0}};
	static struct sync_request q;
	static struct sync_result res;
	const char *dir = NULL, *config = NULL;
	char progress[SYNC_PATH_MAX];
	int64_t start = mono_ms(), until = -1;
	struct backoff retry;
	struct bh_error err;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'd')
			dir = optarg;
		else if (c == 'c')
			config = optarg;
		else if (c == 's')
			until = start + atoll(optarg) * 1000;
		else
			return 2;
	}
	if (!dir || !config) {
		fprintf(stderr, "bhsync agent: --dir and --config are required\n");
		return 2;
	}
	srand48((long)getpid() ^ (long)start);
	sync_backoff_init(&retry, (uint64_t)getpid() << 32 ^ (uint64_t)start);
	snprintf(progress, sizeof(progress), "%s/agent.json", dir);
	if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "bhsync agent: mkdir %s: %s\n", dir, bh_strerror(errno));
		return 1;
	}
	while (until < 0 || mono_ms() < until) {
		int64_t wait;

		if (load(config, progress, &q, &err) < 0) {
			bh_error_print(&err, "bhsync agent");
			return 1;
		}
		snprintf(q.work_dir, sizeof(q.work_dir), "%s/work", dir);
		sync_poll(&q, &res);
		printf("t=%" PRId64 " outcome=%s serial=%" PRIu64 " requests=%" PRIu64
		       " bytes=%" PRIu64 "%s%s\n",
		       mono_ms() - start,
		       res.outcome == SYNC_READY       ? "ready"
		       : res.outcome == SYNC_UNCHANGED ? "unchanged"
		                                       : "failed",
		       res.serial, res.requests, res.bytes_received, res.error[0] ? " error=" : "",
		       res.error);
		fflush(stdout);
		if (res.outcome == SYNC_FAILED) {
			wait = sync_retry_ms(&retry, res.retry_after_s);
		} else {
			backoff_reset(&retry);
			if (res.outcome == SYNC_READY) {
				apply(&q, &res);
				if (res.poll_interval)
					q.cfg.poll_interval = res.poll_interval;
				if (save(progress, &q, &err) < 0) {
					bh_error_print(&err, "bhsync agent");
					return 1;
				}
			}
			wait = sync_next_poll_ms(q.cfg.poll_interval, drand48());
		}
		if (until >= 0 && mono_ms() + wait > until)
			wait = until - mono_ms();
		if (wait > 0) {
			struct timespec ts = {wait / 1000, (wait % 1000) * 1000000};

			while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
				;
		}
	}
	return 0;
}
