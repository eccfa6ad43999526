/* libFuzzer: kernel file recognition (bzImage, ELF with notes, arm64
 * Image) for both architectures, then loading what was accepted into a
 * small guest memory; an accepted bzImage's decompression area must be
 * inside low RAM. */
#include "kernel.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

static uint8_t ram[64 << 20];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct guest_mem gm = {{{0, sizeof(ram), ram}}, 1};
	static struct kernel_info ki;
	struct bh_error err;
	int fd = memfd_create("bhv-fuzz-kernel", MFD_CLOEXEC);

	if (fd < 0 || write(fd, data, size) != (ssize_t)size)
		abort();
	for (int arch = ARCH_X86_64; arch <= ARCH_ARM64; arch++) {
		if (kernel_probe_arch(fd, "fuzz", BHV_KERNEL_AUTO, (enum kernel_arch)arch, &ki,
		                      &err) < 0)
			continue;
		/* An accepted bzImage decompresses inside low RAM, and the memory
		 * it is said to need covers that area: no sum wrapped. */
		if (ki.kind == KERNEL_BZIMAGE && (ki.pref_address > BZ_LOW_RAM_END ||
		                                  ki.init_size > BZ_LOW_RAM_END - ki.pref_address ||
		                                  ki.load_end < ki.pref_address + ki.init_size))
			abort();
		kernel_load(fd, &ki, &gm, 0, &err);
	}
	close(fd);
	return 0;
}
