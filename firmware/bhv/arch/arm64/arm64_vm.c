/* The ARM64 machine: RAM from 2 GiB, an in-kernel GICv3 (GICv2 when the
 * host has no v3), PSCI handled by KVM (SYSTEM_OFF and SYSTEM_RESET come
 * back as KVM_EXIT_SYSTEM_EVENT), the architected timer, a PL011 and the
 * virtio-mmio devices, all described by a generated device tree. The
 * kernel is an Image entered at EL1 with the MMU off and x0 pointing at
 * the device tree (Documentation/arch/arm64/booting.rst). */
#include "arm64.h"
#include "vm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

#define MIB (1ULL << 20)

/* EL1h, all of D, A, I and F masked. */
#define PSTATE_BOOT 0x3c5ULL

#define CORE_REG(x) (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(x))

static int gic_fd = -1;
static bool gic_v3;

void arch_ram_regions(uint64_t mem, struct guest_mem *gm, uint64_t *ram_base)
{
	memset(gm, 0, sizeof(*gm));
	gm->r[0].gpa = ARM64_RAM_BASE;
	gm->r[0].size = mem;
	gm->n = 1;
	*ram_base = ARM64_RAM_BASE;
}

void arch_virtio_slot(int n, uint64_t *base, unsigned *irq)
{
	*base = ARM64_VIRTIO_BASE + (uint64_t)n * VIRTIO_MMIO_SIZE;
	*irq = ARM64_VIRTIO_SPI + (unsigned)n; /* KVM_IRQFD's gsi is the SPI number */
}

static int gic_attr(uint32_t group, uint64_t attr, void *value, struct bh_error *err,
                    const char *what)
{
	struct kvm_device_attr a = {
	    .group = group, .attr = attr, .addr = (uint64_t)(uintptr_t)value};

	if (ioctl(gic_fd, KVM_SET_DEVICE_ATTR, &a) < 0)
		return bh_error(err, errno, "GIC: %s", what);
	return 0;
}

/* The GIC exists before the vCPUs (its addresses set now); it is
 * initialised once they all exist (arch_vm_finish). */
int arch_vm_init(struct vm *vm, struct bh_error *err)
{
	struct kvm_create_device cd = {.type = KVM_DEV_TYPE_ARM_VGIC_V3};
	uint64_t dist = ARM64_GIC_DIST, other;

	gic_v3 = true;
	if (ioctl(vm->vm_fd, KVM_CREATE_DEVICE, &cd) < 0) {
		cd = (struct kvm_create_device){.type = KVM_DEV_TYPE_ARM_VGIC_V2};
		gic_v3 = false;
		if (ioctl(vm->vm_fd, KVM_CREATE_DEVICE, &cd) < 0)
			return bh_error(err, errno, "create the GIC (neither v3 nor v2)");
	}
	gic_fd = (int)cd.fd;
	if (gic_v3) {
		other = ARM64_GIC_REDIST;
		if (gic_attr(KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_DIST, &dist, err,
		             "distributor address") < 0 ||
		    gic_attr(KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V3_ADDR_TYPE_REDIST, &other, err,
		             "redistributor address") < 0)
			return -1;
	} else {
		other = ARM64_GIC_V2_CPU;
		if (gic_attr(KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V2_ADDR_TYPE_DIST, &dist, err,
		             "distributor address") < 0 ||
		    gic_attr(KVM_DEV_ARM_VGIC_GRP_ADDR, KVM_VGIC_V2_ADDR_TYPE_CPU, &other, err,
		             "CPU interface address") < 0)
			return -1;
	}
	return 0;
}

/* PSCI 0.2 for every vCPU; all but the first start powered off and wait
 * for the guest's PSCI CPU_ON. */
int arch_vcpu_init(struct vm *vm, struct vcpu *v, struct bh_error *err)
{
	struct kvm_vcpu_init init;

	if (ioctl(vm->vm_fd, KVM_ARM_PREFERRED_TARGET, &init) < 0)
		return bh_error(err, errno, "KVM_ARM_PREFERRED_TARGET");
	memset(init.features, 0, sizeof(init.features));
	init.features[0] = 1U << KVM_ARM_VCPU_PSCI_0_2;
	if (v->id > 0)
		init.features[0] |= 1U << KVM_ARM_VCPU_POWER_OFF;
	if (ioctl(v->fd, KVM_ARM_VCPU_INIT, &init) < 0)
		return bh_error(err, errno, "KVM_ARM_VCPU_INIT");
	return 0;
}

int arch_vm_finish(struct vm *vm, struct bh_error *err)
{
	uint32_t nr = ARM64_GIC_NR_IRQS;

	if (gic_attr(KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &nr, err, "number of interrupts") < 0 ||
	    gic_attr(KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, NULL, err, "init") < 0)
		return -1;
	return 0;
}

static void uart_io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	pl011_io(opaque, off, data, len, is_write);
}

static int irq_eventfd(struct vm *vm, unsigned spi, struct bh_error *err)
{
	struct kvm_irqfd irqfd;
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	if (fd < 0)
		return bh_error(err, errno, "eventfd");
	irqfd = (struct kvm_irqfd){.fd = (uint32_t)fd, .gsi = spi};
	if (ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0) {
		close(fd);
		return bh_error(err, errno, "KVM_IRQFD for SPI %u", spi);
	}
	return fd;
}

static void gpio_io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	pl061_io(opaque, off, data, len, is_write);
}

int arch_devices(struct vm *vm, struct bh_error *err)
{
	int irq_fd;

	if ((irq_fd = irq_eventfd(vm, ARM64_GPIO_SPI, err)) < 0)
		return -1;
	pl061_init(&vm->gpio, irq_fd);
	if (bus_add(&vm->mmio, ARM64_GPIO_BASE, PL061_SIZE, gpio_io, &vm->gpio) < 0)
		return bh_error(err, 0, "register the PL061");
	if (!(vm->cfg->console & BHV_CONSOLE_SERIAL)) {
		pl011_init(&vm->pl011, -1, -1);
		return 0;
	}
	if ((irq_fd = irq_eventfd(vm, ARM64_PL011_SPI, err)) < 0)
		return -1;
	pl011_init(&vm->pl011, STDOUT_FILENO, irq_fd);
	vm->pl011.port.limit = &vm->console_limit;
	if (bus_add(&vm->mmio, ARM64_PL011_BASE, PL011_SIZE, uart_io, &vm->pl011) < 0)
		return bh_error(err, 0, "register the PL011");
	vm->has_serial = true;
	return 0;
}

bool arch_power_button(struct vm *vm, bool pressed)
{
	pl061_set_line(&vm->gpio, PL061_BUTTON_LINE, pressed);
	return true;
}

size_t arch_uart_input(struct vm *vm, const uint8_t *buf, size_t len)
{
	return pl011_input(&vm->pl011, buf, len);
}

bool arch_handle_exit(struct vcpu *v)
{
	char why[64];

	snprintf(why, sizeof(why), "unexpected KVM exit %u on vCPU %d", v->run->exit_reason, v->id);
	vm_stop(v->vm, BHV_EXIT_CRASH, why);
	return false;
}

static int set_reg(struct vcpu *v, uint64_t id, uint64_t value, struct bh_error *err)
{
	struct kvm_one_reg reg = {.id = id, .addr = (uint64_t)(uintptr_t)&value};

	if (ioctl(v->fd, KVM_SET_ONE_REG, &reg) < 0)
		return bh_error(err, errno, "KVM_SET_ONE_REG 0x%llx", (unsigned long long)id);
	return 0;
}

/* The top 2 MiB of RAM hold the device tree; the initrd goes right below,
 * the kernel at the bottom. */
int arch_boot(struct vm *vm, struct bh_error *err)
{
	const struct vm_files *f = vm->files;
	const struct kernel_info *ki = &f->kernel_info;
	uint64_t ram_end = vm->ram_base + vm->mem.r[0].size;
	uint64_t dtb = (ram_end - 2 * MIB) & ~(2 * MIB - 1), initrd = 0;
	struct arm64_fdt_info info = {
	    .ncpus = vm->ncpus,
	    .ram_base = vm->ram_base,
	    .ram_size = vm->mem.r[0].size,
	    .cmdline = vm->cmdline,
	    .gic_v3 = gic_v3,
	    .pl011 = vm->has_serial,
	    .power_button = true,
	    .n_virtio = vm->n_virtio,
	};
	void *dst;

	if (kernel_load(f->kernel, ki, &vm->mem, vm->ram_base, err) < 0)
		return -1;
	if (f->initrd >= 0) {
		if (f->initrd_size > dtb - vm->ram_base ||
		    (initrd = (dtb - f->initrd_size) & ~0xfffULL) < vm->ram_base + ki->load_end)
			return bh_error(err, 0, "memory too small for the kernel and the initrd");
		dst = gm_ptr(&vm->mem, initrd, f->initrd_size);
		if (!dst || read_at(f->initrd, 0, dst, f->initrd_size) < 0)
			return bh_error(err, errno, "read initrd %s", vm->cfg->initrd);
		info.initrd_start = initrd;
		info.initrd_size = f->initrd_size;
	}
	for (int i = 0; i < vm->n_virtio; i++) {
		info.virtio_base[i] = vm->virtio[i]->base;
		info.virtio_spi[i] = vm->virtio[i]->irq;
	}
	dst = gm_ptr(&vm->mem, dtb, ARM64_DTB_MAX);
	if (!dst || arm64_fdt_build(dst, ARM64_DTB_MAX, &info, err) < 0)
		return -1;
	if (set_reg(&vm->vcpus[0], CORE_REG(regs.pstate), PSTATE_BOOT, err) < 0 ||
	    set_reg(&vm->vcpus[0], CORE_REG(regs.pc), vm->ram_base + ki->load_offset, err) < 0 ||
	    set_reg(&vm->vcpus[0], CORE_REG(regs.regs[0]), dtb, err) < 0)
		return -1;
	return 0;
}
