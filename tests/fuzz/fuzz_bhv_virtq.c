/* libFuzzer: the split virtqueue walker on rings and chains the input
 * writes, with the queue's size, ring addresses and features taken from
 * the input's first bytes. ASan catches any access outside guest memory. */
#include "virtio/virtq.h"

#include <string.h>

#define MEM (64 * 1024)

static uint8_t ram[MEM];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guest_mem gm = {{{0, MEM, ram}}, 1};
	static struct virtq_elem e;
	struct virtq vq;
	uint16_t p[4];

	if (size < sizeof(p) + 1)
		return 0;
	memcpy(p, data, sizeof(p));
	memset(ram, 0, sizeof(ram));
	memcpy(ram, data + sizeof(p) + 1, size - sizeof(p) - 1 < MEM ? size - sizeof(p) - 1 : MEM);
	virtq_reset(&vq);
	vq.size = p[0];
	vq.desc_gpa = p[1];
	vq.avail_gpa = p[2];
	vq.used_gpa = p[3];
	vq.indirect = data[sizeof(p)] & 1;
	if (virtq_start(&vq, &gm) < 0)
		return 0;
	for (int i = 0; i < 512; i++) {
		int r = virtq_pop(&vq, &gm, &e);

		if (r <= 0)
			break;
		/* The buffers must be usable: touch every byte. */
		for (unsigned j = 0; j < e.n_out + e.n_in; j++)
			memset(e.iov[j].iov_base, 0x5a, e.iov[j].iov_len);
		virtq_push(&vq, e.head, (uint32_t)e.in_len);
	}
	return 0;
}
