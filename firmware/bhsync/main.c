/* bhsync: fetches what a gateway's desired state needs from an OCI
 * registry, for bhd (include/bulkhead/sync.h, docs/fleet.md). bhd starts it
 * for each poll as an unprivileged user, writes the request on its stdin
 * and reads the result from its stdout; messages for the log go to stderr.
 *
 *   bhsync poll       one poll: request on stdin, result on stdout
 *   bhsync agent ...  many polls in a loop, applying nothing: the fleet
 *                     simulation runs one per simulated gateway (agent.c) */
#include "bhsync.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int read_all(int fd, char *buf, size_t max, size_t *len)
{
	*len = 0;
	for (;;) {
		ssize_t n = read(fd, buf + *len, max - *len);

		if (n == 0)
			return 0;
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		*len += (size_t)n;
		if (*len == max)
			return -1;
	}
}

static int poll_main(void)
{
	static char in[SYNC_MESSAGE_MAX + 1];
	static struct sync_request q;
	static struct sync_result res;
	struct bh_error err;
	size_t len, outlen;
	char *out;

	if (read_all(0, in, sizeof(in), &len) < 0) {
		fprintf(stderr, "bhsync: the request on stdin is unreadable or over %d bytes\n",
		        SYNC_MESSAGE_MAX);
		return 2;
	}
	if (sync_request_read(in, len, &q, &err) < 0) {
		bh_error_print(&err, "bhsync");
		return 2;
	}
	if (sync_poll(&q, &res) < 0)
		fprintf(stderr, "bhsync: %s\n", res.error);
	if (sync_result_write(&res, &out, &outlen, &err) < 0) {
		bh_error_print(&err, "bhsync");
		return 1;
	}
	if (fwrite(out, 1, outlen, stdout) != outlen || fflush(stdout) != 0) {
		fprintf(stderr, "bhsync: write the result: %s\n", bh_strerror(errno));
		free(out);
		return 1;
	}
	free(out);
	return 0;
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "poll"))
		return poll_main();
	if (argc >= 2 && !strcmp(argv[1], "agent"))
		return agent_main(argc - 1, argv + 1);
	fprintf(stderr, "usage: bhsync poll < request.json > result.json\n"
	                "       bhsync agent --dir DIR --config FILE [--seconds N]\n");
	return 2;
}
