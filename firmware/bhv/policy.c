/* Seccomp filters built with libseccomp. The lists are the system calls
 * each thread makes once the guest runs, and nothing else: every file is
 * open, every eventfd created and all memory mapped before the filters go
 * on. ioctl is allowed to vCPU threads for KVM_RUN only. */
#include "policy.h"

#include <errno.h>
#include <linux/filter.h>
#include <linux/kvm.h>
#include <linux/seccomp.h>
#include <seccomp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

/* A sanitizer build (tests/sanitize/sanitize.mk: glibc, ASan and UBSan,
 * for tests on the build host, never on an image) also lets every thread
 * make the system calls of glibc's thread exit and the sanitizer runtime. */
#ifdef BH_SANITIZE
#define SANITIZER_CALLS , "mmap", "munmap", "madvise", "sigaltstack", "gettid", "prctl"
#else
#define SANITIZER_CALLS
#endif

/* Leaving a thread (musl's pthread_exit) and signal returns. */
#define COMMON "futex", "rt_sigprocmask", "rt_sigreturn", "exit", "exit_group", "write" SANITIZER_CALLS

static const char *const vcpu_calls[] = {COMMON, "ioctl", NULL};

static const char *const device_calls[] = {
    COMMON,
    "epoll_pwait",
    "epoll_wait", /* the event loop (musl uses either) */
    "epoll_ctl",  /* pausing the tap, dropping a closed stdin */
    "read",
    "readv",
    "writev", /* console, eventfds, tap */
    "pread64",
    "pwrite64", /* disks */
    "fdatasync",
    "fsync",         /* virtio-blk flush, and at exit */
    "getrandom",     /* virtio-rng */
    "clock_gettime", /* the vDSO's fallback */
    NULL,
};

static const char *const supervisor_calls[] = {COMMON, "read", "wait4", "kill", NULL};

static const char *const *const lists[POLICY_COUNT] = {vcpu_calls, device_calls, supervisor_calls};
static const char *const names[POLICY_COUNT] = {"vCPU", "device", "supervisor"};

/* ioctl(fd, KVM_RUN): the request number is 32 bits wide in the kernel. */
static const struct scmp_arg_cmp kvm_run_only = {
    .arg = 1, .op = SCMP_CMP_MASKED_EQ, .datum_a = 0xffffffff, .datum_b = KVM_RUN};

static struct sock_fprog programs[POLICY_COUNT];
static __thread enum policy current;

const char *const *policy_syscalls(enum policy p)
{
	return lists[p];
}

const char *policy_name(enum policy p)
{
	return names[p];
}

/* A forbidden call: say which and stop. Only async-signal-safe calls. */
static void on_sigsys(int sig, siginfo_t *si, void *uc)
{
	char msg[128];
	int n = snprintf(msg, sizeof(msg),
	                 "bhv: seccomp: the %s thread made forbidden system call %d\n",
	                 names[current], si->si_syscall);

	if (n > 0 && write(STDERR_FILENO, msg, (size_t)n) < 0) {
		/* exit anyway */
	}
	/* The system call itself: no libc exit path, which might make more
	 * forbidden calls. */
	syscall(SYS_exit_group, 1);
}

static int build(enum policy p, struct bh_error *err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_TRAP);
	size_t len = 0;
	int r = 0;

	if (!ctx)
		return bh_error(err, ENOMEM, "seccomp_init");
	for (const char *const *n = lists[p]; *n && r == 0; n++) {
		int nr = seccomp_syscall_resolve_name(*n);

		if (nr == __NR_SCMP_ERROR)
			continue; /* not a system call on this architecture */
		if (p == POLICY_VCPU && !strcmp(*n, "ioctl"))
			r = seccomp_rule_add_array(ctx, SCMP_ACT_ALLOW, nr, 1, &kvm_run_only);
		else
			r = seccomp_rule_add(ctx, SCMP_ACT_ALLOW, nr, 0);
	}
	/* Size first: libseccomp 2.6.0 copies *len bytes, not the program's
	 * size, so the buffer must be exactly as long as the program. */
	if (r == 0)
		r = seccomp_export_bpf_mem(ctx, NULL, &len);
	if (r == 0 && !(programs[p].filter = malloc(len)))
		r = -ENOMEM;
	if (r == 0)
		r = seccomp_export_bpf_mem(ctx, programs[p].filter, &len);
	seccomp_release(ctx);
	if (r < 0)
		return bh_error(err, -r, "build the %s seccomp filter", names[p]);
	programs[p].len = (unsigned short)(len / sizeof(struct sock_filter));
	return 0;
}

int policy_prepare(struct bh_error *err)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_sigaction = on_sigsys;
	sa.sa_flags = SA_SIGINFO;
	if (sigaction(SIGSYS, &sa, NULL) < 0)
		return bh_error(err, errno, "sigaction SIGSYS");
	for (int p = 0; p < POLICY_COUNT; p++)
		if (!programs[p].filter && build((enum policy)p, err) < 0)
			return -1;
	return 0;
}

int policy_enter(enum policy p)
{
	current = p;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return -1;
	return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &programs[p]);
}
