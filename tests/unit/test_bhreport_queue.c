/* bhreport's event queue (firmware/bhreport/queue.c): events come back in
 * the order they went in, survive a reopen (a restart, a power cut), leave
 * no file once removed, never reuse a seq, drop the oldest when full and
 * count it; a half-written file is removed at open; a smaller limit trims
 * the oldest at open. */
#include "tap.h"
#include "queue.h"

#include <bulkhead/fs.h>

#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct bh_error err;

static int push(struct event_queue *q, int i)
{
	char text[64];
	int n = snprintf(text, sizeof(text), "{\"seq\":%llu,\"n\":%d}",
	                 (unsigned long long)q->next_seq, i);

	return queue_push(q, text, (size_t)n, &err);
}

/* The n field of each queued event, oldest first, as "1,2,3". */
static void contents(struct event_queue *q, char *out, size_t size)
{
	size_t o = 0;

	out[0] = 0;
	for (size_t i = 0; i < q->n; i++) {
		char *data;
		size_t len;

		if (queue_read(q, q->seqs[i], &data, &len, &err) < 0) {
			snprintf(out, size, "error: %s", err.msg);
			return;
		}
		o += (size_t)snprintf(out + o, size - o, "%s%s", i ? "," : "",
		                      strstr(data, "\"n\":") + 4);
		out[o - 1] = 0; /* the closing brace */
		o--;
		free(data);
	}
}

static size_t files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	size_t n = 0;

	while (d && (de = readdir(d)))
		n += de->d_name[0] == 'e';
	if (d)
		closedir(d);
	return n;
}

int main(void)
{
	char dir[] = "/tmp/bh-queue-XXXXXX", path[256], got[256];
	struct event_queue q;
	uint64_t seq;
	int fd;

	if (!mkdtemp(dir))
		return 1;
	ok(queue_open(&q, dir, 5, &err) == 0 && q.n == 0 && q.next_seq == 1,
	   "a new queue is empty and starts at seq 1: %s", err.msg);
	for (int i = 1; i <= 3; i++)
		push(&q, i);
	contents(&q, got, sizeof(got));
	ok(!strcmp(got, "1,2,3") && q.seqs[0] == 1 && q.seqs[2] == 3,
	   "events come back in order with seq 1 to 3 (%s)", got);
	queue_close(&q);
	ok(queue_open(&q, dir, 5, &err) == 0 && q.n == 3 && q.next_seq == 4,
	   "reopened (a restart): the 3 events are there, the next seq is 4");
	queue_remove(&q, 1);
	queue_remove(&q, 2);
	queue_remove(&q, 3);
	ok(q.n == 0 && files(dir) == 0, "removed events leave no file");
	queue_close(&q);
	ok(queue_open(&q, dir, 5, &err) == 0 && q.n == 0 && q.next_seq == 4,
	   "an empty queue reopened keeps the next seq (a seq is never used twice)");
	for (int i = 4; i <= 10; i++)
		push(&q, i);
	contents(&q, got, sizeof(got));
	ok(q.n == 5 && q.dropped == 2 && !strcmp(got, "6,7,8,9,10") && files(dir) == 5,
	   "a full queue (5) drops the oldest and counts them (%s, %llu dropped)", got,
	   (unsigned long long)q.dropped);
	ok(queue_add_dropped(&q, 3, &err) == 0 && q.dropped == 5,
	   "drops elsewhere are added to the count");
	queue_close(&q);
	/* A write a power cut stopped, and a file that is not an event. */
	snprintf(path, sizeof(path), "%s/.e00000000000000ff.json.tmp", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	close(fd);
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	fd = open(path, O_WRONLY | O_CREAT, 0600);
	close(fd);
	ok(queue_open(&q, dir, 3, &err) == 0 && q.n == 3 && q.dropped == 7 && q.next_seq == 11,
	   "reopened with a limit of 3: the 2 oldest are dropped and counted (%llu)",
	   (unsigned long long)q.dropped);
	contents(&q, got, sizeof(got));
	snprintf(path, sizeof(path), "%s/.e00000000000000ff.json.tmp", dir);
	ok(!strcmp(got, "8,9,10") && access(path, F_OK) < 0,
	   "what is left is the newest, and the half-written file is gone (%s)", got);
	seq = q.seqs[0];
	ok(queue_read(&q, 99, &(char *){NULL}, &(size_t){0}, &err) < 0 && strstr(err.msg, "e0000000000000063.json"),
	   "reading an event that is not there names it: %s", err.msg);
	queue_remove(&q, seq);
	queue_close(&q);
	bh_remove_tree(dir);
	return done();
}
