/* acme-hello FILE [PORT]: says the greeting in FILE's first line on stdout
 * (init copies a service's output to the console), then, with a PORT,
 * answers every TCP connection to it with the greeting; without one it
 * waits for SIGTERM, so that init sees a service that stays up. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "greeting.h"

static int serve(const char *greeting, int port, struct bh_error *err)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	if (fd < 0)
		return bh_error(err, errno, "socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0) {
		int e = errno;

		close(fd);
		return bh_error(err, e, "listen on port %d", port);
	}
	printf("acme-hello: serving on port %d\n", port);
	for (;;) {
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0) {
			if (errno == EINTR)
				continue;
			int e = errno;

			close(fd);
			return bh_error(err, e, "accept on port %d", port);
		}
		/* A client that left early is not our failure. */
		if (dprintf(c, "%s\n", greeting) < 0)
			perror("acme-hello: write");
		close(c);
	}
}

int main(int argc, char **argv)
{
	struct bh_error err = {0};
	char greeting[256];
	int port = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	if (argc < 2 || argc > 3 || (argc == 3 && ((port = atoi(argv[2])) <= 0 || port > 65535))) {
		fprintf(stderr, "usage: acme-hello FILE [PORT]\n");
		return 2;
	}
	if (acme_read_greeting(argv[1], greeting, sizeof(greeting), &err) < 0) {
		bh_error_print(&err, "acme-hello");
		return 1;
	}
	printf("acme-hello: %s\n", greeting);
	if (port && serve(greeting, port, &err) < 0) {
		bh_error_print(&err, "acme-hello");
		return 1;
	}
	for (;;)
		pause();
}
