/* bhctl: talks to bhd over its control socket (include/bulkhead/control.h,
 * root only). A bundle or update to install is opened here and passed to
 * bhd as a file descriptor. */
#include <bulkhead/control.h>
#include <bulkhead/error.h>

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

static int usage(void)
{
	fprintf(stderr, "usage: bhctl COMMAND [ARGS]\n\n");
	for (const struct control_verb *v = control_verbs; v->name; v++)
		fprintf(stderr, "  %-8s %-7s %s\n", v->name, v->usage, v->help);
	return 2;
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
	const struct control_verb *verb;
	int sock, fd = -1, ok;
	bool status_only = false, downgrade = false;
	ssize_t n;

	if (argc < 2 || !(verb = control_verb(argv[1])))
		return usage();
	if (!strcmp(verb->name, "update")) {
		if (argc == 3 && !strcmp(argv[2], "--status"))
			status_only = true;
		else if (argc == 4 && !strcmp(argv[2], "--allow-downgrade"))
			downgrade = true;
		else if (argc != 3 || argv[2][0] == '-')
			return usage();
	} else if (argc != (verb->arg == CONTROL_ARG_NONE ? 2 : 3)) {
		return usage();
	}
	req = yyjson_mut_doc_new(NULL);
	root = yyjson_mut_obj(req);
	yyjson_mut_doc_set_root(req, root);
	yyjson_mut_obj_add_str(req, root, CONTROL_CMD, verb->name);
	if (status_only) {
		yyjson_mut_obj_add_bool(req, root, CONTROL_STATUS, true);
	} else if (verb->arg == CONTROL_ARG_FILE) {
		fd = open(argv[argc - 1], O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "bhctl: open %s: %s\n", argv[argc - 1], bh_strerror(errno));
			return 1;
		}
		if (downgrade)
			yyjson_mut_obj_add_bool(req, root, CONTROL_ALLOW_DOWNGRADE, true);
	} else if (verb->arg == CONTROL_ARG_WORKLOAD) {
		yyjson_mut_obj_add_str(req, root, CONTROL_NAME, argv[2]);
	}
	json = yyjson_mut_write(req, 0, NULL);
	yyjson_mut_doc_free(req);
	sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	strcpy(sa.sun_path, BHD_SOCKET);
	if (sock < 0 || connect(sock, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		fprintf(stderr, "bhctl: connect %s: %s (is bhd running? are you root?)\n", BHD_SOCKET,
			bh_strerror(errno));
		return 1;
	}
	if (control_send(sock, json, fd) < 0) {
		fprintf(stderr, "bhctl: send: %s\n", bh_strerror(errno));
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
	ok = yyjson_get_bool(yyjson_obj_get(yyjson_doc_get_root(doc), CONTROL_OK));
	text = yyjson_get_str(
		yyjson_obj_get(yyjson_doc_get_root(doc), ok ? CONTROL_OUTPUT : CONTROL_ERROR));
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
