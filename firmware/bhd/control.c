/* The control socket: root only (the socket is 0600 in a folder only root
 * can write, and every peer's credentials are checked), one JSON request
 * per connection, one JSON reply. `install` passes the bundle as an open
 * file descriptor (SCM_RIGHTS), so that bhd never opens a path a client
 * names. The socket lives under /run/bulkhead, which no workload sees. */
#include "bhd.h"

#include <bulkhead/bundle.h>
#include <bulkhead/fs.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yyjson.h>

#define REQUEST_MAX 4096

int control_open(struct bh_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return bh_error(err, errno, "socket");
	strcpy(sa.sun_path, SOCKET_PATH);
	unlink(SOCKET_PATH);
	umask(077);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		int e = errno;

		umask(022);
		close(fd);
		return bh_error(err, e, "listen on %s", SOCKET_PATH);
	}
	umask(022);
	chmod(SOCKET_PATH, 0600);
	return fd;
}

static void reply(int fd, bool ok, const char *text)
{
	yyjson_mut_doc *doc = yyjson_mut_doc_new(NULL);
	yyjson_mut_val *root = yyjson_mut_obj(doc);
	size_t len;
	char *out;

	yyjson_mut_doc_set_root(doc, root);
	yyjson_mut_obj_add_bool(doc, root, "ok", ok);
	yyjson_mut_obj_add_strcpy(doc, root, ok ? "output" : "error", text ? text : "");
	out = yyjson_mut_write(doc, 0, &len);
	if (out) {
		for (size_t off = 0; off < len;) {
			ssize_t n = write(fd, out + off, len - off);

			if (n <= 0)
				break;
			off += (size_t)n;
		}
		free(out);
	}
	yyjson_mut_doc_free(doc);
}

static const char *state_name(enum wl_state s)
{
	static const char *const names[] = {"stopped", "running", "restarting", "failed", "exited"};

	return names[s];
}

static void list(int fd)
{
	char text[8192];
	size_t n = (size_t)snprintf(text, sizeof(text), "%-20s %-10s %-10s %-8s %s\n", "NAME",
				    "MODE", "STATE", "RESTARTS", "VERSION");

	for (int i = 0; i < WORKLOADS_MAX && n < sizeof(text); i++) {
		struct workload *w = &workloads[i];

		if (w->used)
			n += (size_t)snprintf(text + n, sizeof(text) - n, "%-20s %-10s %-10s %-8u %s\n",
					      w->m.name, w->m.mode == WL_VM ? "vm" : "container",
					      state_name(w->state), w->restarts, w->m.version);
	}
	reply(fd, true, text);
}

static void status(int fd, struct workload *w)
{
	char text[4096], ports[512] = "", addr[32] = "";
	size_t p = 0;

	if (w->net_index)
		snprintf(addr, sizeof(addr), ", address 10.%d.%d.2", w->m.mode == WL_VM ? 89 : 88,
			 w->net_index);

	for (size_t i = 0; i < w->m.n_ports; i++)
		p += (size_t)snprintf(ports + p, sizeof(ports) - p, "%s%u->%u", i ? ", " : "",
				      w->m.ports[i].host, w->m.ports[i].workload);
	snprintf(text, sizeof(text),
		 "name: %s\nversion: %s\nmode: %s\nstate: %s\npid: %d\nenabled: %s\nruns: %u\n"
		 "restarts: %u\nuptime: %lld s\nlast exit: %s %d\nmemory: %llu\npids: %u\n"
		 "network: %s%s\nports: %s\n",
		 w->m.name, w->m.version, w->m.mode == WL_VM ? "vm" : "container",
		 state_name(w->state), (int)w->pid, workload_enabled(w->m.name) ? "yes" : "no",
		 w->runs, w->restarts,
		 (long long)(w->state == WS_RUNNING ? (now_ms() - w->started_at) / 1000 : 0),
		 WIFSIGNALED(w->last_status) ? "signal" : "status",
		 WIFSIGNALED(w->last_status) ? WTERMSIG(w->last_status) : WEXITSTATUS(w->last_status),
		 (unsigned long long)w->m.memory, w->m.pids,
		 w->m.network == WL_NET_ISOLATED ? "isolated" : "none", addr, p ? ports : "-");
	reply(fd, true, text);
}

/* update FILE (the file passed as fd), --allow-downgrade, --status. */
static void update_request(int fd, yyjson_doc *req, int file_fd)
{
	yyjson_val *root = yyjson_doc_get_root(req);
	static char text[4096];
	struct bh_error err;
	int rc;

	if (yyjson_get_bool(yyjson_obj_get(root, "status")))
		rc = update_status(text, sizeof(text), &err);
	else if (file_fd < 0)
		rc = bh_error(&err, 0, "update: no update file was passed");
	else
		rc = update_apply(file_fd, yyjson_get_bool(yyjson_obj_get(root, "allow_downgrade")),
				  text, sizeof(text), &err);
	reply(fd, rc == 0, rc == 0 ? text : err.msg);
}

static int recv_request(int fd, char *buf, size_t size, int *passed_fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = buf, .iov_len = size - 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c;
	ssize_t n = recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);

	*passed_fd = -1;
	if (n <= 0)
		return -1;
	buf[n] = 0;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(passed_fd, CMSG_DATA(c), sizeof(int));
	return 0;
}

static void handle(int fd, int epfd)
{
	char buf[REQUEST_MAX], name[WL_NAME_MAX];
	struct bh_error err;
	const char *cmd, *wname;
	struct workload *w = NULL;
	yyjson_doc *req;
	int bundle_fd;

	if (recv_request(fd, buf, sizeof(buf), &bundle_fd) < 0)
		return;
	req = yyjson_read(buf, strlen(buf), 0);
	cmd = yyjson_get_str(yyjson_obj_get(yyjson_doc_get_root(req), "cmd"));
	wname = yyjson_get_str(yyjson_obj_get(yyjson_doc_get_root(req), "name"));
	if (!cmd) {
		reply(fd, false, "request: not {\"cmd\": ...}");
		goto out;
	}
	if (!strcmp(cmd, "update")) {
		update_request(fd, req, bundle_fd);
		goto out;
	}
	if (wname && !(w = workload_find(wname)) && strcmp(cmd, "install")) {
		snprintf(buf, sizeof(buf), "no workload named '%s' is installed", wname);
		reply(fd, false, buf);
		goto out;
	}
	if (!wname && strcmp(cmd, "install") && strcmp(cmd, "list")) {
		reply(fd, false, "request: this command needs a workload name");
		goto out;
	}
	if (!strcmp(cmd, "install")) {
		if (bundle_fd < 0) {
			reply(fd, false, "install: no bundle file was passed");
		} else if (workload_install(bundle_fd, "bundle", name, &err) < 0) {
			reply(fd, false, err.msg);
		} else {
			w = workload_find(name);
			if (w && workload_start(w, epfd, &err) < 0)
				bhd_log("bhd: %s: %s", name, err.msg);
			snprintf(buf, sizeof(buf), "installed %s; %s", name,
				 w && w->state == WS_RUNNING ? "started" : "not started");
			reply(fd, true, buf);
		}
	} else if (!strcmp(cmd, "list")) {
		list(fd);
	} else if (!strcmp(cmd, "status")) {
		status(fd, w);
	} else if (!strcmp(cmd, "start")) {
		workload_set_enabled(w->m.name, true);
		w->restarts = 0;
		if (w->state == WS_RUNNING)
			reply(fd, true, "already running");
		else if (workload_start(w, epfd, &err) < 0)
			reply(fd, false, err.msg);
		else
			reply(fd, true, "started");
	} else if (!strcmp(cmd, "stop")) {
		workload_stop(w, true);
		reply(fd, true, "stopped");
	} else if (!strcmp(cmd, "remove")) {
		snprintf(name, sizeof(name), "%s", w->m.name);
		if (workload_remove(name, &err) < 0)
			reply(fd, false, err.msg);
		else
			reply(fd, true, "removed (its volumes under " VOLUMES_DIR " are kept)");
	} else if (!strcmp(cmd, "logs")) {
		char *text;

		if (workload_log_read(w->m.name, &text, &err) < 0) {
			reply(fd, false, err.msg);
		} else {
			reply(fd, true, text);
			free(text);
		}
	} else if (!strcmp(cmd, "sbom")) {
		char path[256], *text;

		snprintf(path, sizeof(path), SBOM_STORE "/%s.spdx.json", w->m.name);
		text = bh_read_file(path, BUNDLE_SBOM_MAX, NULL, &err);
		if (text)
			reply(fd, true, text);
		else
			reply(fd, false, "cannot read the workload's SBOM");
		free(text);
	} else {
		snprintf(buf, sizeof(buf), "unknown command '%s'", cmd);
		reply(fd, false, buf);
	}
out:
	yyjson_doc_free(req);
	if (bundle_fd >= 0)
		close(bundle_fd);
}

void control_handle(int lfd, int epfd)
{
	struct timeval tv = {.tv_sec = 5};
	struct ucred cred;
	socklen_t len = sizeof(cred);
	int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0 || cred.uid != 0)
		reply(fd, false, "permission denied: bhd takes requests from root only");
	else
		handle(fd, epfd);
	close(fd);
}
