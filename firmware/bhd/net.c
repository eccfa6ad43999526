/* Workload networks. "isolated": a container gets its own network
 * namespace with one veth pair, 10.88.N.1 on the host and 10.88.N.2 inside;
 * a VM a tap, 10.89.N.1 on the host and 10.89.N.2 in the guest. There is no
 * route between workloads or out of them (no NAT, forwarding stays off):
 * only the ports the manifest lists reach them, through bhd's forwarders
 * on the host. "none": a container gets an empty namespace (loopback only),
 * a VM no network device. */
#include "bhd.h"

#include <bulkhead/netcfg.h>

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static int alloc_index(void)
{
	for (int n = 1; n <= 250; n++) {
		bool used = false;

		for (int i = 0; i < WORKLOADS_MAX; i++)
			used |= workloads[i].used && workloads[i].net_index == n;
		if (!used)
			return n;
	}
	return -1;
}

/* A network namespace pinned at /run/netns/<name> by a bind mount, made by
 * a child that unshares and exits. */
static int netns_create(const char *path, struct bh_error *err)
{
	int status, fd;
	pid_t pid;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0)
		return bh_error(err, errno, "create %s", path);
	close(fd);
	pid = fork();
	if (pid == 0) {
		if (unshare(CLONE_NEWNET) < 0 ||
		    mount("/proc/self/ns/net", path, NULL, MS_BIND, NULL) < 0)
			_exit(1);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status)) {
		unlink(path);
		return bh_error(err, 0, "create network namespace %s", path);
	}
	return 0;
}

/* Inside the namespace: loopback and eth0 up, the address, the route. */
static int configure_inside(const char *ns_path, int index, struct bh_error *err)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		struct bh_error e;
		char addr[32], gw[32];
		int fd = open(ns_path, O_RDONLY | O_CLOEXEC);

		snprintf(addr, sizeof(addr), "10.88.%d.2", index);
		snprintf(gw, sizeof(gw), "10.88.%d.1", index);
		if (fd < 0 || setns(fd, CLONE_NEWNET) < 0 || netcfg_link_up("lo", &e) < 0 ||
		    netcfg_link_up("eth0", &e) < 0 || netcfg_set_ipv4("eth0", addr, 30, &e) < 0 ||
		    netcfg_default_route("eth0", gw, &e) < 0)
			_exit(1);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
		return bh_error(err, 0, "configure the network inside %s", ns_path);
	return 0;
}

int net_setup(struct workload *w, struct bh_error *err)
{
	char host_if[16], addr[32], ns_path[256];
	int index, nsfd;

	w->net_index = 0;
	w->tap_fd = -1;
	if (w->m.network != WL_NET_ISOLATED)
		return 0;
	index = alloc_index();
	if (index < 0)
		return bh_error(err, 0, "%s: no free workload network (at most 250)", w->m.name);
	w->net_index = index;
	if (w->m.mode == WL_VM) {
		snprintf(host_if, sizeof(host_if), "bhtap%d", index);
		w->tap_fd = netcfg_tap_open(host_if, err);
		snprintf(addr, sizeof(addr), "10.89.%d.1", index);
		if (w->tap_fd < 0 || netcfg_set_ipv4(host_if, addr, 30, err) < 0 ||
		    netcfg_link_up(host_if, err) < 0)
			goto fail;
		return 0;
	}
	snprintf(ns_path, sizeof(ns_path), NETNS_DIR "/%s", w->m.name);
	snprintf(host_if, sizeof(host_if), "bhveth%d", index);
	net_teardown(w); /* anything a crash left behind */
	w->net_index = index;
	if (netns_create(ns_path, err) < 0)
		goto fail;
	nsfd = open(ns_path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0) {
		bh_error(err, errno, "open %s", ns_path);
		goto fail;
	}
	if (netcfg_veth_create(host_if, "eth0", nsfd, err) < 0) {
		close(nsfd);
		goto fail;
	}
	close(nsfd);
	snprintf(addr, sizeof(addr), "10.88.%d.1", index);
	if (netcfg_set_ipv4(host_if, addr, 30, err) < 0 || netcfg_link_up(host_if, err) < 0 ||
	    configure_inside(ns_path, index, err) < 0)
		goto fail;
	return 0;
fail:
	bh_error_wrap(err, "%s: network", w->m.name);
	net_teardown(w);
	return -1;
}

void net_teardown(struct workload *w)
{
	char path[256], name[16];
	struct bh_error err;

	if (w->tap_fd >= 0) {
		close(w->tap_fd);
		w->tap_fd = -1;
	}
	if (w->m.mode == WL_CONTAINER && w->net_index) {
		snprintf(name, sizeof(name), "bhveth%d", w->net_index);
		netcfg_link_delete(name, &err);
	}
	if (w->m.mode == WL_CONTAINER) {
		snprintf(path, sizeof(path), NETNS_DIR "/%s", w->m.name);
		umount2(path, MNT_DETACH);
		unlink(path);
	}
	w->net_index = 0;
}
