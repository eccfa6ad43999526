/* x86_64 vCPU setup (x86_cpu.c). */
#ifndef BHV_X86_CPU_H
#define BHV_X86_CPU_H

#include "vm.h"

/* CPUID, MSRs, local APIC and FPU for one vCPU of ncpus. */
int x86_vcpu_init(int kvm_fd, struct vcpu *v, int ncpus, struct bh_error *err);

/* The bootstrap processor's registers for a kernel of this kind. */
int x86_boot_regs(struct vcpu *v, const struct guest_mem *gm, enum kernel_kind kind, uint64_t entry,
                  struct bh_error *err);

#endif
