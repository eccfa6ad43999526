/* libFuzzer: virtio-rng requests through the real transport and queue. */
#include "fuzz_bhv.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtio_dev *d;
	struct bh_error err;

	if (!d && !(d = virtio_rng_new(&fuzz_gm, &err)))
		abort();
	fuzz_run_device(d, data, size);
	return 0;
}
