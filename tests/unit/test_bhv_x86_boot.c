/* What an x86_64 guest finds in memory at boot: the RAM layout and e820
 * map, the zero page of the boot protocol, the PVH start info, GDT, page
 * tables, the reset-vector stub, and ACPI tables whose checksums, pointers
 * and AML lengths are all consistent. */
#include "tap.h"

#include "arch/x86_64/x86_boot.h"

#include <stdlib.h>
#include <string.h>

#define MIB (1ULL << 20)

static struct guest_mem gm;
static uint8_t *ram;
static struct bh_error err;

static uint16_t get16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}

static uint32_t get32(const uint8_t *p)
{
	return get16(p) | (uint32_t)get16(p + 2) << 16;
}

static uint64_t get64(const uint8_t *p)
{
	return get32(p) | (uint64_t)get32(p + 4) << 32;
}

static uint8_t sum(const uint8_t *p, size_t n)
{
	uint8_t s = 0;

	while (n--)
		s = (uint8_t)(s + *p++);
	return s;
}

static void test_layout(void)
{
	struct guest_mem big;
	struct e820_entry e[E820_MAX];
	int n;

	x86_ram_regions(128 * MIB, &gm);
	ok(gm.n == 1 && gm.r[0].gpa == 0 && gm.r[0].size == 128 * MIB,
	   "128 MiB: one region from 0");
	x86_ram_regions(4096 * MIB, &big);
	ok(big.n == 2 && big.r[0].size == X86_MMIO_GAP_START && big.r[1].gpa == X86_MMIO_GAP_END &&
	       big.r[0].size + big.r[1].size == 4096 * MIB,
	   "4 GiB: RAM below the 32-bit hole and the rest above 4 GiB");
	n = x86_e820(&big, e, E820_MAX);
	ok(n == 5 && e[0].addr == 0 && e[0].size == X86_EBDA_ADDR && e[0].type == E820_RAM &&
	       e[2].addr == X86_ACPI_ADDR && e[2].type == E820_RESERVED &&
	       e[3].addr == X86_HIMEM_ADDR && e[3].addr + e[3].size == X86_MMIO_GAP_START &&
	       e[4].addr == X86_MMIO_GAP_END,
	   "e820: low RAM, EBDA and BIOS area reserved, RAM above 1 MiB, RAM above 4 GiB");
}

static void test_initrd(void)
{
	uint64_t a;

	ok(x86_place_initrd(&gm, 10 * MIB, 40 * MIB, 0x7fffffff, &a) == 0 &&
	       a + 10 * MIB <= 128 * MIB && a >= 40 * MIB && !(a & 0xfff),
	   "the initrd goes high, page-aligned, above the kernel");
	ok(x86_place_initrd(&gm, 100 * MIB, 40 * MIB, 0x7fffffff, &a) < 0,
	   "an initrd that would overlap the kernel does not fit");
	ok(x86_place_initrd(&gm, 1 * MIB, 40 * MIB, 64 * MIB - 1, &a) == 0 && a + MIB <= 64 * MIB,
	   "initrd_addr_max caps the address");
	ok(x86_place_initrd(&gm, ~0ULL, 0, 0, &a) < 0, "a size near 2^64 does not fit");
}

static void test_zero_page(void)
{
	struct kernel_info ki;
	uint8_t *zp = ram + X86_ZERO_PAGE_ADDR;

	memset(&ki, 0, sizeof(ki));
	ki.header[0x201] = 0x66;
	memcpy(ki.header + 0x202, "HdrS", 4);
	ki.header[0x211] = 1;
	ki.header[0x238] = 0xff;
	ok(x86_write_zero_page(&gm, &ki, 0x5000000, 0x123456, 0xe0000, &err) == 0,
	   "the zero page is written");
	ok(!memcmp(zp + 0x202, "HdrS", 4) && zp[0x238] == 0xff && zp[0x210] == 0xff &&
	       (zp[0x211] & 0x81) == 0x81,
	   "setup header copied, type_of_loader set, LOADED_HIGH kept, CAN_USE_HEAP set");
	ok(get32(zp + 0x228) == X86_CMDLINE_ADDR && get32(zp + 0x218) == 0x5000000 &&
	       get32(zp + 0x21c) == 0x123456 && get64(zp + 0x70) == 0xe0000,
	   "command line, initrd and RSDP addresses");
	ok(zp[0x1e8] == 4 && get64(zp + 0x2d0 + 3 * 20) == X86_HIMEM_ADDR &&
	       get32(zp + 0x2d0 + 3 * 20 + 16) == E820_RAM,
	   "the e820 table");
	ok(x86_write_cmdline(&gm, "console=ttyS0", 2047, &err) == 0 &&
	       !strcmp((char *)ram + X86_CMDLINE_ADDR, "console=ttyS0"),
	   "the command line is written with its NUL");
	{
		char long_line[3000];

		memset(long_line, 'x', sizeof(long_line) - 1);
		long_line[sizeof(long_line) - 1] = 0;
		ok(x86_write_cmdline(&gm, long_line, 2047, &err) < 0 &&
		       strstr(err.msg, "at most 2047"),
		   "a command line over the kernel's limit: %s", err.msg);
	}
}

static void test_pvh(void)
{
	uint8_t *si = ram + X86_PVH_INFO_ADDR, *mod = ram + X86_PVH_MODS_ADDR;
	uint8_t *map = ram + X86_PVH_MMAP_ADDR;

	ok(x86_write_pvh_info(&gm, 0x6000000, 4096, 0xe0000, &err) == 0, "the PVH start info");
	ok(get32(si) == 0x336ec578 && get32(si + 4) == 1 && get32(si + 12) == 1 &&
	       get64(si + 16) == X86_PVH_MODS_ADDR && get64(si + 24) == X86_CMDLINE_ADDR &&
	       get64(si + 32) == 0xe0000 && get64(si + 40) == X86_PVH_MMAP_ADDR &&
	       get32(si + 48) == 4,
	   "magic, version 1, one module, command line, RSDP, memory map");
	ok(get64(mod) == 0x6000000 && get64(mod + 8) == 4096, "the module is the initrd");
	ok(get64(map + 3 * 24) == X86_HIMEM_ADDR && get32(map + 3 * 24 + 16) == E820_RAM,
	   "the memory map matches e820");
	x86_write_pvh_info(&gm, 0, 0, 0xe0000, &err);
	ok(get32(si + 12) == 0, "no initrd, no module");
}

static void test_cpu_tables(void)
{
	uint64_t gdt[5];

	ok(x86_write_gdt(&gm, true, gdt) == 0 && gdt[2] == 0x00af9b000000ffffULL &&
	       get64(ram + X86_GDT_ADDR + X86_CODE_SEL) == gdt[2] &&
	       get64(ram + X86_GDT_ADDR + X86_DATA_SEL) == 0x00cf93000000ffffULL,
	   "long-mode GDT: 64-bit code at 0x10, data at 0x18 (boot protocol)");
	ok(x86_write_gdt(&gm, false, gdt) == 0 && gdt[2] == 0x00cf9b000000ffffULL &&
	       ((gdt[4] >> 40) & 0xf) == 0xb,
	   "PVH GDT: 32-bit code, and a busy TSS");
	ok(x86_write_page_tables(&gm) == 0 && get64(ram + X86_PML4_ADDR) == (X86_PDPT_ADDR | 3) &&
	       get64(ram + X86_PDPT_ADDR + 24) == ((X86_PD_ADDR + 3 * 4096) | 3) &&
	       get64(ram + X86_PD_ADDR + 8 * 2047) == ((2047ULL << 21) | 0x83),
	   "identity page tables cover 4 GiB in 2 MiB pages");
	ok(x86_write_reset_vector(&gm) == 0 && ram[X86_RESET_VECTOR] == 0xb0 &&
	       ram[X86_RESET_VECTOR + 1] == 0xfe && ram[X86_RESET_VECTOR + 3] == 0x64,
	   "the reset vector pulses the i8042 reset line");
}

/* A table at gpa with a valid checksum and the given signature. */
static const uint8_t *table(uint64_t gpa, const char *sig)
{
	const uint8_t *t = gm_ptr(&gm, gpa, 36);

	if (!t || memcmp(t, sig, 4) || !gm_ptr(&gm, gpa, get32(t + 4)) || sum(t, get32(t + 4)))
		return NULL;
	return t;
}

static size_t pkglen(const uint8_t *p, size_t *bytes)
{
	if (p[0] >> 6 == 0) {
		*bytes = 1;
		return p[0] & 0x3f;
	}
	*bytes = (p[0] >> 6) + 1;
	return (p[0] & 0xf) | (size_t)p[1] << 4 | (*bytes > 2 ? (size_t)p[2] << 12 : 0);
}

/* Walks the DSDT: Name(_S5_), then one Scope whose PkgLength must end
 * exactly at the table's end, holding Devices whose lengths add up. */
static int check_aml(const uint8_t *aml, size_t len, int *devices)
{
	size_t i = 0, n, b, end;

	if (len < 13 || aml[0] != 0x08 || memcmp(aml + 1, "_S5_", 4) || aml[5] != 0x12)
		return -1;
	i = 6 + pkglen(aml + 6, &b);
	if (i >= len || aml[i] != 0x10)
		return -1;
	n = pkglen(aml + i + 1, &b);
	if (i + 1 + n != len || memcmp(aml + i + 1 + b, "_SB_", 4))
		return -1;
	end = len;
	i = i + 1 + b + 4;
	*devices = 0;
	while (i < end) {
		if (aml[i] != 0x5b || aml[i + 1] != 0x82)
			return -1;
		n = pkglen(aml + i + 2, &b);
		i += 2 + n;
		(*devices)++;
	}
	return i == end ? 0 : -1;
}

static void test_acpi(void)
{
	struct acpi_devices devs = {.com1 = true, .ged_gsi = X86_GED_GSI, .n_virtio = 8};
	const uint8_t *rsdp, *xsdt, *fadt, *madt, *dsdt;
	uint64_t addr;
	int devices = 0, r;

	for (int i = 0; i < 8; i++) {
		devs.virtio_base[i] = X86_VIRTIO_BASE + 0x1000ULL * i;
		devs.virtio_irq[i] = 5 + (unsigned)i;
	}
	ok(acpi_write_tables(&gm, 255, &devs, &addr, &err) == 0 && addr == X86_ACPI_ADDR,
	   "ACPI tables for 255 CPUs and 8 virtio devices; the RSDP where the kernel scans");
	rsdp = ram + addr;
	ok(!memcmp(rsdp, "RSD PTR ", 8) && rsdp[15] == 2 && !sum(rsdp, 20) && !sum(rsdp, 36),
	   "RSDP: revision 2, both checksums");
	xsdt = table(get64(rsdp + 24), "XSDT");
	ok(xsdt && get32(xsdt + 4) == 36 + 16, "XSDT: valid, two entries");
	fadt = xsdt ? table(get64(xsdt + 36), "FACP") : NULL;
	madt = xsdt ? table(get64(xsdt + 44), "APIC") : NULL;
	ok(fadt && get32(fadt + 4) == 276 && fadt[8] == 6, "FADT: valid, revision 6, 276 bytes");
	ok(fadt && (get32(fadt + 112) & (1 << 20)) && (get32(fadt + 112) & (1 << 10)) &&
	       fadt[116] == 1 && get64(fadt + 120) == X86_ACPI_RESET_PORT &&
	       fadt[128] == X86_ACPI_RESET_VALUE,
	   "FADT: hardware-reduced, reset register in I/O space");
	ok(fadt && get64(fadt + 244 + 4) == X86_ACPI_SLEEP_CTL_PORT &&
	       get64(fadt + 256 + 4) == X86_ACPI_SLEEP_STS_PORT,
	   "FADT: sleep control and status registers");
	dsdt = fadt ? table(get64(fadt + 140), "DSDT") : NULL;
	ok(dsdt && get32(fadt + 40) == get64(fadt + 140), "DSDT: valid, both pointers agree");
	r = dsdt ? check_aml(dsdt + 36, get32(dsdt + 4) - 36, &devices) : -1;
	ok(r == 0 && devices == 12,
	   "DSDT: \\_S5 then \\_SB_ with COM1, pvpanic, GED, power button and 8 virtio devices, "
	   "lengths consistent (%d)",
	   devices);
	ok(dsdt && memmem(dsdt, get32(dsdt + 4), "LNRO0005", 8) &&
	       memmem(dsdt, get32(dsdt + 4), "PNP0501", 7) &&
	       memmem(dsdt, get32(dsdt + 4), "QEMU0001", 8),
	   "DSDT: the hardware IDs Linux matches");
	ok(dsdt && memmem(dsdt, get32(dsdt + 4), "ACPI0013", 8) &&
	       memmem(dsdt, get32(dsdt + 4), "PNP0C0C", 7) &&
	       memmem(dsdt, get32(dsdt + 4), "\x14\x13_EVT\x01\x86\x5c\x2e_SB_PWRB\x0a\x80", 20),
	   "DSDT: a Generic Event Device whose _EVT notifies the power button");
	ok(madt && get32(madt + 4) == 44 + 8 * 255 + 12 && madt[44] == 0 &&
	       madt[44 + 8 * 254 + 3] == 254 && madt[44 + 8 * 255] == 1 &&
	       get32(madt + 44 + 8 * 255 + 4) == X86_IOAPIC_ADDR,
	   "MADT: one local APIC per CPU, then the IOAPIC");
	ok(acpi_write_tables(&gm, 0, &devs, &addr, &err) < 0 &&
	       acpi_write_tables(&gm, 256, &devs, &addr, &err) < 0,
	   "0 or 256 CPUs are refused");
	devs.com1 = false;
	devs.ged_gsi = 0;
	devs.n_virtio = 0;
	ok(acpi_write_tables(&gm, 1, &devs, &addr, &err) == 0 &&
	       (dsdt = table(
	            get64(table(get64(table(get64(ram + addr + 24), "XSDT") + 36), "FACP") + 140),
	            "DSDT")) &&
	       check_aml(dsdt + 36, get32(dsdt + 4) - 36, &devices) == 0 && devices == 1,
	   "a DSDT with pvpanic only");
}

int main(void)
{
	ram = calloc(1, 128 * MIB);
	test_layout();
	gm.r[0].hva = ram;
	test_initrd();
	test_zero_page();
	test_pvh();
	test_cpu_tables();
	test_acpi();
	free(ram);
	return done();
}
