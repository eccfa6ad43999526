/* x86_64 vCPU state: CPUID, MSRs, the local APIC's LINT pins, and the
 * registers each boot protocol starts the bootstrap processor with. The
 * other vCPUs wait for INIT/SIPI in KVM's local APIC. */
#include "x86_boot.h"
#include "x86_cpu.h"

#include <errno.h>
#include <linux/kvm.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#define CPUID_MAX_ENTRIES 100

#define MSR_IA32_TSC          0x10
#define MSR_IA32_SYSENTER_CS  0x174
#define MSR_IA32_SYSENTER_ESP 0x175
#define MSR_IA32_SYSENTER_EIP 0x176
#define MSR_IA32_MISC_ENABLE  0x1a0
#define MSR_MTRR_DEF_TYPE     0x2ff
#define MSR_STAR              0xc0000081
#define MSR_LSTAR             0xc0000082
#define MSR_CSTAR             0xc0000083
#define MSR_SYSCALL_MASK      0xc0000084
#define MSR_KERNEL_GS_BASE    0xc0000102

#define APIC_LVT0     0x350
#define APIC_LVT1     0x360
#define APIC_MODE_NMI 0x4
#define APIC_MODE_EXT 0x7

static int log2_ceil(int n)
{
	int s = 0;

	while ((1 << s) < n)
		s++;
	return s;
}

/* Describes ncpus single-threaded cores in one package, the vCPU's APIC ID
 * being its index, so that Linux's topology matches the MADT. */
static void fix_cpuid(struct kvm_cpuid_entry2 *e, int id, int ncpus, bool tsc_deadline)
{
	switch (e->function) {
	case 0x1:
		e->ebx = (e->ebx & 0x0000ffff) | ((uint32_t)ncpus << 16) | ((uint32_t)id << 24);
		e->ecx |= 1U << 31; /* hypervisor present */
		if (tsc_deadline)
			e->ecx |= 1U << 24;
		if (ncpus > 1)
			e->edx |= 1U << 28; /* HTT: the ID fields above are valid */
		break;
	case 0x4:
		e->eax = (e->eax & 0x03ffffff) | ((uint32_t)(ncpus - 1) << 26);
		break;
	case 0xb:
	case 0x1f:
		if (e->index == 0) {
			e->eax = 0; /* SMT level: one thread per core */
			e->ebx = 1;
			e->ecx = 1 << 8;
		} else if (e->index == 1) {
			e->eax = (uint32_t)log2_ceil(ncpus);
			e->ebx = (uint32_t)ncpus;
			e->ecx = (2 << 8) | 1;
		} else {
			e->eax = e->ebx = 0;
			e->ecx = e->index;
		}
		e->edx = (uint32_t)id;
		break;
	case 0x80000001:
		e->ecx &= ~(1U << 22); /* no TOPOEXT: leaf 0x8000001e is not ours */
		break;
	case 0x80000008:
		e->ecx = (uint32_t)(ncpus - 1);
		break;
	}
}

static int set_cpuid(int kvm_fd, struct vcpu *v, int ncpus, struct bh_error *err)
{
	struct kvm_cpuid2 *c = calloc(1, sizeof(*c) + CPUID_MAX_ENTRIES * sizeof(c->entries[0]));
	bool deadline = ioctl(kvm_fd, KVM_CHECK_EXTENSION, KVM_CAP_TSC_DEADLINE_TIMER) > 0;
	int r;

	if (!c)
		return bh_error(err, ENOMEM, "CPUID");
	c->nent = CPUID_MAX_ENTRIES;
	if (ioctl(kvm_fd, KVM_GET_SUPPORTED_CPUID, c) < 0) {
		free(c);
		return bh_error(err, errno, "KVM_GET_SUPPORTED_CPUID");
	}
	for (uint32_t i = 0; i < c->nent; i++)
		fix_cpuid(&c->entries[i], v->id, ncpus, deadline);
	r = ioctl(v->fd, KVM_SET_CPUID2, c);
	free(c);
	return r < 0 ? bh_error(err, errno, "KVM_SET_CPUID2") : 0;
}

/* The MSRs firmware would have set. The MTRR default type matters most:
 * left at 0, all of memory is uncacheable and the guest crawls. */
static int set_msrs(struct vcpu *v, struct bh_error *err)
{
	/* clang-format off */
	static const struct {
		uint32_t index;
		uint64_t value;
	} init[] = {
		{MSR_IA32_SYSENTER_CS, 0}, {MSR_IA32_SYSENTER_ESP, 0}, {MSR_IA32_SYSENTER_EIP, 0},
		{MSR_STAR, 0},            {MSR_LSTAR, 0},            {MSR_CSTAR, 0},
		{MSR_SYSCALL_MASK, 0},    {MSR_KERNEL_GS_BASE, 0},   {MSR_IA32_TSC, 0},
		{MSR_IA32_MISC_ENABLE, 1 /* fast strings */},
		{MSR_MTRR_DEF_TYPE, (1 << 11) | 6 /* enabled, write-back */},
	};
	/* clang-format on */
	struct {
		struct kvm_msrs h;
		struct kvm_msr_entry e[sizeof(init) / sizeof(init[0])];
	} m;
	int n = (int)(sizeof(init) / sizeof(init[0]));

	memset(&m, 0, sizeof(m));
	m.h.nmsrs = (uint32_t)n;
	for (int i = 0; i < n; i++) {
		m.e[i].index = init[i].index;
		m.e[i].data = init[i].value;
	}
	/* KVM stops at the first MSR it refuses; only the MTRR one (last)
	 * is essential, so retry it alone if the batch fell short. */
	if (ioctl(v->fd, KVM_SET_MSRS, &m) == n)
		return 0;
	m.h.nmsrs = 1;
	m.e[0] = m.e[n - 1];
	if (ioctl(v->fd, KVM_SET_MSRS, &m) != 1)
		return bh_error(err, errno, "KVM_SET_MSRS (MTRR default type)");
	return 0;
}

/* LINT0 takes the 8259's interrupts, LINT1 is the NMI line. */
static int set_lint(struct vcpu *v, struct bh_error *err)
{
	struct kvm_lapic_state lapic;
	uint32_t lvt;

	if (ioctl(v->fd, KVM_GET_LAPIC, &lapic) < 0)
		return bh_error(err, errno, "KVM_GET_LAPIC");
	memcpy(&lvt, lapic.regs + APIC_LVT0, 4);
	lvt = (lvt & ~0x700U) | (APIC_MODE_EXT << 8);
	memcpy(lapic.regs + APIC_LVT0, &lvt, 4);
	memcpy(&lvt, lapic.regs + APIC_LVT1, 4);
	lvt = (lvt & ~0x700U) | (APIC_MODE_NMI << 8);
	memcpy(lapic.regs + APIC_LVT1, &lvt, 4);
	if (ioctl(v->fd, KVM_SET_LAPIC, &lapic) < 0)
		return bh_error(err, errno, "KVM_SET_LAPIC");
	return 0;
}

static int set_fpu(struct vcpu *v, struct bh_error *err)
{
	struct kvm_fpu fpu;

	memset(&fpu, 0, sizeof(fpu));
	fpu.fcw = 0x37f;
	fpu.mxcsr = 0x1f80;
	return ioctl(v->fd, KVM_SET_FPU, &fpu) < 0 ? bh_error(err, errno, "KVM_SET_FPU") : 0;
}

int x86_vcpu_init(int kvm_fd, struct vcpu *v, int ncpus, struct bh_error *err)
{
	if (set_cpuid(kvm_fd, v, ncpus, err) < 0 || set_msrs(v, err) < 0 || set_lint(v, err) < 0 ||
	    set_fpu(v, err) < 0)
		return -1;
	return 0;
}

/* A KVM segment from a GDT descriptor (Intel SDM 3.4.5). */
static struct kvm_segment segment(uint64_t d, uint16_t selector)
{
	struct kvm_segment s = {
	    .base = (uint32_t)(((d >> 16) & 0xffffff) | ((d >> 32) & 0xff000000)),
	    .limit = (uint32_t)((d & 0xffff) | ((d >> 32) & 0xf0000)),
	    .selector = selector,
	    .type = (uint8_t)((d >> 40) & 0xf),
	    .s = (uint8_t)((d >> 44) & 1),
	    .dpl = (uint8_t)((d >> 45) & 3),
	    .present = (uint8_t)((d >> 47) & 1),
	    .avl = (uint8_t)((d >> 52) & 1),
	    .l = (uint8_t)((d >> 53) & 1),
	    .db = (uint8_t)((d >> 54) & 1),
	    .g = (uint8_t)((d >> 55) & 1),
	};

	if (s.g)
		s.limit = (s.limit << 12) | 0xfff;
	return s;
}

static void protected_mode(struct kvm_sregs *s, const uint64_t gdt[5])
{
	s->gdt.base = X86_GDT_ADDR;
	s->gdt.limit = 5 * 8 - 1;
	s->idt.base = X86_IDT_ADDR;
	s->idt.limit = 7;
	s->cs = segment(gdt[2], X86_CODE_SEL);
	s->ds = s->es = s->fs = s->gs = s->ss = segment(gdt[3], X86_DATA_SEL);
	s->tr = segment(gdt[4], X86_TSS_SEL);
	s->cr0 |= 0x11; /* PE, ET */
}

int x86_boot_regs(struct vcpu *v, const struct guest_mem *gm, enum kernel_kind kind, uint64_t entry,
                  struct bh_error *err)
{
	struct kvm_sregs s;
	struct kvm_regs r;
	uint64_t gdt[5];

	if (ioctl(v->fd, KVM_GET_SREGS, &s) < 0)
		return bh_error(err, errno, "KVM_GET_SREGS");
	memset(&r, 0, sizeof(r));
	r.rflags = 2;
	r.rip = entry;
	switch (kind) {
	case KERNEL_RAW16:
		/* Real mode with flat zero-based segments. */
		s.cs.base = s.ds.base = s.es.base = s.ss.base = s.fs.base = s.gs.base = 0;
		s.cs.selector = s.ds.selector = s.es.selector = s.ss.selector = 0;
		r.rsp = RAW16_LOAD_ADDR - 16;
		break;
	case KERNEL_ELF_PVH:
		/* PVH: 32-bit protected mode, paging off, ebx -> start info. */
		if (x86_write_gdt(gm, false, gdt) < 0)
			return bh_error(err, 0, "no room for the GDT");
		protected_mode(&s, gdt);
		s.cr4 = 0;
		s.efer = 0;
		r.rbx = X86_PVH_INFO_ADDR;
		break;
	default:
		/* 64-bit boot protocol (bzImage) and raw long-mode guests:
		 * long mode on identity page tables, rsi -> zero page. */
		if (x86_write_gdt(gm, true, gdt) < 0 || x86_write_page_tables(gm) < 0)
			return bh_error(err, 0, "no room for the GDT and page tables");
		protected_mode(&s, gdt);
		s.cr3 = X86_PML4_ADDR;
		s.cr4 |= 0x20;           /* PAE */
		s.cr0 |= 0x80000000;     /* PG */
		s.efer |= 0x100 | 0x400; /* LME, LMA */
		r.rsi = X86_ZERO_PAGE_ADDR;
		r.rsp = X86_STACK_TOP;
		break;
	}
	if (ioctl(v->fd, KVM_SET_SREGS, &s) < 0)
		return bh_error(err, errno, "KVM_SET_SREGS");
	if (ioctl(v->fd, KVM_SET_REGS, &r) < 0)
		return bh_error(err, errno, "KVM_SET_REGS");
	return 0;
}
