/* bhctl: talks to bhd over /run/bulkhead/bhd.sock (root only). A bundle to
 * install is opened here and passed to bhd as a file descriptor. */
#include <errno.h>
#include <stdbool.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <yyjson.h>

#define SOCKET_PATH "/run/bulkhead/bhd.sock"

static const struct {
	const char *name, *args, *help;
} commands[] = {
	{"install", "BUNDLE", "check a signed bundle and install its workload"},
	{"list", "", "installed workloads and their state"},
	{"status", "NAME", "one workload in detail"},
	{"start", "NAME", "start a workload (and start it at boot)"},
	{"stop", "NAME", "stop a workload (and not at boot)"},
	{"remove", "NAME", "stop and remove a workload (its volumes stay)"},
	{"logs", "NAME", "a workload's recent output"},
	{"sbom", "NAME", "a workload's SBOM (SPDX 2.3 JSON)"},
	{"update", "FILE", "check a signed firmware update and write it to the other slot\n"
			   "                   (--allow-downgrade FILE: also an older version;\n"
			   "                   --status: both slots, versions, tries)"},
};

static int usage(void)
{
	fprintf(stderr, "usage: bhctl COMMAND [ARGS]\n\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, "  %-8s %-7s %s\n", commands[i].name, commands[i].args, commands[i].help);
	return 2;
}

static int send_request(int sock, const char *json, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = (void *)json, .iov_len = strlen(json)};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};

	if (fd >= 0) {
		struct cmsghdr *c;

		memset(cbuf, 0, sizeof(cbuf));
		msg.msg_control = cbuf;
		msg.msg_controllen = sizeof(cbuf);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	return sendmsg(sock, &msg, 0) < 0 ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	yyjson_mut_doc *req;
	yyjson_mut_val *root;
	char *json, *reply = NULL;
	size_t len = 0, cap = 0;
	const char *text;
	yyjson_doc *doc;
	int sock, fd = -1, ok;
	bool status_only = false, downgrade = false;
	ssize_t n;
	size_t i;

	if (argc < 2)
		return usage();
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			break;
	if (i == sizeof(commands) / sizeof(commands[0]))
		return usage();
	if (!strcmp(argv[1], "update")) {
		if (argc == 3 && !strcmp(argv[2], "--status"))
			status_only = true;
		else if (argc == 4 && !strcmp(argv[2], "--allow-downgrade"))
			downgrade = true;
		else if (argc != 3 || argv[2][0] == '-')
			return usage();
	} else if (argc != (commands[i].args[0] ? 3 : 2)) {
		return usage();
	}
	req = yyjson_mut_doc_new(NULL);
	root = yyjson_mut_obj(req);
	yyjson_mut_doc_set_root(req, root);
	yyjson_mut_obj_add_str(req, root, "cmd", argv[1]);
	if (!strcmp(argv[1], "update") && status_only) {
		yyjson_mut_obj_add_bool(req, root, "status", true);
	} else if (!strcmp(argv[1], "install") || !strcmp(argv[1], "update")) {
		fd = open(argv[argc - 1], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "bhctl: open %s: %s\n", argv[argc - 1], strerror(errno));
			return 1;
		}
		if (downgrade)
			yyjson_mut_obj_add_bool(req, root, "allow_downgrade", true);
	} else if (argc == 3) {
		yyjson_mut_obj_add_str(req, root, "name", argv[2]);
	}
	json = yyjson_mut_write(req, 0, NULL);
	yyjson_mut_doc_free(req);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	strcpy(sa.sun_path, SOCKET_PATH);
	if (sock < 0 || connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "bhctl: connect %s: %s (is bhd running? are you root?)\n", SOCKET_PATH,
			strerror(errno));
		return 1;
	}
	if (send_request(sock, json, fd) < 0) {
		fprintf(stderr, "bhctl: send: %s\n", strerror(errno));
		return 1;
	}
	free(json);
	shutdown(sock, SHUT_WR);
	for (;;) {
		if (len + 65536 > cap) {
			cap = cap ? cap * 2 : 131072;
			reply = realloc(reply, cap);
		}
		n = read(sock, reply + len, cap - len - 1);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	close(sock);
	doc = reply ? yyjson_read(reply, len, 0) : NULL;
	if (!doc) {
		fprintf(stderr, "bhctl: no reply from bhd\n");
		return 1;
	}
	ok = yyjson_get_bool(yyjson_obj_get(yyjson_doc_get_root(doc), "ok"));
	text = yyjson_get_str(yyjson_obj_get(yyjson_doc_get_root(doc), ok ? "output" : "error"));
	if (ok)
		fputs(text ? text : "", stdout);
	else
		fprintf(stderr, "bhctl %s: %s\n", argv[1], text ? text : "failed");
	if (ok && text && *text && text[strlen(text) - 1] != '\n')
		putchar('\n');
	yyjson_doc_free(doc);
	free(reply);
	return ok ? 0 : 1;
}
