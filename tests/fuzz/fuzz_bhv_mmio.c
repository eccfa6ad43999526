/* libFuzzer: sequences of register accesses to a virtio-mmio device
 * (offset, size, direction, value), with the ring memory also from the
 * input: the transport's state machine under any order of events. */
#include "fuzz_bhv.h"

#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct virtio_dev *d;
	struct bh_error err;
	size_t i = 0;

	if (!d && !(d = virtio_rng_new(&fuzz_gm, &err)))
		abort();
	memset(fuzz_ram, 0, sizeof(fuzz_ram));
	if (size > 4096)
		memcpy(fuzz_ram, data + 4096, size - 4096 < FUZZ_MEM ? size - 4096 : FUZZ_MEM);
	fuzz_w32(d, VIRTIO_MMIO_STATUS, 0);
	/* Each access: 2 bytes offset, 1 byte size and direction, 4 value. */
	while (i + 7 <= size && i < 4096) {
		uint16_t off = (uint16_t)((data[i] | data[i + 1] << 8) & 0x1ff);
		uint8_t how = data[i + 2];
		uint8_t v[8] = {data[i + 3], data[i + 4], data[i + 5], data[i + 6]};
		uint32_t len = 1U << (how & 3);

		if (how & 4)
			virtio_mmio_write(d, off, v, len);
		else
			virtio_mmio_read(d, off, v, len);
		i += 7;
	}
	return 0;
}
