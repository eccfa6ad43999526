/* Escape probes: run inside a container made with `bhc spec` defaults, each
 * probe tries one known way out and prints exactly one line,
 * "BLOCKED <name>" or "ESCAPED <name>: <what worked>". The runner
 * (tests/escape/escape.py) fails the test on any ESCAPED line or on a
 * probe that printed nothing.
 *
 * The runner passes, in the environment: BHC_PROBE_HOST_PID (a pid on the
 * host), BHC_PROBE_SECRET (a host path of another container's file),
 * BHC_PROBE_ABSTRACT (an abstract unix socket name the host listens on).
 * Built static with the target's musl compiler; needs nothing else. */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <linux/capability.h>
#include <linux/perf_event.h>
#include <linux/reboot.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/ptrace.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/swap.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
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

static int escaped_count;
static char detail[2048];

static void report(const char *name, int escaped)
{
	if (escaped) {
		escaped_count++;
		printf("ESCAPED %s: %s\n", name, detail[0] ? detail : "it worked");
	} else {
		printf("BLOCKED %s\n", name);
	}
	fflush(stdout);
	detail[0] = 0;
}

#define SAY(...) snprintf(detail, sizeof(detail), __VA_ARGS__)

/* A syscall "escapes" if it succeeds. */
static int worked(long r, const char *what)
{
	if (r >= 0) {
		SAY("%s succeeded", what);
		return 1;
	}
	return 0;
}

static int p_mount_tmpfs(void)
{
	mkdir("/tmp/m", 0700);
	return worked(mount("tmpfs", "/tmp/m", "tmpfs", 0, NULL), "mount tmpfs");
}

static int p_remount_root_rw(void)
{
	if (worked(mount(NULL, "/", NULL, MS_REMOUNT | MS_BIND, NULL), "remount / read-write"))
		return 1;
	return worked(open("/.bhc-probe", O_WRONLY | O_CREAT, 0600),
	              "create a file on the read-only rootfs");
}

static int p_umount_mask(void)
{
	return worked(umount2("/proc/sys", MNT_DETACH), "umount /proc/sys") ||
	       worked(umount2("/sys/firmware", MNT_DETACH), "umount the /sys/firmware mask");
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

static int p_setns(void)
{
	int fd = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	long r = syscall(SYS_setns, fd, CLONE_NEWNET);

	close(fd);
	/* EPERM from seccomp; anything else means the call reached the kernel. */
	if (r == 0 || (errno != EPERM)) {
		SAY("setns reached the kernel (errno %d)", errno);
		return 1;
	}
	return 0;
}

static int p_keyctl(void)
{
	return worked(syscall(SYS_keyctl, 0 /* GET_KEYRING_ID */, -3 /* session */, 1), "keyctl") ||
	       worked(syscall(SYS_add_key, "user", "bhc", "x", 1, -3), "add_key") ||
	       worked(syscall(SYS_request_key, "user", "bhc", NULL, 0), "request_key");
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

static int p_host_pid(void)
{
	const char *s = getenv("BHC_PROBE_HOST_PID");
	pid_t pid = s ? atoi(s) : 0;
	char path[64];

	if (pid <= 1)
		return 0;
	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if (worked(access(path, F_OK), "host pid visible in /proc") ||
	    worked(kill(pid, 0), "kill(host pid, 0)"))
		return 1;
	return worked(ptrace(PTRACE_ATTACH, pid, 0, 0), "ptrace(PTRACE_ATTACH) of the host pid");
}

/* Shocker: open_by_handle_at with a guessed handle of the root inode. */
static int p_open_by_handle_at(void)
{
	struct {
		unsigned int bytes;
		int type;
		unsigned char f[8];
	} h = {8, 1, {2, 0, 0, 0, 0, 0, 0, 0}};
	int fd = open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	long r = syscall(SYS_open_by_handle_at, fd, &h, O_RDONLY);

	close(fd);
	return worked(r, "open_by_handle_at");
}

static int p_sysrq(void)
{
	return worked(open("/proc/sysrq-trigger", O_WRONLY),
	              "open /proc/sysrq-trigger for writing");
}

/* Masked files read as empty (they are /dev/null). */
static int readable_bytes(const char *path)
{
	char buf[64];
	int fd = open(path, O_RDONLY);
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

static int p_release_agent(void)
{
	mkdir("/tmp/cg", 0700);
	if (worked(mount("cgroup", "/tmp/cg", "cgroup", 0, "rdma"),
	           "mount a cgroup v1 hierarchy") ||
	    worked(mount("cgroup", "/tmp/cg", "cgroup", 0, "memory"),
	           "mount a cgroup v1 hierarchy"))
		return 1;
	return worked(open("/sys/fs/cgroup/release_agent", O_WRONLY),
	              "open release_agent for writing");
}

static int p_notify_on_release(void)
{
	return worked(open("/sys/fs/cgroup/notify_on_release", O_WRONLY),
	              "open notify_on_release") ||
	       worked(open("/sys/fs/cgroup/cgroup.procs", O_WRONLY),
	              "open cgroup.procs for writing") ||
	       worked(mkdir("/sys/fs/cgroup/bhc-probe", 0755), "create a cgroup");
}

static int p_mknod_block(void)
{
	const char *dirs[] = {"/tmp/sda", "/dev/shm/sda", "/dev/sda"};

	for (int i = 0; i < 3; i++) {
		if (mknod(dirs[i], S_IFBLK | 0600, makedev(8, 0)) == 0) {
			int fd = open(dirs[i], O_RDONLY);

			unlink(dirs[i]);
			if (fd >= 0) {
				SAY("made and opened block device %s", dirs[i]);
				return 1;
			}
		}
	}
	return 0;
}

static int p_raw_socket(void)
{
	return worked(socket(AF_INET, SOCK_RAW, 1), "socket(AF_INET, SOCK_RAW)") ||
	       worked(socket(AF_PACKET, SOCK_RAW, 0), "socket(AF_PACKET, SOCK_RAW)");
}

static int p_module(void)
{
	int fd = open("/proc/self/exe", O_RDONLY | O_CLOEXEC);
	long r = syscall(SYS_finit_module, fd, "", 0);

	close(fd);
	return worked(r, "finit_module") ||
	       worked(syscall(SYS_init_module, "", 0, ""), "init_module") ||
	       worked(syscall(SYS_delete_module, "loop", 0), "delete_module");
}

static int p_kexec(void)
{
	return worked(syscall(SYS_kexec_load, 0, 0, NULL, 0), "kexec_load") ||
	       worked(syscall(SYS_kexec_file_load, -1, -1, 0, "", 0), "kexec_file_load");
}

static int p_reboot(void)
{
	return worked(syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2,
	                      LINUX_REBOOT_CMD_CAD_OFF, NULL),
	              "reboot(CAD_OFF)");
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

/* CVE-2019-5736: writing the runtime's binary through /proc/<pid>/exe. */
static int p_proc_exe(void)
{
	DIR *d = opendir("/proc");
	struct dirent *e;

	if (worked(open("/proc/self/exe", O_WRONLY), "open /proc/self/exe for writing"))
		return 1;
	while (d && (e = readdir(d))) {
		char path[300], target[300];
		ssize_t n;

		if (e->d_name[0] < '0' || e->d_name[0] > '9')
			continue;
		snprintf(path, sizeof(path), "/proc/%s/exe", e->d_name);
		n = readlink(path, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = 0;
			const char *base = strrchr(target, '/') ? strrchr(target, '/') + 1 : target;

			if (!strcmp(base, "bhc") || !strncmp(base, "bhc ", 4)) {
				SAY("%s is the runtime %s", path, target);
				closedir(d);
				return 1;
			}
		}
		if (open(path, O_WRONLY) >= 0) {
			SAY("opened %s for writing", path);
			closedir(d);
			return 1;
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

	if (worked(unlink("/proc/kcore"), "unlink /proc/kcore") ||
	    worked(symlink("/proc/sys/kernel/core_pattern", "/proc/kcore"),
	           "symlink over /proc/kcore"))
		return 1;
	if (symlink("/proc/sys/kernel/core_pattern", "/tmp/evil-null") == 0 &&
	    worked(mount("/tmp/evil-null", "/proc/keys", NULL, MS_BIND, NULL),
	           "bind a symlink over a mask"))
		return 1;
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
	return worked(syscall(SYS_userfaultfd, 0), "userfaultfd");
}

static int p_af_alg(void)
{
	return worked(socket(AF_ALG, SOCK_SEQPACKET, 0), "socket(AF_ALG)") ||
	       worked(syscall(SYS_socket, 0xffffffff00000000ULL | AF_ALG, SOCK_SEQPACKET, 0),
	              "socket(AF_ALG) with high bits set");
}

static int p_af_vsock(void)
{
	return worked(socket(AF_VSOCK, SOCK_STREAM, 0), "socket(AF_VSOCK)");
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

static int p_host_sys_write(void)
{
	const char *paths[] = {"/sys/kernel/mm/transparent_hugepage/enabled",
	                       "/sys/kernel/uevent_helper", "/sys/power/state",
	                       "/sys/class/net/lo/mtu"};

	for (int i = 0; i < 4; i++)
		if (worked(open(paths[i], O_WRONLY), paths[i]))
			return 1;
	return 0;
}

static int p_proc_sys_write(void)
{
	return worked(open("/proc/sys/kernel/core_pattern", O_WRONLY),
	              "open core_pattern for writing") ||
	       worked(open("/proc/sys/kernel/modprobe", O_WRONLY),
	              "open /proc/sys/kernel/modprobe for writing") ||
	       worked(open("/proc/sys/vm/drop_caches", O_WRONLY), "open drop_caches for writing");
}

static int p_other_container(void)
{
	const char *s = getenv("BHC_PROBE_SECRET");
	char path[600];

	if (!s)
		return 0;
	snprintf(path, sizeof(path), "/../../../../..%s", s);
	if (readable_bytes(s) || readable_bytes(path)) {
		SAY("read %s", s);
		return 1;
	}
	snprintf(path, sizeof(path), "/proc/1/root%s", s);
	if (readable_bytes(path)) {
		SAY("read %s", path);
		return 1;
	}
	return 0;
}

static int connect_unix(const char *path, int abstract)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	socklen_t len = sizeof(sa.sun_family) + strlen(path) + (abstract ? 1 : 0);
	int s = socket(AF_UNIX, SOCK_STREAM, 0), r;

	if (s < 0)
		return -1;
	memcpy(sa.sun_path + (abstract ? 1 : 0), path, strlen(path));
	r = connect(s, (struct sockaddr *)&sa, len);
	close(s);
	return r;
}

static int p_control_socket(void)
{
	const char *abs = getenv("BHC_PROBE_ABSTRACT");

	if (worked(connect_unix("/run/bulkhead/bhd.sock", 0),
	           "connect to /run/bulkhead/bhd.sock") ||
	    worked(connect_unix("/proc/1/root/run/bulkhead/bhd.sock", 0),
	           "connect via /proc/1/root"))
		return 1;
	return abs && worked(connect_unix(abs, 1), "connect to the host's abstract socket");
}

static int p_chroot(void)
{
	mkdir("/tmp/cr", 0700);
	return worked(chroot("/tmp/cr"), "chroot");
}

static int p_host_devices(void)
{
	const char *paths[] = {"/dev/mem", "/dev/kmem", "/dev/port", "/dev/sda",
	                       "/dev/vda", "/dev/kmsg", "/dev/kvm"};

	for (int i = 0; i < 7; i++)
		if (worked(open(paths[i], O_RDONLY), paths[i]))
			return 1;
	return 0;
}

static int p_syslog(void)
{
	char buf[64];

	return worked(klogctl(3 /* READ_ALL */, buf, sizeof(buf)), "syslog(READ_ALL)");
}

static int p_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return worked(clock_settime(CLOCK_REALTIME, &ts), "clock_settime");
}

static int p_swapon(void)
{
	return worked(swapon("/tmp/swap", 0), "swapon") ||
	       (errno != EPERM && (SAY("swapon reached the kernel"), 1));
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

static int p_cgroup_escape(void)
{
	int fd = open("/sys/fs/cgroup/cgroup.procs", O_WRONLY);

	if (fd >= 0 && write(fd, "0", 1) == 1) {
		SAY("moved itself in the cgroup tree");
		return 1;
	}
	return 0;
}

static const struct {
	const char *name;
	int (*fn)(void);
} probes[] = {
    /* First, before any probe has opened a file of its own. */
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
    {"clock_settime", p_clock},
    {"swapon", p_swapon},
    {"seccomp_enabled", p_seccomp_on},
    {"host_network", p_host_network},
    {"cgroup_escape", p_cgroup_escape},
};

int main(int argc, char **argv)
{
	size_t n = sizeof(probes) / sizeof(*probes);

	/* Some probes would change a host they escaped to: run only as the
	 * init of a container (pid 1), unless told otherwise. */
	if (getpid() != 1 && !getenv("BHC_PROBE_NOT_PID1")) {
		fprintf(stderr, "bhc-probes: refusing to run outside a container (not pid 1)\n");
		return 2;
	}

	for (size_t i = 0; i < n; i++) {
		if (argc > 1 && strcmp(argv[1], probes[i].name))
			continue;
		report(probes[i].name, probes[i].fn());
	}
	printf("probes: %zu, escaped: %d\n", argc > 1 ? 1 : n, escaped_count);
	return escaped_count ? 1 : 0;
}
