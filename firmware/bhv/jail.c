/* The jail (README.md, "Threat model"): the steps, in order,
 *   1. new mount, PID, network, IPC and UTS namespaces; fork, so that the
 *      monitor is PID 1 of its PID namespace and the outer process only
 *      waits for it and relays its exit status;
 *   2. the monitor joins its cgroup (limits written when the controllers
 *      are there);
 *   3. its root becomes an empty, read-only tmpfs (pivot_root): every file
 *      it needs is already open;
 *   4. both processes drop to the jail uid and gid, lose every capability,
 *      set no_new_privs and become non-dumpable;
 *   5. later, each thread installs its seccomp filter (policy.c).
 * All of it happens before the VM exists, so before any guest instruction. */
#include "jail.h"

#include <bulkhead/caps.h>

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <linux/magic.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "policy.h"

#define MIB (1024ULL * 1024)
/* Guest memory is most of the monitor's memory; this is the rest. */
#define CGROUP_MEM_SLACK (64 * MIB)

static int write_file(const char *dir, const char *name, const char *value)
{
	char path[PATH_MAX + 32];
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	r = write(fd, value, strlen(value)) < 0 ? -1 : 0;
	close(fd);
	return r;
}

/* Writes a limit only where there is none ("max"): a limit the caller
 * (the workload agent) set is its decision and stays. A file that does not
 * exist means the controller is not enabled there: no limit to set. */
static int set_limit(const char *dir, const char *name, const char *value)
{
	char path[PATH_MAX + 32], cur[32] = "";
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -1;
	n = read(fd, cur, sizeof(cur) - 1);
	close(fd);
	if (n < 0)
		return -1;
	if (strncmp(cur, "max", 3) != 0)
		return 0;
	return write_file(dir, name, value);
}

/* Creates the cgroup if needed, sets memory.max and pids.max when those
 * controllers are enabled there (a cgroup v1 host has neither file), and
 * moves this process in. Limits already set are kept. */
static int join_cgroup(const struct bhv_config *cfg, struct bh_error *err)
{
	char v[32];

	if (!cfg->cgroup[0])
		return 0;
	if (mkdir(cfg->cgroup, 0755) < 0 && errno != EEXIST)
		return bh_error(err, errno, "create cgroup %s", cfg->cgroup);
	snprintf(v, sizeof(v), "%llu", (unsigned long long)(cfg->mem_mib * MIB + CGROUP_MEM_SLACK));
	if (set_limit(cfg->cgroup, "memory.max", v) < 0)
		return bh_error(err, errno, "cgroup %s: set memory.max", cfg->cgroup);
	/* The monitor's threads: one per vCPU, the device thread and spare. */
	snprintf(v, sizeof(v), "%d", cfg->cpus + 4);
	if (set_limit(cfg->cgroup, "pids.max", v) < 0)
		return bh_error(err, errno, "cgroup %s: set pids.max", cfg->cgroup);
	if (write_file(cfg->cgroup, "cgroup.procs", "0") < 0)
		return bh_error(err, errno, "join cgroup %s", cfg->cgroup);
	return 0;
}

/* The cgroup must live in a cgroup v2 hierarchy: on a v1 host the path
 * would be a plain directory and the limits would silently not exist. */
static int check_cgroup(const struct bhv_config *cfg, struct bh_error *err)
{
	char parent[PATH_MAX];
	struct statfs fs;
	char *slash;

	if (!cfg->cgroup[0])
		return 0;
	snprintf(parent, sizeof(parent), "%s", cfg->cgroup);
	slash = strrchr(parent, '/');
	if (slash && slash != parent)
		*slash = 0;
	if (statfs(parent, &fs) < 0)
		return bh_error(err, errno, "cgroup %s: %s", cfg->cgroup, parent);
	if (fs.f_type != CGROUP2_SUPER_MAGIC)
		return bh_error(err, 0, "cgroup %s: %s is not in a cgroup v2 hierarchy",
		                cfg->cgroup, parent);
	return 0;
}

/* An empty root: a tiny tmpfs mounted over /tmp in our own mount
 * namespace, made the root, the old root detached, then read-only. */
static int empty_root(struct bh_error *err)
{
	if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
		return bh_error(err, errno, "make mounts private");
	if (mount("bhv", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	          "size=4k,nr_inodes=4,mode=0555") < 0)
		return bh_error(err, errno, "mount the jail's tmpfs");
	if (chdir("/tmp") < 0 || syscall(SYS_pivot_root, ".", ".") < 0)
		return bh_error(err, errno, "pivot_root into the jail");
	if (umount2(".", MNT_DETACH) < 0 || chdir("/") < 0)
		return bh_error(err, errno, "detach the old root");
	if (mount(NULL, "/", NULL, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC,
	          NULL) < 0)
		return bh_error(err, errno, "make the jail read-only");
	return 0;
}

/* No capability in any set, the jail's ids, no_new_privs. */
static int drop_privileges(const struct bhv_config *cfg, int lastcap, struct bh_error *err)
{
	struct bh_privileges p = {
		.uid = cfg->jail_uid,
		.gid = cfg->jail_gid,
		.no_new_privs = true,
		.last_cap = lastcap,
	};

	if (bh_drop_privileges(&p, err) < 0)
		return -1;
	/* Not dumpable: no core file with guest memory, no ptrace or
	 * /proc/<pid>/mem access from other processes of the same uid. */
	if (prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return bh_error(err, errno, "set non-dumpable");
	return 0;
}

/* The outer process: nothing open but stderr, unprivileged, filtered. It
 * forwards TERM, INT and HUP to the monitor and exits with its status. */
static __attribute__((noreturn)) void supervise(const struct bhv_config *cfg, pid_t child,
                                                int lastcap)
{
	struct bh_error err;
	struct signalfd_siginfo si;
	sigset_t set;
	int sfd, status;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	for (int fd = 0; fd < 1024; fd++)
		if (fd != STDERR_FILENO && fd != sfd)
			close(fd);
	if (sfd < 0 || drop_privileges(cfg, lastcap, &err) < 0 || policy_prepare(&err) < 0 ||
	    policy_enter(POLICY_SUPERVISOR) < 0) {
		kill(child, SIGKILL);
		_exit(BHV_EXIT_ERROR);
	}
	for (;;) {
		pid_t pid = waitpid(child, &status, WNOHANG);

		if (pid == child) {
			if (WIFEXITED(status))
				_exit(WEXITSTATUS(status));
			dprintf(STDERR_FILENO, "bhv: the monitor was killed by signal %d\n",
			        WTERMSIG(status));
			_exit(BHV_EXIT_ERROR);
		}
		if (read(sfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGCHLD)
			kill(child, (int)si.ssi_signo);
	}
}

/* The limits, set while still privileged (an unprivileged process could
 * only lower them further, which is fine, but never raise them back).
 * RLIMIT_FSIZE past the limit would kill with SIGXFSZ: ignored, a write
 * there fails with EFBIG instead (console output to a full file is lost,
 * a disk never needs it). */
static int set_limits(const struct jail_limits *lim, struct bh_error *err)
{
	const struct {
		int resource;
		const char *name;
		uint64_t value;
	} set[] = {
	    {RLIMIT_CORE, "RLIMIT_CORE", 0},
	    {RLIMIT_NOFILE, "RLIMIT_NOFILE", lim->nofile},
	    {RLIMIT_NPROC, "RLIMIT_NPROC", lim->nproc},
	    {RLIMIT_FSIZE, "RLIMIT_FSIZE", lim->fsize},
	};

	signal(SIGXFSZ, SIG_IGN);
	for (size_t i = 0; i < sizeof(set) / sizeof(set[0]); i++) {
		struct rlimit rl = {set[i].value, set[i].value};

		if (setrlimit(set[i].resource, &rl) < 0)
			return bh_error(err, errno, "set %s to %llu", set[i].name,
			                (unsigned long long)set[i].value);
	}
	return 0;
}

int jail_enter(const struct bhv_config *cfg, const struct jail_limits *limits, struct bh_error *err)
{
	int lastcap = bh_cap_last(); /* /proc is gone once the root is */
	sigset_t set, old;
	pid_t child;
	int outer, r;

	if (check_cgroup(cfg, err) < 0)
		return -1;
	if (geteuid() != 0)
		return bh_error(err, 0,
		                "the jail needs root (bhv is started by the agent as root); "
		                "--no-jail is for development only");
	if (unshare(CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS) < 0)
		return bh_error(err, errno, "create namespaces");
	/* Signals stay blocked in the parent from here to its signalfd. */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGCHLD);
	sigprocmask(SIG_BLOCK, &set, &old);
	/* The monitor, pid 1 of its namespace, cannot name the outer process
	 * (its getppid() is 0): a pidfd taken here tells it whether the outer
	 * process is still there once the parent-death signal is set for
	 * good. -1 on a kernel without pidfd_open: the check is skipped. */
	outer = (int)syscall(SYS_pidfd_open, getpid(), 0);
	child = fork();
	if (child < 0)
		return bh_error(err, errno, "fork into the PID namespace");
	if (child > 0) {
		if (outer >= 0)
			close(outer);
		supervise(cfg, child, lastcap);
	}
	sigprocmask(SIG_SETMASK, &old, NULL);
	/* If the outer process dies, so does the VM. */
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	if (sethostname("bhv", 3) < 0)
		r = bh_error(err, errno, "set the hostname");
	else if (join_cgroup(cfg, err) < 0 || empty_root(err) < 0 || set_limits(limits, err) < 0 ||
	         drop_privileges(cfg, lastcap, err) < 0)
		r = -1;
	/* The uid switch cleared the parent-death signal (commit_creds does):
	 * without it again, an outer process killed with SIGKILL (bhd's stop
	 * after its 10 s) left the VM running, orphaned, holding its jail
	 * uid. An outer process that died before this line is seen on its
	 * pidfd. */
	else if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0)
		r = bh_error(err, errno, "set the parent-death signal");
	else if (outer >= 0 && poll(&(struct pollfd){.fd = outer, .events = POLLIN}, 1, 0) > 0)
		r = bh_error(err, 0, "the outer process died before the VM started");
	else
		r = 0;
	if (outer >= 0)
		close(outer);
	return r;
}

void close_other_fds(const int *keep, int n)
{
	struct rlimit rl;
	int max = 1024;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
		max = rl.rlim_cur < 65536 ? (int)rl.rlim_cur : 65536;
	for (int fd = 3; fd < max; fd++) {
		bool kept = false;

		for (int i = 0; i < n && !kept; i++)
			kept = keep[i] == fd;
		if (!kept)
			close(fd);
	}
}
