/* Building the VM: KVM objects, guest memory, devices, vCPUs and the boot
 * image, in that order. Nothing here runs guest code. */
#include "vm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <linux/virtio_mmio.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

void vm_stop(struct vm *vm, int status, const char *reason)
{
	int running = -1;
	uint64_t one = 1;

	if (!atomic_compare_exchange_strong(&vm->status, &running, status))
		return;
	snprintf(vm->stop_reason, sizeof(vm->stop_reason), "%s", reason);
	if (write(vm->stop_fd, &one, sizeof(one)) < 0) {
		/* The device thread also polls vm->status. */
	}
}

static int map_memory(struct vm *vm, struct bh_error *err)
{
	arch_ram_regions(vm->cfg->mem_mib << 20, &vm->mem, &vm->ram_base);
	for (int i = 0; i < vm->mem.n; i++) {
		struct gm_region *r = &vm->mem.r[i];
		struct kvm_userspace_memory_region slot;
		void *p = mmap(NULL, r->size, PROT_READ | PROT_WRITE,
		               MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

		if (p == MAP_FAILED)
			return bh_error(err, errno, "map %llu MiB of guest memory",
			                (unsigned long long)(r->size >> 20));
		/* Guest memory never belongs in a core dump. */
		madvise(p, r->size, MADV_DONTDUMP);
		r->hva = p;
		slot = (struct kvm_userspace_memory_region){
		    .slot = (uint32_t)i,
		    .guest_phys_addr = r->gpa,
		    .memory_size = r->size,
		    .userspace_addr = (uint64_t)(uintptr_t)p,
		};
		if (ioctl(vm->vm_fd, KVM_SET_USER_MEMORY_REGION, &slot) < 0)
			return bh_error(err, errno, "KVM_SET_USER_MEMORY_REGION");
	}
	return 0;
}

static int create_vcpus(struct vm *vm, struct bh_error *err)
{
	int size = ioctl(vm->kvm_fd, KVM_GET_VCPU_MMAP_SIZE, 0);

	if (size < (int)sizeof(struct kvm_run))
		return bh_error(err, errno, "KVM_GET_VCPU_MMAP_SIZE");
	vm->run_size = (size_t)size;
	for (int i = 0; i < vm->ncpus; i++) {
		struct vcpu *v = &vm->vcpus[i];

		v->id = i;
		v->vm = vm;
		v->fd = ioctl(vm->vm_fd, KVM_CREATE_VCPU, i);
		if (v->fd < 0)
			return bh_error(err, errno, "KVM_CREATE_VCPU %d", i);
		v->run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED, v->fd, 0);
		if (v->run == MAP_FAILED)
			return bh_error(err, errno, "map vCPU %d", i);
		if (arch_vcpu_init(vm, v, err) < 0)
			return bh_error_wrap(err, "vCPU %d", i);
	}
	return 0;
}

static void virtio_io(void *opaque, uint64_t off, void *data, uint32_t len, bool is_write)
{
	if (is_write)
		virtio_mmio_write(opaque, off, data, len);
	else
		virtio_mmio_read(opaque, off, data, len);
}

int vm_add_virtio(struct vm *vm, struct virtio_dev *d, struct bh_error *err)
{
	struct kvm_irqfd irqfd;

	if (vm->n_virtio == VM_MAX_VIRTIO)
		return bh_error(err, 0, "too many virtio devices");
	arch_virtio_slot(vm->n_virtio, &d->base, &d->irq);
	if (bus_add(&vm->mmio, d->base, VIRTIO_MMIO_SIZE, virtio_io, d) < 0)
		return bh_error(err, 0, "%s: MMIO window taken", d->name);
	d->irq_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (d->irq_fd < 0)
		return bh_error(err, errno, "%s: eventfd", d->name);
	irqfd = (struct kvm_irqfd){.fd = (uint32_t)d->irq_fd, .gsi = d->irq};
	if (ioctl(vm->vm_fd, KVM_IRQFD, &irqfd) < 0)
		return bh_error(err, errno, "%s: KVM_IRQFD", d->name);
	for (unsigned q = 0; q < d->ops->num_queues; q++) {
		struct kvm_ioeventfd io;

		d->notify_fd[q] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
		if (d->notify_fd[q] < 0)
			return bh_error(err, errno, "%s: eventfd", d->name);
		/* QueueNotify writes signal the eventfd inside KVM, without an
		 * exit to the monitor; a kernel without ioeventfds leaves them
		 * to virtio_mmio_write(), which signals the same eventfd. */
		io = (struct kvm_ioeventfd){
		    .datamatch = q,
		    .addr = d->base + VIRTIO_MMIO_QUEUE_NOTIFY,
		    .len = 4,
		    .fd = d->notify_fd[q],
		    .flags = KVM_IOEVENTFD_FLAG_DATAMATCH,
		};
		if (ioctl(vm->vm_fd, KVM_IOEVENTFD, &io) < 0 && errno != ENOSYS)
			return bh_error(err, errno, "%s: KVM_IOEVENTFD", d->name);
	}
	/* The guest finds the device in the DSDT (x86_64) or the device tree
	 * (ARM64), both written at boot from vm->virtio. */
	vm->virtio[vm->n_virtio++] = d;
	return 0;
}

static int add_devices(struct vm *vm, struct bh_error *err)
{
	const struct bhv_config *cfg = vm->cfg;
	struct virtio_dev *d;
	static const char *disk_names[BHV_MAX_DISKS] = {"disk0", "disk1", "disk2", "disk3"};

	if (arch_devices(vm, err) < 0)
		return -1;
	/* The console first: it is the first device the guest probes. */
	if (cfg->console & BHV_CONSOLE_VIRTIO) {
		if (!(d = virtio_console_new(STDOUT_FILENO, &vm->mem, err)) ||
		    vm_add_virtio(vm, d, err) < 0)
			return -1;
		virtio_console_set_limit(d, &vm->console_limit);
		vm->console = d;
	}
	for (int i = 0; i < cfg->n_disks; i++)
		if (!(d = virtio_blk_new(vm->files->disks[i], cfg->disks[i].read_only,
		                         disk_names[i], &vm->mem, err)) ||
		    vm_add_virtio(vm, d, err) < 0)
			return -1;
	if (cfg->net_fd >= 0) {
		if (!(d = virtio_net_new(cfg->net_fd, cfg->mac, &vm->mem, err)) ||
		    vm_add_virtio(vm, d, err) < 0)
			return -1;
		vm->net = d;
	}
	if (cfg->rng && (!(d = virtio_rng_new(&vm->mem, err)) || vm_add_virtio(vm, d, err) < 0))
		return -1;
	return 0;
}

int vm_create(struct vm *vm, const struct bhv_config *cfg, struct vm_files *f, struct bh_error *err)
{
	memset(vm, 0, sizeof(*vm));
	atomic_init(&vm->status, -1);
	vm->cfg = cfg;
	vm->files = f;
	vm->kvm_fd = f->kvm;
	vm->ncpus = cfg->cpus;
	vm->button_fd = -1;
	snprintf(vm->cmdline, sizeof(vm->cmdline), "%s", cfg->cmdline);
	vm->stop_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (vm->stop_fd < 0)
		return bh_error(err, errno, "eventfd");
	vm->vm_fd = ioctl(vm->kvm_fd, KVM_CREATE_VM, 0);
	if (vm->vm_fd < 0)
		return bh_error(err, errno, "KVM_CREATE_VM");
	if (map_memory(vm, err) < 0 || arch_vm_init(vm, err) < 0 || create_vcpus(vm, err) < 0 ||
	    arch_vm_finish(vm, err) < 0 || add_devices(vm, err) < 0)
		return -1;
	return arch_boot(vm, err);
}
