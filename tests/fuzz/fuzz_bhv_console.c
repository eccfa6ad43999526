/* libFuzzer: virtio-console transmit and receive queues (output to
 * /dev/null, some input pending) through the real transport. */
#include "fuzz_bhv.h"

#include <fcntl.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtio_dev *d;
	struct bh_error err;

	if (!d &&
	    !(d = virtio_console_new(open("/dev/null", O_WRONLY | O_CLOEXEC), &fuzz_gm, &err)))
		abort();
	fuzz_run_device(d, data, size);
	virtio_console_input(d, (const uint8_t *)"typed input", 11);
	return 0;
}
