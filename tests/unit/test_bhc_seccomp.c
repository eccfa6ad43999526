/* The seccomp filters, loaded for real in a child process: the default
 * allow-list lets ordinary calls through and denies every call of the
 * hardened list; a permissive profile from the config is honoured but
 * cannot re-open the always-denied calls; bad profiles name their field. */
#include "tap.h"

#include "libbhc.h"

#include <errno.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif

/* Runs fn in a child under the filter; its exit status is the result. */
static int under(void *filter, int (*fn)(void))
{
	struct bh_error err;
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
		if (bhc_seccomp_load(filter, &err) < 0)
			_exit(100);
		_exit(fn());
	}
	waitpid(pid, &st, 0);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 200 + WTERMSIG(st);
}

static int denied(long r, int want)
{
	return r < 0 && errno == want;
}

/* Each check is one bit of the exit status: 0 means all as expected. */
static int hardened(void)
{
	int bad = 0;

	bad |= !denied(syscall(SYS_unshare, CLONE_NEWUSER), EPERM) << 0;
	bad |= !denied(syscall(SYS_mount, "x", "/tmp", "tmpfs", 0, NULL), EPERM) << 1;
	bad |= !denied(syscall(SYS_setns, 0, 0), EPERM) << 2;
	bad |= !denied(syscall(SYS_keyctl, 0, 0, 0), EPERM) << 3;
	bad |= !denied(syscall(SYS_bpf, 0, NULL, 0), EPERM) << 4;
	bad |= !denied(syscall(SYS_io_uring_setup, 1, NULL), EPERM) << 5;
	bad |= !denied(socket(AF_ALG, SOCK_SEQPACKET, 0), EPERM) &&
	       !denied(socket(AF_ALG, SOCK_SEQPACKET, 0), EAFNOSUPPORT);
	bad |= (!denied(socket(AF_VSOCK, SOCK_STREAM, 0), EPERM) &&
	        !denied(socket(AF_VSOCK, SOCK_STREAM, 0), EAFNOSUPPORT))
	       << 6;
	bad |= !denied(syscall(SYS_clone, CLONE_NEWNS | SIGCHLD, 0, 0, 0, 0), EPERM) << 7;
	return bad;
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
	bad |= !denied(syscall(SYS_clone3, NULL, 0), ENOSYS) << 4;
	return bad;
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
	r = under(f, hardened);
	ok(r == 0,
	   "default filter denies unshare, mount, setns, keyctl, bpf, io_uring, AF_ALG, AF_VSOCK, "
	   "clone with namespace flags (status %d)",
	   r);
	r = under(f, ordinary);
	ok(r == 0, "default filter allows ordinary calls, fork; clone3 gets ENOSYS (status %d)", r);
	bhc_seccomp_free(f);

	f = profile(
	    "{\"defaultAction\": \"SCMP_ACT_ALLOW\", \"syscalls\": [{\"names\": [\"getppid\"], "
	    "\"action\": \"SCMP_ACT_ERRNO\", \"errnoRet\": 77}]}",
	    &doc, &err);
	ok(f != NULL, "an allow-all profile builds: %s", err.msg);
	r = under(f, hardened);
	ok(r == 0, "the always-denied calls stay denied under an allow-all profile (status %d)", r);
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
