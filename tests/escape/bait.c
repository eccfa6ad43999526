/* Bait for the escape probes in the booted image (tests/e2e/test_container.py):
 * a host process whose pid the probes look for, listening on the abstract
 * unix socket argv[1] that a container must not reach. It prints its pid
 * and waits until it is killed. Built static with the target's compiler. */
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t n = argc > 1 ? strlen(argv[1]) : 0;

	if (n == 0 || n >= sizeof(sa.sun_path) - 1) {
		fprintf(stderr, "usage: bhc-bait ABSTRACT-SOCKET-NAME\n");
		return 2;
	}
	memcpy(sa.sun_path + 1, argv[1], n);
	if (s < 0 ||
	    bind(s, (struct sockaddr *)&sa, (socklen_t)(sizeof(sa.sun_family) + 1 + n)) < 0 ||
	    listen(s, 64) < 0) {
		perror("bhc-bait: abstract socket");
		return 1;
	}
	printf("bhc-bait: pid %d listening on @%s\n", (int)getpid(), argv[1]);
	fflush(stdout);
	for (;;)
		pause();
}
