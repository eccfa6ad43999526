/* Runs e2fsprogs' programs for /data (mke2fs, e2fsck, tune2fs, resize2fs)
 * and puts what they print on the console as init's own lines, so that a
 * repair is read in order with the rest of the boot. */
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

int data_run(char *const argv[])
{
	static char *const envp[] = {"PATH=/sbin:/usr/sbin:/bin:/usr/bin", NULL};
	const char *slash = strrchr(argv[0], '/'), *name = slash ? slash + 1 : argv[0];
	char buf[512];
	size_t used = 0;
	int pfd[2], status;
	ssize_t n;
	pid_t pid;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		init_log("data: %s: pipe: %s", name, bh_strerror(errno));
		return -1;
	}
	pid = fork();
	if (pid == 0) {
		sigset_t none;
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);

		/* init blocks every signal for its signalfd; e2fsck must be
		 * interruptible like any program. */
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		if (null < 0 || dup2(null, 0) < 0 || dup2(pfd[1], 1) < 0 || dup2(pfd[1], 2) < 0)
			_exit(127);
		execve(argv[0], argv, envp);
		dprintf(2, "exec %s: %s\n", argv[0], bh_strerror(errno));
		_exit(127);
	}
	close(pfd[1]);
	if (pid < 0) {
		init_log("data: %s: fork: %s", name, bh_strerror(errno));
		close(pfd[0]);
		return -1;
	}
	/* One console line per output line; a line longer than the buffer
	 * is cut in pieces rather than lost. */
	while ((n = read(pfd[0], buf + used, sizeof(buf) - 1 - used)) > 0 ||
	       (n < 0 && errno == EINTR)) {
		char *line = buf, *nl;

		if (n < 0)
			continue;
		used += (size_t)n;
		buf[used] = 0;
		while ((nl = memchr(line, '\n', used - (size_t)(line - buf)))) {
			*nl = 0;
			if (*line)
				init_log("data: %s: %s", name, line);
			line = nl + 1;
		}
		used -= (size_t)(line - buf);
		memmove(buf, line, used);
		if (used == sizeof(buf) - 1) {
			buf[used] = 0;
			init_log("data: %s: %s", name, buf);
			used = 0;
		}
	}
	if (used) {
		buf[used] = 0;
		init_log("data: %s: %s", name, buf);
	}
	close(pfd[0]);
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}
