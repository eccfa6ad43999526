/* Each workload's output: a bounded log (the current file and one older
 * part, 256 KiB each) under /run/bulkhead/logs, and, only when bhd runs with
 * --workload-output-console (debug images), a copy on bhd's own output,
 * prefixed with the workload's name.
 *
 * A workload may print as fast as it can: bhd reads at most
 * OUTPUT_WAKEUP_BUDGET bytes of one workload per wakeup (the epoll set is
 * level-triggered, so the rest waits for the next turn of the loop and the
 * control socket and the trial-boot timer get theirs), and keeps at most
 * OUTPUT_RATE bytes a second of it, with bursts to OUTPUT_BURST. Lines over
 * that are read and dropped, and counted: one line in the log says how many
 * once the rate allows again. */
#include "bhd.h"

#include <bulkhead/fs.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define LOG_PART_MAX         (256 * 1024)
#define OUTPUT_WAKEUP_BUDGET (16 * 1024)
#define OUTPUT_RATE          (16 * 1024)
#define OUTPUT_BURST         (64 * 1024)

bool workload_output_console;

void workload_log_line(const char *name, const char *line)
{
	char path[128], text[700];

	snprintf(text, sizeof(text), "%s\n", line);
	if (workload_output_console)
		bhd_log("%s: %s", name, line);
	snprintf(path, sizeof(path), LOGS_DIR "/%s.log", name);
	bh_log_append(path, text, strlen(text), LOG_PART_MAX, 0600);
}

/* Refills the bucket for the time since the last refill. */
static void refill(struct workload *w, int64_t now)
{
	if (w->out_refilled_ms == 0) {
		w->out_tokens = OUTPUT_BURST;
		w->out_refilled_ms = now;
		return;
	}
	w->out_tokens += (now - w->out_refilled_ms) * OUTPUT_RATE / 1000;
	if (w->out_tokens > OUTPUT_BURST)
		w->out_tokens = OUTPUT_BURST;
	w->out_refilled_ms = now;
}

/* One complete line: logged if the bucket holds its bytes, else dropped. */
static void output_line(struct workload *w, const char *line, size_t len, int64_t now)
{
	refill(w, now);
	if (w->out_tokens < (int64_t)len + 1) {
		w->out_dropped++;
		w->out_dropped_total++;
		return;
	}
	if (w->out_dropped) {
		char note[160];

		snprintf(note, sizeof(note),
			 "bhd: dropped %llu lines of output over the rate limit (%d KiB/s)",
			 (unsigned long long)w->out_dropped, OUTPUT_RATE / 1024);
		workload_log_line(w->m.name, note);
		bhd_log("bhd: %s: dropped %llu lines of output over the rate limit (%llu in all)",
			w->m.name, (unsigned long long)w->out_dropped,
			(unsigned long long)w->out_dropped_total);
		w->out_dropped = 0;
	}
	w->out_tokens -= (int64_t)len + 1;
	workload_log_line(w->m.name, line);
}

/* One wakeup's reading: lines are judged by the time it started. */
struct output_read {
	struct workload *w;
	int64_t now;
};

static void output_text(void *ctx, const char *line, size_t len)
{
	struct output_read *r = ctx;

	if (len) /* empty lines are not logged */
		output_line(r->w, line, len, r->now);
}

void workload_output_read(struct workload *w)
{
	struct output_read r = {w, now_ms()};
	struct bh_error err;

	if (line_split_read(&w->out, w->out_fd, OUTPUT_WAKEUP_BUDGET, output_text, &r, &err) <= 0) {
		close(w->out_fd);
		w->out_fd = -1;
	}
}

static int append_file(const char *path, char **text, size_t *len)
{
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	while ((n = read(fd, buf, sizeof(buf))) > 0) {
		char *t = realloc(*text, *len + (size_t)n + 1);

		if (!t) {
			close(fd);
			return -1;
		}
		*text = t;
		memcpy(*text + *len, buf, (size_t)n);
		*len += (size_t)n;
		(*text)[*len] = 0;
	}
	close(fd);
	return n < 0 ? -1 : 0;
}

int workload_log_read(const char *name, char **text, struct bh_error *err)
{
	char path[128], old[140];
	size_t len = 0;

	*text = calloc(1, 1);
	snprintf(path, sizeof(path), LOGS_DIR "/%s.log", name);
	snprintf(old, sizeof(old), "%s.1", path);
	if (!*text || append_file(old, text, &len) < 0 || append_file(path, text, &len) < 0)
		return bh_error(err, errno, "read the log of %s", name);
	return 0;
}
