/* Payload for the cgroup v2 test: forks children that sleep until fork
 * fails or argv[1] children exist, then reports how many it made and why
 * it stopped. Inside a container with pids.max the count
 * stops below the limit with EAGAIN. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	long max = argc > 1 ? atol(argv[1]) : 10000, n = 0;
	int err = 0;

	for (; n < max; n++) {
		pid_t pid = fork();

		if (pid == 0) {
			pause();
			_exit(0);
		}
		if (pid < 0) {
			err = errno;
			break;
		}
	}
	printf("forkbomb: %ld children, stopped by %s\n", n, err ? strerror(err) : "its own limit");
	fflush(stdout);
	return 0;
}
