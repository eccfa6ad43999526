/* The ARM64 machine's pure parts, on the build host: the device tree
 * (parsed back with libfdt: memory, CPUs with PSCI, GICv3 and v2, timer,
 * PL011 and its clock, virtio-mmio with edge interrupts, /chosen) and the
 * PL011's registers. */
#include "tap.h"

#include "arch/arm64/arm64.h"
#include "gpio.h"
#include "serial.h"

#include <fcntl.h>
#include <libfdt.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

static uint8_t blob[ARM64_DTB_MAX];
static struct bh_error err;

static const void *prop(const char *path, const char *name, int *len)
{
	int node = fdt_path_offset(blob, path);

	return node < 0 ? NULL : fdt_getprop(blob, node, name, len);
}

/* Properties are only 4-byte aligned. */
static uint32_t cell(const void *p, int i)
{
	fdt32_t v;

	memcpy(&v, (const uint8_t *)p + 4 * i, 4);
	return fdt32_to_cpu(v);
}

static uint64_t cell64(const void *p, int i)
{
	fdt64_t v;

	memcpy(&v, (const uint8_t *)p + 8 * i, 8);
	return fdt64_to_cpu(v);
}

static void test_fdt(void)
{
	struct arm64_fdt_info in = {
	    .ncpus = 2,
	    .ram_base = ARM64_RAM_BASE,
	    .ram_size = 256 << 20,
	    .cmdline = "console=ttyAMA0 quiet",
	    .initrd_start = 0x8f000000,
	    .initrd_size = 4096,
	    .gic_v3 = true,
	    .pl011 = true,
	    .power_button = true,
	    .n_virtio = 2,
	    .virtio_base = {ARM64_VIRTIO_BASE, ARM64_VIRTIO_BASE + 0x1000},
	    .virtio_spi = {16, 17},
	};
	const void *p;
	int len;

	ok(arm64_fdt_build(blob, sizeof(blob), &in, &err) == 0 && fdt_check_header(blob) == 0,
	   "a device tree is built and valid: %s", err.msg);
	p = prop("/memory@80000000", "reg", &len);
	ok(p && len == 16 && cell64(p, 0) == ARM64_RAM_BASE && cell64(p, 1) == 256 << 20,
	   "memory: base and size");
	p = prop("/cpus/cpu@1", "enable-method", &len);
	ok(p && !strcmp(p, "psci") && prop("/cpus/cpu@0", "reg", &len) &&
	       !prop("/cpus/cpu@2", "reg", &len),
	   "two CPUs, started through PSCI");
	p = prop("/psci", "method", &len);
	ok(p && !strcmp(p, "hvc"), "PSCI through HVC (KVM implements it)");
	p = prop("/intc@8000000", "compatible", &len);
	ok(p && !strcmp(p, "arm,gic-v3"), "a GICv3");
	p = prop("/intc@8000000", "reg", &len);
	ok(p && len == 32 && cell64(p, 2) == ARM64_GIC_REDIST &&
	       cell64(p, 3) == 2 * ARM64_GIC_REDIST_SIZE,
	   "its redistributors cover both vCPUs");
	p = prop("/timer", "interrupts", &len);
	ok(p && len == 48 && cell(p, 0) == 1 && cell(p, 1) == 13 && cell(p, 7) == 11,
	   "the architected timer's four PPIs");
	p = prop("/pl011@9000000", "interrupts", &len);
	ok(p && cell(p, 0) == 0 && cell(p, 1) == ARM64_PL011_SPI && cell(p, 2) == 1,
	   "the PL011 on its SPI, edge-triggered");
	p = prop("/pl011@9000000", "clocks", &len);
	ok(p && len == 8 && prop("/apb-pclk", "clock-frequency", &len), "with its clock");
	p = prop("/virtio_mmio@a001000", "interrupts", &len);
	ok(p && cell(p, 1) == 17 && cell(p, 2) == 1 &&
	       prop("/virtio_mmio@a001000", "dma-coherent", &len),
	   "virtio-mmio devices: address, SPI, edge, coherent");
	p = prop("/gpio-keys/poweroff", "linux,code", &len);
	ok(p && cell(p, 0) == 116 && (p = prop("/gpio-keys/poweroff", "gpios", &len)) &&
	       cell(p, 1) == 3 && prop("/pl061@9030000", "gpio-controller", &len),
	   "the power button: KEY_POWER on line 3 of a PL061");
	p = prop("/chosen", "bootargs", &len);
	ok(p && !strcmp(p, "console=ttyAMA0 quiet"), "the command line");
	p = prop("/chosen", "linux,initrd-end", &len);
	ok(p && len == 8 && cell64(p, 0) == 0x8f001000, "the initrd's range");
	p = prop("/chosen", "stdout-path", &len);
	ok(p && !strcmp(p, "/pl011@9000000"), "stdout is the PL011");

	in.gic_v3 = false;
	in.initrd_size = 0;
	in.pl011 = false;
	ok(arm64_fdt_build(blob, sizeof(blob), &in, &err) == 0, "a GICv2 machine without PL011");
	p = prop("/intc@8000000", "compatible", &len);
	ok(p && !strcmp(p, "arm,cortex-a15-gic") && !prop("/chosen", "linux,initrd-start", &len) &&
	       !prop("/pl011@9000000", "reg", &len),
	   "GICv2 compatible, no initrd, no PL011");
	p = prop("/timer", "interrupts", &len);
	ok(p && (cell(p, 2) >> 8) == 3, "GICv2 timer flags carry the CPU mask");
	ok(arm64_fdt_build(blob, 64, &in, &err) < 0 && strstr(err.msg, "device tree"),
	   "a blob too small fails: %s", err.msg);
	in.ncpus = 9;
	ok(arm64_fdt_build(blob, sizeof(blob), &in, &err) < 0, "nine CPUs are refused");
}

static uint32_t rd(struct pl011 *u, uint64_t off)
{
	uint32_t v;

	pl011_io(u, off, &v, 4, false);
	return v;
}

static void wr(struct pl011 *u, uint64_t off, uint32_t v)
{
	pl011_io(u, off, &v, 4, true);
}

static void test_pl011(void)
{
	struct pl011 u;
	int p[2], irq = eventfd(0, EFD_NONBLOCK);
	uint64_t n;
	char buf[8];

	if (pipe(p) < 0)
		return;
	pl011_init(&u, p[1], irq);
	ok(rd(&u, 0xfe0) == 0x11 && rd(&u, 0xfe8) == 0x14 && rd(&u, 0xff0) == 0x0d &&
	       rd(&u, 0xffc) == 0xb1,
	   "PL011: peripheral and PrimeCell IDs the amba bus matches");
	ok((rd(&u, 0x018) & 0x90) == 0x90 && !(rd(&u, 0x018) & 0x08),
	   "FR: TX empty, RX empty, not busy");
	wr(&u, 0x000, 'A');
	ok(read(p[0], buf, sizeof(buf)) == 1 && buf[0] == 'A', "a written byte reaches the output");
	if (read(irq, &n, sizeof(n)) < 0)
		n = 0;
	wr(&u, 0x038, 0x20);
	ok(read(irq, &n, sizeof(n)) == 8 && (rd(&u, 0x040) & 0x20),
	   "enabling TXIM raises one edge");
	wr(&u, 0x044, 0x20);
	ok(!(rd(&u, 0x040) & 0x20), "ICR clears the TX interrupt");
	wr(&u, 0x000, 'B');
	ok((rd(&u, 0x040) & 0x20) && read(irq, &n, sizeof(n)) == 8,
	   "until the next byte is written");
	wr(&u, 0x038, 0x50);
	ok(pl011_input(&u, (const uint8_t *)"xy", 2) == 2 && (rd(&u, 0x040) & 0x10) &&
	       !(rd(&u, 0x018) & 0x10),
	   "input: RX interrupt, FIFO not empty");
	ok(rd(&u, 0x000) == 'x' && rd(&u, 0x000) == 'y' && (rd(&u, 0x018) & 0x10) &&
	       !(rd(&u, 0x040) & 0x10),
	   "the FIFO empties in order and the RX interrupt goes");
	buf[0] = 0x55;
	pl011_io(&u, 0x001, buf, 1, false);
	ok(buf[0] == 0, "a misaligned access reads 0");
	ok(rd(&u, 0x2000) == 0, "an offset past the window reads 0");
	close(p[0]);
	close(p[1]);
	close(irq);
}

static void test_pl061(void)
{
	struct pl061 g;
	int irq = eventfd(0, EFD_NONBLOCK);
	uint32_t v;
	uint64_t n;

	pl061_init(&g, irq);
	pl061_io(&g, 0xfe0, &v, 4, false);
	ok(v == 0x61, "PL061: its peripheral ID");
	/* gpio-keys: both edges on line 3, interrupt enabled. */
	v = 1 << 3;
	pl061_io(&g, 0x408, &v, 4, true);
	pl061_io(&g, 0x410, &v, 4, true);
	pl061_set_line(&g, 3, true);
	pl061_io(&g, 0x3fc, &v, 4, false);
	ok((v & 8) && read(irq, &n, sizeof(n)) == 8, "a press: the line reads high, one edge");
	pl061_io(&g, 0x418, &v, 4, false);
	ok(v == 8, "MIS shows line 3");
	v = 8;
	pl061_io(&g, 0x41c, &v, 4, true);
	pl061_io(&g, 0x418, &v, 4, false);
	ok(v == 0, "IC clears it");
	pl061_set_line(&g, 3, false);
	pl061_io(&g, 0x418, &v, 4, false);
	ok(v == 8 && read(irq, &n, sizeof(n)) == 8, "the release is an edge too");
	pl061_io(&g, 0x020, &v, 4, false);
	ok(v == 0, "the data window masks by address bits");
	pl061_set_line(&g, 9, true);
	ok(g.in == 0, "a line past 7 is ignored");
	close(irq);
}

int main(void)
{
	test_fdt();
	test_pl011();
	test_pl061();
	return done();
}
