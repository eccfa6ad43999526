/* The device tree an ARM64 guest boots with (Documentation/arch/arm64/
 * booting.rst, devicetree bindings for each node), written with libfdt's
 * sequential API: memory, CPUs with PSCI enable, the GIC (v3 or v2), the
 * architected timer, the PL011 and its clock, the virtio-mmio devices and
 * /chosen. Interrupts of the PL011 and virtio devices are edges: they are
 * raised through KVM_IRQFD, which pulses the line. */
#include "arm64.h"

#include <libfdt.h>
#include <stdio.h>
#include <string.h>

#define PHANDLE_GIC   1
#define PHANDLE_CLOCK 2
#define PHANDLE_GPIO  3
#define KEY_POWER     116

#define GIC_SPI       0
#define GIC_PPI       1
#define IRQ_EDGE_RISE 1
#define IRQ_LEVEL_LOW 8

/* Every libfdt call returns <0 on failure; the first one wins. */
#define TRY(x)                                                                                     \
	do {                                                                                       \
		if ((r = (x)) < 0)                                                                 \
			goto fail;                                                                 \
	} while (0)

static int prop_u64_pair(void *fdt, const char *name, uint64_t a, uint64_t b)
{
	fdt64_t v[2] = {cpu_to_fdt64(a), cpu_to_fdt64(b)};

	return fdt_property(fdt, name, v, sizeof(v));
}

static int prop_irq(void *fdt, uint32_t type, uint32_t num, uint32_t flags)
{
	fdt32_t v[3] = {cpu_to_fdt32(type), cpu_to_fdt32(num), cpu_to_fdt32(flags)};

	return fdt_property(fdt, "interrupts", v, sizeof(v));
}

static int cpus(void *fdt, int n)
{
	char name[16];
	int r;

	TRY(fdt_begin_node(fdt, "cpus"));
	TRY(fdt_property_cell(fdt, "#address-cells", 1));
	TRY(fdt_property_cell(fdt, "#size-cells", 0));
	for (int i = 0; i < n; i++) {
		snprintf(name, sizeof(name), "cpu@%d", i);
		TRY(fdt_begin_node(fdt, name));
		TRY(fdt_property_string(fdt, "device_type", "cpu"));
		TRY(fdt_property_string(fdt, "compatible", "arm,arm-v8"));
		TRY(fdt_property_string(fdt, "enable-method", "psci"));
		/* KVM gives vCPU i an MPIDR with Aff0 = i for up to 16 CPUs. */
		TRY(fdt_property_cell(fdt, "reg", (uint32_t)i));
		TRY(fdt_end_node(fdt));
	}
	TRY(fdt_end_node(fdt));
	return 0;
fail:
	return r;
}

static int gic(void *fdt, const struct arm64_fdt_info *in)
{
	char name[32];
	int r;

	snprintf(name, sizeof(name), "intc@%llx", (unsigned long long)ARM64_GIC_DIST);
	TRY(fdt_begin_node(fdt, name));
	if (in->gic_v3) {
		fdt64_t reg[4] = {cpu_to_fdt64(ARM64_GIC_DIST), cpu_to_fdt64(ARM64_GIC_DIST_SIZE),
		                  cpu_to_fdt64(ARM64_GIC_REDIST),
		                  cpu_to_fdt64(ARM64_GIC_REDIST_SIZE * (uint64_t)in->ncpus)};

		TRY(fdt_property_string(fdt, "compatible", "arm,gic-v3"));
		TRY(fdt_property(fdt, "reg", reg, sizeof(reg)));
	} else {
		fdt64_t reg[4] = {cpu_to_fdt64(ARM64_GIC_DIST), cpu_to_fdt64(0x1000),
		                  cpu_to_fdt64(ARM64_GIC_V2_CPU),
		                  cpu_to_fdt64(ARM64_GIC_V2_CPU_SIZE)};

		TRY(fdt_property_string(fdt, "compatible", "arm,cortex-a15-gic"));
		TRY(fdt_property(fdt, "reg", reg, sizeof(reg)));
	}
	TRY(fdt_property_cell(fdt, "#interrupt-cells", 3));
	TRY(fdt_property(fdt, "interrupt-controller", NULL, 0));
	TRY(fdt_property_cell(fdt, "phandle", PHANDLE_GIC));
	TRY(fdt_end_node(fdt));
	return 0;
fail:
	return r;
}

static int timer(void *fdt, const struct arm64_fdt_info *in)
{
	/* Secure, non-secure physical, virtual and hypervisor timers. GICv2
	 * wants the CPU mask in bits 15:8 of the flags. */
	uint32_t flags = IRQ_LEVEL_LOW | (in->gic_v3 ? 0 : ((1U << in->ncpus) - 1) << 8);
	static const uint32_t ppi[4] = {13, 14, 11, 10};
	fdt32_t v[12];
	int r;

	for (int i = 0; i < 4; i++) {
		v[3 * i] = cpu_to_fdt32(GIC_PPI);
		v[3 * i + 1] = cpu_to_fdt32(ppi[i]);
		v[3 * i + 2] = cpu_to_fdt32(flags);
	}
	TRY(fdt_begin_node(fdt, "timer"));
	TRY(fdt_property_string(fdt, "compatible", "arm,armv8-timer"));
	TRY(fdt_property(fdt, "interrupts", v, sizeof(v)));
	TRY(fdt_property(fdt, "always-on", NULL, 0));
	TRY(fdt_end_node(fdt));
	return 0;
fail:
	return r;
}

static int clock(void *fdt)
{
	int r;

	TRY(fdt_begin_node(fdt, "apb-pclk"));
	TRY(fdt_property_string(fdt, "compatible", "fixed-clock"));
	TRY(fdt_property_cell(fdt, "#clock-cells", 0));
	TRY(fdt_property_cell(fdt, "clock-frequency", 24000000));
	TRY(fdt_property_string(fdt, "clock-output-names", "clk24mhz"));
	TRY(fdt_property_cell(fdt, "phandle", PHANDLE_CLOCK));
	TRY(fdt_end_node(fdt));
	return 0;
fail:
	return r;
}

static int pl011(void *fdt)
{
	static const char compat[] = "arm,pl011\0arm,primecell";
	static const char names[] = "uartclk\0apb_pclk";
	fdt32_t clocks[2] = {cpu_to_fdt32(PHANDLE_CLOCK), cpu_to_fdt32(PHANDLE_CLOCK)};
	char name[32];
	int r;

	snprintf(name, sizeof(name), "pl011@%llx", (unsigned long long)ARM64_PL011_BASE);
	TRY(fdt_begin_node(fdt, name));
	TRY(fdt_property(fdt, "compatible", compat, sizeof(compat)));
	TRY(prop_u64_pair(fdt, "reg", ARM64_PL011_BASE, 0x1000));
	TRY(prop_irq(fdt, GIC_SPI, ARM64_PL011_SPI, IRQ_EDGE_RISE));
	TRY(fdt_property(fdt, "clocks", clocks, sizeof(clocks)));
	TRY(fdt_property(fdt, "clock-names", names, sizeof(names)));
	TRY(fdt_end_node(fdt));
	return 0;
fail:
	return r;
}

/* The power button: a PL061 whose line 3 is a gpio-keys KEY_POWER, as on
 * QEMU's virt machine. */
static int power_button(void *fdt)
{
	static const char compat[] = "arm,pl061\0arm,primecell";
	fdt32_t gpios[3] = {cpu_to_fdt32(PHANDLE_GPIO), cpu_to_fdt32(3), cpu_to_fdt32(0)};
	char name[32];
	int r;

	snprintf(name, sizeof(name), "pl061@%llx", (unsigned long long)ARM64_GPIO_BASE);
	TRY(fdt_begin_node(fdt, name));
	TRY(fdt_property(fdt, "compatible", compat, sizeof(compat)));
	TRY(prop_u64_pair(fdt, "reg", ARM64_GPIO_BASE, 0x1000));
	TRY(prop_irq(fdt, GIC_SPI, ARM64_GPIO_SPI, IRQ_EDGE_RISE));
	TRY(fdt_property(fdt, "gpio-controller", NULL, 0));
	TRY(fdt_property_cell(fdt, "#gpio-cells", 2));
	TRY(fdt_property_cell(fdt, "clocks", PHANDLE_CLOCK));
	TRY(fdt_property_string(fdt, "clock-names", "apb_pclk"));
	TRY(fdt_property_cell(fdt, "phandle", PHANDLE_GPIO));
	TRY(fdt_end_node(fdt));
	TRY(fdt_begin_node(fdt, "gpio-keys"));
	TRY(fdt_property_string(fdt, "compatible", "gpio-keys"));
	TRY(fdt_begin_node(fdt, "poweroff"));
	TRY(fdt_property_string(fdt, "label", "GPIO Key Poweroff"));
	TRY(fdt_property_cell(fdt, "linux,code", KEY_POWER));
	TRY(fdt_property(fdt, "gpios", gpios, sizeof(gpios)));
	TRY(fdt_end_node(fdt));
	TRY(fdt_end_node(fdt));
	return 0;
fail:
	return r;
}

static int virtio(void *fdt, uint64_t base, unsigned spi)
{
	char name[32];
	int r;

	snprintf(name, sizeof(name), "virtio_mmio@%llx", (unsigned long long)base);
	TRY(fdt_begin_node(fdt, name));
	TRY(fdt_property_string(fdt, "compatible", "virtio,mmio"));
	TRY(prop_u64_pair(fdt, "reg", base, 0x1000));
	TRY(prop_irq(fdt, GIC_SPI, spi, IRQ_EDGE_RISE));
	TRY(fdt_property(fdt, "dma-coherent", NULL, 0));
	TRY(fdt_end_node(fdt));
	return 0;
fail:
	return r;
}

static int chosen(void *fdt, const struct arm64_fdt_info *in)
{
	char path[48];
	int r;

	TRY(fdt_begin_node(fdt, "chosen"));
	TRY(fdt_property_string(fdt, "bootargs", in->cmdline ? in->cmdline : ""));
	if (in->pl011) {
		snprintf(path, sizeof(path), "/pl011@%llx", (unsigned long long)ARM64_PL011_BASE);
		TRY(fdt_property_string(fdt, "stdout-path", path));
	}
	if (in->initrd_size) {
		TRY(fdt_property_u64(fdt, "linux,initrd-start", in->initrd_start));
		TRY(fdt_property_u64(fdt, "linux,initrd-end", in->initrd_start + in->initrd_size));
	}
	TRY(fdt_end_node(fdt));
	return 0;
fail:
	return r;
}

int arm64_fdt_build(void *buf, size_t size, const struct arm64_fdt_info *in, struct bh_error *err)
{
	void *fdt = buf;
	char name[32];
	int r;

	if (in->ncpus < 1 || in->ncpus > 8 || in->n_virtio < 0 || in->n_virtio > 8)
		return bh_error(err, 0, "device tree: %d CPUs and %d devices are out of range",
		                in->ncpus, in->n_virtio);
	TRY(fdt_create(fdt, (int)size));
	TRY(fdt_finish_reservemap(fdt));
	TRY(fdt_begin_node(fdt, ""));
	TRY(fdt_property_string(fdt, "compatible", "linux,dummy-virt"));
	TRY(fdt_property_cell(fdt, "#address-cells", 2));
	TRY(fdt_property_cell(fdt, "#size-cells", 2));
	TRY(fdt_property_cell(fdt, "interrupt-parent", PHANDLE_GIC));
	snprintf(name, sizeof(name), "memory@%llx", (unsigned long long)in->ram_base);
	TRY(fdt_begin_node(fdt, name));
	TRY(fdt_property_string(fdt, "device_type", "memory"));
	TRY(prop_u64_pair(fdt, "reg", in->ram_base, in->ram_size));
	TRY(fdt_end_node(fdt));
	TRY(cpus(fdt, in->ncpus));
	TRY(fdt_begin_node(fdt, "psci"));
	TRY(fdt_property(fdt, "compatible", "arm,psci-0.2\0arm,psci",
	                 sizeof("arm,psci-0.2\0arm,psci")));
	TRY(fdt_property_string(fdt, "method", "hvc"));
	TRY(fdt_end_node(fdt));
	TRY(gic(fdt, in));
	TRY(timer(fdt, in));
	/* The fixed clock serves both PrimeCells. */
	if (in->pl011 || in->power_button)
		TRY(clock(fdt));
	if (in->pl011)
		TRY(pl011(fdt));
	if (in->power_button)
		TRY(power_button(fdt));
	for (int i = 0; i < in->n_virtio; i++)
		TRY(virtio(fdt, in->virtio_base[i], in->virtio_spi[i]));
	TRY(chosen(fdt, in));
	TRY(fdt_end_node(fdt));
	TRY(fdt_finish(fdt));
	return 0;
fail:
	return bh_error(err, 0, "device tree: %s", fdt_strerror(r));
}
