/* When a device polls next (include/bulkhead/sync.h). Jitter spreads a
 * fleet's polls over time, so that a thousand gateways switched on at once
 * do not hit the registry in the same second forever after; backoff
 * (include/bulkhead/backoff.h, the one the MQTT client reconnects with)
 * keeps a fleet from hammering a registry that is down or asks for a
 * pause. */
#include <bulkhead/sync.h>

int64_t sync_next_poll_ms(uint32_t interval, double r)
{
	double f = 0.8 + 0.4 * r; /* +-20% */

	return (int64_t)((double)interval * 1000.0 * f);
}

void sync_backoff_init(struct backoff *b, uint64_t seed)
{
	backoff_init(b, SYNC_BACKOFF_FIRST_MS, SYNC_BACKOFF_MAX_MS, seed);
}

int64_t sync_retry_ms(struct backoff *b, long retry_after_s)
{
	int64_t ms = backoff_next(b);

	if (retry_after_s > 0) {
		int64_t floor_ms =
		    (retry_after_s > SYNC_BACKOFF_MAX_MS / 1000 ? SYNC_BACKOFF_MAX_MS / 1000
		                                                : retry_after_s) *
		    1000LL;

		if (ms < floor_ms)
			ms = floor_ms;
	}
	return ms;
}
