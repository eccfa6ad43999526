/* bhc-withpty COMMAND [ARG...]: runs COMMAND in a session of its own whose
 * controlling terminal is a fresh pty, given to it as stdin, as a person
 * starting a container from a terminal would. The escape probe "tiocsti"
 * (tests/escape/probes.c) pushes input into that terminal; no shell reads
 * it, so nothing it pushes is ever run. stdout and stderr stay as they are;
 * what the pty echoes is read and dropped, so that it never fills up.
 * Exits with COMMAND's status (128 + the signal that killed it). Built
 * static with the target's compiler, for the build host and the image.
 * It returns once COMMAND has exited and nothing holds the pty open. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	int master, st;
	pid_t pid;
	const char *slave;

	if (argc < 2) {
		fprintf(stderr, "usage: bhc-withpty COMMAND [ARG...]\n");
		return 2;
	}
	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) < 0 || unlockpt(master) < 0 ||
	    !(slave = ptsname(master))) {
		fprintf(stderr, "bhc-withpty: open a pty: %s\n", strerror(errno));
		return 2;
	}
	pid = fork();
	if (pid < 0) {
		fprintf(stderr, "bhc-withpty: fork: %s\n", strerror(errno));
		return 2;
	}
	if (pid == 0) {
		int fd;

		/* A session leader's first tty opened becomes its terminal. */
		if (setsid() < 0 || (fd = open(slave, O_RDWR)) < 0 || ioctl(fd, TIOCSCTTY, 0) < 0 ||
		    dup2(fd, 0) < 0) {
			fprintf(stderr, "bhc-withpty: make %s the terminal: %s\n", slave,
			        strerror(errno));
			_exit(2);
		}
		if (fd != 0)
			close(fd);
		execvp(argv[1], argv + 1);
		fprintf(stderr, "bhc-withpty: run %s: %s\n", argv[1], strerror(errno));
		_exit(127);
	}
	/* Until COMMAND has exited and no one holds the pty any more (a
	 * detached container may hold it longer): reading the master fails
	 * with EIO then. */
	for (int done = 0;;) {
		struct pollfd p = {.fd = master, .events = POLLIN};
		char buf[256];
		ssize_t n;

		if (!done) {
			pid_t w = waitpid(pid, &st, WNOHANG);

			if (w < 0 && errno != EINTR) {
				fprintf(stderr, "bhc-withpty: wait: %s\n", strerror(errno));
				return 2;
			}
			done = w == pid;
		}
		if (poll(&p, 1, 100) <= 0)
			continue;
		n = read(master, buf, sizeof(buf));
		if (n < 0 && errno == EIO && done)
			break;
		if (n < 0 && errno == EIO)
			usleep(100000);
	}
	close(master);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}
