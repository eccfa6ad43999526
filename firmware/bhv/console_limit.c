/* The console output token bucket (console_limit.h). */
#include "console_limit.h"

void console_limit_init(struct console_limit *l, int64_t rate, int64_t burst, int64_t now_ms)
{
	atomic_store(&l->tokens, burst);
	atomic_store(&l->dropped, 0);
	l->rate = rate;
	l->burst = burst;
	l->last_ms = now_ms;
}

size_t console_limit_take(struct console_limit *l, size_t len)
{
	int64_t have, take;

	if (!l)
		return len;
	have = atomic_load(&l->tokens);
	do {
		take = have < (int64_t)len ? have : (int64_t)len;
		if (take <= 0) {
			take = 0;
			break;
		}
	} while (!atomic_compare_exchange_weak(&l->tokens, &have, have - take));
	if ((size_t)take < len)
		atomic_fetch_add(&l->dropped, len - (size_t)take);
	return (size_t)take;
}

void console_limit_refill(struct console_limit *l, int64_t now_ms)
{
	int64_t elapsed = now_ms - l->last_ms, add, have, next;

	if (elapsed <= 0)
		return;
	/* Capped so that a long quiet spell cannot overflow the product. */
	if (elapsed > 1000 * (l->burst / l->rate + 1))
		elapsed = 1000 * (l->burst / l->rate + 1);
	add = elapsed * l->rate / 1000;
	if (add <= 0)
		return; /* keep last_ms: the fraction counts at the next refill */
	l->last_ms = now_ms;
	have = atomic_load(&l->tokens);
	do {
		next = have + add > l->burst ? l->burst : have + add;
	} while (!atomic_compare_exchange_weak(&l->tokens, &have, next));
}

bool console_limit_full(struct console_limit *l)
{
	return atomic_load(&l->tokens) >= l->burst;
}

uint64_t console_limit_dropped(struct console_limit *l)
{
	return atomic_load(&l->dropped);
}
