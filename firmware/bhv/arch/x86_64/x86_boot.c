/* Boot structures for x86_64 guests: the zero page of the Linux boot
 * protocol (Documentation/arch/x86/boot.rst, zero-page.rst), the PVH
 * start info (xen/include/public/arch-x86/hvm/start_info.h), e820, GDT
 * and page tables. Offsets are the documented ones, written byte by byte
 * so that no host struct layout is assumed. */
#include "x86_boot.h"
#include "le.h"

#include <string.h>

_Static_assert(BZ_LOW_RAM_END == X86_MMIO_GAP_START,
               "the bzImage probe bounds the kernel by the end of low RAM");

void x86_ram_regions(uint64_t mem, struct guest_mem *gm)
{
	memset(gm, 0, sizeof(*gm));
	gm->r[0].gpa = 0;
	gm->r[0].size = mem < X86_MMIO_GAP_START ? mem : X86_MMIO_GAP_START;
	gm->n = 1;
	if (mem > X86_MMIO_GAP_START) {
		gm->r[1].gpa = X86_MMIO_GAP_END;
		gm->r[1].size = mem - X86_MMIO_GAP_START;
		gm->n = 2;
	}
}

int x86_e820(const struct guest_mem *gm, struct e820_entry *e, int max)
{
	int n = 0;

	if (max < 5)
		return 0;
	/* Conventional memory, then the EBDA and BIOS area the kernel must
	 * not use (the ACPI tables live there), then RAM above 1 MiB. */
	e[n++] = (struct e820_entry){0, X86_EBDA_ADDR, E820_RAM};
	e[n++] = (struct e820_entry){X86_EBDA_ADDR, 0xa0000 - X86_EBDA_ADDR, E820_RESERVED};
	e[n++] = (struct e820_entry){X86_ACPI_ADDR, X86_HIMEM_ADDR - X86_ACPI_ADDR, E820_RESERVED};
	e[n++] = (struct e820_entry){X86_HIMEM_ADDR, gm->r[0].size - X86_HIMEM_ADDR, E820_RAM};
	if (gm->n > 1)
		e[n++] = (struct e820_entry){gm->r[1].gpa, gm->r[1].size, E820_RAM};
	return n;
}

int x86_place_initrd(const struct guest_mem *gm, uint64_t size, uint64_t load_end,
                     uint64_t max_addr, uint64_t *addr)
{
	uint64_t top = gm->r[0].size;

	if (max_addr && max_addr < top)
		top = max_addr + 1;
	if (size > top)
		return -1;
	*addr = (top - size) & ~0xfffULL;
	return *addr >= load_end ? 0 : -1;
}

int x86_write_cmdline(const struct guest_mem *gm, const char *cmdline, uint64_t max,
                      struct bh_error *err)
{
	uint64_t len = strlen(cmdline);

	if (max == 0 || max > X86_CMDLINE_MAX - 1)
		max = X86_CMDLINE_MAX - 1;
	if (len > max)
		return bh_error(err, 0, "command line is %llu bytes; the kernel takes at most %llu",
		                (unsigned long long)len, (unsigned long long)max);
	if (gm_write(gm, X86_CMDLINE_ADDR, cmdline, len + 1) < 0)
		return bh_error(err, 0, "guest memory too small for the command line");
	return 0;
}

int x86_write_zero_page(const struct guest_mem *gm, const struct kernel_info *ki,
                        uint64_t initrd_addr, uint64_t initrd_size, uint64_t rsdp,
                        struct bh_error *err)
{
	uint8_t *zp = gm_ptr(gm, X86_ZERO_PAGE_ADDR, 4096);
	struct e820_entry e[E820_MAX];
	uint64_t hdr_end;
	int n;

	if (!zp)
		return bh_error(err, 0, "guest memory too small for the zero page");
	memset(zp, 0, 4096);
	/* The setup header runs from 0x1f1 to the end given by the jump
	 * instruction at 0x200 (boot.rst, "The Real-Mode Kernel Header"). */
	hdr_end = 0x202 + ki->header[0x201];
	if (hdr_end > BZ_HEADER_BYTES)
		hdr_end = BZ_HEADER_BYTES;
	memcpy(zp + 0x1f1, ki->header + 0x1f1, hdr_end - 0x1f1);
	put16(zp + 0x1fa, 0xffff);                        /* vid_mode: normal */
	zp[0x210] = 0xff;                                 /* type_of_loader: undefined */
	zp[0x211] |= 0x80;                                /* loadflags: CAN_USE_HEAP */
	put16(zp + 0x224, 0xfe00);                        /* heap_end_ptr */
	put32(zp + 0x228, (uint32_t)X86_CMDLINE_ADDR);    /* cmd_line_ptr */
	put32(zp + 0x218, (uint32_t)initrd_addr);         /* ramdisk_image */
	put32(zp + 0x21c, (uint32_t)initrd_size);         /* ramdisk_size */
	put32(zp + 0x0c0, (uint32_t)(initrd_addr >> 32)); /* ext_ramdisk_image */
	put32(zp + 0x0c4, (uint32_t)(initrd_size >> 32)); /* ext_ramdisk_size */
	put64(zp + 0x070, rsdp);                          /* acpi_rsdp_addr */
	n = x86_e820(gm, e, E820_MAX);
	zp[0x1e8] = (uint8_t)n; /* e820_entries; the table is at 0x2d0 */
	for (int i = 0; i < n; i++) {
		put64(zp + 0x2d0 + 20 * i, e[i].addr);
		put64(zp + 0x2d0 + 20 * i + 8, e[i].size);
		put32(zp + 0x2d0 + 20 * i + 16, e[i].type);
	}
	return 0;
}

int x86_write_pvh_info(const struct guest_mem *gm, uint64_t initrd_addr, uint64_t initrd_size,
                       uint64_t rsdp, struct bh_error *err)
{
	uint8_t *si = gm_ptr(gm, X86_PVH_INFO_ADDR, 56);
	uint8_t *mod = gm_ptr(gm, X86_PVH_MODS_ADDR, 32);
	uint8_t *map = gm_ptr(gm, X86_PVH_MMAP_ADDR, 24 * E820_MAX);
	struct e820_entry e[E820_MAX];
	int n = x86_e820(gm, e, E820_MAX);

	if (!si || !mod || !map)
		return bh_error(err, 0, "guest memory too small for the PVH start info");
	memset(si, 0, 56);
	put32(si, 0x336ec578); /* XEN_HVM_START_MAGIC_VALUE */
	put32(si + 4, 1);      /* version 1: has the memory map */
	put32(si + 12, initrd_size ? 1 : 0);
	put64(si + 16, X86_PVH_MODS_ADDR);
	put64(si + 24, X86_CMDLINE_ADDR);
	put64(si + 32, rsdp);
	put64(si + 40, X86_PVH_MMAP_ADDR);
	put32(si + 48, (uint32_t)n);
	memset(mod, 0, 32);
	put64(mod, initrd_addr);
	put64(mod + 8, initrd_size);
	for (int i = 0; i < n; i++) {
		put64(map + 24 * i, e[i].addr);
		put64(map + 24 * i + 8, e[i].size);
		put32(map + 24 * i + 16, e[i].type);
		put32(map + 24 * i + 20, 0);
	}
	return 0;
}

int x86_write_gdt(const struct guest_mem *gm, bool long_mode, uint64_t gdt[5])
{
	uint8_t *p = gm_ptr(gm, X86_GDT_ADDR, 5 * 8);
	uint8_t *idt = gm_ptr(gm, X86_IDT_ADDR, 8);

	if (!p || !idt)
		return -1;
	gdt[0] = 0;
	gdt[1] = 0;
	/* Flat 4 GiB segments: G=1, P=1, S=1; code execute/read (L=1 for
	 * long mode, D=1 otherwise), data read/write, then a busy 32-bit TSS
	 * (PVH asks for one; VMX refuses to enter without a usable TR). */
	gdt[2] = long_mode ? 0x00af9b000000ffffULL : 0x00cf9b000000ffffULL;
	gdt[3] = 0x00cf93000000ffffULL;
	gdt[4] = 0x00008b0000000067ULL;
	for (int i = 0; i < 5; i++)
		put64(p + 8 * i, gdt[i]);
	memset(idt, 0, 8);
	return 0;
}

int x86_write_reset_vector(const struct guest_mem *gm)
{
	/* clang-format off */
	static const uint8_t stub[] = {
		0xb0, 0xfe,       /* mov $0xfe, %al */
		0xe6, 0x64,       /* out %al, $0x64: i8042 "pulse reset" */
		0xf4,             /* hlt */
		0xeb, 0xfd,       /* jmp back to hlt */
	};
	/* clang-format on */

	return gm_write(gm, X86_RESET_VECTOR, stub, sizeof(stub));
}

int x86_write_page_tables(const struct guest_mem *gm)
{
	uint8_t *pml4 = gm_ptr(gm, X86_PML4_ADDR, 4096);
	uint8_t *pdpt = gm_ptr(gm, X86_PDPT_ADDR, 4096);
	uint8_t *pd = gm_ptr(gm, X86_PD_ADDR, 4 * 4096);

	if (!pml4 || !pdpt || !pd)
		return -1;
	memset(pml4, 0, 4096);
	memset(pdpt, 0, 4096);
	put64(pml4, X86_PDPT_ADDR | 0x3); /* present, writable */
	for (uint64_t i = 0; i < 4; i++)
		put64(pdpt + 8 * i, (X86_PD_ADDR + 4096 * i) | 0x3);
	/* 2048 2 MiB pages: present, writable, page size. */
	for (uint64_t i = 0; i < 2048; i++)
		put64(pd + 8 * i, (i << 21) | 0x83);
	return 0;
}
