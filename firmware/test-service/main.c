/* A service that misbehaves on purpose, for init's end-to-end tests:
 *   test-service orphans N   leave N orphaned children behind, then idle
 *   test-service crash CODE  print a line and exit with CODE
 *   test-service run         print a line and idle
 *   test-service stubborn    ignore SIGTERM and idle
 *   test-service caps        print this process's capability sets and ids
 *   test-service strerror N  print libbulkhead's text of errno N (and more Ns)
 *                            as the image's C library gives it, then exit */
#include <bulkhead/error.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void idle(void)
{
	for (;;)
		pause();
}

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "run";

	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(mode, "orphans")) {
		int n = argc > 2 ? atoi(argv[2]) : 3;

		for (int i = 0; i < n; i++) {
			pid_t child = fork();

			if (child == 0) {
				/* The grandchild outlives its parent: init inherits it
				 * and must reap it when it exits a second later. */
				if (fork() == 0) {
					sleep(1);
					_exit(0);
				}
				_exit(0);
			}
			/* Reap the child itself, so that only the grandchild is left
			 * for init. */
			waitpid(child, NULL, 0);
		}
		printf("left %d orphans\n", n);
		idle();
	}
	if (!strcmp(mode, "crash")) {
		printf("crashing with status %s\n", argc > 2 ? argv[2] : "3");
		return argc > 2 ? atoi(argv[2]) : 3;
	}
	if (!strcmp(mode, "stubborn")) {
		signal(SIGTERM, SIG_IGN);
		printf("ignoring SIGTERM\n");
		idle();
	}
	if (!strcmp(mode, "caps")) {
		char line[256];
		FILE *f = fopen("/proc/self/status", "r");

		while (f && fgets(line, sizeof(line), f))
			if (!strncmp(line, "Cap", 3) || !strncmp(line, "Uid", 3) ||
			    !strncmp(line, "Gid", 3) || !strncmp(line, "NoNewPrivs", 10))
				fputs(line, stdout);
		idle();
	}
	if (!strcmp(mode, "strerror")) {
		for (int i = 2; i < argc; i++)
			printf("errno %s: %s\n", argv[i], bh_strerror(atoi(argv[i])));
		return 0;
	}
	printf("running\n");
	idle();
}
