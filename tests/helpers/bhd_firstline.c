/* A helper (not a test) that tests/bench/bench_bhd.py runs inside the
 * booted image. It times a command and the
 * first output line of the workload the command starts, against the
 * moment the command was started (CLOCK_MONOTONIC):
 *
 *   firstline MARKER TIMEOUT_S LOGFILE COMMAND [ARG]...
 *       runs COMMAND (e.g. bhctl start NAME), waits for it, then looks
 *       at LOGFILE every millisecond (the image's kernel has no inotify)
 *       until it holds a whole line, and one containing MARKER;
 *   firstline MARKER TIMEOUT_S - COMMAND [ARG]...
 *       runs COMMAND (e.g. bhc run ...) with its output through a pipe,
 *       passed on; at the first line containing MARKER it sends COMMAND
 *       SIGTERM and waits for it to exit;
 *   firstline - 0 none COMMAND [ARG]...   only times COMMAND.
 *
 *   -> FL-CMD <ms> <status>   COMMAND exited
 *   -> FL-FIRST <ms>          the first whole output line
 *   -> FL-MARK <ms>           the first line containing MARKER
 *   -> FL-TIMEOUT             nothing within TIMEOUT_S seconds
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double start;
static pid_t child;

static double now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static void on_alarm(int sig)
{
	(void)sig;
	if (child > 0)
		kill(child, SIGKILL);
}

static pid_t spawn(char **argv, int out)
{
	pid_t pid = fork();

	if (pid == 0) {
		if (out >= 0) {
			dup2(out, 1);
			close(out);
		}
		execv(argv[0], argv);
		perror("firstline: exec");
		_exit(127);
	}
	return pid;
}

static int status_of(int st)
{
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Looks at the log: 1 = first line seen, 2 = marker seen too. */
static int scan(const char *path, const char *marker, double *first, double *mark)
{
	char buf[65536];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	if (*first < 0 && memchr(buf, '\n', (size_t)n))
		*first = now_ms() - start;
	if (*mark < 0) {
		char *m = strstr(buf, marker);

		if (m && strchr(m, '\n'))
			*mark = now_ms() - start;
	}
	return *mark >= 0;
}

/* The image's kernel has no inotify: the log is looked at every 1 ms. */
static int from_log(const char *marker, int timeout, const char *log, char **argv)
{
	struct timespec tick = {0, 1000000};
	double first = -1, mark = -1, deadline;
	int st;

	start = now_ms();
	child = spawn(argv, -1);
	waitpid(child, &st, 0);
	printf("FL-CMD %.1f %d\n", now_ms() - start, status_of(st));
	fflush(stdout);
	deadline = start + timeout * 1e3;
	while (!scan(log, marker, &first, &mark)) {
		if (now_ms() > deadline) {
			puts("FL-TIMEOUT");
			break;
		}
		nanosleep(&tick, NULL);
	}
	if (first >= 0)
		printf("FL-FIRST %.1f\n", first);
	if (mark >= 0)
		printf("FL-MARK %.1f\n", mark);
	return 0;
}

static int from_pipe(const char *marker, int timeout, char **argv)
{
	char line[4096];
	int p[2], st, first = 1, marked = 0;
	FILE *f;

	if (pipe(p) < 0)
		return 2;
	signal(SIGALRM, on_alarm);
	alarm((unsigned)timeout);
	start = now_ms();
	child = spawn(argv, p[1]);
	close(p[1]);
	f = fdopen(p[0], "r");
	while (f && fgets(line, sizeof(line), f)) {
		double t = now_ms() - start;

		if (first)
			printf("FL-FIRST %.1f\n", t);
		first = 0;
		if (!marked && strstr(line, marker)) {
			printf("FL-MARK %.1f\n", t);
			marked = 1;
			kill(child, SIGTERM);
		}
		fputs(line, stdout);
		fflush(stdout);
	}
	waitpid(child, &st, 0);
	alarm(0);
	if (!marked)
		puts("FL-TIMEOUT");
	printf("FL-CMD %.1f %d\n", now_ms() - start, status_of(st));
	return 0;
}

int main(int argc, char **argv)
{
	int st;

	if (argc < 5) {
		fprintf(stderr,
		        "usage: firstline MARKER TIMEOUT_S LOGFILE|-|none COMMAND [ARG]...\n");
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!strcmp(argv[3], "-"))
		return from_pipe(argv[1], atoi(argv[2]), argv + 4);
	if (strcmp(argv[3], "none"))
		return from_log(argv[1], atoi(argv[2]), argv[3], argv + 4);
	start = now_ms();
	child = spawn(argv + 4, -1);
	waitpid(child, &st, 0);
	printf("FL-CMD %.1f %d\n", now_ms() - start, status_of(st));
	return 0;
}
