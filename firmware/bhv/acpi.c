/* ACPI tables for x86_64 guests, just enough for Linux to find its CPUs and
 * interrupt controller (MADT) and to power off and reboot through
 * registers the monitor traps. The FADT says "hardware-reduced" (ACPI
 * 6.5, 4.1): no SCI, no PM timer, no fixed event blocks; power-off is a
 * write of SLP_TYP|SLP_EN to the sleep control register, reboot a write of
 * the reset value to the reset register. The DSDT holds \_S5 (the type
 * written at power-off) and a pvpanic device (QEMU0001, port 0x505). */
#include "x86_boot.h"

#include <string.h>

#define ACPI_HDR 36

struct tables {
	uint8_t *base;
	uint64_t gpa, used;
};

static void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)v);
	put16(p + 2, (uint16_t)(v >> 16));
}

static void put64(uint8_t *p, uint64_t v)
{
	put32(p, (uint32_t)v);
	put32(p + 4, (uint32_t)(v >> 32));
}

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)(0 - sum);
}

/* Space for one table, 16-byte aligned; its guest address in *gpa. */
static uint8_t *alloc(struct tables *t, size_t len, uint64_t *gpa)
{
	uint8_t *p = t->base + t->used;

	*gpa = t->gpa + t->used;
	t->used += (len + 15) & ~(size_t)15;
	memset(p, 0, len);
	return p;
}

static void header(uint8_t *p, const char *sig, uint32_t len, uint8_t rev)
{
	memcpy(p, sig, 4);
	put32(p + 4, len);
	p[8] = rev;
	memcpy(p + 10, "BHVVMM", 6);
	memcpy(p + 16, "BHVTABLE", 8);
	put32(p + 24, 1);
	memcpy(p + 28, "BHV ", 4);
	put32(p + 32, 1);
}

static void seal(uint8_t *p, uint32_t len)
{
	p[9] = 0;
	p[9] = checksum(p, len);
}

/* A Generic Address Structure for one byte of I/O space. */
static void gas_io8(uint8_t *p, uint16_t port)
{
	p[0] = 1; /* SystemIO */
	p[1] = 8; /* bit width */
	p[2] = 0; /* bit offset */
	p[3] = 1; /* byte access */
	put64(p + 4, port);
}

/* AML: Name(_S5_, Package(4) {5, 0, 0, 0}), then
 * Scope(\_SB_) { Device(PEVT) { Name(_HID, "QEMU0001")
 *     Name(_CRS, ResourceTemplate() { IO(Decode16, 0x505, 0x505, 1, 1) }) } }
 * Package lengths below 64 fit in their one PkgLength byte. */
static size_t dsdt_aml(uint8_t *p)
{
	static const uint8_t s5[] = {
		0x08, '_', 'S', '5', '_',                   /* Name(_S5_, */
		0x12, 0x07, 0x04,                           /* Package(4), 7 bytes */
		0x0a, X86_ACPI_S5_TYPE, 0x00, 0x00, 0x00,   /* {5, 0, 0, 0}) */
	};
	static const uint8_t hid[] = {
		0x08, '_', 'H', 'I', 'D', 0x0d, 'Q', 'E', 'M', 'U', '0', '0', '0', '1', 0x00,
	};
	static const uint8_t crs[] = {
		0x08, '_', 'C', 'R', 'S', 0x11, 0x0d, 0x0a, 0x0a, /* Buffer(10) */
		0x47, 0x01,                                     /* IO, Decode16 */
		X86_PVPANIC_PORT & 0xff, X86_PVPANIC_PORT >> 8, /* minimum */
		X86_PVPANIC_PORT & 0xff, X86_PVPANIC_PORT >> 8, /* maximum */
		0x01, 0x01,                                     /* alignment, length */
		0x79, 0x00,                                     /* end tag */
	};
	size_t dev_len = 4 + sizeof(hid) + sizeof(crs); /* name + body */
	size_t scope_len = 4 + 3 + dev_len;             /* name + device op, pkglen */
	size_t n = 0;

	memcpy(p, s5, sizeof(s5));
	n += sizeof(s5);
	p[n++] = 0x10; /* ScopeOp */
	p[n++] = (uint8_t)(scope_len + 1);
	memcpy(p + n, "_SB_", 4);
	n += 4;
	p[n++] = 0x5b; /* ExtOpPrefix */
	p[n++] = 0x82; /* DeviceOp */
	p[n++] = (uint8_t)(dev_len + 1);
	memcpy(p + n, "PEVT", 4);
	n += 4;
	memcpy(p + n, hid, sizeof(hid));
	n += sizeof(hid);
	memcpy(p + n, crs, sizeof(crs));
	n += sizeof(crs);
	return n;
}

static uint64_t write_dsdt(struct tables *t)
{
	uint8_t aml[128];
	size_t n = dsdt_aml(aml);
	uint64_t gpa;
	uint8_t *p = alloc(t, ACPI_HDR + n, &gpa);

	header(p, "DSDT", (uint32_t)(ACPI_HDR + n), 2);
	memcpy(p + ACPI_HDR, aml, n);
	seal(p, (uint32_t)(ACPI_HDR + n));
	return gpa;
}

static uint64_t write_fadt(struct tables *t, uint64_t dsdt)
{
	uint64_t gpa;
	uint8_t *p = alloc(t, 276, &gpa);

	header(p, "FACP", 276, 6);
	put32(p + 40, (uint32_t)dsdt);
	/* IA-PC boot flags: no VGA, no MSI, no ASPM control, no CMOS RTC. */
	put16(p + 109, (1 << 2) | (1 << 3) | (1 << 4) | (1 << 5));
	/* Flags: power and sleep buttons are not fixed features, reset
	 * register supported, hardware-reduced ACPI. */
	put32(p + 112, (1 << 4) | (1 << 5) | (1 << 10) | (1 << 20));
	gas_io8(p + 116, X86_ACPI_RESET_PORT);
	p[128] = X86_ACPI_RESET_VALUE;
	p[131] = 5; /* FADT minor version: ACPI 6.5 */
	put64(p + 140, dsdt);
	gas_io8(p + 244, X86_ACPI_SLEEP_CTL_PORT);
	gas_io8(p + 256, X86_ACPI_SLEEP_STS_PORT);
	memcpy(p + 268, "BHVVMM\0\0", 8);
	seal(p, 276);
	return gpa;
}

static uint64_t write_madt(struct tables *t, int ncpus)
{
	uint32_t len = 44 + 8 * (uint32_t)ncpus + 12;
	uint64_t gpa;
	uint8_t *p = alloc(t, len, &gpa), *e = p + 44;

	header(p, "APIC", len, 5);
	put32(p + 36, (uint32_t)X86_LAPIC_ADDR);
	put32(p + 40, 1); /* PCAT_COMPAT: KVM emulates the 8259s too */
	for (int i = 0; i < ncpus; i++, e += 8) {
		e[0] = 0; /* processor local APIC */
		e[1] = 8;
		e[2] = (uint8_t)i; /* ACPI processor UID */
		e[3] = (uint8_t)i; /* APIC ID */
		put32(e + 4, 1);   /* enabled */
	}
	e[0] = 1; /* I/O APIC */
	e[1] = 12;
	e[2] = (uint8_t)ncpus; /* its ID, after the CPUs' */
	put32(e + 4, (uint32_t)X86_IOAPIC_ADDR);
	put32(e + 8, 0); /* GSI base */
	seal(p, len);
	return gpa;
}

static uint64_t write_xsdt(struct tables *t, const uint64_t *entries, int n)
{
	uint32_t len = ACPI_HDR + 8 * (uint32_t)n;
	uint64_t gpa;
	uint8_t *p = alloc(t, len, &gpa);

	header(p, "XSDT", len, 1);
	for (int i = 0; i < n; i++)
		put64(p + ACPI_HDR + 8 * i, entries[i]);
	seal(p, len);
	return gpa;
}

static void write_rsdp(uint8_t *p, uint64_t xsdt)
{
	memset(p, 0, 36);
	memcpy(p, "RSD PTR ", 8);
	memcpy(p + 9, "BHVVMM", 6);
	p[15] = 2; /* ACPI 2.0+: use the XSDT */
	put32(p + 20, 36);
	put64(p + 24, xsdt);
	p[8] = checksum(p, 20);
	p[32] = checksum(p, 36);
}

int acpi_write_tables(const struct guest_mem *gm, int ncpus, uint64_t *rsdp, struct bh_error *err)
{
	struct tables t = {gm_ptr(gm, X86_ACPI_ADDR, X86_ACPI_SIZE), X86_ACPI_ADDR, 0};
	uint64_t entries[2], dsdt, rsdp_gpa;
	uint8_t *rsdp_p;

	if (!t.base)
		return bh_error(err, 0, "guest memory too small for the ACPI tables");
	if (ncpus < 1 || ncpus > 255)
		return bh_error(err, 0, "ACPI: %d CPUs do not fit the MADT", ncpus);
	/* The RSDP first, on a 16-byte boundary in 0xe0000-0xfffff, where the
	 * kernel looks for it even without boot_params.acpi_rsdp_addr. */
	rsdp_p = alloc(&t, 36, &rsdp_gpa);
	dsdt = write_dsdt(&t);
	entries[0] = write_fadt(&t, dsdt);
	entries[1] = write_madt(&t, ncpus);
	write_rsdp(rsdp_p, write_xsdt(&t, entries, 2));
	*rsdp = rsdp_gpa;
	return 0;
}
