/* The seccomp allow-lists: their sizes, and that an installed filter
 * really lets the listed calls through and stops the rest (in a child
 * process, which the filter then ends with status 1 and a message). */
#include "tap.h"

#include "policy.h"

#include <errno.h>
#include <seccomp.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#include <linux/kvm.h>

static int count(enum policy p, const char **seen, int *n_seen)
{
	int n = 0;

	for (const char *const *s = policy_syscalls(p); *s; s++) {
		bool dup = false;

		if (seccomp_syscall_resolve_name(*s) == __NR_SCMP_ERROR)
			continue;
		n++;
		for (int i = 0; i < *n_seen && !dup; i++)
			dup = !strcmp(seen[i], *s);
		if (!dup)
			seen[(*n_seen)++] = *s;
	}
	return n;
}

static bool allows(enum policy p, const char *name)
{
	for (const char *const *s = policy_syscalls(p); *s; s++)
		if (!strcmp(*s, name))
			return true;
	return false;
}

/* Runs fn in a child under policy p; returns its exit status (or 128 +
 * signal). */
static int under(enum policy p, void (*fn)(void))
{
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		if (policy_enter(p) < 0)
			_exit(99);
		fn();
		syscall(SYS_exit_group, 0);
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void do_write(void)
{
	if (syscall(SYS_write, 2, "", 0) < 0)
		syscall(SYS_exit_group, 7);
}

static void do_getpid(void)
{
	syscall(SYS_getpid);
}

static void do_kvm_run(void)
{
	/* fd -1: the filter lets it through, the kernel says EBADF. */
	if (syscall(SYS_ioctl, -1, KVM_RUN, 0) != -1 || errno != EBADF)
		syscall(SYS_exit_group, 7);
}

static void do_other_ioctl(void)
{
	syscall(SYS_ioctl, -1, KVM_SET_USER_MEMORY_REGION, 0);
}

static void do_getrandom(void)
{
	char b[4];

	if (syscall(SYS_getrandom, b, sizeof(b), 0) != 4)
		syscall(SYS_exit_group, 7);
}

static void do_socket(void)
{
	syscall(SYS_socket, AF_INET, SOCK_STREAM, 0);
}

static void do_open(void)
{
	syscall(SYS_openat, -100, "/etc/passwd", 0);
}

static void do_execve(void)
{
	char *argv[] = {"/bin/true", NULL};

	syscall(SYS_execve, "/bin/true", argv, NULL);
}

int main(void)
{
	const char *seen[128];
	int n_seen = 0, vcpu, device, super;
	struct bh_error err;

	vcpu = count(POLICY_VCPU, seen, &n_seen);
	device = count(POLICY_DEVICE, seen, &n_seen);
	super = count(POLICY_SUPERVISOR, seen, &n_seen);
	ok(n_seen <= 60, "%d distinct system calls in all the filters (at most 60)", n_seen);
	ok(vcpu < device, "vCPU threads get fewer (%d) than the device thread (%d)", vcpu, device);
	ok(super <= 10, "the outer jail process gets %d", super);
	ok(!allows(POLICY_VCPU, "read") && !allows(POLICY_VCPU, "pread64") &&
	       !allows(POLICY_VCPU, "epoll_pwait"),
	   "vCPU threads do no device I/O");
	{
		static const char *never[] = {
		    "open",  "openat",   "execve", "execveat", "socket",  "connect",
		    "mmap",  "mprotect", "clone",  "clone3",   "fork",    "ptrace",
		    "mount", "setuid",   "bpf",    "prctl",    "seccomp", NULL};
		bool clean = true;

		for (int p = 0; p < POLICY_COUNT; p++)
			for (const char **n = never; *n; n++)
				if (allows((enum policy)p, *n)) {
					diag(*n);
					clean = false;
				}
		ok(clean, "no filter allows opening files, executing, sockets, mapping memory, new "
		          "threads or privilege changes");
	}
	ok(policy_prepare(&err) == 0, "the filters compile: %s", err.msg);
	ok(under(POLICY_VCPU, do_write) == 0, "vCPU: write is allowed");
	ok(under(POLICY_VCPU, do_kvm_run) == 0, "vCPU: ioctl(KVM_RUN) is allowed");
	ok(under(POLICY_VCPU, do_other_ioctl) == 1,
	   "vCPU: any other ioctl ends the process (status 1)");
	ok(under(POLICY_VCPU, do_getpid) == 1, "vCPU: getpid ends the process");
	ok(under(POLICY_VCPU, do_getrandom) == 1, "vCPU: getrandom ends the process");
	ok(under(POLICY_DEVICE, do_getrandom) == 0, "device: getrandom is allowed");
	ok(under(POLICY_DEVICE, do_socket) == 1, "device: socket ends the process");
	ok(under(POLICY_DEVICE, do_open) == 1, "device: open ends the process");
	ok(under(POLICY_DEVICE, do_execve) == 1, "device: execve ends the process");
	ok(under(POLICY_DEVICE, do_other_ioctl) == 1, "device: ioctl ends the process");
	ok(under(POLICY_SUPERVISOR, do_getrandom) == 1, "supervisor: getrandom ends the process");
	return done();
}
