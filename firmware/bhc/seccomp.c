/* The container's seccomp filter, built with libseccomp before the
 * container starts and loaded as the very last step before execve.
 *
 * Without a linux.seccomp section the process gets the default allow-list
 * (seccomp_default.c), every other call libseccomp knows failing with
 * EPERM and numbers it does not know with ENOSYS. With one, that profile
 * is honoured as written. In both cases a second filter that denies the
 * always-denied calls below, AF_ALG and AF_VSOCK sockets and the TIOCSTI
 * and TIOCLINUX ioctls is stacked on top: the kernel applies the most
 * restrictive answer of all filters, so a permissive profile cannot
 * re-open them. */
#include "libbhc.h"

#include <errno.h>
#include <seccomp.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

extern const char *const bhc_seccomp_default_allow[];

#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME 0x00000080
#endif

/* Kernel interfaces behind recent escapes and privilege escalations, and
 * everything that changes the mount or namespace layout. */
const char *const bhc_seccomp_always_denied[] = {
    "mount",
    "umount",
    "umount2",
    "pivot_root",
    "unshare",
    "setns",
    "fsopen",
    "fsconfig",
    "fsmount",
    "fspick",
    "open_tree",
    "move_mount",
    "mount_setattr",
    "io_uring_setup",
    "io_uring_enter",
    "io_uring_register",
    "keyctl",
    "add_key",
    "request_key",
    "userfaultfd",
    "bpf",
    "perf_event_open",
    "kexec_load",
    "kexec_file_load",
    "open_by_handle_at",
    "init_module",
    "finit_module",
    "delete_module",
    "reboot",
    "swapon",
    "swapoff",
    "acct",
    "settimeofday",
    "clock_settime",
    "clock_adjtime",
    "adjtimex",
    "syslog",
    "iopl",
    "ioperm",
    "lookup_dcookie",
    "fanotify_init",
    "quotactl",
    "quotactl_fd",
    "vhangup",
    "uselib",
    "ptrace",
    "process_vm_readv",
    "process_vm_writev",
    "kcmp",
    "pidfd_getfd",
    NULL,
};

#define NS_FLAGS                                                                                   \
	(CLONE_NEWNS | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET | \
	 CLONE_NEWCGROUP | CLONE_NEWTIME)

static int rule(scmp_filter_ctx ctx, uint32_t action, int nr, unsigned n,
                const struct scmp_arg_cmp *cmp, const char *name, struct bh_error *err)
{
	int r = seccomp_rule_add_array(ctx, action, nr, n, cmp);

	if (r < 0)
		return bh_error(err, -r, "seccomp rule for %s", name);
	return 0;
}

/* System call numbers the filter cannot name (unknown to libseccomp for
 * this architecture: not assigned, or newer than its table) fail with
 * ENOSYS, as on a kernel without them, so that a program probing for a
 * new call falls back instead of giving up on EPERM (runc and crun do the
 * same). Calls libseccomp knows keep the filter's default answer. Numbers
 * from BHC_SECCOMP_MAX_NR up are left to the default: no architecture
 * comes near it. */
#define BHC_SECCOMP_MAX_NR 1024

static int enosys_unknown(scmp_filter_ctx ctx, struct bh_error *err)
{
	for (int nr = 0; nr < BHC_SECCOMP_MAX_NR; nr++) {
		char *name = seccomp_syscall_resolve_num_arch(SCMP_ARCH_NATIVE, nr);
		int r;

		if (name) {
			free(name);
			continue;
		}
		r = seccomp_rule_add_array(ctx, SCMP_ACT_ERRNO(ENOSYS), nr, 0, NULL);
		/* EFAULT: a profile's other architecture has no call of that
		 * native number to translate to; it keeps the default there. */
		if (r < 0 && r != -EFAULT)
			return bh_error(err, -r, "seccomp rule for system call number %d", nr);
	}
	/* A binary search over the numbers instead of a list of ~1000 tests. */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_OPTIMIZE, 2);
	return 0;
}

static bool always_denied(const char *name)
{
	for (size_t i = 0; bhc_seccomp_always_denied[i]; i++)
		if (!strcmp(name, bhc_seccomp_always_denied[i]))
			return true;
	return false;
}

static scmp_filter_ctx default_filter(struct bh_error *err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ERRNO(EPERM));
	struct scmp_arg_cmp no_ns = SCMP_A0_64(SCMP_CMP_MASKED_EQ, NS_FLAGS, 0);

	if (!ctx) {
		bh_error(err, ENOMEM, "seccomp_init");
		return NULL;
	}
	for (size_t i = 0; bhc_seccomp_default_allow[i]; i++) {
		int nr = seccomp_syscall_resolve_name(bhc_seccomp_default_allow[i]);

		if (always_denied(bhc_seccomp_default_allow[i]))
			continue;
		if (nr != __NR_SCMP_ERROR &&
		    rule(ctx, SCMP_ACT_ALLOW, nr, 0, NULL, bhc_seccomp_default_allow[i], err) < 0)
			goto fail;
	}
	/* clone without namespace flags; clone3 hides its flags in memory a
	 * filter cannot read, so it fails with ENOSYS and libcs fall back. */
	if (rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(clone), 1, &no_ns, "clone", err) < 0 ||
	    rule(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0, NULL, "clone3", err) < 0 ||
	    rule(ctx, SCMP_ACT_ALLOW, SCMP_SYS(socket), 0, NULL, "socket", err) < 0 ||
	    enosys_unknown(ctx, err) < 0)
		goto fail;
	return ctx;
fail:
	seccomp_release(ctx);
	return NULL;
}

/* The second filter, stacked on the default one or on a profile from the
 * config. It also holds the rules that look at an argument the kernel
 * reads as an int (socket's family, ioctl's request): libseccomp's
 * SCMP_A0_32 only narrows the value, the filter still compares all 64
 * bits, so a caller could set the high bits to pass an "equal" test or
 * an "above" test while the kernel sees AF_ALG or TIOCSTI. Masking the
 * argument to 32 bits (MASKED_EQ) is exact; a deny rule over an allowing
 * default is the only shape that allows "every value but these". */
static scmp_filter_ctx deny_filter(struct bh_error *err)
{
	scmp_filter_ctx ctx = seccomp_init(SCMP_ACT_ALLOW);
	struct scmp_arg_cmp ns = SCMP_A0_64(SCMP_CMP_MASKED_EQ, NS_FLAGS, 0);
	/* TIOCSTI pushes input into a terminal (a container holding the host's
	 * tty would type into the host's shell), TIOCLINUX does the same for
	 * the virtual console and reads its selection. */
	struct scmp_arg_cmp alg = SCMP_A0_64(SCMP_CMP_MASKED_EQ, 0xffffffffU, AF_ALG),
	                    vsock = SCMP_A0_64(SCMP_CMP_MASKED_EQ, 0xffffffffU, AF_VSOCK),
	                    sti = SCMP_A1_64(SCMP_CMP_MASKED_EQ, 0xffffffffU, TIOCSTI),
	                    linux_tty = SCMP_A1_64(SCMP_CMP_MASKED_EQ, 0xffffffffU, TIOCLINUX);

	if (!ctx) {
		bh_error(err, ENOMEM, "seccomp_init");
		return NULL;
	}
	for (size_t i = 0; bhc_seccomp_always_denied[i]; i++) {
		int nr = seccomp_syscall_resolve_name(bhc_seccomp_always_denied[i]);

		if (nr != __NR_SCMP_ERROR && rule(ctx, SCMP_ACT_ERRNO(EPERM), nr, 0, NULL,
		                                  bhc_seccomp_always_denied[i], err) < 0)
			goto fail;
	}
	/* Any namespace flag: MASKED_EQ cannot say "not zero", so one rule per flag. */
	for (unsigned long bit = 1; bit; bit <<= 1) {
		struct scmp_arg_cmp one = SCMP_A0_64(SCMP_CMP_MASKED_EQ, bit, bit);

		if ((NS_FLAGS & bit) &&
		    rule(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(clone), 1, &one, "clone", err) < 0)
			goto fail;
	}
	(void)ns;
	if (rule(ctx, SCMP_ACT_ERRNO(ENOSYS), SCMP_SYS(clone3), 0, NULL, "clone3", err) < 0 ||
	    rule(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1, &alg, "socket", err) < 0 ||
	    rule(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socket), 1, &vsock, "socket", err) <
	        0 ||
	    rule(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socketpair), 1, &alg, "socketpair",
	         err) < 0 ||
	    rule(ctx, SCMP_ACT_ERRNO(EAFNOSUPPORT), SCMP_SYS(socketpair), 1, &vsock, "socketpair",
	         err) < 0 ||
	    rule(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1, &sti, "ioctl", err) < 0 ||
	    rule(ctx, SCMP_ACT_ERRNO(EPERM), SCMP_SYS(ioctl), 1, &linux_tty, "ioctl", err) < 0)
		goto fail;
	return ctx;
fail:
	seccomp_release(ctx);
	return NULL;
}

static int parse_action(yyjson_val *v, yyjson_val *errno_ret, uint32_t default_errno,
                        const char *path, uint32_t *out, struct bh_error *err)
{
	const char *s;

	if (json_string(v, path, &s, err) < 0)
		return -1;
	if (!strcmp(s, "SCMP_ACT_ALLOW"))
		*out = SCMP_ACT_ALLOW;
	else if (!strcmp(s, "SCMP_ACT_ERRNO"))
		*out =
		    SCMP_ACT_ERRNO(yyjson_is_uint(errno_ret) ? (uint32_t)yyjson_get_uint(errno_ret)
		                                             : default_errno);
	else if (!strcmp(s, "SCMP_ACT_KILL") || !strcmp(s, "SCMP_ACT_KILL_THREAD"))
		*out = SCMP_ACT_KILL_THREAD;
	else if (!strcmp(s, "SCMP_ACT_KILL_PROCESS"))
		*out = SCMP_ACT_KILL_PROCESS;
	else if (!strcmp(s, "SCMP_ACT_TRAP"))
		*out = SCMP_ACT_TRAP;
	else if (!strcmp(s, "SCMP_ACT_LOG"))
		*out = SCMP_ACT_LOG;
	else if (!strcmp(s, "SCMP_ACT_TRACE"))
		*out =
		    SCMP_ACT_TRACE(yyjson_is_uint(errno_ret) ? (uint32_t)yyjson_get_uint(errno_ret)
		                                             : default_errno);
	else
		return bh_error(err, 0, "%s: '%s' is not supported by bhc", path, s);
	return 0;
}

static int parse_args(yyjson_val *args, const char *path, struct scmp_arg_cmp *cmp, unsigned *n,
                      struct bh_error *err)
{
	static const char *const ops[] = {NULL,          "SCMP_CMP_NE",       "SCMP_CMP_LT",
	                                  "SCMP_CMP_LE", "SCMP_CMP_EQ",       "SCMP_CMP_GE",
	                                  "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"};
	struct json_path p, q;
	yyjson_val *a;
	size_t i, max;

	if (json_array(args, path, err) < 0)
		return -1;
	if (yyjson_arr_size(args) > 6)
		return bh_error(err, 0, "%s: more than 6 argument conditions", path);
	yyjson_arr_foreach(args, i, max, a)
	{
		uint32_t index;
		uint64_t value, two = 0;
		const char *op;
		int o = 0;

		json_at(&p, path, "[%zu]", i);
		if (json_object(a, p.s, err) < 0 ||
		    json_u32(yyjson_obj_get(a, "index"), json_at(&q, p.s, ".index"), &index, err) < 0 ||
		    json_u64(yyjson_obj_get(a, "value"), json_at(&q, p.s, ".value"), &value, err) < 0 ||
		    json_string(yyjson_obj_get(a, "op"), json_at(&q, p.s, ".op"), &op, err) < 0)
			return -1;
		if (yyjson_obj_get(a, "valueTwo") &&
		    json_u64(yyjson_obj_get(a, "valueTwo"), json_at(&q, p.s, ".valueTwo"), &two, err) < 0)
			return -1;
		if (index > 5)
			return bh_error(err, 0, "%s.index: %u is not an argument index (0..5)", p.s,
			                index);
		for (int k = 1; k < 8; k++)
			if (!strcmp(op, ops[k]))
				o = k;
		if (!o)
			return bh_error(err, 0, "%s.op: '%s' is not a comparison", p.s, op);
		cmp[i] = (struct scmp_arg_cmp){index, (enum scmp_compare)o, value, two};
	}
	*n = (unsigned)max;
	return 0;
}

static int add_config_rule(scmp_filter_ctx ctx, yyjson_val *r, const char *path,
                           uint32_t default_errno, uint32_t default_action, struct bh_error *err)
{
	struct scmp_arg_cmp cmp[6];
	const char **names = NULL;
	size_t n_names = 0;
	unsigned n_cmp = 0;
	struct json_path p;
	uint32_t action;
	yyjson_val *v;

	if (json_object(r, path, err) < 0 ||
	    parse_action(yyjson_obj_get(r, "action"), yyjson_obj_get(r, "errnoRet"), default_errno,
	                 json_at(&p, path, ".action"), &action, err) < 0)
		return -1;
	if ((v = yyjson_obj_get(r, "args")) &&
	    parse_args(v, json_at(&p, path, ".args"), cmp, &n_cmp, err) < 0)
		return -1;
	if (json_strings(yyjson_obj_get(r, "names"), json_at(&p, path, ".names"), &names, &n_names, err) <
	    0)
		return -1;
	for (size_t i = 0; i < n_names; i++) {
		int nr = seccomp_syscall_resolve_name(names[i]), e;

		/* Profiles list calls of other architectures and newer kernels;
		 * like runc and crun, bhc skips names it cannot resolve. */
		if (nr == __NR_SCMP_ERROR || action == default_action)
			continue;
		e = seccomp_rule_add_array(ctx, action, nr, n_cmp, cmp);
		if (e < 0) {
			bh_error(err, -e, "%s: rule for '%s'", path, names[i]);
			free(names);
			return -1;
		}
	}
	free(names);
	return 0;
}

static scmp_filter_ctx config_filter(yyjson_val *prof, struct bh_error *err)
{
	uint32_t default_action, default_errno = EPERM;
	scmp_filter_ctx ctx;
	struct json_path p;
	yyjson_val *v, *r;
	size_t i, max;

	if ((v = yyjson_obj_get(prof, "listenerPath")) && !(yyjson_is_str(v) && !yyjson_get_len(v)))
		return bh_error(err, 0, "$.linux.seccomp.listenerPath: not supported by bhc"), NULL;
	if ((v = yyjson_obj_get(prof, "defaultErrnoRet")) &&
	    json_u32(v, "$.linux.seccomp.defaultErrnoRet", &default_errno, err) < 0)
		return NULL;
	if (parse_action(yyjson_obj_get(prof, "defaultAction"),
	                 yyjson_obj_get(prof, "defaultErrnoRet"), EPERM,
	                 "$.linux.seccomp.defaultAction", &default_action, err) < 0)
		return NULL;
	ctx = seccomp_init(default_action);
	if (!ctx)
		return bh_error(err, ENOMEM, "seccomp_init"), NULL;
	if ((v = yyjson_obj_get(prof, "architectures"))) {
		if (json_array(v, "$.linux.seccomp.architectures", err) < 0)
			goto fail;
		yyjson_arr_foreach(v, i, max, r)
		{
			const char *name;
			char lower[32];
			uint32_t arch;

			if (json_string(r, json_at(&p, "$.linux.seccomp.architectures", "[%zu]", i), &name,
			             err) < 0)
				goto fail;
			if (!strncmp(name, "SCMP_ARCH_", 10))
				name += 10;
			snprintf(lower, sizeof(lower), "%s", name);
			for (char *c = lower; *c; c++)
				*c = (char)(*c >= 'A' && *c <= 'Z' ? *c + 32 : *c);
			arch = seccomp_arch_resolve_name(lower);
			if (!arch) {
				bh_error(err, 0, "%s: '%s' is not an architecture", p.s,
				         yyjson_get_str(r));
				goto fail;
			}
			if (arch != seccomp_arch_native() && seccomp_arch_add(ctx, arch) < 0 &&
			    seccomp_arch_exist(ctx, arch) != 0) {
				bh_error(err, 0, "%s: cannot add architecture '%s'", p.s,
				         yyjson_get_str(r));
				goto fail;
			}
		}
	}
	if ((v = yyjson_obj_get(prof, "flags")) && yyjson_arr_size(v) > 0) {
		bh_error(err, 0, "$.linux.seccomp.flags: not supported by bhc");
		goto fail;
	}
	/* Unknown numbers: ENOSYS where the profile's default is another
	 * errno (a profile that allows or kills by default keeps its answer;
	 * one whose default is ENOSYS, as podman's, gives it already, and
	 * libseccomp refuses a rule equal to the default). */
	if ((default_action & 0xffff0000U) == SCMP_ACT_ERRNO(0) &&
	    default_action != SCMP_ACT_ERRNO(ENOSYS) && enosys_unknown(ctx, err) < 0)
		goto fail;
	if ((v = yyjson_obj_get(prof, "syscalls"))) {
		if (json_array(v, "$.linux.seccomp.syscalls", err) < 0)
			goto fail;
		yyjson_arr_foreach(v, i, max, r)
		{
			if (add_config_rule(ctx, r, json_at(&p, "$.linux.seccomp.syscalls", "[%zu]", i),
			                    default_errno, default_action, err) < 0)
				goto fail;
		}
	}
	return ctx;
fail:
	seccomp_release(ctx);
	return NULL;
}

struct bhc_seccomp {
	scmp_filter_ctx main, deny;
};

void *bhc_seccomp_build(yyjson_val *profile, struct bh_error *err)
{
	struct bhc_seccomp *s = calloc(1, sizeof(*s));
	int r;

	if (!s)
		return bh_error(err, ENOMEM, "seccomp"), NULL;
	s->main = profile ? config_filter(profile, err) : default_filter(err);
	s->deny = s->main ? deny_filter(err) : NULL;
	if (!s->main || !s->deny) {
		bhc_seccomp_free(s);
		return NULL;
	}
	/* no_new_privs is set by bhc itself before this filter is loaded. */
	seccomp_attr_set(s->main, SCMP_FLTATR_CTL_NNP, 0);
	seccomp_attr_set(s->deny, SCMP_FLTATR_CTL_NNP, 0);
	/* Compiled to BPF here, in bhc before the clone: after start releases
	 * the init, loading is one system call per filter, not milliseconds
	 * of compiling while a signal to the container would be dropped. */
	if ((r = seccomp_precompute(s->deny)) < 0 || (r = seccomp_precompute(s->main)) < 0) {
		bhc_seccomp_free(s);
		return bh_error(err, -r, "compile the seccomp filter"), NULL;
	}
	return s;
}

int bhc_seccomp_load(void *p, struct bh_error *err)
{
	struct bhc_seccomp *s = p;
	int r;

	if (s->deny && (r = seccomp_load(s->deny)) < 0)
		return bh_error(err, -r, "load the seccomp deny filter");
	if ((r = seccomp_load(s->main)) < 0)
		return bh_error(err, -r, "load the seccomp filter");
	return 0;
}

void bhc_seccomp_free(void *p)
{
	struct bhc_seccomp *s = p;

	if (!s)
		return;
	if (s->main)
		seccomp_release(s->main);
	if (s->deny)
		seccomp_release(s->deny);
	free(s);
}

/* For tests: the filter as libseccomp's pseudo-code, into fd. */
int bhc_seccomp_export(void *p, int fd);
int bhc_seccomp_export(void *p, int fd)
{
	struct bhc_seccomp *s = p;

	if (s->deny && seccomp_export_pfc(s->deny, fd) < 0)
		return -1;
	return seccomp_export_pfc(s->main, fd);
}
