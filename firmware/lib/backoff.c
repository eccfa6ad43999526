#include <bulkhead/backoff.h>

void backoff_init(struct backoff *b, uint32_t base_ms, uint32_t cap_ms, uint64_t seed)
{
	b->base_ms = base_ms ? base_ms : 1;
	b->cap_ms = cap_ms < b->base_ms ? b->base_ms : cap_ms;
	b->ceiling_ms = b->base_ms;
	b->rng = seed ? seed : 0x9e3779b97f4a7c15u;
}

void backoff_reset(struct backoff *b)
{
	b->ceiling_ms = b->base_ms;
}

/* xorshift64* (Vigna): small, and good enough to spread retries. */
static uint64_t next_random(struct backoff *b)
{
	b->rng ^= b->rng >> 12;
	b->rng ^= b->rng << 25;
	b->rng ^= b->rng >> 27;
	return b->rng * 0x2545f4914f6cdd1du;
}

uint32_t backoff_next(struct backoff *b)
{
	uint32_t d = b->ceiling_ms, half = d / 2;

	b->ceiling_ms = d > b->cap_ms / 2 ? b->cap_ms : d * 2;
	return d - half + (uint32_t)(next_random(b) % ((uint64_t)half + 1));
}
