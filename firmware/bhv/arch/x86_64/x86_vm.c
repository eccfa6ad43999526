/* The x86_64 machine: RAM below 3 GiB and above 4 GiB, KVM's interrupt
 * controllers and PIT, COM1, the power registers, virtio-mmio devices in
 * the 32-bit hole on ISA interrupts, and the boot of a bzImage (64-bit
 * boot protocol), a PVH vmlinux or a raw test guest. No BIOS runs: the
 * monitor writes what firmware would leave behind. */
#include "x86_boot.h"
#include "x86_cpu.h"
#include "x86_platform.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <unistd.h>

/* IOAPIC pins nobody else uses (COM1 has 4), given to the guest as
 * edge-triggered, active-high GSIs in the DSDT. */
static const unsigned virtio_irqs[VM_MAX_VIRTIO] = {5, 6, 7, 9, 10, 11, 12, 14};

void arch_ram_regions(uint64_t mem, struct guest_mem *gm, uint64_t *ram_base)
{
	x86_ram_regions(mem, gm);
	*ram_base = 0;
}

void arch_virtio_slot(int n, uint64_t *base, unsigned *irq)
{
	*base = X86_VIRTIO_BASE + (uint64_t)n * VIRTIO_MMIO_SIZE;
	*irq = virtio_irqs[n];
}

int arch_vm_init(struct vm *vm, struct bh_error *err)
{
	struct kvm_pit_config pit = {.flags = KVM_PIT_SPEAKER_DUMMY};

	/* Both addresses matter only on Intel (VMX real-mode emulation);
	 * they sit in the hole, away from RAM and devices. */
	if (ioctl(vm->vm_fd, KVM_SET_TSS_ADDR, X86_TSS_ADDR) < 0)
		return bh_error(err, errno, "KVM_SET_TSS_ADDR");
	{
		uint64_t idmap = X86_IDENTITY_MAP;

		if (ioctl(vm->vm_fd, KVM_SET_IDENTITY_MAP_ADDR, &idmap) < 0)
			return bh_error(err, errno, "KVM_SET_IDENTITY_MAP_ADDR");
	}
	if (ioctl(vm->vm_fd, KVM_CREATE_IRQCHIP, 0) < 0)
		return bh_error(err, errno, "KVM_CREATE_IRQCHIP");
	if (ioctl(vm->vm_fd, KVM_CREATE_PIT2, &pit) < 0)
		return bh_error(err, errno, "KVM_CREATE_PIT2");
	return 0;
}

int arch_vcpu_init(struct vm *vm, struct vcpu *v, struct bh_error *err)
{
	return x86_vcpu_init(vm->kvm_fd, v, vm->ncpus, err);
}

int arch_vm_finish(struct vm *vm, struct bh_error *err)
{
	return 0;
}

static void uart_io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	uart_8250_io(opaque, off, data, len, is_write);
}

static int irq_eventfd(struct vm *vm, unsigned gsi, struct bh_error *err)
{
	struct kvm_irqfd irqfd;
	int fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);

	if (fd < 0)
		return bh_error(err, errno, "eventfd");
	irqfd = (struct kvm_irqfd){.fd = (uint32_t)fd, .gsi = gsi};
	if (ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0) {
		close(fd);
		return bh_error(err, errno, "KVM_IRQFD for GSI %u", gsi);
	}
	return fd;
}

int arch_devices(struct vm *vm, struct bh_error *err)
{
	int irq_fd = -1;

	if (x86_platform_init(vm) < 0)
		return bh_error(err, 0, "register the platform ports");
	if ((vm->button_fd = irq_eventfd(vm, X86_GED_GSI, err)) < 0)
		return -1;
	if (vm->cfg->console & BHV_CONSOLE_SERIAL) {
		if ((irq_fd = irq_eventfd(vm, X86_COM1_IRQ, err)) < 0)
			return -1;
		vm->has_serial = true;
	}
	/* COM1 exists even without a serial console, silent: the guest's
	 * probe then finds what it expects and its output goes nowhere. */
	uart_8250_init(&vm->uart, vm->has_serial ? STDOUT_FILENO : -1, irq_fd);
	vm->uart.port.limit = &vm->console_limit;
	if (bus_add(&vm->pio, X86_COM1_PORT, 8, uart_io, &vm->uart) < 0)
		return bh_error(err, 0, "register COM1");
	return 0;
}

bool arch_power_button(struct vm *vm, bool pressed)
{
	/* The GED's interrupt is an edge: a press is the whole event. */
	if (pressed)
		irq_pulse(vm->button_fd);
	return vm->button_fd >= 0;
}

size_t arch_uart_input(struct vm *vm, const uint8_t *buf, size_t len)
{
	return uart_8250_input(&vm->uart, buf, len);
}

bool arch_handle_exit(struct vcpu *v)
{
	char why[64];

	/* A HLT exit means no in-kernel LAPIC would wake it: treat as the
	 * end of a guest that halted for good. Anything else is unknown. */
	if (v->run->exit_reason == KVM_EXIT_HLT) {
		vm_stop(v->vm, BHV_EXIT_POWEROFF, "guest halted");
		return false;
	}
	snprintf(why, sizeof(why), "unexpected KVM exit %u on vCPU %d", v->run->exit_reason, v->id);
	vm_stop(v->vm, BHV_EXIT_CRASH, why);
	return false;
}

static int load_initrd(struct vm *vm, uint64_t *addr, struct bh_error *err)
{
	const struct vm_files *f = vm->files;
	uint64_t max = f->kernel_info.kind == KERNEL_BZIMAGE ? f->kernel_info.initrd_addr_max : 0;
	void *dst;

	*addr = 0;
	if (f->initrd < 0)
		return 0;
	if (x86_place_initrd(&vm->mem, f->initrd_size, f->kernel_info.load_end, max, addr) < 0)
		return bh_error(err, 0, "memory too small for the kernel and the initrd (%llu MiB)",
		                (unsigned long long)(f->initrd_size >> 20));
	dst = gm_ptr(&vm->mem, *addr, f->initrd_size);
	if (!dst || read_at(f->initrd, 0, dst, f->initrd_size) < 0)
		return bh_error(err, errno, "read initrd %s", vm->cfg->initrd);
	return 0;
}

int arch_boot(struct vm *vm, struct bh_error *err)
{
	const struct kernel_info *ki = &vm->files->kernel_info;
	uint64_t initrd = 0, rsdp = 0, entry = ki->entry;
	struct acpi_devices devs = {.com1 = true, .ged_gsi = X86_GED_GSI, .n_virtio = vm->n_virtio};

	if (kernel_load(vm->files->kernel, ki, &vm->mem, 0, err) < 0)
		return -1;
	if (ki->kind == KERNEL_RAW16 || ki->kind == KERNEL_RAW64)
		return x86_boot_regs(&vm->vcpus[0], &vm->mem, ki->kind, entry, err);
	for (int i = 0; i < vm->n_virtio; i++) {
		devs.virtio_base[i] = vm->virtio[i]->base;
		devs.virtio_irq[i] = vm->virtio[i]->irq;
	}
	if (x86_write_reset_vector(&vm->mem) < 0)
		return bh_error(err, 0, "guest memory too small for the reset vector");
	if (load_initrd(vm, &initrd, err) < 0 ||
	    acpi_write_tables(&vm->mem, vm->ncpus, &devs, &rsdp, err) < 0 ||
	    x86_write_cmdline(&vm->mem, vm->cmdline,
	                      ki->kind == KERNEL_BZIMAGE ? ki->cmdline_size : 0, err) < 0)
		return -1;
	if (ki->kind == KERNEL_BZIMAGE) {
		if (x86_write_zero_page(&vm->mem, ki, initrd, vm->files->initrd_size, rsdp, err) <
		    0)
			return -1;
		entry = BZ_LOAD_ADDR + 0x200; /* startup_64 */
	} else if (x86_write_pvh_info(&vm->mem, initrd, vm->files->initrd_size, rsdp, err) < 0) {
		return -1;
	}
	return x86_boot_regs(&vm->vcpus[0], &vm->mem, ki->kind, entry, err);
}
