/* bhd's control protocol (include/bulkhead/control.h): the verbs, and a
 * request with its descriptor on the wire. */
#include <bulkhead/control.h>

#include <string.h>
#include <sys/socket.h>

const struct control_verb control_verbs[] = {
	{"install", CONTROL_ARG_FILE, "BUNDLE", "check a signed bundle and install its workload"},
	{"list", CONTROL_ARG_NONE, "", "installed workloads and their state"},
	{"status", CONTROL_ARG_WORKLOAD, "NAME", "one workload in detail"},
	{"start", CONTROL_ARG_WORKLOAD, "NAME", "start a workload (and start it at boot)"},
	{"stop", CONTROL_ARG_WORKLOAD, "NAME", "stop a workload (and not at boot)"},
	{"remove", CONTROL_ARG_WORKLOAD, "NAME", "stop and remove a workload (its volumes stay)"},
	{"logs", CONTROL_ARG_WORKLOAD, "NAME", "a workload's recent output"},
	{"sbom", CONTROL_ARG_WORKLOAD, "NAME", "a workload's SBOM (SPDX 2.3 JSON)"},
	{"update", CONTROL_ARG_FILE, "FILE",
	 "check a signed firmware update and write it to the other slot\n"
	 "                   (--allow-downgrade FILE: also an older version;\n"
	 "                   --status: both slots, versions, tries)"},
	{"sync", CONTROL_ARG_NONE, "", "poll the fleet's registry now (docs/fleet.md)"},
	{"fleet", CONTROL_ARG_NONE, "", "the fleet sync: registry, last poll, applied serial,\n"
					"                   what is in progress, the last error"},
	{NULL, CONTROL_ARG_NONE, NULL, NULL},
};

const struct control_verb *control_verb(const char *name)
{
	for (const struct control_verb *v = control_verbs; v->name; v++)
		if (!strcmp(v->name, name))
			return v;
	return NULL;
}

int control_send(int sock, const char *json, int fd)
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

int control_receive(int sock, char *buf, size_t size, int *fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = {.iov_base = buf, .iov_len = size - 1};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = cbuf,
			     .msg_controllen = sizeof(cbuf)};
	struct cmsghdr *c;
	ssize_t n = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);

	*fd = -1;
	if (n <= 0)
		return -1;
	buf[n] = 0;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS &&
		    c->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(fd, CMSG_DATA(c), sizeof(int));
	return 0;
}
