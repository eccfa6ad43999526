/* Reconnect delays: each within [d/2, d] for d = base * 2^n up to the cap,
 * spread by the jitter, and back to the base after a success. */
#include <bulkhead/backoff.h>

#include "tap.h"

int main(void)
{
	struct backoff b, other;
	uint32_t d = 1000, got[12];
	int i, inside = 1, differ = 0;

	backoff_init(&b, 1000, 60000, 42);
	for (i = 0; i < 12; i++) {
		got[i] = backoff_next(&b);
		if (got[i] < (d + 1) / 2 || got[i] > d) {
			printf("#   attempt %d: %u ms outside [%u, %u]\n", i, got[i], (d + 1) / 2, d);
			inside = 0;
		}
		d = d * 2 > 60000 ? 60000 : d * 2;
	}
	ok(inside, "each delay lies in [d/2, d], d doubling from 1000 ms to the 60000 ms cap");
	ok(got[11] <= 60000 && got[11] >= 30000, "the cap holds after many failures (%u ms)",
	   got[11]);
	backoff_init(&other, 1000, 60000, 43);
	for (i = 0; i < 12; i++)
		differ += backoff_next(&other) != got[i];
	ok(differ >= 10, "two devices with different seeds wait different times (%d of 12 differ)",
	   differ);
	backoff_reset(&b);
	d = backoff_next(&b);
	ok(d >= 500 && d <= 1000, "after a success the next delay starts from the base (%u ms)", d);
	backoff_init(&b, 1000, UINT32_MAX, 1);
	for (i = 0; i < 40; i++)
		d = backoff_next(&b);
	ok(d >= UINT32_MAX / 2, "a cap near 2^32 ms does not overflow (%u ms)", d);
	backoff_init(&b, 0, 0, 0);
	d = backoff_next(&b);
	ok(d == 1, "a zero base and cap become 1 ms (%u)", d);
	return done();
}
