/* The reporter's event queue on /data (queue.c). */
#ifndef BHREPORT_QUEUE_H
#define BHREPORT_QUEUE_H

#include <bulkhead/error.h>

#include <stddef.h>
#include <stdint.h>

/* Events wait here, each in its own file e<seq>.json written atomically,
 * until the broker has acknowledged them; seq only grows (queue.json keeps
 * the next one and the count of events dropped), so a subscriber can tell
 * a duplicate (the same seq again) from a loss (a gap). At most max files:
 * a new event beyond that drops the oldest and counts it. */
struct event_queue {
	int dirfd;
	size_t max;
	uint64_t next_seq, dropped;
	uint64_t *seqs; /* on disk, oldest first */
	size_t n, cap;
};

/* Opens (creating) the folder: loads what a previous run left, removes
 * half-written files, trims to max. */
int queue_open(struct event_queue *q, const char *dir, size_t max, struct bh_error *err);
void queue_close(struct event_queue *q);
/* Stores data as event q->next_seq (the caller has put that seq in it). */
int queue_push(struct event_queue *q, const void *data, size_t len, struct bh_error *err);
/* The event seq as stored (malloc'd, NUL-terminated). */
int queue_read(struct event_queue *q, uint64_t seq, char **data, size_t *len,
               struct bh_error *err);
/* Counts n events lost before they reached the queue. */
int queue_add_dropped(struct event_queue *q, uint64_t n, struct bh_error *err);
/* The broker has it: forget it. */
void queue_remove(struct event_queue *q, uint64_t seq);

#endif
