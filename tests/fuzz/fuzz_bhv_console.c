/* libFuzzer: virtio-console transmit and receive queues (output to
 * /dev/null, some input pending) through the real transport, under a
 * small output rate limit so that both the cut and the drop path run. */
#include "console_limit.h"
#include "fuzz_bhv.h"

#include <fcntl.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtio_dev *d;
	static struct console_limit lim;
	static int64_t clock_ms;
	struct bh_error err;

	if (!d) {
		if (!(d = virtio_console_new(open("/dev/null", O_WRONLY | O_CLOEXEC), &fuzz_gm,
		                             &err)))
			abort();
		console_limit_init(&lim, 1000, 4096, 0);
		virtio_console_set_limit(d, &lim);
	}
	clock_ms += 100; /* 100 more bytes per input */
	console_limit_refill(&lim, clock_ms);
	fuzz_run_device(d, data, size);
	virtio_console_input(d, (const uint8_t *)"typed input", 11);
	return 0;
}
