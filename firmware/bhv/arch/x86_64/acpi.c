/* ACPI tables for x86_64 guests, just enough for Linux to find its CPUs and
 * interrupt controller (MADT) and to power off and reboot through
 * registers the monitor traps, and to find its devices (DSDT). The FADT says "hardware-reduced"
 * (ACPI 6.5, 4.1): no SCI, no PM timer, no fixed event blocks; power-off is a write of
 * SLP_TYP|SLP_EN to the sleep control register, reboot a write of the reset value to the reset
 * register. Without a legacy PIC the kernel maps no ISA interrupt by itself, so every device with
 * an interrupt is described in the DSDT (COM1, the virtio-mmio devices), with \_S5 (the type
 * written at power-off) and a pvpanic device (QEMU0001, port 0x505). */
#include "x86_boot.h"
#include "le.h"

#include <stdbool.h>
#include <string.h>

#define ACPI_HDR 36
#define AML_MAX  2048

struct tables {
	uint8_t *base;
	uint64_t gpa, used;
};

static uint8_t checksum(const uint8_t *p, size_t len)
{
	uint8_t sum = 0;

	for (size_t i = 0; i < len; i++)
		sum = (uint8_t)(sum + p[i]);
	return (uint8_t)(0 - sum);
}

/* Space for one table, 16-byte aligned; its guest address in *gpa. The
 * tables are bounded (a DSDT of at most AML_MAX bytes, a MADT of at most
 * 255 CPUs: under 8 KiB in all), far below X86_ACPI_SIZE. */
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

/* A small AML writer: enough for Name, Package, Scope, Device and
 * resource-template buffers (ACPI 6.5, 20.2). Objects are built inside
 * out: the body first, then the opcode and PkgLength in front of it. */
struct aml {
	uint8_t b[AML_MAX];
	size_t n;
	bool overflow;
};

static void emit(struct aml *a, const void *p, size_t len)
{
	if (a->n + len > sizeof(a->b)) {
		a->overflow = true;
		return;
	}
	memcpy(a->b + a->n, p, len);
	a->n += len;
}

static void emit_byte(struct aml *a, uint8_t v)
{
	emit(a, &v, 1);
}

/* PkgLength counts itself: one byte up to 63, two up to 4095. */
static void emit_pkglen(struct aml *a, size_t body)
{
	if (body + 1 < 64) {
		emit_byte(a, (uint8_t)(body + 1));
	} else {
		size_t len = body + 2;

		emit_byte(a, (uint8_t)(0x40 | (len & 0xf)));
		emit_byte(a, (uint8_t)(len >> 4));
	}
}

/* opcode(s), PkgLength, then body. */
static void emit_pkg(struct aml *a, const uint8_t *op, size_t oplen, const struct aml *body)
{
	emit(a, op, oplen);
	emit_pkglen(a, body->n);
	emit(a, body->b, body->n);
	a->overflow |= body->overflow;
}

static void name_string(struct aml *a, const char *name, const char *value)
{
	emit_byte(a, 0x08); /* NameOp */
	emit(a, name, 4);
	emit_byte(a, 0x0d); /* StringPrefix */
	emit(a, value, strlen(value) + 1);
}

static void name_byte(struct aml *a, const char *name, uint8_t value)
{
	emit_byte(a, 0x08);
	emit(a, name, 4);
	emit_byte(a, 0x0a); /* BytePrefix */
	emit_byte(a, value);
}

/* Name(_CRS, ResourceTemplate() {...}): a Buffer holding the descriptors
 * and the end tag. */
static void name_crs(struct aml *a, const uint8_t *res, size_t len)
{
	static const uint8_t buffer_op = 0x11, end[] = {0x79, 0x00};
	struct aml body = {.n = 0};

	emit_byte(&body, 0x0a); /* BufferSize as a ByteConst */
	emit_byte(&body, (uint8_t)(len + sizeof(end)));
	emit(&body, res, len);
	emit(&body, end, sizeof(end));
	emit_byte(a, 0x08);
	emit(a, "_CRS", 4);
	emit_pkg(a, &buffer_op, 1, &body);
}

static void device(struct aml *a, const char *name, const struct aml *body)
{
	static const uint8_t op[] = {0x5b, 0x82}; /* DeviceOp */
	struct aml d = {.n = 0};

	emit(&d, name, 4);
	emit(&d, body->b, body->n);
	d.overflow = body->overflow;
	emit_pkg(a, op, sizeof(op), &d);
}

/* COM1: PNP0501 at 0x3f8, ISA IRQ 4 (IRQNoFlags: edge, active high). */
static void com1(struct aml *a)
{
	/* clang-format off */
	const uint8_t res[] = {
		0x47, 0x01, X86_COM1_PORT & 0xff, X86_COM1_PORT >> 8, X86_COM1_PORT & 0xff,
		X86_COM1_PORT >> 8, 0x01, 0x08,                        /* IO, 8 ports */
		0x22, (1 << X86_COM1_IRQ) & 0xff, (1 << X86_COM1_IRQ) >> 8, /* IRQNoFlags */
	};
	/* clang-format on */
	struct aml body = {.n = 0};

	name_string(&body, "_HID", "PNP0501");
	name_byte(&body, "_UID", 0);
	name_crs(&body, res, sizeof(res));
	device(a, "COM1", &body);
}

/* pvpanic: QEMU0001 at port 0x505. */
static void pvpanic(struct aml *a)
{
	/* clang-format off */
	const uint8_t res[] = {
		0x47, 0x01, X86_PVPANIC_PORT & 0xff, X86_PVPANIC_PORT >> 8,
		X86_PVPANIC_PORT & 0xff, X86_PVPANIC_PORT >> 8, 0x01, 0x01,
	};
	/* clang-format on */
	struct aml body = {.n = 0};

	name_string(&body, "_HID", "QEMU0001");
	name_crs(&body, res, sizeof(res));
	device(a, "PEVT", &body);
}

/* virtio-mmio: LNRO0005, a 4 KiB window and one edge-triggered, active
 * high interrupt (Extended Interrupt descriptor, consumer). */
static void virtio_mmio(struct aml *a, int i, uint64_t base, unsigned gsi)
{
	/* clang-format off */
	const uint8_t res[] = {
		0x86, 0x09, 0x00, 0x01, /* Memory32Fixed, read-write */
		(uint8_t)base, (uint8_t)(base >> 8), (uint8_t)(base >> 16), (uint8_t)(base >> 24),
		0x00, 0x10, 0x00, 0x00, /* 4 KiB */
		0x89, 0x06, 0x00, 0x03, 0x01, /* Interrupt: consumer, edge, high; one */
		(uint8_t)gsi, (uint8_t)(gsi >> 8), (uint8_t)(gsi >> 16), (uint8_t)(gsi >> 24),
	};
	/* clang-format on */
	struct aml body = {.n = 0};
	char name[5] = {'V', 'R', (char)('0' + i / 10 % 10), (char)('0' + i % 10), 0};

	name_string(&body, "_HID", "LNRO0005");
	name_byte(&body, "_UID", (uint8_t)i);
	name_crs(&body, res, sizeof(res));
	device(a, name, &body);
}

/* The power button: a Generic Event Device (ACPI0013, 5.6.9) whose
 * interrupt runs _EVT, which notifies a control-method power button
 * (PNP0C0C): the guest sees KEY_POWER on an input device.
 *   Device(GED0) { Name(_HID, "ACPI0013") Name(_UID, 0)
 *     Name(_CRS, ResourceTemplate() { Interrupt(, Edge, ActiveHigh) {gsi} })
 *     Method(_EVT, 1) { Notify(\_SB.PWRB, 0x80) } }
 *   Device(PWRB) { Name(_HID, "PNP0C0C") Name(_UID, 0) } */
static void power_button(struct aml *a, unsigned gsi)
{
	/* clang-format off */
	const uint8_t res[] = {
		0x89, 0x06, 0x00, 0x03, 0x01, /* Interrupt: consumer, edge, high; one */
		(uint8_t)gsi, (uint8_t)(gsi >> 8), (uint8_t)(gsi >> 16), (uint8_t)(gsi >> 24),
	};
	static const uint8_t evt[] = {
		0x14, 0x13, '_', 'E', 'V', 'T', 0x01,   /* Method(_EVT, 1 argument), 19 bytes */
		0x86, 0x5c, 0x2e, '_', 'S', 'B', '_',   /* Notify(\_SB. */
		'P', 'W', 'R', 'B', 0x0a, 0x80,         /* PWRB, 0x80) */
	};
	/* clang-format on */
	struct aml ged = {.n = 0}, pwrb = {.n = 0};

	name_string(&ged, "_HID", "ACPI0013");
	name_byte(&ged, "_UID", 0);
	name_crs(&ged, res, sizeof(res));
	emit(&ged, evt, sizeof(evt));
	device(a, "GED0", &ged);
	name_string(&pwrb, "_HID", "PNP0C0C");
	name_byte(&pwrb, "_UID", 0);
	device(a, "PWRB", &pwrb);
}

/* Name(_S5_, Package(4) {5, 0, 0, 0}): the SLP_TYP written at power-off. */
static void s5(struct aml *a)
{
	/* clang-format off */
	static const uint8_t pkg[] = {
		0x08, '_', 'S', '5', '_', 0x12, 0x07, 0x04, 0x0a, X86_ACPI_S5_TYPE, 0x00, 0x00, 0x00,
	};
	/* clang-format on */

	emit(a, pkg, sizeof(pkg));
}

static void dsdt_aml(struct aml *a, const struct acpi_devices *devs)
{
	static const uint8_t scope_op = 0x10;
	struct aml sb = {.n = 0};

	emit(&sb, "_SB_", 4);
	if (devs->com1)
		com1(&sb);
	pvpanic(&sb);
	if (devs->ged_gsi)
		power_button(&sb, devs->ged_gsi);
	for (int i = 0; i < devs->n_virtio; i++)
		virtio_mmio(&sb, i, devs->virtio_base[i], devs->virtio_irq[i]);
	s5(a);
	emit_pkg(a, &scope_op, 1, &sb);
}

static uint64_t write_dsdt(struct tables *t, const struct acpi_devices *devs)
{
	static struct aml aml;
	uint64_t gpa;
	uint8_t *p;

	aml.n = 0;
	aml.overflow = false;
	dsdt_aml(&aml, devs);
	if (aml.overflow)
		return 0;
	p = alloc(t, ACPI_HDR + aml.n, &gpa);
	header(p, "DSDT", (uint32_t)(ACPI_HDR + aml.n), 2);
	memcpy(p + ACPI_HDR, aml.b, aml.n);
	seal(p, (uint32_t)(ACPI_HDR + aml.n));
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

int acpi_write_tables(const struct guest_mem *gm, int ncpus, const struct acpi_devices *devs,
                      uint64_t *rsdp, struct bh_error *err)
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
	if (!(dsdt = write_dsdt(&t, devs)))
		return bh_error(err, 0, "ACPI: the DSDT does not fit");
	entries[0] = write_fadt(&t, dsdt);
	entries[1] = write_madt(&t, ncpus);
	write_rsdp(rsdp_p, write_xsdt(&t, entries, 2));
	*rsdp = rsdp_gpa;
	return 0;
}
