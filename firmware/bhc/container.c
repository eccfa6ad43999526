/* The parent side of a container's life: create (clone3 into new
 * namespaces and the container's cgroup, id maps, rlimits, waiting for the
 * init to report ready), start (the exec fifo), kill (pidfd, checked against
 * the recorded start time so a recycled pid is never signalled) and delete
 * (nothing left behind: process, cgroup, state).
 *
 * A create that fails at any step undoes the earlier ones: the init is
 * killed (its mounts live only in its own mount namespace and die with it),
 * the cgroup and the state folder are removed. */
#include "libbhc.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/sched.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef CLONE_INTO_CGROUP
#define CLONE_INTO_CGROUP 0x200000000ULL
#endif
#ifndef P_PIDFD
#define P_PIDFD 3
#endif

struct create_ctx {
	const struct bhc_create_opts *o;
	struct bhc_config cfg;
	struct bhc_state st;
	void *seccomp;
	int rootfd, dirfd, fifo_fd, cgroup_fd, sync[2];
	bool made_cgroup;
};

static const int ns_types[NS_N] = {CLONE_NEWNET, CLONE_NEWIPC, CLONE_NEWUTS, CLONE_NEWPID,
                                   CLONE_NEWCGROUP};

static const char *const ns_names[NS_N] = {"network", "ipc", "uts", "pid", "cgroup"};

/* A namespace joined by path belongs to the user namespace that made it
 * (the host's, or another container's), never to the container's own,
 * which the clone creates afterwards: the init has no capability in it.
 * What needs one is settled here, before any process exists:
 *  - pid: procfs can only be mounted by a process with CAP_SYS_ADMIN over
 *    the pid namespace's owner, so the container would have no /proc
 *    (and its pid 1 would be another container's): refused;
 *  - uts: the hostname cannot be set there; a $.hostname (or
 *    $.domainname) equal to the namespace's is already true and is not set
 *    again, a different one is refused;
 *  - ipc: its message queue filesystem cannot be mounted; an mqueue mount
 *    is dropped with a warning (mq_open works without it);
 *  - cgroup: neither can cgroup2; a cgroup mount is dropped with a warning
 *    (the container sees no cgroup tree). */
static int check_joinable(struct bhc_config *cfg, struct bh_error *err)
{
	if (cfg->ns_path[NS_PID])
		return bh_error(err, 0,
		                "$.linux.namespaces: the pid namespace %s cannot be joined by path: "
		                "it belongs to another user namespace than the container's, so "
		                "the container could not mount its /proc",
		                cfg->ns_path[NS_PID]);
	for (size_t i = 0; i < cfg->n_mounts; i++) {
		struct bhc_mount *m = &cfg->mounts[i];
		bool mq = !m->bind && !strcmp(m->type, "mqueue"),
		     cg = !m->bind && !strncmp(m->type, "cgroup", 6);
		int k = mq ? NS_IPC : NS_CGROUP;
		char field[32];

		if (!(mq || cg) || !cfg->ns_path[k])
			continue;
		snprintf(field, sizeof(field), "$.mounts[%zu]", i);
		bhc_warn(cfg, field,
		         "%s at %s not mounted: the %s namespace %s is joined by path and belongs "
		         "to another user namespace than the container's%s",
		         m->type, m->destination, ns_names[k], cfg->ns_path[k],
		         mq ? " (message queues still work through mq_open)" : "");
		m->skip = true;
	}
	return 0;
}

/* After joining a uts namespace: names equal to the namespace's are not set
 * again; the init could not set different ones. */
static int check_joined_uts(struct bhc_config *cfg, struct bh_error *err)
{
	struct utsname u;

	if (uname(&u) < 0)
		return bh_error(err, errno, "uname in the uts namespace %s", cfg->ns_path[NS_UTS]);
	if (cfg->hostname && strcmp(cfg->hostname, u.nodename))
		return bh_error(err, 0,
		                "$.hostname: '%s' cannot be set in the uts namespace %s joined by "
		                "path (its hostname is '%s' and it belongs to another user namespace "
		                "than the container's): leave $.hostname out or make it '%s'",
		                cfg->hostname, cfg->ns_path[NS_UTS], u.nodename, u.nodename);
	if (cfg->domainname && strcmp(cfg->domainname, u.domainname))
		return bh_error(err, 0,
		                "$.domainname: '%s' cannot be set in the uts namespace %s joined "
		                "by path (its domain name is '%s'): leave $.domainname out or make "
		                "it '%s'",
		                cfg->domainname, cfg->ns_path[NS_UTS], u.domainname, u.domainname);
	cfg->hostname = cfg->domainname = NULL;
	return 0;
}

/* Namespaces given by path are joined by bhc itself before the clone, so
 * the init is born in them; the rest are created new by the clone. */
static int join_namespaces(struct bhc_config *cfg, uint64_t *flags, struct bh_error *err)
{
	for (int k = 0; k < NS_N; k++) {
		int fd;

		if (!cfg->ns_path[k])
			continue;
		fd = open(cfg->ns_path[k], O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return bh_error(err, errno, "open %s namespace %s", ns_names[k],
			                cfg->ns_path[k]);
		if (setns(fd, ns_types[k]) < 0) {
			int e = errno;

			close(fd);
			return bh_error(err, e, "join %s namespace %s", ns_names[k],
			                cfg->ns_path[k]);
		}
		close(fd);
		*flags &= ~(uint64_t)ns_types[k];
	}
	return cfg->ns_path[NS_UTS] ? check_joined_uts(cfg, err) : 0;
}

static pid_t spawn(struct create_ctx *c, int *pidfd, struct bh_error *err)
{
	uint64_t flags = CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWNET | CLONE_NEWIPC |
	                 CLONE_NEWUTS | CLONE_NEWCGROUP | CLONE_PIDFD;
	struct clone_args args;
	pid_t pid;

	/* Refusals first: nothing is created in the rootfs for a config that
	 * will not run. */
	if (check_joinable(&c->cfg, err) < 0 || bhc_mount_targets_create(&c->cfg, err) < 0 ||
	    join_namespaces(&c->cfg, &flags, err) < 0)
		return -1;
	memset(&args, 0, sizeof(args));
	if (c->cgroup_fd >= 0) {
		flags |= CLONE_INTO_CGROUP;
		args.cgroup = (uint64_t)c->cgroup_fd;
	}
	args.flags = flags;
	args.pidfd = (uint64_t)(uintptr_t)pidfd;
	args.exit_signal = SIGCHLD;
	pid = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (pid < 0)
		return bh_error(err, errno, "clone3 the container's init");
	if (pid == 0) {
		struct bhc_init_args a = {
		    &c->cfg,
		    c->seccomp,
		    c->sync[1],
		    c->fifo_fd,
		    c->o->preserve_fds,
		    c->o->foreground,
		    {c->rootfd, c->dirfd, c->fifo_fd, c->cgroup_fd, c->sync[0], c->sync[1], -1, -1},
		    &c->st};

		close(c->sync[0]);
		bhc_init_run(&a);
	}
	return pid;
}

static int default_idmap(struct create_ctx *c, struct bh_error *err)
{
	if (c->cfg.n_uidmap)
		return 0;
	if (bhc_uid_base_pick(c->rootfd, &c->st.uid_base, err) < 0)
		return -1;
	c->cfg.uidmap[0] = (struct bhc_idmap){0, c->st.uid_base, BHC_UID_RANGE_SIZE};
	c->cfg.gidmap[0] = c->cfg.uidmap[0];
	c->cfg.n_uidmap = c->cfg.n_gidmap = 1;
	return 0;
}

/* What the parent sets for the init from outside: id maps, rlimits (raising
 * a hard limit needs privileges the init does not have), oom_score_adj. */
static int prepare_child(struct create_ctx *c, pid_t pid, struct bh_error *err)
{
	if (bhc_idmap_write(pid, "uid_map", c->cfg.uidmap, c->cfg.n_uidmap, err) < 0 ||
	    bhc_idmap_write(pid, "gid_map", c->cfg.gidmap, c->cfg.n_gidmap, err) < 0)
		return -1;
	for (size_t i = 0; i < c->cfg.n_rlimits; i++) {
		struct rlimit rl = {c->cfg.rlimits[i].soft, c->cfg.rlimits[i].hard};

		if (prlimit(pid, c->cfg.rlimits[i].resource, &rl, NULL) < 0)
			return bh_error(err, errno, "$.process.rlimits[%zu]: set the limit", i);
	}
	if (c->cfg.has_oom_score_adj) {
		char path[64], v[16];
		int fd;

		snprintf(path, sizeof(path), "/proc/%d/oom_score_adj", (int)pid);
		snprintf(v, sizeof(v), "%d", c->cfg.oom_score_adj);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0 || write(fd, v, strlen(v)) < 0) {
			int e = errno;

			if (fd >= 0)
				close(fd);
			return bh_error(err, e, "$.process.oomScoreAdj: write %s", path);
		}
		close(fd);
	}
	return 0;
}

static void close_all(int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(fds[i]);
}

/* Opens the rootfs and every bind source as host root, through the init's
 * own root (/proc/<pid>/root), so the fds belong to its mount namespace,
 * and hands them over with "go". */
static int send_go(struct create_ctx *c, pid_t pid, struct bh_error *err)
{
	int fds[1 + BHC_MAX_SOURCES];
	char full_go[24];
	size_t n = 0;
	int r;

	for (size_t i = 0; i <= c->cfg.n_mounts; i++) {
		const struct bhc_mount *m = i ? &c->cfg.mounts[i - 1] : NULL;
		const char *path = m ? m->source : c->cfg.rootfs;
		char full[8300], resolved[PATH_MAX];

		if (m && !m->bind)
			continue;
		if (n == sizeof(fds) / sizeof(*fds)) {
			close_all(fds, n);
			return bh_error(err, 0, "$.mounts: more than %d bind mounts",
			                BHC_MAX_SOURCES);
		}
		snprintf(full, sizeof(full), "%s%s%s", path[0] == '/' ? "" : c->cfg.bundle,
		         path[0] == '/' ? "" : "/", path);
		/* Symlinks resolved here: an absolute one would otherwise lead
		 * out of /proc/<pid>/root into bhc's own mount namespace. */
		fds[n] = -1;
		if (!realpath(full, resolved))
			errno = errno ? errno : ENOENT;
		else if (snprintf(full, sizeof(full), "/proc/%d/root%s", (int)pid, resolved) <
		         (int)sizeof(full))
			fds[n] =
			    open(full, O_PATH | O_NOFOLLOW | O_CLOEXEC | (m ? 0 : O_DIRECTORY));
		if (fds[n] < 0) {
			int e = errno;

			close_all(fds, n);
			return m ? bh_error(err, e, "$.mounts[%zu].source: open %s", i - 1, path)
			         : bh_error(err, e, "open the rootfs %s", path);
		}
		n++;
	}
	snprintf(full_go, sizeof(full_go), "G%d", (int)pid);
	r = bhc_send_fds(c->sync[0], fds, n, full_go, strlen(full_go));
	close_all(fds, n);
	return r < 0 ? bh_error(err, errno, "hand the rootfs to the container's init") : 0;
}

/* The hooks of one kind, the state JSON (with status) on their stdin; a
 * failure is an error, or a warning only (poststart, poststop). */
static int run_hooks(const struct bhc_hooks *h, enum bhc_hook_kind k, struct bhc_state *st,
                     enum bhc_status status, int ns_pidfd, struct bh_error *err)
{
	/* A createContainer hook is the container's root, which may not
	 * search the bundle's folders: it starts in the root folder. */
	struct bhc_hook_run how = {NULL, ns_pidfd < 0 ? st->bundle : NULL, ns_pidfd, NULL};
	bool warn = k == BHC_HOOK_POSTSTART || k == BHC_HOOK_POSTSTOP;
	char *state;
	int r = 0;

	if (!h->n[k])
		return 0;
	st->status = status;
	state = bhc_state_json(st, err);
	if (!state) {
		if (!warn)
			return -1;
		bhc_warn_bundle(st->bundle, "$.hooks", "%s hooks not run: %s", bhc_hook_names[k],
		                err->msg);
		return 0;
	}
	how.state_json = state;
	if (warn)
		bhc_hooks_run_warn(h, k, st->bundle, &how);
	else
		r = bhc_hooks_run(h, k, &how, err);
	free(state);
	return r;
}

/* The init waits before pivot_root: prestart and createRuntime run here,
 * in the runtime namespace, createContainer in the container's. */
static int create_hooks(struct create_ctx *c, struct bhc_container *out, struct bh_error *err)
{
	const struct bhc_hooks *h = &c->cfg.hooks;

	if (run_hooks(h, BHC_HOOK_PRESTART, &c->st, BHC_CREATING, -1, err) < 0 ||
	    run_hooks(h, BHC_HOOK_CREATE_RUNTIME, &c->st, BHC_CREATING, -1, err) < 0 ||
	    run_hooks(h, BHC_HOOK_CREATE_CONTAINER, &c->st, BHC_CREATING, out->pidfd, err) < 0)
		return -1;
	if (send(c->sync[0], "P", 1, MSG_NOSIGNAL) != 1)
		return bh_error(err, errno, "release the container's init after its hooks");
	return 0;
}

/* Messages from the init until it is ready: C (console fd), H (hooks),
 * E (error), R. */
static int wait_ready(struct create_ctx *c, struct bhc_container *out, struct bh_error *err)
{
	for (;;) {
		char msg[BH_ERROR_MAX + 2];
		int fd, n = bhc_recv_fd(c->sync[0], &fd, msg, sizeof(msg) - 1);

		if (n <= 0)
			return bh_error(err, n < 0 ? errno : 0,
			                "the container's init exited during setup");
		msg[n] = 0;
		if (msg[0] == 'R')
			return 0;
		if (msg[0] == 'H' && fd < 0) {
			if (create_hooks(c, out, err) < 0)
				return -1;
			continue;
		}
		if (msg[0] == 'E')
			return bh_error(err, 0, "%s", msg + 1);
		if (msg[0] == 'C' && fd >= 0) {
			if (c->o->console_socket) {
				int r = bhc_console_send(c->o->console_socket, fd, err);

				close(fd);
				if (r < 0)
					return -1;
			} else {
				out->console_master = fd;
			}
			continue;
		}
		if (fd >= 0)
			close(fd);
		return bh_error(err, 0, "unexpected message from the container's init");
	}
}

static int write_pid_file(const char *path, pid_t pid, struct bh_error *err)
{
	char v[24];

	snprintf(v, sizeof(v), "%d", (int)pid);
	if (bh_write_atomic(path, v, strlen(v), 0644, err) < 0)
		return bh_error_wrap(err, "--pid-file");
	return 0;
}

static int setup_cgroup(struct create_ctx *c, struct bh_error *err)
{
	if (!bhc_cgroup2_available()) {
		if (bhc_config_has_limits(&c->cfg))
			return bh_error(
			    err, 0,
			    "$.linux.resources: the config asks for limits but this host has no "
			    "cgroup v2 hierarchy with %s at %s",
			    BHC_CGROUP_DELEGATED, BHC_CGROUP_ROOT);
		return 0;
	}
	if (bhc_cgroup_path(&c->cfg, c->o->id, c->st.cgroup, sizeof(c->st.cgroup), err) < 0)
		return -1;
	c->cgroup_fd = bhc_cgroup_create(c->st.cgroup, &c->cfg, err);
	if (c->cgroup_fd < 0) {
		c->st.cgroup[0] = 0;
		return -1;
	}
	c->made_cgroup = true;
	return 0;
}

/* Everything up to the clone that can fail on bad input fails here, before
 * any process exists. */
static int prepare(struct create_ctx *c, struct bh_error *err)
{
	if (bhc_id_check(c->o->id, err) < 0 || bhc_config_load(c->o->bundle, &c->cfg, err) < 0)
		return -1;
	if (c->cfg.terminal && !c->o->console_socket && !c->o->foreground)
		return bh_error(err, 0,
		                "$.process.terminal is true: bhc create needs --console-socket");
	c->seccomp = bhc_seccomp_build(c->cfg.seccomp, err);
	if (!c->seccomp)
		return -1;
	c->rootfd = bhc_root_open(c->o->root, true, err);
	if (c->rootfd < 0 || bhc_root_lock(c->rootfd, err) < 0)
		return -1;
	c->dirfd = bhc_state_dir_create(c->rootfd, c->o->id, err);
	if (c->dirfd < 0)
		return -1;
	snprintf(c->st.id, sizeof(c->st.id), "%s", c->o->id);
	snprintf(c->st.bundle, sizeof(c->st.bundle), "%s", c->cfg.bundle);
	bhc_now_rfc3339(c->st.created, sizeof(c->st.created));
	c->st.annotations = c->cfg.annotations;
	/* The state file reserves the id range for concurrent creates. The
	 * hooks are kept for start and delete, in the folder only host root
	 * can write. */
	if (default_idmap(c, err) < 0 ||
	    bhc_state_write(c->dirfd, &c->st, c->cfg.annotations, err) < 0 ||
	    bhc_hooks_save(c->dirfd, &c->cfg.hooks, err) < 0)
		return -1;
	flock(c->rootfd, LOCK_UN);
	if (setup_cgroup(c, err) < 0)
		return -1;
	if (mkfifoat(c->dirfd, "exec.fifo", 0600) < 0)
		return bh_error(err, errno, "create the exec fifo");
	c->fifo_fd = openat(c->dirfd, "exec.fifo", O_RDWR | O_CLOEXEC);
	if (c->fifo_fd < 0)
		return bh_error(err, errno, "open the exec fifo");
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, c->sync) < 0)
		return bh_error(err, errno, "socketpair");
	return 0;
}

static void undo(struct create_ctx *c, struct bhc_container *out, bool dir_is_ours)
{
	struct bh_error ignored;

	if (out->pidfd >= 0) {
		syscall(SYS_pidfd_send_signal, out->pidfd, SIGKILL, NULL, 0);
		waitpid(out->pid, NULL, 0);
		close(out->pidfd);
		out->pidfd = -1;
	}
	if (out->console_master >= 0)
		close(out->console_master);
	if (c->made_cgroup)
		bhc_cgroup_remove(c->st.cgroup, &ignored);
	if (dir_is_ours)
		bhc_state_remove(c->rootfd, c->o->id, &ignored);
}

static void cleanup(struct create_ctx *c)
{
	int fds[] = {c->dirfd, c->fifo_fd, c->cgroup_fd, c->sync[0], c->sync[1]};

	for (size_t i = 0; i < sizeof(fds) / sizeof(*fds); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	bhc_seccomp_free(c->seccomp);
	bhc_config_free(&c->cfg);
}

int bhc_create(const struct bhc_create_opts *o, struct bhc_container *out, struct bh_error *err)
{
	struct create_ctx c = {
	    .o = o, .rootfd = -1, .dirfd = -1, .fifo_fd = -1, .cgroup_fd = -1, .sync = {-1, -1}};
	struct bh_error ignored;
	int r = -1;

	memset(out, 0, sizeof(*out));
	out->pidfd = out->console_master = out->rootfd = -1;
	if (bhc_preserved_fds_open(o->preserve_fds, err) < 0)
		return bh_error_wrap(err, "create '%s'", o->id);
	if (prepare(&c, err) < 0)
		goto fail;
	out->pid = spawn(&c, &out->pidfd, err);
	if (out->pid < 0)
		goto fail;
	c.st.pid = out->pid;
	close(c.sync[1]);
	c.sync[1] = -1;
	if (prepare_child(&c, out->pid, err) < 0 || send_go(&c, out->pid, err) < 0 ||
	    wait_ready(&c, out, err) < 0)
		goto fail;
	c.st.pid = out->pid;
	c.st.start_time = bhc_proc_start_time(out->pid);
	if (bhc_state_write(c.dirfd, &c.st, c.cfg.annotations, err) < 0)
		goto fail;
	if (o->pid_file && write_pid_file(o->pid_file, out->pid, err) < 0)
		goto fail;
	snprintf(out->cgroup, sizeof(out->cgroup), "%s", c.st.cgroup);
	out->rootfd = c.rootfd;
	c.rootfd = -1;
	r = 0;
fail:
	if (r < 0) {
		undo(&c, out, c.dirfd >= 0);
		bh_error_wrap(err, "create '%s'", o->id);
		/* The spec's lifecycle after a failed create hook: the container
		 * is destroyed, then the poststop hooks run. So after any failure
		 * once the container existed. */
		if (out->pid > 0)
			run_hooks(&c.cfg.hooks, BHC_HOOK_POSTSTOP, &c.st, BHC_STOPPED, -1,
			          &ignored);
	}
	if (c.rootfd >= 0)
		close(c.rootfd);
	cleanup(&c);
	return r;
}

/* Releases the init through the exec fifo and returns once the
 * container's program runs, as runc does: the init keeps its end of the
 * fifo open (O_CLOEXEC) until execve, so a reader opened here sees end of
 * file (POLLHUP) exactly then. Before that moment the init is bhc's code,
 * pid 1 of its namespace without handlers, and the kernel drops a SIGTERM
 * sent to it; after start returns, a signal reaches the program itself.
 * The state stays "created" until then (the fifo is removed last). */
int bhc_start(const char *root, const char *id, struct bh_error *err)
{
	struct pollfd p = {.events = 0};
	struct bhc_hooks hooks;
	struct bhc_state st;
	char path[4096], msg[BH_ERROR_MAX + 1];
	int wfd, wait_ms = 30000, r = 0;

	if (bhc_state_load(root, id, &st, err) < 0)
		return -1;
	if (st.status != BHC_CREATED) {
		bhc_state_free(&st);
		return bh_error(err, 0, "container '%s' is %s, not created", id,
		                bhc_status_name(st.status));
	}
	/* Before the program may run: a copy of the hooks that cannot be
	 * trusted stops the start. */
	if (bhc_hooks_load(root, id, &hooks, err) < 0) {
		bhc_state_free(&st);
		return bh_error_wrap(err, "start '%s'", id);
	}
	/* The startContainer hooks run before the program: their timeouts
	 * add to the wait, and one without a timeout makes it unbounded. */
	for (size_t i = 0; i < hooks.n[BHC_HOOK_START_CONTAINER]; i++) {
		int t = hooks.list[BHC_HOOK_START_CONTAINER][i].timeout;

		wait_ms = wait_ms < 0 || !t ? -1 : wait_ms + t * 1000;
	}
	snprintf(path, sizeof(path), "%s/%s/exec.fifo", root, id);
	wfd = open(path, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
	if (wfd < 0) {
		r = bh_error(err, errno == ENXIO ? 0 : errno,
		             "container '%s' is not waiting to start", id);
		goto out;
	}
	/* Opened while the init's end is open, so that its closing is a
	 * hang-up for this reader; locked, so that a second start at the same
	 * time is refused instead of writing a byte nobody reads. */
	p.fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
	if (p.fd < 0 || flock(p.fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;

		close(wfd);
		if (p.fd >= 0)
			close(p.fd);
		r = bh_error(err, e == EWOULDBLOCK ? 0 : e, "container '%s' is being started%s", id,
		             e == EWOULDBLOCK ? " by another bhc start" : "");
		goto out;
	}
	if (write(wfd, "S", 1) != 1)
		r = bh_error(err, errno, "start '%s'", id);
	close(wfd);
	/* events 0: only POLLHUP (or POLLERR) ends the wait, not the byte
	 * waiting in the fifo for the init. What is left in the fifo after
	 * the hang-up is the init's error (a startContainer hook failed). */
	if (!r) {
		ssize_t got;
		int n;

		while ((n = poll(&p, 1, wait_ms)) < 0 && errno == EINTR)
			;
		if (n == 0)
			r = bh_error(err, ETIMEDOUT, "container '%s' did not start its program",
			             id);
		else if (n < 0)
			r = bh_error(err, errno, "wait for container '%s' to start", id);
		else if ((got = read(p.fd, msg, sizeof(msg) - 1)) > 1 && msg[0] == 'E') {
			msg[got] = 0;
			r = bh_error(err, 0, "start '%s': %s", id, msg + 1);
		} else if (got > 0)
			r = bh_error(err, 0, "container '%s' exited before it was started", id);
	}
	if (!r)
		unlink(path);
	close(p.fd);
	/* poststart: the program runs; before start returns. */
	if (!r)
		run_hooks(&hooks, BHC_HOOK_POSTSTART, &st, BHC_RUNNING, -1, err);
out:
	bhc_hooks_free(&hooks);
	bhc_state_free(&st);
	return r;
}

/* A pidfd for the recorded process, or -1 when it is gone (or the pid now
 * belongs to another process). */
static int open_process(const struct bhc_state *st)
{
	int fd;

	if (st->pid <= 0)
		return -1;
	fd = (int)syscall(SYS_pidfd_open, st->pid, 0);
	if (fd < 0)
		return -1;
	/* Checked after opening: from here on the pidfd pins the process. */
	if (bhc_proc_start_time(st->pid) != st->start_time) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Waits until cgroup.events says "frozen 1" (the kernel freezes the tasks
 * one by one); the file signals each change with POLLPRI. */
static int wait_frozen(int dfd, struct bh_error *err)
{
	int fd = openat(dfd, "cgroup.events", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return bh_error(err, errno, "open cgroup.events");
	for (int i = 0; i < 100; i++) {
		struct pollfd p = {fd, POLLPRI, 0};
		char buf[256];
		ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

		if (n < 0)
			break;
		buf[n] = 0;
		if (strstr(buf, "frozen 1")) {
			close(fd);
			return 0;
		}
		poll(&p, 1, 100);
	}
	close(fd);
	return bh_error(err, ETIMEDOUT, "freeze the cgroup");
}

/* Every process of the frozen cgroup gets sig through a pidfd: frozen, none
 * of them can exit and leave its pid to another process meanwhile. */
static int signal_procs(int dfd, int sig, struct bh_error *err)
{
	int fd = openat(dfd, "cgroup.procs", O_RDONLY | O_CLOEXEC), pid, r = 0;
	FILE *f = fd >= 0 ? fdopen(fd, "re") : NULL;

	if (!f) {
		if (fd >= 0)
			close(fd);
		return bh_error(err, errno, "read cgroup.procs");
	}
	while (fscanf(f, "%d", &pid) == 1) {
		int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);

		if (pidfd < 0)
			continue; /* gone: a SIGKILL from elsewhere */
		if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0 && errno != ESRCH)
			r = bh_error(err, errno, "signal process %d", pid);
		close(pidfd);
	}
	fclose(f);
	return r;
}

/* kill --all. SIGKILL goes through cgroup.kill: the kernel kills the whole
 * cgroup at once, new forks included. Any other signal: the cgroup is
 * frozen first and thawed after (left frozen if it was), so the pids read
 * from cgroup.procs stay the container's own while they are signalled;
 * kill(2) on pids read from a file could hit a recycled pid. */
static int kill_cgroup(const char *cgroup, int sig, struct bh_error *err)
{
	char path[1024], was[8] = "0";
	int dfd, fd, r;

	if (!cgroup[0])
		return bh_error(err, 0,
		                "--all needs the container's cgroup, and this host has none");
	snprintf(path, sizeof(path), "%s/%s", BHC_CGROUP_ROOT, cgroup);
	dfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (dfd < 0)
		return bh_error(err, errno, "open cgroup %s", path);
	if (sig == SIGKILL && bhc_write_file_at(dfd, "cgroup.kill", "1", err) == 0) {
		close(dfd);
		return 0;
	}
	fd = openat(dfd, "cgroup.freeze", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		if (read(fd, was, 1) != 1)
			was[0] = '0';
		close(fd);
	}
	r = bhc_write_file_at(dfd, "cgroup.freeze", "1", err);
	if (!r)
		r = wait_frozen(dfd, err);
	if (!r)
		r = signal_procs(dfd, sig, err);
	if (was[0] != '1') {
		struct bh_error thaw;

		if (bhc_write_file_at(dfd, "cgroup.freeze", "0", &thaw) < 0 && !r) {
			*err = thaw;
			r = -1;
		}
	}
	close(dfd);
	return r < 0 ? bh_error_wrap(err, "cgroup %s", path) : 0;
}

int bhc_kill(const char *root, const char *id, int sig, bool all, struct bh_error *err)
{
	struct bhc_state st;
	int fd, r = 0;

	if (bhc_state_load(root, id, &st, err) < 0)
		return -1;
	bhc_state_free(&st);
	fd = open_process(&st);
	if (fd < 0 || st.status == BHC_STOPPED) {
		if (fd >= 0)
			close(fd);
		return bh_error(err, 0, "container '%s' is not running", id);
	}
	/* The signal goes through the pidfd; the pid only decides the wait. */
	bhc_wait_signal_handled(st.pid, sig);
	if (syscall(SYS_pidfd_send_signal, fd, sig, NULL, 0) < 0)
		r = bh_error(err, errno, "signal container '%s'", id);
	close(fd);
	if (!r && all)
		r = kill_cgroup(st.cgroup, sig, err);
	return r;
}

/* Waits for a process that is not necessarily our child to exit. */
static int wait_gone(int pidfd, int timeout_ms)
{
	struct pollfd p = {pidfd, POLLIN, 0};

	return poll(&p, 1, timeout_ms) == 1 ? 0 : -1;
}

int bhc_delete(const char *root, const char *id, bool force, struct bh_error *err)
{
	struct bhc_hooks hooks;
	struct bhc_state st;
	int fd, rootfd, r;

	if (bhc_state_load(root, id, &st, err) < 0)
		return -1;
	/* The runtime spec: deleting a container that is not stopped is an
	 * error; a created one is not stopped either (its init is waiting). */
	if ((st.status == BHC_RUNNING || st.status == BHC_CREATED) && !force) {
		bhc_state_free(&st);
		return bh_error(err, 0, "container '%s' is %s: stop it first or use --force", id,
		                bhc_status_name(st.status));
	}
	/* A copy of the hooks that cannot be trusted is not run; the
	 * container is deleted all the same. */
	if (bhc_hooks_load(root, id, &hooks, err) < 0)
		bhc_warn_bundle(st.bundle, "$.hooks", "poststop hooks not run: %s", err->msg);
	fd = open_process(&st);
	if (fd >= 0) {
		/* Its pid namespace dies with it: every process inside goes too. */
		syscall(SYS_pidfd_send_signal, fd, SIGKILL, NULL, 0);
		if (wait_gone(fd, 10000) < 0) {
			close(fd);
			r = bh_error(err, 0, "container '%s' did not die within 10 s", id);
			goto out;
		}
		close(fd);
	}
	r = -1;
	if (bhc_cgroup_remove(st.cgroup, err) < 0) {
		bh_error_wrap(err, "delete '%s'", id);
		goto out;
	}
	rootfd = bhc_root_open(root, false, err);
	if (rootfd < 0)
		goto out;
	r = bhc_state_remove(rootfd, id, err);
	close(rootfd);
	/* poststop: after the container is gone, before delete returns. */
	if (!r)
		run_hooks(&hooks, BHC_HOOK_POSTSTOP, &st, BHC_STOPPED, -1, err);
out:
	bhc_hooks_free(&hooks);
	bhc_state_free(&st);
	return r;
}

int bhc_wait(struct bhc_container *c, int *status, struct bh_error *err)
{
	int st;

	while (waitpid(c->pid, &st, 0) < 0)
		if (errno != EINTR)
			return bh_error(err, errno, "wait for the container");
	*status = WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
	return 0;
}
