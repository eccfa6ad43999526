/* libFuzzer: virtio-blk requests (headers, data layouts, sectors, types)
 * on a 64-sector disk in a memfd, through the real transport and queue. */
#include "fuzz_bhv.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtio_dev *d;
	static int fd = -1;
	struct bh_error err;

	if (!d) {
		fd = memfd_create("bhv-fuzz-disk", MFD_CLOEXEC);
		if (fd < 0 || ftruncate(fd, 64 * 512) < 0)
			abort();
		d = virtio_blk_new(fd, false, "fuzz", &fuzz_gm, &err);
		if (!d)
			abort();
	}
	fuzz_run_device(d, data, size);
	return 0;
}
