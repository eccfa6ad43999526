/* bhd: the workload agent. Installs signed bundles, runs each workload in
 * its compartment (a bhc container or a bhv microVM), restarts it by
 * policy, forwards its ports and keeps its output and SBOM. Controlled by
 * root only, through /run/bulkhead/bhd.sock (bhctl). */
#include "bhd.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static void reap(void)
{
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
		if (!sync_child_exited(pid, status) && !report_child_exited(pid, status))
			workload_child_exited(pid, status);
}

int main(int argc, char **argv)
{
	struct epoll_event ev = {.events = EPOLLIN};
	struct bh_error err;
	sigset_t set;
	int sfd, lfd, epfd;
	int64_t started = now_ms();

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--workload-output-console")) {
			workload_output_console = true;
		} else {
			fprintf(stderr, "bhd: unknown option '%s' (known: --workload-output-console)\n",
				argv[i]);
			return 2;
		}
	}
	umask(022);
	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGPIPE);
	sigprocmask(SIG_BLOCK, &set, NULL);
	sfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	epfd = epoll_create1(EPOLL_CLOEXEC);
	for (const char *d = RUN_DIR "\0" LOGS_DIR "\0" BHC_ROOT "\0" OCI_BUNDLES "\0" NETNS_DIR "\0" WORKLOADS_DIR "\0" MANIFESTS_DIR "\0" SBOM_STORE "\0" VOLUMES_DIR "\0";
	     *d; d += strlen(d) + 1)
		if (mkdir(d, 0700) < 0 && errno != EEXIST)
			bhd_log("bhd: mkdir %s: %s", d, strerror(errno));
	chmod(RUN_DIR, 0755);
	lfd = control_open(&err);
	if (lfd < 0) {
		bh_error_print(&err, "bhd");
		return 1;
	}
	ev.data.fd = sfd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, sfd, &ev);
	ev.data.fd = lfd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, lfd, &ev);
	fleet_init();
	report_init();
	revoked_load();
	workloads_load();
	workloads_install_embedded();
	bhd_log("bhd: ready, control socket %s", BHD_SOCKET);
	for (;;) {
		struct epoll_event events[32];
		int64_t timeout = workloads_tick(epfd), bless = boot_confirm_tick(started), poll, report;
		int n;

		update_trial_tick(); /* after the confirmation it may wait for */
		poll = sync_tick(epfd);
		report = report_tick(epfd);

		if (bless >= 0 && (timeout < 0 || bless < timeout))
			timeout = bless;
		if (poll >= 0 && (timeout < 0 || poll < timeout))
			timeout = poll;
		if (report >= 0 && (timeout < 0 || report < timeout))
			timeout = report;
		n = epoll_wait(epfd, events, 32, timeout < 0 ? -1 : (int)timeout);

		for (int i = 0; i < n; i++) {
			int fd = events[i].data.fd;

			if (fd == sfd) {
				struct signalfd_siginfo si;

				while (read(sfd, &si, sizeof(si)) == sizeof(si)) {
					if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
						report_stop(); /* "offline", first */
						bhd_log("bhd: stopping every workload");
						workloads_stop_all();
						unlink(BHD_SOCKET);
						return 0;
					}
				}
				reap();
			} else if (fd == lfd) {
				control_handle(lfd, epfd);
			} else if (!sync_output(fd, epfd) && !report_output(fd, epfd) &&
				   !workload_output(fd)) {
				proxy_event(fd, events[i].events, epfd);
			}
		}
		reap();
	}
}
