/* Reconnect delays: exponential backoff with jitter, capped. The n-th
 * delay after a failure is drawn evenly from [d/2, d], where d = base * 2^n
 * up to cap: the jitter spreads a fleet that lost its broker at the same
 * moment over time, and the lower half keeps a device from retrying at
 * once. A success resets it. */
#ifndef BULKHEAD_BACKOFF_H
#define BULKHEAD_BACKOFF_H

#include <stdint.h>

struct backoff {
	uint32_t base_ms, cap_ms;
	uint32_t ceiling_ms; /* d for the next delay */
	uint64_t rng;        /* xorshift state: jitter needs no secrecy */
};

/* seed: any value (0 is replaced); base_ms >= 1, cap_ms >= base_ms. */
void backoff_init(struct backoff *b, uint32_t base_ms, uint32_t cap_ms, uint64_t seed);
/* The delay to wait before the next attempt; doubles its range each call. */
uint32_t backoff_next(struct backoff *b);
/* After a success: the next delay starts from base_ms again. */
void backoff_reset(struct backoff *b);

#endif
