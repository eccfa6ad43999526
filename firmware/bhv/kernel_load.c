/* Copying a probed kernel into guest memory: straight from the file into
 * the guest's pages, each destination range checked against guest RAM. */
#include "kernel.h"

#include <errno.h>
#include <string.h>

static int copy_in(int fd, uint64_t off, uint64_t len, const struct guest_mem *gm, uint64_t gpa,
                   struct bh_error *err)
{
	void *dst = gm_ptr(gm, gpa, len);

	if (!dst)
		return bh_error(err, 0,
		                "kernel does not fit in guest memory at 0x%llx (%llu bytes): give "
		                "the guest more memory",
		                (unsigned long long)gpa, (unsigned long long)len);
	if (read_at(fd, off, dst, len) < 0)
		return bh_error(err, errno, "read kernel");
	return 0;
}

int kernel_load(int fd, const struct kernel_info *ki, const struct guest_mem *gm, uint64_t ram_base,
                struct bh_error *err)
{
	switch (ki->kind) {
	case KERNEL_BZIMAGE:
		if (copy_in(fd, ki->setup_size, ki->file_size - ki->setup_size, gm, BZ_LOAD_ADDR,
		            err) < 0)
			return -1;
		/* The kernel decompresses itself there: all of it must be RAM. */
		if (!gm_ptr(gm, ki->pref_address, ki->init_size))
			return bh_error(err, 0,
			                "kernel decompresses at 0x%llx-0x%llx (pref_address + "
			                "init_size), outside guest memory: give the guest more "
			                "memory",
			                (unsigned long long)ki->pref_address,
			                (unsigned long long)(ki->pref_address + ki->init_size));
		return 0;
	case KERNEL_ELF_PVH:
		for (int i = 0; i < ki->n_seg; i++) {
			const struct kernel_seg *s = &ki->seg[i];
			uint8_t *bss;

			if (copy_in(fd, s->offset, s->filesz, gm, s->paddr, err) < 0)
				return -1;
			bss = gm_ptr(gm, s->paddr + s->filesz, s->memsz - s->filesz);
			if (!bss && s->memsz > s->filesz)
				return bh_error(err, 0,
				                "kernel segment at 0x%llx does not fit in memory",
				                (unsigned long long)s->paddr);
			if (bss)
				memset(bss, 0, s->memsz - s->filesz);
		}
		return 0;
	case KERNEL_ARM64_IMAGE:
		return copy_in(fd, 0, ki->file_size, gm, ram_base + ki->load_offset, err);
	case KERNEL_RAW16:
	case KERNEL_RAW64:
		return copy_in(fd, 0, ki->file_size, gm, ki->entry, err);
	}
	return bh_error(err, 0, "unknown kernel kind");
}
