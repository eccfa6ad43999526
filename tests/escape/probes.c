/* Escape probes: run as the init of a container, each probe tries one known
 * way out and the program prints exactly one line per probe:
 * "BLOCKED <name>", "ESCAPED <name>: <what worked>", "SKIPPED <name>" (named
 * in BHC_PROBE_SKIP: the kernel lacks what the probe needs) or
 * "BROKEN <name>: <why>" (the probe crashed or hung), then a summary
 * "probes: N, blocked: B, escaped: E, skipped: S, broken: X". The runners
 * (tests/integration/test_bhc_escape.py, tests/e2e/test_container.py) fail
 * on any ESCAPED or BROKEN line and require every probe not skipped to be
 * BLOCKED; a deliberately weak container on the build host must show every
 * probe ESCAPED (the positive control).
 *
 * The positive control runs these probes, privileged, on the build host's
 * own kernel, so every probe must be harmless when it works. A probe proves
 * that the kernel was reached or that a resource was reachable, never more:
 * - calls that would change the machine (reboot, kexec, module loading,
 *   swapon, setting the clock) get arguments the kernel refuses only after
 *   its privilege check: an answer other than EPERM (and ENOSYS) shows the
 *   call got past seccomp and the capability check, and nothing happened;
 * - files are opened, never written (core_pattern, sysrq-trigger, /sys);
 * - what a probe makes (a mount, a file, a cgroup) it removes, and probes
 *   that mount first try a mount namespace of their own;
 * - each probe runs in a child process of its own, so a namespace, root or
 *   keyring it changes ends with it, and no probe sees another's leftovers.
 *
 * - calls through another architecture's entry point, which a seccomp
 *   filter may answer by killing the caller, run in a grandchild;
 * - TIOCSTI pushes one space into a tty the runner made for it (never a
 *   console) and flushes it again.
 *
 * The runner passes, in the environment: BHC_PROBE_HOST_PID (a pid on the
 * host), BHC_PROBE_SECRET (a host path of another container's file),
 * BHC_PROBE_ABSTRACT (an abstract unix socket name the host listens on),
 * BHC_PROBE_TTY (the fd of a pty it made, that is the controlling terminal
 * of the session that started the runtime: tests/escape/withpty.c),
 * BHC_PROBE_SKIP (names of probes whose kernel feature is compiled out).
 * The rootfs the runner makes holds device nodes (/bhc-probe-dev) and a
 * setuid copy of this program (/bin/bhc-probes-suid: --ids says whose
 * rights it runs with).
 * An argument names the one probe to run; --list lists them, and
 * --entry-points (no probe) says which of x86_64's ia32 and x32 syscall
 * entry points the kernel answers, for the runner's skips.
 * Built static with the target's musl compiler; needs nothing else. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/magic.h>
#include <linux/perf_event.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ioctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/statfs.h>
#include <sys/sysmacros.h>
#include <sys/uio.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#ifndef AF_ALG
#define AF_ALG 38
#endif
#ifndef AF_VSOCK
#define AF_VSOCK 40
#endif
#ifndef SYS_io_uring_setup
#define SYS_io_uring_setup 425
#endif
#ifndef PTRACE_SEIZE
#define PTRACE_SEIZE 0x4206
#endif
/* The new mount API and friends: the same numbers on every architecture. */
#ifndef SYS_open_tree
#define SYS_open_tree 428
#endif
#ifndef SYS_move_mount
#define SYS_move_mount 429
#endif
#ifndef SYS_fsopen
#define SYS_fsopen 430
#endif
#ifndef SYS_fsconfig
#define SYS_fsconfig 431
#endif
#ifndef SYS_fsmount
#define SYS_fsmount 432
#endif
#ifndef SYS_fspick
#define SYS_fspick 433
#endif
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif
#ifndef SYS_mount_setattr
#define SYS_mount_setattr 442
#endif
#define PROBE_FSCONFIG_CMD_CREATE 6
#define PROBE_MOVE_MOUNT_F_EMPTY  0x4
#define PROBE_OPEN_TREE_CLONE     1
#define PROBE_MOUNT_ATTR_RDONLY   0x1
#define PROBE_KCMP_VM             1
#define PROBE_SECONDS             20

/* Shared with the child that runs a probe: what worked, in words. */
static char *detail;
#define DETAIL_SIZE 2048
#define SAY(...)    snprintf(detail, DETAIL_SIZE, __VA_ARGS__)

/* A call escapes if it succeeds. */
static int worked(long r, const char *what)
{
	if (r >= 0) {
		SAY("%s succeeded", what);
		return 1;
	}
	return 0;
}

/* For calls whose arguments are chosen so that the kernel refuses them
 * only after its privilege check: any answer but EPERM (seccomp's and the
 * capability check's) or ENOSYS (no such call) means the call got through
 * to the kernel's own work. */
static int reached(long r, const char *what)
{
	if (worked(r, what))
		return 1;
	if (errno != EPERM && errno != ENOSYS) {
		SAY("%s reached the kernel (%s)", what, strerror(errno));
		return 1;
	}
	return 0;
}

/* Mounts made by a probe die with its child when it may have a mount
 * namespace of its own (a hardened container refuses this too). */
static void private_mounts(void)
{
	if (unshare(CLONE_NEWNS) == 0)
		mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL);
}

static int p_mount_tmpfs(void)
{
	private_mounts();
	mkdir("/tmp/bhc-probe-m", 0700);
	if (mount("tmpfs", "/tmp/bhc-probe-m", "tmpfs", 0, NULL) == 0) {
		umount2("/tmp/bhc-probe-m", MNT_DETACH);
		rmdir("/tmp/bhc-probe-m");
		SAY("mount tmpfs succeeded");
		return 1;
	}
	rmdir("/tmp/bhc-probe-m");
	return 0;
}

static int p_remount_root_rw(void)
{
	int fd;

	private_mounts();
	if (worked(mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND, NULL), "remount / read-write"))
		return 1;
	fd = open("/.bhc-probe", O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd >= 0) {
		close(fd);
		unlink("/.bhc-probe");
		SAY("created a file on the rootfs");
		return 1;
	}
	return 0;
}

/* EINVAL (not a mount point) is an answer given after the privilege check. */
static int p_umount_mask(void)
{
	private_mounts();
	return reached(umount2("/proc/sys", MNT_DETACH), "umount /proc/sys") ||
	       reached(umount2("/sys/firmware", MNT_DETACH), "umount the /sys/firmware mask");
}

static int p_unshare_user(void)
{
	return worked(unshare(CLONE_NEWUSER), "unshare(CLONE_NEWUSER)");
}

static int p_unshare_mount(void)
{
	return worked(unshare(CLONE_NEWNS), "unshare(CLONE_NEWNS)") ||
	       worked(unshare(CLONE_NEWNET), "unshare(CLONE_NEWNET)");
}

static int p_clone_newuser(void)
{
	long pid = syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, 0, 0, 0, 0);

	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	return worked(pid, "clone(CLONE_NEWUSER)");
}

static int p_clone3_ns(void)
{
	uint64_t args[11] = {0};

	args[0] = CLONE_NEWUSER | CLONE_NEWNS;
	args[4] = SIGCHLD;
	long pid = syscall(SYS_clone3, args, sizeof(args));

	if (pid == 0)
		_exit(0);
	if (pid > 0)
		waitpid((pid_t)pid, NULL, 0);
	return worked(pid, "clone3 with namespace flags");
}

/* Joining its own uts namespace changes nothing; without CAP_SYS_ADMIN the
 * kernel says EPERM to that, as seccomp does, so the call is also made with
 * no fd at all, which the kernel answers with EBADF before any check. */
static int p_setns(void)
{
	int fd = open("/proc/self/ns/uts", O_RDONLY | O_CLOEXEC);

	if (fd >= 0 &&
	    worked(syscall(SYS_setns, fd, CLONE_NEWUTS), "setns into its own uts namespace"))
		return 1;
	return reached(syscall(SYS_setns, -1, 0), "setns(-1)");
}

/* The keys go into a keyring of the probe's own thread, gone with it. */
static int p_keyctl(void)
{
	return worked(syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -1 /* thread */, 1), "keyctl") ||
	       worked(syscall(SYS_add_key, "user", "bhc-probe", "x", 1, -1), "add_key") ||
	       reached(syscall(SYS_request_key, "user", "bhc-probe-none", NULL, 0), "request_key");
}

static int p_bpf(void)
{
	union bpf_attr a;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 4;
	a.max_entries = 1;
	return worked(syscall(SYS_bpf, BPF_MAP_CREATE, &a, sizeof(a)), "bpf(BPF_MAP_CREATE)");
}

static int p_ptrace(void)
{
	pid_t child = fork();
	long r;

	if (child == 0) {
		pause();
		_exit(0);
	}
	r = ptrace(PTRACE_ATTACH, child, 0, 0);
	kill(child, SIGKILL);
	waitpid(child, NULL, 0);
	return worked(r, "ptrace(PTRACE_ATTACH) of a process");
}

/* PTRACE_SEIZE does not stop the host process; the probe's exit detaches. */
static int p_host_pid(void)
{
	const char *s = getenv("BHC_PROBE_HOST_PID");
	pid_t pid = s ? atoi(s) : 0;
	char path[64];

	if (pid <= 1) {
		SAY("no BHC_PROBE_HOST_PID given: nothing to look for");
		return -1;
	}
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (worked(access(path, F_OK), "host pid visible in /proc") ||
	    worked(kill(pid, 0), "kill(host pid, 0)"))
		return 1;
	return worked(ptrace(PTRACE_SEIZE, pid, 0, 0), "ptrace(PTRACE_SEIZE) of the host pid");
}

/* Shocker: open_by_handle_at reaches any file of a filesystem by its
 * handle. The handle is the rootfs's own (name_to_handle_at), or, where the
 * filesystem gives none, a guess at an ext4 root; past the privilege check
 * a wrong guess is ESTALE, not EPERM. */
static int p_open_by_handle_at(void)
{
	struct {
		unsigned int bytes;
		int type;
		unsigned char f[128];
	} h = {128, 0, {0}};
	int mount_id, fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long r;

	if (syscall(SYS_name_to_handle_at, AT_FDCWD, "/", &h, &mount_id, 0) < 0) {
		h.bytes = 8;
		h.type = 1;
		memset(h.f, 0, sizeof(h.f));
		h.f[0] = 2;
	}
	r = syscall(SYS_open_by_handle_at, fd, &h, O_RDONLY | O_CLOEXEC);
	close(fd);
	return reached(r, "open_by_handle_at");
}

static int p_sysrq(void)
{
	return worked(open("/proc/sysrq-trigger", O_WRONLY | O_CLOEXEC),
	              "open /proc/sysrq-trigger for writing");
}

/* Masked files read as empty (they are /dev/null). */
static int readable_bytes(const char *path)
{
	char buf[64];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf));
	close(fd);
	return n > 0;
}

static int p_kcore(void)
{
	if (readable_bytes("/proc/kcore")) {
		SAY("/proc/kcore is readable");
		return 1;
	}
	return 0;
}

static int p_masked_proc(void)
{
	const char *paths[] = {"/proc/keys", "/proc/timer_list", "/proc/sched_debug",
	                       "/proc/latency_stats"};

	for (size_t i = 0; i < 4; i++)
		if (readable_bytes(paths[i])) {
			SAY("%s is readable", paths[i]);
			return 1;
		}
	return 0;
}

static int dir_entries(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int n = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)))
		if (strcmp(e->d_name, ".") && strcmp(e->d_name, ".."))
			n++;
	closedir(d);
	return n;
}

static int p_sys_firmware(void)
{
	if (dir_entries("/sys/firmware")) {
		SAY("/sys/firmware has entries");
		return 1;
	}
	return 0;
}

/* CVE-2022-0492 needs a cgroup v1 hierarchy of its own: a named one with
 * no controllers mounts on any kernel with cgroups, v2 hosts included. Its
 * release_agent is only opened. */
static int p_release_agent(void)
{
	int fd, e;

	private_mounts();
	mkdir("/tmp/bhc-probe-cg", 0700);
	if (mount("cgroup", "/tmp/bhc-probe-cg", "cgroup", 0, "none,name=bhc-probe") == 0) {
		fd = open("/tmp/bhc-probe-cg/release_agent", O_WRONLY | O_CLOEXEC);
		SAY("mounted a cgroup v1 hierarchy%s",
		    fd >= 0 ? " and opened its release_agent" : "");
		if (fd >= 0)
			close(fd);
		umount2("/tmp/bhc-probe-cg", MNT_DETACH);
		rmdir("/tmp/bhc-probe-cg");
		return 1;
	}
	e = errno;
	rmdir("/tmp/bhc-probe-cg");
	errno = e;
	return reached(-1, "mount of a cgroup v1 hierarchy");
}

static int is_cgroupfs(const char *dir)
{
	struct statfs sf;

	return statfs(dir, &sf) == 0 &&
	       (sf.f_type == CGROUP_SUPER_MAGIC || sf.f_type == CGROUP2_SUPER_MAGIC);
}

/* The cgroup folders the container sees: /sys/fs/cgroup (cgroup v2) or
 * the controllers' folders right below it (the tmpfs of a v1 host). */
static int for_each_cgroup_dir(int (*fn)(const char *dir))
{
	DIR *d = opendir("/sys/fs/cgroup");
	struct dirent *e;
	char path[512];
	int found = is_cgroupfs("/sys/fs/cgroup") && fn("/sys/fs/cgroup");

	while (!found && d && (e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "/sys/fs/cgroup/%s", e->d_name);
		found = is_cgroupfs(path) && fn(path);
	}
	if (d)
		closedir(d);
	return found;
}

/* The other half of CVE-2022-0492: a cgroup of its own with
 * notify_on_release set (v1), or any new cgroup (v2): made, then removed. */
static int notify_in(const char *dir)
{
	char path[600];
	int fd;

	snprintf(path, sizeof(path), "%s/notify_on_release", dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		close(fd);
		SAY("opened %s for writing", path);
		return 1;
	}
	snprintf(path, sizeof(path), "%s/bhc-probe", dir);
	if (mkdir(path, 0755) == 0) {
		rmdir(path);
		SAY("created the cgroup %s", path);
		return 1;
	}
	return 0;
}

static int p_notify_on_release(void)
{
	return for_each_cgroup_dir(notify_in);
}

static int p_mknod_block(void)
{
	const char *dirs[] = {"/tmp/bhc-probe-blk", "/dev/shm/bhc-probe-blk", "/dev/bhc-probe-blk"};
	unsigned maj = 8, min = 0;
	FILE *f = fopen("/proc/partitions", "r");
	char line[256];

	/* A block device this kernel really has, so that the open can work. */
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, " %u %u", &maj, &min) == 2)
			break;
	if (f)
		fclose(f);
	for (int i = 0; i < 3; i++) {
		if (mknod(dirs[i], S_IFBLK | 0600, makedev(maj, min)) == 0) {
			int fd = open(dirs[i], O_RDONLY | O_NONBLOCK | O_CLOEXEC);

			unlink(dirs[i]);
			if (fd >= 0) {
				close(fd);
				SAY("made and opened block device %u:%u as %s", maj, min, dirs[i]);
				return 1;
			}
		}
	}
	return 0;
}

static int p_raw_socket(void)
{
	return worked(socket(AF_INET, SOCK_RAW | SOCK_CLOEXEC, 1), "socket(AF_INET, SOCK_RAW)") ||
	       worked(socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0), "socket(AF_PACKET, SOCK_RAW)");
}

/* The probe's own binary is no module, and no module has that name: past
 * the privilege check the kernel answers ENOEXEC or ENOENT; nothing loads
 * or unloads. */
static int p_module(void)
{
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	long r = syscall(SYS_finit_module, fd, "", 0);

	close(fd);
	return reached(r, "finit_module") ||
	       reached(syscall(SYS_init_module, "", 0, ""), "init_module") ||
	       reached(syscall(SYS_delete_module, "bhc_probe_no_such_module", O_NONBLOCK),
	               "delete_module");
}

/* Flags no kernel knows: EINVAL after the privilege check; no image is
 * loaded or unloaded. */
static int p_kexec(void)
{
	return reached(syscall(SYS_kexec_load, 0, 0, NULL, 0x8000UL), "kexec_load") ||
	       reached(syscall(SYS_kexec_file_load, -1, -1, 0, NULL, 0x80000000UL),
	               "kexec_file_load");
}

/* Without the magic numbers the kernel answers EINVAL after checking
 * CAP_SYS_BOOT, and does nothing. */
static int p_reboot(void)
{
	return reached(syscall(SYS_reboot, 0, 0, 0, NULL), "reboot");
}

static int p_sethostname(void)
{
	return worked(sethostname("bhc-escaped", 11), "sethostname");
}

static int p_setuid(void)
{
	if (prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0) != 1) {
		SAY("no_new_privs is off: setuid binaries would raise privileges");
		return 1;
	}
	return 0;
}

static int p_capabilities(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	int bad = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long v;

		if (!strncmp(line, "Cap", 3) && sscanf(strchr(line, ':') + 1, "%llx", &v) == 1 &&
		    v) {
			SAY("%.*s", (int)strcspn(line, "\n"), line);
			bad = 1;
		}
	}
	fclose(f);
	return bad;
}

static int is_runtime(const char *exe)
{
	const char *base = strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe;
	const char *runtimes[] = {"bhc", "runc", "crun"};

	for (int i = 0; i < 3; i++) {
		size_t n = strlen(runtimes[i]);

		if (!strncmp(base, runtimes[i], n) && (!base[n] || base[n] == ' '))
			return 1;
	}
	return 0;
}

/* CVE-2019-5736: writing the runtime's binary through /proc/<pid>/exe.
 * Finding the runtime's process is the escape; only the probe's own binary
 * is opened for writing (and never written). */
static int p_proc_exe(void)
{
	DIR *d;
	struct dirent *e;

	if (worked(open("/proc/self/exe", O_WRONLY | O_CLOEXEC), "open /proc/self/exe for writing"))
		return 1;
	d = opendir("/proc");
	while (d && (e = readdir(d))) {
		char path[300], target[300];
		ssize_t n;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/exe", e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = 0;
			if (is_runtime(target)) {
				SAY("%s is the runtime %s", path, target);
				closedir(d);
				return 1;
			}
		}
	}
	if (d)
		closedir(d);
	return 0;
}

static int p_inherited_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *e;
	int bad = 0;

	while (d && (e = readdir(d))) {
		int fd = atoi(e->d_name);
		char path[64], target[256];
		ssize_t n;

		if (e->d_name[0] == '.' || fd <= 2 || fd == dirfd(d))
			continue;
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		n = readlink(path, target, sizeof(target) - 1);
		target[n > 0 ? n : 0] = 0;
		SAY("fd %d (%s) was inherited", fd, target);
		bad = 1;
	}
	if (d)
		closedir(d);
	return bad;
}

/* The masks stay put: they cannot be unlinked, replaced by a symlink or
 * covered from inside, and they are the real /dev/null (the 2025 runc
 * escapes swapped the container's /dev/null for a symlink before the
 * runtime bind-mounted it over the masked paths). */
static int p_masked_symlink(void)
{
	const char *masks[] = {"/proc/kcore", "/proc/keys", "/proc/timer_list"};
	struct stat sb;
	int covered = 0;

	private_mounts();
	if (worked(unlink("/proc/kcore"), "unlink /proc/kcore") ||
	    worked(symlink("/proc/sys/kernel/core_pattern", "/proc/kcore"),
	           "symlink over /proc/kcore"))
		return 1;
	if (symlink("/proc/sys/kernel/core_pattern", "/tmp/bhc-probe-null") == 0) {
		covered = worked(mount("/tmp/bhc-probe-null", "/proc/keys", NULL, MS_BIND, NULL),
		                 "bind a symlink over a mask");
		if (covered)
			umount2("/proc/keys", MNT_DETACH);
		unlink("/tmp/bhc-probe-null");
		if (covered)
			return 1;
	}
	for (int i = 0; i < 3; i++)
		if (stat(masks[i], &sb) == 0 &&
		    !(S_ISCHR(sb.st_mode) && major(sb.st_rdev) == 1 && minor(sb.st_rdev) == 3)) {
			SAY("%s is not masked by /dev/null", masks[i]);
			return 1;
		}
	return 0;
}

static int p_io_uring(void)
{
	unsigned char params[120] = {0};

	return worked(syscall(SYS_io_uring_setup, 1, params), "io_uring_setup");
}

static int p_userfaultfd(void)
{
	return worked(syscall(SYS_userfaultfd, O_CLOEXEC), "userfaultfd");
}

static int p_af_alg(void)
{
	return worked(socket(AF_ALG, SOCK_SEQPACKET | SOCK_CLOEXEC, 0), "socket(AF_ALG)") ||
	       worked(syscall(SYS_socket, 0xffffffff00000000ULL | AF_ALG, SOCK_SEQPACKET, 0),
	              "socket(AF_ALG) with high bits set");
}

static int p_af_vsock(void)
{
	return worked(socket(AF_VSOCK, SOCK_STREAM | SOCK_CLOEXEC, 0), "socket(AF_VSOCK)");
}

static int p_perf_event_open(void)
{
	struct perf_event_attr a;

	memset(&a, 0, sizeof(a));
	a.size = sizeof(a);
	a.type = PERF_TYPE_SOFTWARE;
	a.config = PERF_COUNT_SW_CPU_CLOCK;
	return worked(syscall(SYS_perf_event_open, &a, 0, -1, -1, 0), "perf_event_open");
}

/* Opened for writing, never written. */
static int p_host_sys_write(void)
{
	const char *paths[] = {"/sys/kernel/mm/transparent_hugepage/enabled",
	                       "/sys/kernel/uevent_helper", "/sys/power/state",
	                       "/sys/class/net/lo/mtu"};

	for (int i = 0; i < 4; i++)
		if (worked(open(paths[i], O_WRONLY | O_CLOEXEC), paths[i]))
			return 1;
	return 0;
}

/* Opened for writing, never written. */
static int p_proc_sys_write(void)
{
	return worked(open("/proc/sys/kernel/core_pattern", O_WRONLY | O_CLOEXEC),
	              "open core_pattern for writing") ||
	       worked(open("/proc/sys/kernel/modprobe", O_WRONLY | O_CLOEXEC),
	              "open /proc/sys/kernel/modprobe for writing") ||
	       worked(open("/proc/sys/vm/drop_caches", O_WRONLY | O_CLOEXEC),
	              "open drop_caches for writing");
}

/* The secret, at its host path or through the root of a host process:
 * pid 1's, or the runner's own. */
static int p_other_container(void)
{
	const char *s = getenv("BHC_PROBE_SECRET"), *pid = getenv("BHC_PROBE_HOST_PID");
	char paths[4][600];

	if (!s) {
		SAY("no BHC_PROBE_SECRET given: nothing to look for");
		return -1;
	}
	snprintf(paths[0], sizeof(paths[0]), "%s", s);
	snprintf(paths[1], sizeof(paths[1]), "/../../../../..%s", s);
	snprintf(paths[2], sizeof(paths[2]), "/proc/1/root%s", s);
	snprintf(paths[3], sizeof(paths[3]), "/proc/%s/root%s", pid ? pid : "1", s);
	for (int i = 0; i < 4; i++)
		if (readable_bytes(paths[i])) {
			SAY("read %.500s", paths[i]);
			return 1;
		}
	return 0;
}

static int connect_unix(const char *path, int abstract)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t len = sizeof(sa.sun_family) + strlen(path) + (abstract ? 1 : 0);
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), r;

	if (s < 0)
		return -1;
	memcpy(sa.sun_path + (abstract ? 1 : 0), path, strlen(path));
	r = connect(s, (struct sockaddr *)&sa, len);
	close(s);
	return r;
}

static int p_control_socket(void)
{
	const char *abs = getenv("BHC_PROBE_ABSTRACT"), *pid = getenv("BHC_PROBE_HOST_PID");
	char via[100];

	if (!abs) {
		SAY("no BHC_PROBE_ABSTRACT given: nothing to look for");
		return -1;
	}
	snprintf(via, sizeof(via), "/proc/%s/root/run/bulkhead/bhd.sock", pid ? pid : "1");
	return worked(connect_unix("/run/bulkhead/bhd.sock", 0),
	              "connect to /run/bulkhead/bhd.sock") ||
	       worked(connect_unix("/proc/1/root/run/bulkhead/bhd.sock", 0),
	              "connect via /proc/1/root") ||
	       worked(connect_unix(via, 0), "connect via the root of the host pid") ||
	       worked(connect_unix(abs, 1), "connect to the host's abstract socket");
}

static int p_chroot(void)
{
	int r;

	mkdir("/tmp/bhc-probe-cr", 0700);
	r = worked(chroot("/tmp/bhc-probe-cr"), "chroot");
	/* Relative to the working folder, which a chroot leaves where it was. */
	rmdir(r ? "tmp/bhc-probe-cr" : "/tmp/bhc-probe-cr");
	return r;
}

/* Opened read-only, never read. */
static int p_host_devices(void)
{
	const char *paths[] = {"/dev/mem", "/dev/kmem", "/dev/port", "/dev/sda",
	                       "/dev/vda", "/dev/kmsg", "/dev/kvm"};

	for (int i = 0; i < 7; i++)
		if (worked(open(paths[i], O_RDONLY | O_NONBLOCK | O_CLOEXEC), paths[i]))
			return 1;
	return 0;
}

/* READ_ALL leaves the kernel's log as it is. */
static int p_syslog(void)
{
	char buf[64];

	return worked(klogctl(3 /* READ_ALL */, buf, sizeof(buf)), "syslog(READ_ALL)");
}

/* settimeofday with neither a time nor a zone passes the CAP_SYS_TIME
 * check and sets nothing. */
static int p_set_clock(void)
{
	return worked(syscall(SYS_settimeofday, NULL, NULL), "settimeofday (setting nothing)");
}

/* No such file: ENOENT after the CAP_SYS_ADMIN check; nothing is swapped. */
static int p_swapon(void)
{
	return reached(swapon("/bhc-probe-no-such-dir/swap", 0), "swapon");
}

static int p_seccomp_on(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[128];
	int mode = -1;

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "Seccomp:", 8))
			mode = atoi(line + 8);
	if (f)
		fclose(f);
	if (mode != 2) {
		SAY("seccomp mode is %d, not 2 (filter)", mode);
		return 1;
	}
	return 0;
}

/* Devices every new network namespace gets from the kernel itself. */
static int per_netns_device(const char *name)
{
	const char *own[] = {"lo",      "sit0",    "tunl0",   "ip6tnl0", "gre0",
	                     "gretap0", "erspan0", "ip6gre0", "ip_vti0", "ip6_vti0"};

	for (size_t i = 0; i < sizeof(own) / sizeof(*own); i++)
		if (!strcmp(name, own[i]))
			return 1;
	return 0;
}

static int p_host_network(void)
{
	FILE *f = fopen("/proc/net/dev", "r");
	char line[256];
	int bad = 0;

	while (f && fgets(line, sizeof(line), f)) {
		char name[64];

		if (strchr(line, ':') && sscanf(line, " %63[^:]:", name) == 1 &&
		    !per_netns_device(name)) {
			SAY("host interface %s is visible", name);
			bad = 1;
		}
	}
	if (f)
		fclose(f);
	return bad;
}

/* Writing 0 moves the probe into the cgroup whose cgroup.procs it is: its
 * own, seen through the container's cgroup mount. */
static int move_in(const char *dir)
{
	char path[600];
	int fd, moved;

	snprintf(path, sizeof(path), "%s/cgroup.procs", dir);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	moved = fd >= 0 && write(fd, "0", 1) == 1;
	if (fd >= 0)
		close(fd);
	if (moved)
		SAY("moved itself in the cgroup tree through %s", path);
	return moved;
}

static int p_cgroup_escape(void)
{
	return for_each_cgroup_dir(move_in);
}

#if defined(__x86_64__)
/* Runs fn in a process of its own and says how it ended: its exit status
 * (0..255), or 256 + the signal that killed it. Probes whose call a
 * seccomp filter may answer by killing the caller (a call of another
 * architecture) make it there, so that the probe itself lives to say so. */
static int in_grandchild(int (*fn)(void))
{
	pid_t pid = fork();
	int st;

	if (pid < 0)
		return -1;
	if (pid == 0)
		_exit(fn() & 0xff);
	while (waitpid(pid, &st, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFSIGNALED(st) ? 256 + WTERMSIG(st) : WEXITSTATUS(st);
}

/* unshare(CLONE_NEWUTS) through the 32-bit entry point: number 310 on
 * i386 (x86_64's 310 is process_vm_readv). A filter that checks only the
 * numbers of the native table, not the architecture, lets it through.
 * The new uts namespace is the grandchild's own and dies with it. */
static int ia32_unshare(void)
{
	long r;

	__asm__ volatile("int $0x80"
	                 : "=a"(r)
	                 : "a"(310L), "b"((long)CLONE_NEWUTS)
	                 : "memory", "cc", "r8", "r9", "r10", "r11");
	return (int)r == 0;
}

/* The same call through the x32 entry point: x86_64's number with bit 30. */
static int x32_unshare(void)
{
	return syscall(0x40000000L | SYS_unshare, CLONE_NEWUTS) == 0;
}

/* getpid through each entry point, for --entry-points. */
static int ia32_getpid(void)
{
	long r;

	__asm__ volatile("int $0x80"
	                 : "=a"(r)
	                 : "a"(20L)
	                 : "memory", "cc", "r8", "r9", "r10", "r11");
	return (int)r == getpid();
}

static int x32_getpid(void)
{
	return syscall(0x40000000L | SYS_getpid) == getpid();
}

static int other_abi(int (*call)(void), const char *what)
{
	int r = in_grandchild(call);

	if (r == 1) {
		SAY("unshare(CLONE_NEWUTS) through the %s succeeded", what);
		return 1;
	}
	return 0;
}
#endif

static int p_ia32_syscalls(void)
{
#if defined(__x86_64__)
	return other_abi(ia32_unshare, "ia32 entry point (int 0x80)");
#else
	SAY("an x86_64 probe: skip it by name on this architecture");
	return -1;
#endif
}

static int p_x32_syscalls(void)
{
#if defined(__x86_64__)
	return other_abi(x32_unshare, "x32 entry point (nr | 0x40000000)");
#else
	SAY("an x86_64 probe: skip it by name on this architecture");
	return -1;
#endif
}

/* A tmpfs made with the new mount API (fsopen, fsconfig, fsmount) and
 * attached with move_mount in a mount namespace of the probe's own. */
static int p_mount_api_fsopen(void)
{
	const char *dir = "/tmp/bhc-probe-nm";
	int fs, mnt, moved = 0;

	private_mounts();
	fs = (int)syscall(SYS_fsopen, "tmpfs", 1 /* FSOPEN_CLOEXEC */);
	if (fs < 0)
		return 0;
	if (syscall(SYS_fsconfig, fs, PROBE_FSCONFIG_CMD_CREATE, NULL, NULL, 0) < 0) {
		SAY("fsopen(tmpfs) succeeded");
		return 1;
	}
	mnt = (int)syscall(SYS_fsmount, fs, 1 /* FSMOUNT_CLOEXEC */, 0);
	if (mnt < 0) {
		SAY("fsopen and fsconfig(CMD_CREATE) succeeded");
		return 1;
	}
	mkdir(dir, 0700);
	moved = syscall(SYS_move_mount, mnt, "", AT_FDCWD, dir, PROBE_MOVE_MOUNT_F_EMPTY) == 0;
	if (moved)
		umount2(dir, MNT_DETACH);
	rmdir(dir);
	SAY("fsopen, fsconfig and fsmount made a tmpfs%s", moved ? ", move_mount attached it" : "");
	return 1;
}

/* A copy of /proc's mount without the masks mounted over its files, and a
 * handle to reconfigure the root's filesystem. Both are only made. */
static int p_mount_api_open_tree(void)
{
	private_mounts();
	return worked(syscall(SYS_open_tree, AT_FDCWD, "/proc", PROBE_OPEN_TREE_CLONE | O_CLOEXEC),
	              "open_tree(/proc, OPEN_TREE_CLONE), a copy without the masks") ||
	       worked(syscall(SYS_fspick, AT_FDCWD, "/", 1 /* FSPICK_CLOEXEC */), "fspick(/)");
}

/* Clears read-only on the root mount: in a mount namespace of the
 * probe's own, where it can. */
static int p_mount_setattr(void)
{
	struct {
		uint64_t attr_set, attr_clr, propagation, userns_fd;
	} attr = {0, PROBE_MOUNT_ATTR_RDONLY, 0, 0};

	private_mounts();
	return worked(syscall(SYS_mount_setattr, AT_FDCWD, "/", 0, &attr, sizeof(attr)),
	              "mount_setattr(/, clear MOUNT_ATTR_RDONLY)");
}

/* A process of the probe's own to reach into: it waits to be killed. */
static volatile char peer_byte = 'p';

static pid_t peer(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		for (;;)
			pause();
	}
	return pid;
}

static void peer_end(pid_t pid)
{
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
}

/* Another process's memory read and written without ptrace: the peer's
 * copy of one byte, the same byte back. */
static int p_process_vm(void)
{
	pid_t pid = peer();
	char c = 0;
	struct iovec local = {&c, 1}, remote = {(void *)&peer_byte, 1};
	int r;

	r = worked(syscall(SYS_process_vm_readv, pid, &local, 1, &remote, 1, 0),
	           "process_vm_readv of another process") ||
	    worked(syscall(SYS_process_vm_writev, pid, &local, 1, &remote, 1, 0),
	           "process_vm_writev into another process");
	peer_end(pid);
	return r;
}

/* kcmp tells whether two processes share a kernel object: a way to learn
 * about another process's files and memory. */
static int p_kcmp(void)
{
	pid_t pid = peer();
	int r = worked(syscall(SYS_kcmp, getpid(), pid, PROBE_KCMP_VM, 0, 0),
	               "kcmp of another process");

	peer_end(pid);
	return r;
}

/* A copy of another process's fd 0, taken through its pidfd. */
static int p_pidfd_getfd(void)
{
	pid_t pid = peer();
	int pfd = (int)syscall(SYS_pidfd_open, pid, 0), r;

	r = pfd >= 0 &&
	    worked(syscall(SYS_pidfd_getfd, pfd, 0, 0), "pidfd_getfd of another process");
	peer_end(pid);
	return r;
}

/* TIOCSTI pushes bytes into a terminal's input as if typed: through a tty
 * the container inherited from whoever started it, the next command of
 * that person's shell. Only a tty the runner made for this (named in
 * BHC_PROBE_TTY, an fd) is tried, never a real console; the byte pushed is
 * a space, flushed again at once. A process in another session may take a
 * tty that is nobody's controlling terminal (TIOCSCTTY), so that is tried
 * too. */
static int push_byte(int fd)
{
	char c = ' ';

	if (ioctl(fd, TIOCSTI, &c) < 0)
		return 0;
	tcflush(fd, TCIFLUSH);
	return 1;
}

static int p_tiocsti(void)
{
	const char *s = getenv("BHC_PROBE_TTY");
	int fd = s ? atoi(s) : -1;

	if (!s || !isatty(fd)) {
		SAY("BHC_PROBE_TTY names no tty (%s): the runner must give one of its own",
		    s ? s : "unset");
		return -1;
	}
	if (push_byte(fd)) {
		SAY("TIOCSTI pushed a byte into the inherited tty on fd %d", fd);
		return 1;
	}
	if (setsid() >= 0 && ioctl(fd, TIOCSCTTY, 0) == 0 && push_byte(fd)) {
		SAY("took the inherited tty on fd %d as its terminal (TIOCSCTTY) and pushed a byte",
		    fd);
		return 1;
	}
	return 0;
}

/* Counts of the host's interrupts per CPU: a side channel on what the
 * host and other workloads do (keystrokes, network, disk). */
static int p_proc_interrupts(void)
{
	if (readable_bytes("/proc/interrupts")) {
		SAY("/proc/interrupts is readable");
		return 1;
	}
	return 0;
}

/* The machine's identity and thermal state in /sys. */
static int p_sys_host_info(void)
{
	const char *files[] = {"/sys/class/dmi/id/product_uuid", "/sys/class/dmi/id/product_serial",
	                       "/sys/class/dmi/id/board_serial"};
	char path[128];

	for (int i = 0; i < 3; i++)
		if (readable_bytes(files[i])) {
			SAY("%s is readable", files[i]);
			return 1;
		}
	for (int cpu = 0; cpu < 4; cpu++) {
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/thermal_throttle", cpu);
		if (dir_entries(path)) {
			SAY("%s has entries", path);
			return 1;
		}
	}
	return 0;
}

/* The container's own limits, opened for writing (never written): a
 * workload that may raise them is not limited. cgroup v2 names, and v1's
 * for a v1 host. */
static int limits_in(const char *dir)
{
	const char *names[] = {"memory.max", "pids.max", "memory.limit_in_bytes"};
	char path[600];

	for (int i = 0; i < 3; i++) {
		int fd;

		snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd >= 0) {
			close(fd);
			SAY("opened its own %s for writing", path);
			return 1;
		}
	}
	return 0;
}

static int p_cgroup_own_limits(void)
{
	return for_each_cgroup_dir(limits_in);
}

/* Device nodes the image's rootfs itself carries (the runner puts them in
 * /bhc-probe-dev: the kernel log, c 1:11, and a block device of this
 * machine): opened read-only, never read. A runtime must mount the rootfs
 * nodev, or keep them out by the device cgroup. */
static int p_rootfs_device_nodes(void)
{
	const char *nodes[] = {"/bhc-probe-dev/kmsg", "/bhc-probe-dev/disk"};
	struct stat sb;

	if (stat(nodes[0], &sb) < 0) {
		SAY("no %s: the runner put no device nodes in the rootfs", nodes[0]);
		return -1;
	}
	for (int i = 0; i < 2; i++)
		if (worked(open(nodes[i], O_RDONLY | O_NONBLOCK | O_CLOEXEC),
		           i ? "open the rootfs's block device node"
		             : "open the rootfs's node of /dev/kmsg"))
			return 1;
	return 0;
}

/* A setuid file the image's rootfs carries (the runner puts a copy of
 * this program there, owned by another user, mode 4755): run with --ids,
 * it says whose rights it got. A runtime must mount the rootfs nosuid or
 * set no_new_privs. */
static int p_rootfs_setuid_file(void)
{
	const char *suid = "/bin/bhc-probes-suid";
	int fds[2], r = 0, uid = -1, euid = -1;
	char buf[64] = {0};
	pid_t pid;

	if (access(suid, X_OK) < 0) {
		SAY("no %s: the runner put no setuid file in the rootfs", suid);
		return -1;
	}
	if (pipe(fds) < 0)
		return -1;
	pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		execl(suid, "bhc-probes-suid", "--ids", (char *)NULL);
		_exit(127);
	}
	close(fds[1]);
	if (read(fds[0], buf, sizeof(buf) - 1) > 0 && sscanf(buf, "%d %d", &uid, &euid) == 2 &&
	    uid != euid) {
		SAY("the rootfs's setuid file ran with euid %d (uid %d)", euid, uid);
		r = 1;
	}
	close(fds[0]);
	if (pid > 0)
		waitpid(pid, NULL, 0);
	return r;
}

static const struct {
	const char *name;
	int (*fn)(void);
} probes[] = {
    /* First, before the runner has opened anything. */
    {"inherited_fds", p_inherited_fds},
    {"mount", p_mount_tmpfs},
    {"remount_rootfs_rw", p_remount_root_rw},
    {"umount_masks", p_umount_mask},
    {"unshare_user_nested_userns", p_unshare_user},
    {"unshare_namespaces", p_unshare_mount},
    {"clone_newuser", p_clone_newuser},
    {"clone3_namespaces", p_clone3_ns},
    {"setns", p_setns},
    {"keyctl", p_keyctl},
    {"bpf", p_bpf},
    {"ptrace", p_ptrace},
    {"ptrace_host_pid", p_host_pid},
    {"open_by_handle_at_shocker", p_open_by_handle_at},
    {"proc_sysrq_trigger", p_sysrq},
    {"proc_kcore", p_kcore},
    {"proc_masked_files", p_masked_proc},
    {"sys_firmware", p_sys_firmware},
    {"cgroup_release_agent", p_release_agent},
    {"cgroup_notify_on_release", p_notify_on_release},
    {"mknod_block_device", p_mknod_block},
    {"raw_socket", p_raw_socket},
    {"module_loading", p_module},
    {"kexec", p_kexec},
    {"reboot", p_reboot},
    {"sethostname", p_sethostname},
    {"setuid_escalation", p_setuid},
    {"capabilities", p_capabilities},
    {"proc_self_exe_overwrite", p_proc_exe},
    {"masked_path_symlink", p_masked_symlink},
    {"io_uring", p_io_uring},
    {"userfaultfd", p_userfaultfd},
    {"af_alg", p_af_alg},
    {"af_vsock", p_af_vsock},
    {"perf_event_open", p_perf_event_open},
    {"host_sys_write", p_host_sys_write},
    {"proc_sys_write", p_proc_sys_write},
    {"other_container_files", p_other_container},
    {"control_socket", p_control_socket},
    {"chroot", p_chroot},
    {"host_devices", p_host_devices},
    {"syslog", p_syslog},
    {"set_clock", p_set_clock},
    {"swapon", p_swapon},
    {"seccomp_enabled", p_seccomp_on},
    {"host_network", p_host_network},
    {"cgroup_escape", p_cgroup_escape},
    {"ia32_syscalls", p_ia32_syscalls},
    {"x32_syscalls", p_x32_syscalls},
    {"mount_api_fsopen", p_mount_api_fsopen},
    {"mount_api_open_tree", p_mount_api_open_tree},
    {"mount_setattr", p_mount_setattr},
    {"process_vm_readv_writev", p_process_vm},
    {"kcmp", p_kcmp},
    {"pidfd_getfd", p_pidfd_getfd},
    {"tiocsti", p_tiocsti},
    {"proc_interrupts", p_proc_interrupts},
    {"sys_host_info", p_sys_host_info},
    {"cgroup_own_limits", p_cgroup_own_limits},
    {"rootfs_device_nodes", p_rootfs_device_nodes},
    {"rootfs_setuid_file", p_rootfs_setuid_file},
};

static int named(const char *list, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = list; p && (p = strstr(p, name)); p += n)
		if ((p == list || strchr(" ,", p[-1])) && (!p[n] || strchr(" ,", p[n])))
			return 1;
	return 0;
}

/* Runs one probe in a child of its own: 0 blocked, 1 escaped, else broken
 * (detail says why). A probe returns -1 when it has nothing to test with. */
static int run_probe(int (*fn)(void))
{
	pid_t pid;
	int st;

	detail[0] = 0;
	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		SAY("fork: %s", strerror(errno));
		return 2;
	}
	if (pid == 0) {
		int r;

		alarm(PROBE_SECONDS);
		r = fn();
		_exit(r < 0 ? 2 : r ? 1 : 0);
	}
	while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(st) && WEXITSTATUS(st) <= 1)
		return WEXITSTATUS(st);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 2 && detail[0])
		return 2;
	if (WIFSIGNALED(st))
		SAY("the probe was killed by signal %d%s", WTERMSIG(st),
		    WTERMSIG(st) == SIGALRM ? " (it hung)" : "");
	else
		SAY("the probe exited with status %d", WEXITSTATUS(st));
	return 2;
}

int main(int argc, char **argv)
{
	size_t n = sizeof(probes) / sizeof(*probes), total = 0;
	const char *skip = getenv("BHC_PROBE_SKIP");
	int blocked = 0, escaped = 0, skipped = 0, broken = 0;

	if (argc > 1 && !strcmp(argv[1], "--list")) {
		for (size_t i = 0; i < n; i++)
			printf("%s\n", probes[i].name);
		return 0;
	}
	/* Not a probe: whose rights it runs with (the setuid copy that
	 * rootfs_setuid_file runs). */
	if (argc > 1 && !strcmp(argv[1], "--ids")) {
		printf("%d %d\n", (int)getuid(), (int)geteuid());
		return 0;
	}
	/* Not a probe: which of x86_64's other entry points this kernel
	 * answers at all (getpid through each), so that a runner can skip
	 * the probes of those it lacks (a kernel booted with
	 * ia32_emulation=0, or a hypervisor that refuses int 0x80). */
	if (argc > 1 && !strcmp(argv[1], "--entry-points")) {
#if defined(__x86_64__)
		printf("ia32 %s\n", in_grandchild(ia32_getpid) == 1 ? "yes" : "no");
		printf("x32 %s\n", in_grandchild(x32_getpid) == 1 ? "yes" : "no");
#else
		printf("ia32 no\nx32 no\n");
#endif
		return 0;
	}
	/* Some probes would look around a host they escaped to: run only as
	 * the init of a container (pid 1), unless told otherwise. */
	if (getpid() != 1 && !getenv("BHC_PROBE_NOT_PID1")) {
		fprintf(stderr, "bhc-probes: refusing to run outside a container (not pid 1)\n");
		return 2;
	}
	detail = mmap(NULL, DETAIL_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (detail == MAP_FAILED) {
		perror("bhc-probes: mmap");
		return 2;
	}
	for (size_t i = 0; i < n; i++) {
		if (argc > 1 && strcmp(argv[1], probes[i].name))
			continue;
		total++;
		if (named(skip, probes[i].name)) {
			printf("SKIPPED %s\n", probes[i].name);
			skipped++;
			continue;
		}
		switch (run_probe(probes[i].fn)) {
		case 0:
			printf("BLOCKED %s\n", probes[i].name);
			blocked++;
			break;
		case 1:
			printf("ESCAPED %s: %s\n", probes[i].name,
			       detail[0] ? detail : "it worked");
			escaped++;
			break;
		default:
			printf("BROKEN %s: %s\n", probes[i].name, detail);
			broken++;
		}
		fflush(stdout);
	}
	printf("probes: %zu, blocked: %d, escaped: %d, skipped: %d, broken: %d\n", total, blocked,
	       escaped, skipped, broken);
	return escaped || broken ? 1 : 0;
}
