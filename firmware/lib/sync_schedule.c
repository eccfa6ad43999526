/* When a device polls next (include/bulkhead/sync.h). Jitter spreads a
 * fleet's polls over time, so that a thousand gateways switched on at once
 * do not hit the registry in the same second forever after; backoff keeps
 * a fleet from hammering a registry that is down or asks for a pause. */
#include <bulkhead/sync.h>

#define BACKOFF_FIRST_S 30
#define BACKOFF_MAX_S   3600

int64_t sync_next_poll_ms(uint32_t interval, double r)
{
	double f = 0.8 + 0.4 * r; /* +-20% */

	return (int64_t)((double)interval * 1000.0 * f);
}

int64_t sync_backoff_ms(unsigned failures, long retry_after_s, double r)
{
	int64_t base = BACKOFF_FIRST_S;
	int64_t ms;

	for (unsigned i = 1; i < failures && base < BACKOFF_MAX_S; i++)
		base *= 2;
	if (base > BACKOFF_MAX_S)
		base = BACKOFF_MAX_S;
	/* Full jitter in the upper half: between base/2 and base. */
	ms = (int64_t)((double)base * 1000.0 * (0.5 + 0.5 * r));
	if (retry_after_s > 0) {
		int64_t floor_ms = (int64_t)(retry_after_s > BACKOFF_MAX_S ? BACKOFF_MAX_S
									  : retry_after_s) *
				   1000;

		if (ms < floor_ms)
			ms = floor_ms;
	}
	return ms;
}
