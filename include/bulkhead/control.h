/* The control protocol of bhd, the workload agent, shared with bhctl
 * (firmware/lib/control.c). One request per connection on BHD_SOCKET, a
 * Unix stream socket that only root reaches, and one reply:
 *
 *   request  {"cmd": "<verb>", "name": "<workload>"}       at most 4 KiB
 *            install and update pass their file as an open descriptor
 *            (SCM_RIGHTS), never as a path; update takes
 *            "status": true or "allow_downgrade": true
 *   reply    {"ok": true, "output": "<text>"}
 *            {"ok": false, "error": "<text>"}
 *
 * The client shuts down its side after the request and reads the reply to
 * the end of the stream. */
#ifndef BULKHEAD_CONTROL_H
#define BULKHEAD_CONTROL_H

#include <stddef.h>

#define BHD_SOCKET          "/run/bulkhead/bhd.sock"
#define CONTROL_REQUEST_MAX 4096

/* The keys of requests and replies. */
#define CONTROL_CMD             "cmd"
#define CONTROL_NAME            "name"
#define CONTROL_STATUS          "status"
#define CONTROL_ALLOW_DOWNGRADE "allow_downgrade"
#define CONTROL_OK              "ok"
#define CONTROL_OUTPUT          "output"
#define CONTROL_ERROR           "error"

/* What a verb's request carries besides its name. */
enum control_arg {
	CONTROL_ARG_NONE,     /* list */
	CONTROL_ARG_WORKLOAD, /* "name": an installed workload */
	CONTROL_ARG_FILE,     /* a descriptor: a bundle, an update file */
};

struct control_verb {
	const char *name;
	enum control_arg arg;
	const char *usage; /* its argument on bhctl's command line */
	const char *help;
};

/* Every verb bhd answers, in bhctl's usage order, ending with a NULL name. */
extern const struct control_verb control_verbs[];
/* The verb named name, or NULL. */
const struct control_verb *control_verb(const char *name);

/* Sends a request, with fd attached when it is not -1. */
int control_send(int sock, const char *json, int fd);
/* Receives a request into buf (NUL-terminated, size - 1 bytes at most) and
 * the descriptor it carries, or -1 in *fd; -1 when nothing came. */
int control_receive(int sock, char *buf, size_t size, int *fd);

#endif
