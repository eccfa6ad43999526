/* A vCPU thread: KVM_RUN, then the exit. Everything an exit carries comes
 * from the guest (port, address, size, data) and is decoded against the
 * buses, which only reach devices that claimed the address. The thread
 * runs under the narrowest seccomp filter (policy.c), installed before
 * its first KVM_RUN. */
#include "policy.h"
#include "vm.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

static bool handle_io(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	uint64_t size = run->io.size, bytes = size * run->io.count;
	uint8_t *data = (uint8_t *)run + run->io.data_offset;

	/* The kernel fills these, but a bad offset would make us scribble
	 * over our own memory: check them like any other input. */
	if (size == 0 || size > 4 || run->io.data_offset > v->vm->run_size ||
	    bytes > v->vm->run_size - run->io.data_offset) {
		vm_stop(v->vm, BHV_EXIT_CRASH, "malformed KVM_EXIT_IO");
		return false;
	}
	for (uint32_t i = 0; i < run->io.count; i++, data += size)
		bus_access(&v->vm->pio, run->io.port, data, (uint32_t)size,
		           run->io.direction == KVM_EXIT_IO_OUT);
	return true;
}

static bool handle_mmio(struct vcpu *v)
{
	struct kvm_run *run = v->run;

	if (run->mmio.len == 0 || run->mmio.len > sizeof(run->mmio.data)) {
		vm_stop(v->vm, BHV_EXIT_CRASH, "malformed KVM_EXIT_MMIO");
		return false;
	}
	bus_access(&v->vm->mmio, run->mmio.phys_addr, run->mmio.data, run->mmio.len,
	           run->mmio.is_write);
	return true;
}

static bool stop(struct vcpu *v, int status, const char *reason)
{
	vm_stop(v->vm, status, reason);
	return false;
}

static bool handle_exit(struct vcpu *v)
{
	struct kvm_run *run = v->run;
	char why[160];

	switch (run->exit_reason) {
	case KVM_EXIT_IO:
		return handle_io(v);
	case KVM_EXIT_MMIO:
		return handle_mmio(v);
	case KVM_EXIT_INTR:
		return true;
	case KVM_EXIT_SHUTDOWN:
		return stop(v, BHV_EXIT_CRASH, "triple fault (KVM_EXIT_SHUTDOWN)");
	case KVM_EXIT_SYSTEM_EVENT:
		switch (run->system_event.type) {
		case KVM_SYSTEM_EVENT_SHUTDOWN:
			return stop(v, BHV_EXIT_POWEROFF, "guest powered off");
		case KVM_SYSTEM_EVENT_RESET:
			return stop(v, BHV_EXIT_REBOOT, "guest rebooted");
		default:
			snprintf(why, sizeof(why), "system event %u", run->system_event.type);
			return stop(v, BHV_EXIT_CRASH, why);
		}
	case KVM_EXIT_INTERNAL_ERROR:
		/* The first data words are KVM's own diagnosis (for an
		 * emulation failure: flags and the instruction bytes). */
		snprintf(why, sizeof(why),
		         "KVM internal error (suberror %u) on vCPU %d, data %llx %llx %llx %llx",
		         run->internal.suberror, v->id,
		         run->internal.ndata > 0 ? (unsigned long long)run->internal.data[0] : 0ULL,
		         run->internal.ndata > 1 ? (unsigned long long)run->internal.data[1] : 0ULL,
		         run->internal.ndata > 2 ? (unsigned long long)run->internal.data[2] : 0ULL,
		         run->internal.ndata > 3 ? (unsigned long long)run->internal.data[3]
		                                 : 0ULL);
		return stop(v, BHV_EXIT_CRASH, why);
	case KVM_EXIT_FAIL_ENTRY:
		snprintf(why, sizeof(why), "VM entry failed (reason 0x%llx) on vCPU %d",
		         (unsigned long long)run->fail_entry.hardware_entry_failure_reason, v->id);
		return stop(v, BHV_EXIT_CRASH, why);
	default:
		return arch_handle_exit(v);
	}
}

void *vcpu_thread(void *arg)
{
	struct vcpu *v = arg;
	struct vm *vm = v->vm;
	char why[96];

	if (policy_enter(POLICY_VCPU) < 0) {
		vm_stop(vm, BHV_EXIT_ERROR, "cannot install the vCPU seccomp filter");
		return NULL;
	}
	/* Every thread has its filter before any guest instruction runs. */
	vm_wait_start(vm);
	while (atomic_load(&vm->status) < 0) {
		if (ioctl(v->fd, KVM_RUN, 0) < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			snprintf(why, sizeof(why), "KVM_RUN on vCPU %d: %s", v->id,
			         strerror(errno));
			vm_stop(vm, BHV_EXIT_CRASH, why);
			break;
		}
		if (!handle_exit(v))
			break;
	}
	return NULL;
}
