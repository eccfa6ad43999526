/* The container's init, from clone to execve. It runs bhc's own code inside
 * the new namespaces, so it stays non-dumpable (nothing in the container
 * can open its /proc/<pid>/exe, the host's bhc binary) until execve replaces
 * it with the container's program; bhc never re-executes itself.
 *
 * Order matters: the preserved fds checked, a session of its own, mounts,
 * a wait while bhc runs the create hooks, pivot_root, then hostname,
 * console, cwd, the user switch and capabilities, no_new_privs, the
 * parent-death signal and non-dumpable set again (the id changes cleared
 * them); the parent hears "ready"; start releases the exec fifo; then every
 * fd but 0-2 (and any preserved, and the fifo, which execve closes to tell
 * start the program runs) is closed, the startContainer hooks run, seccomp
 * (compiled by bhc before the clone) is loaded last, and execve runs. */
#include "libbhc.h"

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

__attribute__((noreturn)) static void fail(int sync_fd, const struct bh_error *err)
{
	char msg[BH_ERROR_MAX + 1] = "E";

	memcpy(msg + 1, err->msg, strnlen(err->msg, BH_ERROR_MAX - 1) + 1);
	if (send(sync_fd, msg, strlen(msg), MSG_NOSIGNAL) < 0)
		dprintf(2, "bhc: %s\n", err->msg);
	_exit(1);
}

static int become_root(struct bh_error *err)
{
	if (setgroups(0, NULL) < 0 || setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)
		return bh_error(err, errno, "become root in the user namespace (is id 0 mapped?)");
	return 0;
}

static int set_names(const struct bhc_config *cfg, struct bh_error *err)
{
	if (cfg->hostname && sethostname(cfg->hostname, strlen(cfg->hostname)) < 0)
		return bh_error(err, errno, "set the hostname '%s'", cfg->hostname);
	if (cfg->domainname && setdomainname(cfg->domainname, strlen(cfg->domainname)) < 0)
		return bh_error(err, errno, "set the domain name '%s'", cfg->domainname);
	return 0;
}

/* chdir, then check that getcwd sees the same folder: a working directory
 * outside the rootfs (a leaked host fd, CVE-2024-21626) shows up as an
 * unreachable path. The system call, not getcwd(3): glibc's getcwd walks
 * ".." when the kernel says unreachable and returns a host path. */
static int enter_cwd(const char *cwd, struct bh_error *err)
{
	char here[PATH_MAX];

	if (chdir(cwd) < 0)
		return bh_error(err, errno, "chdir to process.cwd %s", cwd);
	errno = 0;
	if (syscall(SYS_getcwd, here, sizeof(here)) <= 0 || here[0] != '/')
		return bh_error(err, errno ? errno : ENOENT,
		                "working directory %s is outside the container", cwd);
	return 0;
}

/* The config's user, groups and capabilities, the five sets as
 * config_caps.c left them: the bounding set is cut first, the permitted
 * set survives the switch to a non-root uid, and the ambient set is
 * raised last, so that a non-root program keeps it across execve. */
static int set_user(const struct bhc_config *cfg, struct bh_error *err)
{
	gid_t gids[32];
	struct bh_privileges p = {
		.uid = cfg->uid,
		.gid = cfg->gid,
		.groups = gids,
		.n_groups = cfg->n_gids,
		.bounding = cfg->caps[CAPSET_BOUNDING],
		.permitted = cfg->caps[CAPSET_PERMITTED],
		.effective = cfg->caps[CAPSET_EFFECTIVE],
		.inheritable = cfg->caps[CAPSET_INHERITABLE],
		.ambient = cfg->caps[CAPSET_AMBIENT],
		.no_new_privs = true,
		.last_cap = bh_cap_last(),
	};

	for (size_t i = 0; i < cfg->n_gids; i++)
		gids[i] = cfg->gids[i];
	if (bh_drop_privileges(&p, err) < 0)
		return -1;
	if (cfg->umask >= 0)
		umask((mode_t)cfg->umask);
	return 0;
}

static const char *env_path(const struct bhc_config *cfg)
{
	for (size_t i = 0; i < cfg->n_env; i++)
		if (!strncmp(cfg->env[i], "PATH=", 5))
			return cfg->env[i] + 5;
	return DEFAULT_PATH;
}

/* The program, found the way execvp would, so that a missing one is an
 * error at create rather than after start. */
static int find_program(const struct bhc_config *cfg, char *out, size_t len, struct bh_error *err)
{
	const char *name = cfg->args[0], *p = env_path(cfg);
	struct stat sb;

	if (strchr(name, '/')) {
		snprintf(out, len, "%s", name);
		if (stat(out, &sb) < 0)
			return bh_error(err, errno, "process.args[0] %s", name);
		if (!S_ISREG(sb.st_mode) || access(out, X_OK) < 0)
			return bh_error(err, EACCES, "process.args[0] %s", name);
		return 0;
	}
	while (*p) {
		size_t n = strcspn(p, ":");

		snprintf(out, len, "%.*s/%s", (int)n, n ? p : ".", name);
		if (stat(out, &sb) == 0 && S_ISREG(sb.st_mode) && access(out, X_OK) == 0)
			return 0;
		p += n + (p[n] == ':');
	}
	return bh_error(err, ENOENT, "process.args[0] '%s' is not in the container's PATH", name);
}

/* Before pivot_root: bhc runs the prestart, createRuntime and
 * createContainer hooks (the latter in this process's namespaces) while the
 * init waits; a hook that fails makes bhc kill the init. */
static int hooks_point(void *arg, struct bh_error *err)
{
	const struct bhc_init_args *a = arg;
	char go = 0;

	if (send(a->sync_fd, "H", 1, MSG_NOSIGNAL) != 1)
		return bh_error(err, errno, "ask bhc to run the create hooks");
	if (recv(a->sync_fd, &go, 1, 0) != 1 || go != 'P')
		return bh_error(err, 0, "bhc did not finish the create hooks");
	return 0;
}

/* startContainer: after start, before the program's execve, in the
 * container (paths resolved in it), as the container's user, under its
 * seccomp filter. A failing hook stops the container: the init writes the
 * error into the exec fifo, for bhc start to report, and exits. */
static void start_hooks(const struct bhc_init_args *a, pid_t host_pid)
{
	struct bhc_state st = *a->st;
	struct bhc_hook_run how = {NULL, NULL, -1, a->seccomp};
	struct bh_error err = {0};
	char msg[BH_ERROR_MAX + 1] = "E";
	char *state;
	int r;

	if (!a->cfg->hooks.n[BHC_HOOK_START_CONTAINER])
		return;
	st.pid = host_pid;
	st.status = BHC_CREATED;
	st.annotations = a->cfg->annotations;
	state = bhc_state_json(&st, &err);
	how.state_json = state;
	r = state ? bhc_hooks_run(&a->cfg->hooks, BHC_HOOK_START_CONTAINER, &how, &err) : -1;
	free(state);
	/* Whatever a hook left behind was reparented to this pid 1. */
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	if (r == 0)
		return;
	memcpy(msg + 1, err.msg, strnlen(err.msg, BH_ERROR_MAX - 1) + 1);
	if (write(a->fifo_fd, msg, strlen(msg)) < 0)
		dprintf(2, "bhc: %s\n", err.msg);
	_exit(1);
}

static int setup(const struct bhc_init_args *a, const int *fds, size_t n_fds, char *prog,
                 size_t len, struct bh_error *err)
{
	const struct bhc_config *cfg = a->cfg;
	int master = -1;

	if (bhc_preserved_fds_check(a->preserve_fds, a->own_fds, BHC_MAX_OWN_FDS, err) < 0)
		return -1;
	/* A session of its own, whether or not it gets a terminal: the
	 * terminal bhc was started from is not the container's controlling
	 * tty, so the kernel refuses TIOCSTI on it (seccomp refuses it too). */
	if (setsid() < 0)
		return bh_error(err, errno, "setsid");
	if (become_root(err) < 0 ||
	    bhc_rootfs_setup(cfg, fds, n_fds, hooks_point, (void *)a, err) < 0 ||
	    set_names(cfg, err) < 0)
		return -1;
	if (cfg->terminal) {
		char msg[64] = "C";

		if (bhc_console_open(cfg, &master, msg + 1, sizeof(msg) - 1, err) < 0)
			return -1;
		if (bhc_send_fd(a->sync_fd, master, msg, strlen(msg)) < 0)
			return bh_error(err, errno, "hand the console to bhc");
		close(master);
	}
	if (enter_cwd(cfg->cwd, err) < 0 || set_user(cfg, err) < 0)
		return -1;
	/* Every change of credentials (become_root, set_user) resets the
	 * parent-death signal and makes the process dumpable again if
	 * fs.suid_dumpable says so: set both once more. A parent that died
	 * before this line is noticed when "ready" cannot be sent. */
	if (prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0) < 0 || prctl(PR_SET_DUMPABLE, 0, 0, 0, 0) < 0)
		return bh_error(err, errno, "set the parent-death signal and non-dumpable");
	return find_program(cfg, prog, len, err);
}

static int wait_for_start(int fifo_fd)
{
	char c;
	ssize_t n;

	do
		n = read(fifo_fd, &c, 1);
	while (n < 0 && errno == EINTR);
	return n == 1 ? 0 : -1;
}

/* Everything but stdio, the preserved fds and the exec fifo goes, then the
 * preserved ones survive execve. The fifo (O_CLOEXEC, never in the
 * preserved range: checked at setup) stays open until execve closes it:
 * that end of file is how `bhc start` knows the container's program runs. */
static void close_fds(int preserve, int fifo_fd)
{
	if (fifo_fd > 3 + preserve)
		syscall(SYS_close_range, 3 + preserve, fifo_fd - 1, 0);
	syscall(SYS_close_range, fifo_fd >= 3 + preserve ? fifo_fd + 1 : 3 + preserve, ~0U, 0);
	for (int fd = 3; fd < 3 + preserve; fd++)
		fcntl(fd, F_SETFD, 0);
}

void bhc_init_run(const struct bhc_init_args *a)
{
	struct bh_error err = {0};
	int fds[1 + BHC_MAX_SOURCES];
	char prog[PATH_MAX], go[32];
	pid_t host_pid;
	size_t n_fds;
	sigset_t all;
	int n;

	sigemptyset(&all);
	sigprocmask(SIG_SETMASK, &all, NULL);
	prctl(PR_SET_PDEATHSIG, SIGKILL, 0, 0, 0);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
	/* The parent writes the id maps, then says go with the rootfs, the
	 * bind sources and this process's pid on the host (for the hooks'
	 * state). */
	n = bhc_recv_fds(a->sync_fd, fds, sizeof(fds) / sizeof(*fds), &n_fds, go, sizeof(go) - 1);
	if (n < 1 || go[0] != 'G')
		_exit(1);
	go[n] = 0;
	host_pid = (pid_t)atoi(go + 1);
	if (setup(a, fds, n_fds, prog, sizeof(prog), &err) < 0)
		fail(a->sync_fd, &err);
	for (size_t i = 0; i < n_fds; i++)
		close(fds[i]);
	/* bhc create returns once it hears "ready"; only bhc run takes its
	 * container down with it. */
	if (!a->foreground)
		prctl(PR_SET_PDEATHSIG, 0, 0, 0, 0);
	if (send(a->sync_fd, "R", 1, MSG_NOSIGNAL) != 1)
		_exit(1);
	if (wait_for_start(a->fifo_fd) < 0)
		_exit(1);
	close_fds(a->preserve_fds, a->fifo_fd);
	start_hooks(a, host_pid);
	/* Precompiled before the clone: loading is two system calls. */
	if (bhc_seccomp_load(a->seccomp, &err) < 0) {
		dprintf(2, "bhc: %s\n", err.msg);
		_exit(127);
	}
	execve(prog, (char *const *)a->cfg->args,
	       (char *const *)(a->cfg->env ? a->cfg->env : (const char *[]){NULL}));
	dprintf(2, "bhc: exec %s: %s\n", prog, strerror(errno));
	_exit(127);
}
