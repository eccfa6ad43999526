/* A helper (not a test) that tests/bench/bench_bhv.py runs inside the
 * booted image. It runs a command with its
 * output through a pipe, passes the output on, and timestamps it against
 * the moment the command was started (CLOCK_MONOTONIC):
 *
 *   stamp MARKER COMMAND [ARG]...
 *   -> STAMP-MARKER <ms>        when a line containing MARKER appears
 *   -> STAMP-EXIT <ms> <status> when the command exits
 */
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

int main(int argc, char **argv)
{
	char line[4096];
	double start;
	int p[2], st, seen = 0;
	FILE *in;
	pid_t pid;

	if (argc < 3 || pipe(p) < 0) {
		fprintf(stderr, "usage: stamp MARKER COMMAND [ARG]...\n");
		return 2;
	}
	start = now_ms();
	pid = fork();
	if (pid == 0) {
		dup2(p[1], 1);
		close(p[0]);
		close(p[1]);
		execv(argv[2], argv + 2);
		perror("stamp: exec");
		_exit(127);
	}
	close(p[1]);
	in = fdopen(p[0], "r");
	while (in && fgets(line, sizeof(line), in)) {
		if (!seen && strstr(line, argv[1])) {
			printf("STAMP-MARKER %.1f\n", now_ms() - start);
			seen = 1;
		}
		fputs(line, stdout);
		fflush(stdout);
	}
	waitpid(pid, &st, 0);
	printf("STAMP-EXIT %.1f %d\n", now_ms() - start,
	       WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st));
	return 0;
}
