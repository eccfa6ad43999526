/* Recognising a kernel file before the VM exists, so that a wrong file is
 * a clear error and not a guest that never prints anything:
 *   - bzImage: Documentation/arch/x86/boot.rst, setup header at 0x1f1;
 *   - vmlinux: an x86_64 ELF executable with the PVH entry note
 *     (XEN_ELFNOTE_PHYS32_ENTRY, type 18, owner "Xen");
 *   - arm64 Image: Documentation/arch/arm64/booting.rst, 64-byte header. */
#include "kernel.h"
#include "le.h"

#include <elf.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define XEN_ELFNOTE_PHYS32_ENTRY 18
#define ELF_NOTES_MAX            (64 * 1024)
#define ARM64_IMAGE_MAGIC        0x644d5241 /* "ARM\x64" */
#define X86_LOAD_PHYSICAL_ADDR   0x1000000ULL

int read_at(int fd, uint64_t off, void *buf, uint64_t len)
{
	uint8_t *p = buf;

	while (len > 0) {
		ssize_t r = pread(fd, p, len > (1U << 30) ? (1U << 30) : len, (off_t)off);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -1;
		if (r == 0) {
			errno = EIO;
			return -1;
		}
		p += r;
		off += (uint64_t)r;
		len -= (uint64_t)r;
	}
	return 0;
}

static const char *arch_name(enum kernel_arch a)
{
	return a == ARCH_X86_64 ? "x86_64" : "arm64";
}

static int wrong_arch(const char *path, const char *what, enum kernel_arch arch,
                      struct bh_error *err)
{
	return bh_error(err, 0, "kernel %s is %s, but this bhv boots %s guests", path, what,
	                arch_name(arch));
}

static bool is_bzimage(const uint8_t *h, uint64_t size)
{
	return size >= BZ_HEADER_BYTES && get16(h + 0x1fe) == 0xaa55 &&
	       !memcmp(h + 0x202, "HdrS", 4);
}

static bool is_arm64_image(const uint8_t *h, uint64_t size)
{
	return size >= 64 && get32(h + 56) == ARM64_IMAGE_MAGIC;
}

static int probe_bzimage(const char *path, struct kernel_info *ki, struct bh_error *err)
{
	const uint8_t *h = ki->header;
	uint64_t setup_sects = h[0x1f1] ? h[0x1f1] : 4;
	uint64_t pm_size = (uint64_t)get32(h + 0x1f4) * 16;
	uint16_t version = get16(h + 0x206);

	/* 2.12 added xloadflags, whose bit 0 promises the 64-bit entry. */
	if (version < 0x020c || !(get16(h + 0x236) & 1))
		return bh_error(err, 0,
		                "kernel %s: boot protocol %u.%02u has no 64-bit entry point "
		                "(needs 2.12 and XLF_KERNEL_64)",
		                path, version >> 8, version & 0xff);
	if (!(h[0x211] & 1))
		return bh_error(err, 0, "kernel %s: not a bzImage (LOADED_HIGH is clear)", path);
	ki->kind = KERNEL_BZIMAGE;
	ki->setup_size = (setup_sects + 1) * 512;
	if (ki->setup_size > ki->file_size || pm_size > ki->file_size - ki->setup_size)
		return bh_error(err, 0,
		                "kernel %s is truncated: its header says %llu bytes, the file has "
		                "%llu",
		                path, (unsigned long long)(ki->setup_size + pm_size),
		                (unsigned long long)ki->file_size);
	ki->cmdline_size = get32(h + 0x238);
	ki->initrd_addr_max = get32(h + 0x22c);
	ki->init_size = get32(h + 0x260);
	ki->pref_address = get64(h + 0x258);
	/* A relocatable kernel decompresses at pref_address (its
	 * LOAD_PHYSICAL_ADDR); it needs init_size bytes from there. */
	if (!ki->pref_address || !h[0x234])
		ki->pref_address = X86_LOAD_PHYSICAL_ADDR;
	/* Both come from the file: their sum may wrap around 2^64 (and then
	 * look small) or land in the device hole. Checked without adding. */
	if (ki->pref_address > BZ_LOW_RAM_END || ki->init_size > BZ_LOW_RAM_END - ki->pref_address)
		return bh_error(err, 0,
		                "kernel %s: it decompresses at 0x%llx and needs 0x%x bytes there "
		                "(pref_address + init_size), past the end of guest RAM below "
		                "4 GiB (0x%llx)",
		                path, (unsigned long long)ki->pref_address, ki->init_size,
		                BZ_LOW_RAM_END);
	ki->load_end = BZ_LOAD_ADDR + (ki->file_size - ki->setup_size);
	if (ki->pref_address + ki->init_size > ki->load_end)
		ki->load_end = ki->pref_address + ki->init_size;
	return 0;
}

static int pvh_entry(int fd, const char *path, const Elf64_Phdr *ph, struct kernel_info *ki,
                     struct bh_error *err)
{
	uint8_t *notes;
	uint64_t off = 0;
	int found = 0;

	if (ph->p_filesz > ELF_NOTES_MAX)
		return 0;
	notes = malloc(ph->p_filesz ? ph->p_filesz : 1);
	if (!notes)
		return bh_error(err, ENOMEM, "kernel %s", path);
	if (read_at(fd, ph->p_offset, notes, ph->p_filesz) < 0) {
		free(notes);
		return bh_error(err, errno, "read kernel %s notes", path);
	}
	/* Each note: namesz, descsz, type, then name and desc, 4-aligned. */
	while (!found && ph->p_filesz - off >= 12) {
		uint64_t namesz = get32(notes + off), descsz = get32(notes + off + 4);
		uint32_t type = get32(notes + off + 8);
		uint64_t name_off = off + 12, desc_off = name_off + ((namesz + 3) & ~3ULL);

		if (desc_off > ph->p_filesz || ((descsz + 3) & ~3ULL) > ph->p_filesz - desc_off)
			break;
		if (type == XEN_ELFNOTE_PHYS32_ENTRY && namesz == 4 &&
		    !memcmp(notes + name_off, "Xen", 4) && (descsz == 4 || descsz == 8)) {
			ki->entry = get32(notes + desc_off);
			found = 1;
		}
		off = desc_off + ((descsz + 3) & ~3ULL);
	}
	free(notes);
	return found;
}

static int add_segment(const char *path, const Elf64_Phdr *ph, struct kernel_info *ki,
                       struct bh_error *err)
{
	struct kernel_seg *s;

	if (ki->n_seg == KERNEL_MAX_SEGS)
		return bh_error(err, 0, "kernel %s: more than %d loadable segments", path,
		                KERNEL_MAX_SEGS);
	if (ph->p_offset > ki->file_size || ph->p_filesz > ki->file_size - ph->p_offset)
		return bh_error(err, 0, "kernel %s is truncated: a segment ends past the file",
		                path);
	if (ph->p_filesz > ph->p_memsz || ph->p_paddr + ph->p_memsz < ph->p_paddr ||
	    ph->p_paddr < BZ_LOAD_ADDR)
		return bh_error(err, 0, "kernel %s: a segment has impossible addresses", path);
	s = &ki->seg[ki->n_seg++];
	*s = (struct kernel_seg){ph->p_offset, ph->p_paddr, ph->p_filesz, ph->p_memsz};
	if (s->paddr + s->memsz > ki->load_end)
		ki->load_end = s->paddr + s->memsz;
	return 0;
}

static int probe_elf(int fd, const char *path, enum kernel_arch arch, struct kernel_info *ki,
                     struct bh_error *err)
{
	Elf64_Ehdr eh;
	Elf64_Phdr ph;
	int r, entry = 0;

	if (ki->file_size < sizeof(eh) || read_at(fd, 0, &eh, sizeof(eh)) < 0)
		return bh_error(err, 0, "kernel %s is truncated: no complete ELF header", path);
	if (eh.e_ident[EI_CLASS] == ELFCLASS64 && eh.e_machine == EM_AARCH64)
		return wrong_arch(path, "an arm64 ELF file (boot the Image instead)", arch, err);
	if (eh.e_ident[EI_CLASS] != ELFCLASS64 || eh.e_ident[EI_DATA] != ELFDATA2LSB ||
	    eh.e_machine != EM_X86_64)
		return bh_error(err, 0, "kernel %s is an ELF file but not x86_64", path);
	if (arch != ARCH_X86_64)
		return wrong_arch(path, "an x86_64 vmlinux", arch, err);
	if (eh.e_type != ET_EXEC || eh.e_phentsize != sizeof(ph) || eh.e_phnum == 0 ||
	    eh.e_phnum > 64)
		return bh_error(err, 0, "kernel %s: not an executable ELF with program headers",
		                path);
	ki->kind = KERNEL_ELF_PVH;
	for (int i = 0; i < eh.e_phnum; i++) {
		if (read_at(fd, eh.e_phoff + (uint64_t)i * sizeof(ph), &ph, sizeof(ph)) < 0)
			return bh_error(err, 0, "kernel %s is truncated: program header %d", path,
			                i);
		if (ph.p_type == PT_LOAD && ph.p_memsz && add_segment(path, &ph, ki, err) < 0)
			return -1;
		if (ph.p_type == PT_NOTE && !entry) {
			if ((r = pvh_entry(fd, path, &ph, ki, err)) < 0)
				return -1;
			entry = r;
		}
	}
	if (!ki->n_seg)
		return bh_error(err, 0, "kernel %s: no loadable segment", path);
	if (!entry)
		return bh_error(err, 0,
		                "kernel %s: no PVH entry note (XEN_ELFNOTE_PHYS32_ENTRY); build it "
		                "with CONFIG_PVH or boot the bzImage",
		                path);
	return 0;
}

static int probe_arm64(const char *path, struct kernel_info *ki, struct bh_error *err)
{
	const uint8_t *h = ki->header;
	uint64_t text_offset = get64(h + 8), image_size = get64(h + 16), flags = get64(h + 24);

	if (flags & 1)
		return bh_error(err, 0, "kernel %s is a big-endian arm64 Image", path);
	/* Before 3.17 image_size was 0 and text_offset meant 0x80000. */
	if (image_size == 0) {
		text_offset = 0x80000;
		image_size = ki->file_size;
	}
	if (image_size < ki->file_size || text_offset > (1ULL << 30) || image_size > (1ULL << 32))
		return bh_error(err, 0, "kernel %s: the Image header has impossible sizes", path);
	ki->kind = KERNEL_ARM64_IMAGE;
	ki->load_offset = text_offset;
	ki->load_end = text_offset + image_size;
	return 0;
}

static int probe_raw(const char *path, enum bhv_kernel_format fmt, enum kernel_arch arch,
                     struct kernel_info *ki, struct bh_error *err)
{
	if (arch != ARCH_X86_64)
		return bh_error(err, 0, "kernel %s: raw test guests exist only on x86_64", path);
	if (fmt == BHV_KERNEL_RAW16) {
		if (ki->file_size > RAW16_MAX_SIZE)
			return bh_error(
			    err, 0, "kernel %s: a real-mode guest must fit below 640 KiB", path);
		ki->kind = KERNEL_RAW16;
		ki->entry = RAW16_LOAD_ADDR;
	} else {
		ki->kind = KERNEL_RAW64;
		ki->entry = RAW64_LOAD_ADDR;
	}
	ki->load_end = ki->entry + ki->file_size;
	return 0;
}

int kernel_probe_arch(int fd, const char *path, enum bhv_kernel_format fmt, enum kernel_arch arch,
                      struct kernel_info *ki, struct bh_error *err)
{
	const uint8_t *h = ki->header;
	struct stat st;

	memset(ki, 0, sizeof(*ki));
	if (fstat(fd, &st) < 0)
		return bh_error(err, errno, "stat kernel %s", path);
	if (!S_ISREG(st.st_mode))
		return bh_error(err, 0, "kernel %s is not a regular file", path);
	ki->file_size = (uint64_t)st.st_size;
	if (ki->file_size == 0)
		return bh_error(err, 0, "kernel %s is empty", path);
	if (fmt != BHV_KERNEL_AUTO)
		return probe_raw(path, fmt, arch, ki, err);
	if (read_at(fd, 0, ki->header,
	            ki->file_size < BZ_HEADER_BYTES ? ki->file_size : BZ_HEADER_BYTES) < 0)
		return bh_error(err, errno, "read kernel %s", path);
	if (!memcmp(h, ELFMAG, SELFMAG) && ki->file_size >= SELFMAG)
		return probe_elf(fd, path, arch, ki, err);
	if (is_bzimage(h, ki->file_size))
		return arch == ARCH_X86_64 ? probe_bzimage(path, ki, err)
		                           : wrong_arch(path, "an x86 bzImage", arch, err);
	if (is_arm64_image(h, ki->file_size))
		return arch == ARCH_ARM64 ? probe_arm64(path, ki, err)
		                          : wrong_arch(path, "an arm64 Image", arch, err);
	if (ki->file_size >= 2 && h[0] == 0x1f && h[1] == 0x8b)
		return bh_error(err, 0,
		                "kernel %s is gzip-compressed: give the uncompressed Image or the "
		                "bzImage",
		                path);
	if (ki->file_size >= 0x206 && !memcmp(h + 0x202, "HdrS", 4))
		return bh_error(err, 0, "kernel %s is truncated: a bzImage header without its body",
		                path);
	return bh_error(
	    err, 0, "kernel %s is not a kernel: no bzImage header, ELF or arm64 Image magic", path);
}
