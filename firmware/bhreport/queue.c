/* The reporter's event queue (queue.h). An event file is written whole or
 * not at all (bh_write_atomic_at: temporary file, fsync, rename, fsync of
 * the folder) and removed only once the broker acknowledged it, so a power
 * cut loses none: after it every event still here is sent again, in
 * order. queue.json is written before each event file, so a seq is never
 * used twice, even when every event was delivered and removed. */
#include "queue.h"

#include <bulkhead/fs.h>
#include <bulkhead/json.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define META      "queue.json"
#define EVENT_MAX (64 * 1024)

static void event_name(uint64_t seq, char name[32])
{
	snprintf(name, 32, "e%016" PRIx64 ".json", seq);
}

static int save_meta(struct event_queue *q, struct bh_error *err)
{
	char text[96];
	int n = snprintf(text, sizeof(text), "{\"next_seq\":%" PRIu64 ",\"dropped\":%" PRIu64 "}\n",
	                 q->next_seq, q->dropped);

	return bh_write_atomic_at(q->dirfd, META, text, (size_t)n, 0600, err);
}

static void load_meta(struct event_queue *q)
{
	char text[256];
	ssize_t n;
	int fd = openat(q->dirfd, META, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	yyjson_doc *doc;

	if (fd < 0)
		return;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return;
	doc = yyjson_read(text, (size_t)n, 0);
	/* Unreadable: the seqs of the files left still order what is sent. */
	q->next_seq = yyjson_get_uint(yyjson_obj_get(yyjson_doc_get_root(doc), "next_seq"));
	q->dropped = yyjson_get_uint(yyjson_obj_get(yyjson_doc_get_root(doc), "dropped"));
	yyjson_doc_free(doc);
}

static int cmp_seq(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Forgets the oldest: counted, then removed. */
static int drop_oldest(struct event_queue *q, struct bh_error *err)
{
	char name[32];

	q->dropped++;
	if (save_meta(q, err) < 0)
		return -1;
	event_name(q->seqs[0], name);
	unlinkat(q->dirfd, name, 0);
	memmove(q->seqs, q->seqs + 1, --q->n * sizeof(q->seqs[0]));
	return 0;
}

int queue_open(struct event_queue *q, const char *dir, size_t max, struct bh_error *err)
{
	struct dirent *de;
	DIR *d;

	memset(q, 0, sizeof(*q));
	q->dirfd = -1;
	q->max = max ? max : 1;
	q->cap = 16;
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return bh_error(err, errno, "create the event queue %s", dir);
	q->dirfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (q->dirfd < 0)
		return bh_error(err, errno, "open the event queue %s", dir);
	q->seqs = malloc(q->cap * sizeof(q->seqs[0]));
	d = q->seqs ? fdopendir(dup(q->dirfd)) : NULL;
	if (!d) {
		queue_close(q);
		return bh_error(err, errno ? errno : ENOMEM, "read the event queue %s", dir);
	}
	load_meta(q);
	while ((de = readdir(d))) {
		uint64_t seq;
		char name[32], tail;

		if (de->d_name[0] == '.' && strstr(de->d_name, ".tmp")) {
			unlinkat(q->dirfd, de->d_name, 0); /* a write a power cut stopped */
			continue;
		}
		if (sscanf(de->d_name, "e%16" SCNx64 ".jso%c", &seq, &tail) != 2 || tail != 'n')
			continue;
		event_name(seq, name);
		if (strcmp(name, de->d_name))
			continue;
		if (q->n == q->cap) {
			uint64_t *more = realloc(q->seqs, 2 * q->cap * sizeof(q->seqs[0]));

			if (!more) {
				closedir(d);
				queue_close(q);
				return bh_error(err, ENOMEM, "read the event queue %s", dir);
			}
			q->seqs = more;
			q->cap *= 2;
		}
		q->seqs[q->n++] = seq;
	}
	closedir(d);
	qsort(q->seqs, q->n, sizeof(q->seqs[0]), cmp_seq);
	if (q->n && q->seqs[q->n - 1] >= q->next_seq)
		q->next_seq = q->seqs[q->n - 1] + 1;
	if (!q->next_seq)
		q->next_seq = 1;
	while (q->n > q->max)
		if (drop_oldest(q, err) < 0) {
			queue_close(q);
			return bh_error_wrap(err, "event queue %s", dir);
		}
	return 0;
}

void queue_close(struct event_queue *q)
{
	if (q->dirfd >= 0)
		close(q->dirfd);
	free(q->seqs);
	q->seqs = NULL;
	q->dirfd = -1;
	q->n = 0;
}

int queue_push(struct event_queue *q, const void *data, size_t len, struct bh_error *err)
{
	uint64_t seq = q->next_seq;
	char name[32];

	if (len > EVENT_MAX)
		return bh_error(err, EMSGSIZE, "event of %zu bytes: at most %d", len, EVENT_MAX);
	if (q->n == q->cap) {
		uint64_t *more = realloc(q->seqs, (q->cap + 16) * sizeof(q->seqs[0]));

		if (!more)
			return bh_error(err, ENOMEM, "queue event %" PRIu64, seq);
		q->seqs = more;
		q->cap += 16;
	}
	if (q->n == q->max && drop_oldest(q, err) < 0)
		return -1;
	q->next_seq++;
	if (save_meta(q, err) < 0) {
		q->next_seq--;
		return -1;
	}
	event_name(seq, name);
	if (bh_write_atomic_at(q->dirfd, name, data, len, 0600, err) < 0)
		return -1;
	q->seqs[q->n++] = seq;
	return 0;
}

int queue_read(struct event_queue *q, uint64_t seq, char **data, size_t *len,
               struct bh_error *err)
{
	char name[32];
	int fd;

	event_name(seq, name);
	fd = openat(q->dirfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return bh_error(err, errno, "open queued event %s", name);
	*data = malloc(EVENT_MAX + 1);
	if (!*data) {
		close(fd);
		return bh_error(err, ENOMEM, "read queued event %s", name);
	}
	*len = 0;
	for (;;) {
		ssize_t n = read(fd, *data + *len, EVENT_MAX + 1 - *len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = errno;

			close(fd);
			free(*data);
			return bh_error(err, e, "read queued event %s", name);
		}
		if (n == 0 || (*len += (size_t)n) > EVENT_MAX)
			break;
	}
	close(fd);
	if (*len > EVENT_MAX) {
		free(*data);
		return bh_error(err, EMSGSIZE, "queued event %s: over %d bytes", name, EVENT_MAX);
	}
	(*data)[*len] = 0;
	return 0;
}

void queue_remove(struct event_queue *q, uint64_t seq)
{
	char name[32];

	for (size_t i = 0; i < q->n; i++) {
		if (q->seqs[i] != seq)
			continue;
		event_name(seq, name);
		unlinkat(q->dirfd, name, 0);
		memmove(q->seqs + i, q->seqs + i + 1, (q->n - i - 1) * sizeof(q->seqs[0]));
		q->n--;
		return;
	}
}

int queue_add_dropped(struct event_queue *q, uint64_t n, struct bh_error *err)
{
	q->dropped += n;
	return save_meta(q, err);
}
