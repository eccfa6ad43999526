/* The seccomp filters, loaded for real in a child process: the default
 * allow-list lets ordinary calls through and denies every call of the
 * hardened list; a permissive profile from the config is honoured but
 * cannot re-open the always-denied calls; bad profiles name their field.
 *
 * A denial must be shown to come from the filter: run as non-root, the
 * kernel itself refuses mount, unshare or bpf with EPERM. So each denied
 * call is made with arguments the kernel rejects on its own with another
 * errno (a bad pointer, flag or fd), first without the filter, and only
 * the filter's errno counts. */
#include "tap.h"

#include "libbhc.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <linux/fs.h>
#include <seccomp.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

/* Runs fn in a child under the filter (none: NULL); its exit status is the
 * result. */
static int under(void *filter, int (*fn)(void))
{
	struct bh_error err;
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		if (filter && bhc_seccomp_load(filter, &err) < 0)
			_exit(100);
		_exit(fn());
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 200 + WTERMSIG(st);
}

/* The errno of a failed call, 0 when it worked. */
static int err_of(long r)
{
	return r < 0 ? errno : 0;
}

/* Each call below fails in the kernel without the filter, before any
 * privilege check, and changes nothing. */
static int c_unshare(void)
{
	return err_of(syscall(SYS_unshare, CLONE_NEWUSER | 0x1)); /* EINVAL: bad flag */
}

static int c_mount(void)
{
	return err_of(syscall(SYS_mount, "x", "/tmp", (char *)1, 0, NULL)); /* EFAULT: type */
}

static int c_setns(void)
{
	return err_of(syscall(SYS_setns, -1, 0)); /* EBADF */
}

static int c_keyctl(void)
{
	return err_of(syscall(SYS_keyctl, 99999, 0, 0, 0)); /* EOPNOTSUPP */
}

static int c_bpf(void)
{
	char attr[64] = {0};

	return err_of(syscall(SYS_bpf, 99999, attr, sizeof(attr))); /* EINVAL: no such command */
}

static int c_io_uring(void)
{
	return err_of(syscall(SYS_io_uring_setup, 1, NULL)); /* EFAULT: params */
}

static int c_af_alg(void)
{
	return err_of(socket(AF_ALG, 9999, 0)); /* EINVAL: no such type */
}

/* The kernel reads the family as an int: high bits must not smuggle
 * AF_ALG past a 64-bit comparison. */
static int c_af_alg_high(void)
{
	return err_of(syscall(
	    SYS_socket, (long)AF_ALG | (sizeof(long) > 4 ? 1L << (sizeof(long) * 4) : 0), 9999, 0));
}

static int c_af_alg_pair(void)
{
	int sv[2];

	return err_of(socketpair(AF_ALG, 9999, 0, sv)); /* EINVAL: no such type */
}

static int c_af_vsock(void)
{
	return err_of(socket(AF_VSOCK, 9999, 0)); /* EINVAL */
}

static int c_clone_ns(void)
{
	/* EINVAL: a new mount namespace with a shared fs struct */
	return err_of(syscall(SYS_clone, CLONE_NEWNS | CLONE_FS | SIGCHLD, 0, 0, 0, 0));
}

static int c_clone3(void)
{
	return err_of(syscall(SYS_clone3, NULL, 0)); /* EINVAL: size */
}

/* TIOCSTI and TIOCLINUX on a pipe: ENOTTY from the kernel. */
static int tty_ioctl(unsigned long req)
{
	int p[2], r;
	char c = 'x';

	if (pipe(p) < 0)
		return 255;
	r = err_of(syscall(SYS_ioctl, p[0], req, &c));
	close(p[0]);
	close(p[1]);
	return r;
}

static int c_tiocsti(void)
{
	return tty_ioctl(TIOCSTI);
}

static int c_tioclinux(void)
{
	return tty_ioctl(TIOCLINUX);
}

/* The kernel reads the request as an int: high bits must not smuggle
 * TIOCSTI past a 64-bit comparison. */
static int c_tiocsti_high(void)
{
	return tty_ioctl((unsigned long)TIOCSTI |
	                 (sizeof(long) > 4 ? 1UL << (sizeof(long) * 4) : 0));
}

static const struct {
	const char *name;
	int (*call)(void);
	int by_default; /* the errno of the default filter */
	int by_profile; /* of the deny filter stacked on a profile */
} denied[] = {
    {"unshare", c_unshare, EPERM, EPERM},
    {"mount", c_mount, EPERM, EPERM},
    {"setns", c_setns, EPERM, EPERM},
    {"keyctl", c_keyctl, EPERM, EPERM},
    {"bpf", c_bpf, EPERM, EPERM},
    {"io_uring_setup", c_io_uring, EPERM, EPERM},
    {"socket(AF_ALG)", c_af_alg, EAFNOSUPPORT, EAFNOSUPPORT},
    {"socket(AF_ALG with high bits set)", c_af_alg_high, EAFNOSUPPORT, EAFNOSUPPORT},
    {"socket(AF_VSOCK)", c_af_vsock, EAFNOSUPPORT, EAFNOSUPPORT},
    {"socketpair(AF_ALG)", c_af_alg_pair, EAFNOSUPPORT, EAFNOSUPPORT},
    {"clone with namespace flags", c_clone_ns, EPERM, EPERM},
    {"clone3", c_clone3, ENOSYS, ENOSYS},
    {"ioctl(TIOCSTI)", c_tiocsti, EPERM, EPERM},
    {"ioctl(TIOCLINUX)", c_tioclinux, EPERM, EPERM},
    {"ioctl(TIOCSTI with high bits set)", c_tiocsti_high, EPERM, EPERM},
};

/* One check per denied call: the kernel alone answers something else, the
 * filter answers its errno. */
static void check_denied(void *filter, const char *which, int profile)
{
	for (size_t i = 0; i < sizeof(denied) / sizeof(*denied); i++) {
		int want = profile ? denied[i].by_profile : denied[i].by_default;
		int plain = under(NULL, denied[i].call), got = under(filter, denied[i].call);
		char name[160];

		snprintf(name, sizeof(name), "%s denies %s with errno %d", which, denied[i].name,
		         want);
		if (plain == want) {
			/* e.g. kernel.io_uring_disabled = 2 */
			skip(name, "this kernel answers that errno by itself: the filter's answer "
			           "cannot be told apart");
			continue;
		}
		ok(got == want, "%s (%d without the filter)", name, plain);
	}
}

static int ordinary(void)
{
	int s = socket(AF_UNIX, SOCK_STREAM, 0), bad = 0;
	pid_t pid;

	bad |= (s < 0) << 0;
	bad |= (getpid() <= 0) << 1;
	pid = fork();
	if (pid == 0)
		_exit(7);
	if (pid > 0) {
		int st;

		waitpid(pid, &st, 0);
		bad |= (!WIFEXITED(st) || WEXITSTATUS(st) != 7) << 2;
	} else {
		bad |= 1 << 3;
	}
	return bad;
}

/* ioctls on both sides of TIOCSTI..TIOCLINUX and between them work. */
static int ordinary_ioctls(void)
{
	int p[2], n = -1, bad = 0, bsz = 0;

	if (pipe(p) < 0)
		return 255;
	bad |= (ioctl(p[0], FIGETBSZ, &bsz) < 0) << 0;         /* 2: below TIOCSTI */
	bad |= (ioctl(p[0], FIONREAD, &n) < 0 || n != 0) << 1; /* between */
	bad |= (ioctl(p[0], FIOCLEX) < 0) << 2;                /* above TIOCLINUX */
	close(p[0]);
	close(p[1]);
	return bad;
}

/* The number of a system call libseccomp does not know on this
 * architecture (no name: not assigned, or newer than its table). */
static long unknown_nr;

static int unknown_call(void)
{
	return err_of(syscall(unknown_nr, 0, 0, 0, 0, 0, 0));
}

/* A call libseccomp knows but the kernel has dropped (ENOSYS without a
 * filter), and that the default allow-list does not hold. */
static long nfsservctl_nr;

static int known_disallowed_call(void)
{
	return err_of(syscall(nfsservctl_nr, 0, 0, 0));
}

static void check_unknown(void *f, const char *which)
{
	static const long tries[] = {335, 400, 499, 777, 1000, 1023};

	for (size_t i = 0; i < sizeof(tries) / sizeof(*tries); i++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, (int)tries[i]);
		int got;

		if (name) {
			free(name);
			continue;
		}
		unknown_nr = tries[i];
		got = under(f, unknown_call);
		ok(got == ENOSYS, "%s: unknown system call %ld fails with ENOSYS (got %d)", which,
		   unknown_nr, got);
	}
}

static int getppid_errno(void)
{
	return syscall(SYS_getppid) < 0 ? errno : 0;
}

static void *profile(const char *json, yyjson_doc **doc, struct bh_error *err)
{
	*doc = yyjson_read(json, strlen(json), 0);
	return bhc_seccomp_build(yyjson_doc_get_root(*doc), err);
}

int main(void)
{
	struct bh_error err = {0};
	void *f = bhc_seccomp_build(NULL, &err);
	yyjson_doc *doc;
	int r;

	ok(f != NULL, "default filter builds: %s", err.msg);
	check_denied(f, "the default filter", 0);
	r = under(f, ordinary);
	ok(r == 0, "default filter allows ordinary calls, fork (status %d)", r);
	r = under(f, ordinary_ioctls);
	ok(r == 0, "default filter allows ioctls around TIOCSTI and TIOCLINUX (status %d)", r);
	check_unknown(f, "the default filter");
	nfsservctl_nr = seccomp_syscall_resolve_name("nfsservctl");
	if (nfsservctl_nr < 0 || under(NULL, known_disallowed_call) != ENOSYS) {
		skip("the default filter answers EPERM for a known call it does not allow",
		     "libseccomp has no nfsservctl here, or the kernel does not answer ENOSYS");
	} else {
		r = under(f, known_disallowed_call);
		ok(r == EPERM,
		   "the default filter answers EPERM for a known call it does not allow "
		   "(nfsservctl: "
		   "%d)",
		   r);
	}
	bhc_seccomp_free(f);

	/* What a process (and ASan in this test) needs after the load. */
	f = profile("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
	            "[\"exit\", \"exit_group\", \"getpid\", \"write\", \"brk\", \"mmap\", "
	            "\"munmap\", \"mprotect\", \"madvise\", \"futex\", \"rt_sigprocmask\", "
	            "\"rt_sigaction\", \"sigaltstack\", \"close\", \"prctl\"], "
	            "\"action\": \"SCMP_ACT_ALLOW\"}]}",
	            &doc, &err);
	ok(f != NULL, "a deny-by-default profile builds: %s", err.msg);
	if (f)
		check_unknown(f, "a deny-by-default profile");
	bhc_seccomp_free(f);
	yyjson_doc_free(doc);

	f = profile(
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getppid\"], "
	    "\"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 77}]}",
	    &doc, &err);
	ok(f != NULL, "an allow-all profile builds: %s", err.msg);
	check_denied(f, "under an allow-all profile, the stacked filter", 1);
	ok(under(f, getppid_errno) == 77, "the profile's own rule applies (errnoRet 77)");
	bhc_seccomp_free(f);
	yyjson_doc_free(doc);

	f = profile(
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getpid\"], "
	    "\"action\": \"SCMP_ACT_ERRNO\", \"args\": [{\"index\": 9, \"value\": 1, \"op\": "
	    "\"SCMP_CMP_EQ\"}]}]}",
	    &doc, &err);
	ok(!f && strstr(err.msg,
	                "$.linux.seccomp.syscalls[0].args[0].index: 9 is not an argument index"),
	   "a bad argument index: %s", err.msg);
	yyjson_doc_free(doc);
	f = profile("{\"defaultAction\": \"SCMP_ACT_NOTIFY\"}", &doc, &err);
	ok(!f &&
	       strstr(err.msg, "$.linux.seccomp.defaultAction: 'SCMP_ACT_NOTIFY' is not supported"),
	   "notify: %s", err.msg);
	yyjson_doc_free(doc);
	f = profile(
	    "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"architectures\": [\"SCMP_ARCH_PDP11\"]}",
	    &doc, &err);
	ok(!f && strstr(err.msg, "'SCMP_ARCH_PDP11' is not an architecture"),
	   "unknown architecture: %s", err.msg);
	yyjson_doc_free(doc);
	/* Found by the fuzzer: the error for a rule libseccomp refuses (two
	 * comparisons of one argument) read freed memory. */
	f = profile("{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": "
	            "[\"socket\"], \"action\": "
	            "\"SCMP_ACT_ALLOW\", \"args\": [{\"index\": 1, \"value\": 1, \"op\": "
	            "\"SCMP_CMP_EQ\"}, {\"index\": 1, "
	            "\"value\": 1, \"valueTwo\": 1, \"op\": \"SCMP_CMP_MASKED_EQ\"}]}]}",
	            &doc, &err);
	ok(!f && strstr(err.msg, "$.linux.seccomp.syscalls[0]: rule for 'socket'"),
	   "a rule libseccomp refuses: %s", err.msg);
	bhc_seccomp_free(f);
	yyjson_doc_free(doc);
	f = profile(
	    "{\"defaultAction\": \"SCMP_ACT_ERRNO\", \"syscalls\": [{\"names\": [\"no_such_call\", "
	    "\"getpid\"], \"action\": \"SCMP_ACT_ALLOW\"}]}",
	    &doc, &err);
	ok(f != NULL, "unknown syscall names are skipped like runc and crun do: %s", err.msg);
	bhc_seccomp_free(f);
	yyjson_doc_free(doc);
	return done();
}
