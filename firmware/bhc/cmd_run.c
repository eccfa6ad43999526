/* bhc run [--bundle DIR] [--detach] ID: create and start. In the foreground
 * (the default) bhc stays the container's parent: the container's stdio is
 * bhc's (or a pty relayed to it), signals sent to bhc are passed on, the
 * exit status is the container's (128+N for a signal), and the container
 * is deleted when it exits. */
#include "cli.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <unistd.h>

static const int forwarded[] = {SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2, SIGWINCH};

/* Passes signals to the container until it exits. */
static void forward_signals(struct bhc_container *ct, int sfd)
{
	struct pollfd p[2] = {{ct->pidfd, POLLIN, 0}, {sfd, POLLIN, 0}};

	for (;;) {
		struct signalfd_siginfo si;

		if (poll(p, 2, -1) < 0 && errno != EINTR)
			return;
		if (p[0].revents)
			return;
		if ((p[1].revents & POLLIN) && read(sfd, &si, sizeof(si)) == sizeof(si))
			syscall(SYS_pidfd_send_signal, ct->pidfd, (int)si.ssi_signo, NULL, 0);
	}
}

int cmd_run(struct cli *c, struct bh_error *err)
{
	struct bhc_create_opts o = {
	    c->root,         NULL,      c->bundle ? c->bundle : ".", c->pid_file, c->console_socket,
	    c->preserve_fds, !c->detach};
	struct bhc_container ct;
	struct bh_error ignored;
	sigset_t set;
	int status, sfd;

	if (c->n_args != 1)
		return bh_error(err, 0, "run takes one container id");
	o.id = c->args[0];
	/* In the foreground the signals are blocked before the create: one
	 * that comes while the container is being set up (bhd stopping a
	 * workload it has just started) waits and is passed on, instead of
	 * killing bhc half-way and leaving its cgroup or state folder behind,
	 * which bhc delete cannot find and which blocks the id for good. The
	 * container's init unblocks everything. */
	sigemptyset(&set);
	for (size_t i = 0; i < sizeof(forwarded) / sizeof(*forwarded); i++)
		sigaddset(&set, forwarded[i]);
	if (!c->detach)
		sigprocmask(SIG_BLOCK, &set, NULL);
	if (bhc_create(&o, &ct, err) < 0)
		return -1;
	if (bhc_start(c->root, o.id, err) < 0) {
		bhc_delete(c->root, o.id, true, &ignored);
		return -1;
	}
	if (c->detach)
		return 0;
	sfd = signalfd(-1, &set, SFD_CLOEXEC);
	if (ct.console_master >= 0)
		bhc_console_relay(ct.console_master, ct.pidfd, sfd);
	else
		forward_signals(&ct, sfd);
	if (bhc_wait(&ct, &status, err) < 0)
		return -1;
	if (bhc_delete(c->root, o.id, true, err) < 0)
		return -1;
	return status;
}
