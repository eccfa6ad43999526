/* The control socket (include/bulkhead/control.h): root only (the socket
 * is 0600 in a folder only root can write, and every peer's credentials
 * are checked), one JSON request per connection, one JSON reply. `install`
 * passes the bundle as an open file descriptor (SCM_RIGHTS), so that bhd
 * never opens a path a client names. The socket lives under /run/bulkhead,
 * which no workload sees. Each verb has its handler (the table
 * `handlers`). */
#include "bhd.h"

#include <bulkhead/bundle.h>
#include <bulkhead/control.h>
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

int control_open(struct bh_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return bh_error(err, errno, "socket");
	strcpy(sa.sun_path, BHD_SOCKET);
	unlink(BHD_SOCKET);
	umask(077);
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		int e = errno;

		umask(022);
		close(fd);
		return bh_error(err, e, "listen on %s", BHD_SOCKET);
	}
	umask(022);
	chmod(BHD_SOCKET, 0600);
	return fd;
}

static void reply(int fd, bool ok, const char *text)
{
	yyjson_mut_doc *doc = yyjson_mut_doc_new(NULL);
	yyjson_mut_val *root = yyjson_mut_obj(doc);
	size_t len;
	char *out;

	yyjson_mut_doc_set_root(doc, root);
	yyjson_mut_obj_add_bool(doc, root, CONTROL_OK, ok);
	yyjson_mut_obj_add_strcpy(doc, root, ok ? CONTROL_OUTPUT : CONTROL_ERROR, text ? text : "");
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

/* One request, as its handler sees it. */
struct request {
	int fd;            /* the connection, for the reply */
	int epfd;          /* bhd's event loop, for a workload started here */
	yyjson_val *root;  /* the request's JSON object */
	struct workload *w; /* the workload named, for verbs that take one */
	int file_fd;       /* the descriptor passed, or -1 */
};

static const char *state_name(enum wl_state s)
{
	static const char *const names[] = {"stopped", "running", "restarting",
					    "failed",  "exited",  "revoked"};

	return names[s];
}

static void do_list(struct request *r)
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
	reply(r->fd, true, text);
}

static void do_status(struct request *r)
{
	struct workload *w = r->w;
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
		 "network: %s%s\nports: %s\nsigned by: %s\n",
		 w->m.name, w->m.version, w->m.mode == WL_VM ? "vm" : "container",
		 state_name(w->state), (int)w->pid, workload_enabled(w->m.name) ? "yes" : "no",
		 w->runs, w->restarts,
		 (long long)(w->state == WS_RUNNING ? (now_ms() - w->started_at) / 1000 : 0),
		 WIFSIGNALED(w->last_status) ? "signal" : "status",
		 WIFSIGNALED(w->last_status) ? WTERMSIG(w->last_status) : WEXITSTATUS(w->last_status),
		 (unsigned long long)w->m.memory, w->m.pids,
		 w->m.network == WL_NET_ISOLATED ? "isolated" : "none", addr, p ? ports : "-",
		 w->signer[0] ? w->signer : "not recorded");
	reply(r->fd, true, text);
}

static void do_install(struct request *r)
{
	char name[WL_NAME_MAX], text[256];
	struct bh_error err;
	struct workload *w;

	if (r->file_fd < 0) {
		reply(r->fd, false, "install: no bundle file was passed");
		return;
	}
	if (workload_install(r->file_fd, "bundle", name, &err) < 0) {
		reply(r->fd, false, err.msg);
		return;
	}
	w = workload_find(name);
	if (w && workload_start(w, r->epfd, &err) < 0)
		bhd_log("bhd: %s: %s", name, err.msg);
	snprintf(text, sizeof(text), "installed %s; %s", name,
		 w && w->state == WS_RUNNING ? "started" : "not started");
	reply(r->fd, true, text);
}

static void do_start(struct request *r)
{
	struct bh_error err;

	workload_set_enabled(r->w->m.name, true);
	r->w->restarts = 0;
	if (r->w->state == WS_RUNNING)
		reply(r->fd, true, "already running");
	else if (workload_start(r->w, r->epfd, &err) < 0)
		reply(r->fd, false, err.msg);
	else
		reply(r->fd, true, "started");
}

static void do_stop(struct request *r)
{
	workload_stop(r->w, true);
	reply(r->fd, true, "stopped");
}

static void do_remove(struct request *r)
{
	char name[WL_NAME_MAX];
	struct bh_error err;

	snprintf(name, sizeof(name), "%s", r->w->m.name);
	if (workload_remove(name, &err) < 0)
		reply(r->fd, false, err.msg);
	else
		reply(r->fd, true, "removed (its volumes under " VOLUMES_DIR " are kept)");
}

static void do_logs(struct request *r)
{
	struct bh_error err;
	char *text;

	if (workload_log_read(r->w->m.name, &text, &err) < 0) {
		reply(r->fd, false, err.msg);
		return;
	}
	reply(r->fd, true, text);
	free(text);
}

static void do_sbom(struct request *r)
{
	char path[256], *text;
	struct bh_error err;

	snprintf(path, sizeof(path), SBOM_STORE "/%s.spdx.json", r->w->m.name);
	text = bh_read_file(path, BUNDLE_SBOM_MAX, NULL, &err);
	if (text)
		reply(r->fd, true, text);
	else
		reply(r->fd, false, "cannot read the workload's SBOM");
	free(text);
}

/* update FILE (the file passed as a descriptor), --allow-downgrade, --status. */
static void do_update(struct request *r)
{
	static char text[4096];
	struct bh_error err;
	int rc;

	if (yyjson_get_bool(yyjson_obj_get(r->root, CONTROL_STATUS)))
		rc = update_status(text, sizeof(text), &err);
	else if (r->file_fd < 0)
		rc = bh_error(&err, 0, "update: no update file was passed");
	else
		rc = update_apply(r->file_fd,
				  yyjson_get_bool(yyjson_obj_get(r->root, CONTROL_ALLOW_DOWNGRADE)),
				  text, sizeof(text), &err);
	reply(r->fd, rc == 0, rc == 0 ? text : err.msg);
}

static void do_sync(struct request *r)
{
	if (!fleet.provisioned) {
		reply(r->fd, false, "sync: this gateway is not provisioned (no registry, repository "
				    "or group; see bhpack provision)");
		return;
	}
	sync_now();
	reply(r->fd, true, "polling now (bhctl fleet shows the outcome)");
}

static void do_fleet(struct request *r)
{
	static char text[4096];

	sync_status(text, sizeof(text));
	report_status_text(text + strlen(text), sizeof(text) - strlen(text));
	reply(r->fd, true, text);
}

/* Every verb of control_verbs, and what bhd does for it. */
static const struct {
	const char *verb;
	void (*handle)(struct request *r);
} handlers[] = {
	{"install", do_install}, {"list", do_list},     {"status", do_status},
	{"start", do_start},     {"stop", do_stop},     {"remove", do_remove},
	{"logs", do_logs},       {"sbom", do_sbom},     {"update", do_update},
	{"sync", do_sync},       {"fleet", do_fleet},
};

static void handle(int fd, int epfd)
{
	char buf[CONTROL_REQUEST_MAX];
	struct request r = {.fd = fd, .epfd = epfd};
	const struct control_verb *verb;
	const char *cmd, *wname;
	yyjson_doc *req;
	size_t i;

	if (control_receive(fd, buf, sizeof(buf), &r.file_fd) < 0)
		return;
	req = yyjson_read(buf, strlen(buf), 0);
	r.root = yyjson_doc_get_root(req);
	cmd = yyjson_get_str(yyjson_obj_get(r.root, CONTROL_CMD));
	wname = yyjson_get_str(yyjson_obj_get(r.root, CONTROL_NAME));
	verb = cmd ? control_verb(cmd) : NULL;
	for (i = 0; verb && i < sizeof(handlers) / sizeof(handlers[0]); i++)
		if (!strcmp(handlers[i].verb, verb->name))
			break;
	if (!cmd) {
		reply(fd, false, "request: not {\"cmd\": ...}");
	} else if (!verb || i == sizeof(handlers) / sizeof(handlers[0])) {
		snprintf(buf, sizeof(buf), "unknown command '%s'", cmd);
		reply(fd, false, buf);
	} else if (verb->arg == CONTROL_ARG_WORKLOAD && !wname) {
		reply(fd, false, "request: this command needs a workload name");
	} else if (verb->arg == CONTROL_ARG_WORKLOAD && !(r.w = workload_find(wname))) {
		snprintf(buf, sizeof(buf), "no workload named '%s' is installed", wname);
		reply(fd, false, buf);
	} else {
		handlers[i].handle(&r);
	}
	yyjson_doc_free(req);
	if (r.file_fd >= 0)
		close(r.file_fd);
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
