/* init's console never blocks it: with a console that takes nothing (a
 * pipe nobody reads), a service's flood is dropped and counted while init's
 * own lines are kept, everything comes out in order once the console takes
 * it again, and shutdown's drain gives up after a bounded wait. */
#include "tap.h"

#include "init.h"

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static char out[256 * 1024];
static size_t out_len;

/* Reads what the pipe holds, flushing the queue into it, until both are
 * empty. */
static void drain_pipe(int rd)
{
	for (int idle = 0; idle < 3;) {
		ssize_t n = read(rd, out + out_len, sizeof(out) - 1 - out_len);

		if (n > 0) {
			out_len += (size_t)n;
			idle = 0;
		} else {
			idle++;
		}
		console_flush();
	}
	out[out_len] = 0;
}

int main(void)
{
	char line[128];
	int pfd[2], epfd, own_kept = 1, in_order = 1;
	unsigned long long before;
	struct epoll_event ev;
	int64_t t0;

	/* A hung console would block a blocking write forever: fail instead. */
	alarm(20);
	/* The console is init's fd 1: TAP goes on through a copy of it. */
	fflush(stdout);
	stdout = fdopen(dup(STDOUT_FILENO), "w");
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!stdout || pipe2(pfd, O_CLOEXEC) < 0 || dup2(pfd[1], STDOUT_FILENO) < 0)
		return 1;
	fcntl(pfd[0], F_SETFL, O_NONBLOCK);
	fcntl(pfd[1], F_SETPIPE_SZ, 4096);
	console_nonblocking();
	epfd = epoll_create1(EPOLL_CLOEXEC);
	console_watch(epfd);

	for (int i = 0; i < 2000; i++) {
		snprintf(line, sizeof(line), "flood line %04d %s", i,
		         "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
		service_log_line("flood", line);
	}
	before = console_dropped();
	ok(before > 1000,
	   "a service flooding a console that takes nothing is dropped and counted "
	   "(%llu of 2000 lines), init did not block",
	   before);
	ok(epoll_wait(epfd, &ev, 1, 0) == 0, "a full console is not reported writable");

	for (int i = 0; i < 20; i++)
		init_log("own line %02d", i);
	ok(console_dropped() == before,
	   "init's own lines are queued past the services' share "
	   "(%llu dropped after them)",
	   console_dropped() - before);

	{
		char buf[4096];
		ssize_t n = read(pfd[0], buf, sizeof(buf));

		ok(n > 0 && epoll_wait(epfd, &ev, 1, 1000) == 1 && ev.data.fd == STDOUT_FILENO,
		   "the console is watched for EPOLLOUT while lines wait");
		if (n > 0) {
			memcpy(out, buf, (size_t)n);
			out_len = (size_t)n;
		}
	}
	drain_pipe(pfd[0]);
	service_log_line("flood", "after the flood");
	drain_pipe(pfd[0]);
	for (int i = 0; i < 20; i++) {
		snprintf(line, sizeof(line), "init: own line %02d\n", i);
		if (!strstr(out, line))
			own_kept = 0;
	}
	ok(own_kept, "all 20 of init's own lines reach the console");
	ok(strstr(out, "lines dropped, the console being slower than the output") != NULL &&
	       strstr(out, "lines dropped") < strstr(out, "flood: after the flood"),
	   "the drop count is printed ahead of the next line that fits");
	{
		const char *a = strstr(out, "flood: flood line 0000"),
		           *b = strstr(out, "init: own line 00"),
		           *c = strstr(out, "flood: after the flood");

		in_order = a && b && c && a < b && b < c;
	}
	ok(in_order, "lines come out in the order they were put");
	ok(epoll_wait(epfd, &ev, 1, 0) == 0, "an empty queue is no longer watched");

	/* Shutdown with a console that never takes anything again. */
	for (int i = 0; i < 100; i++)
		init_log("last words %03d ..............................................", i);
	t0 = now_ms();
	console_drain();
	ok(now_ms() - t0 >= 2500 && now_ms() - t0 < 6000,
	   "shutdown's drain waits a bounded time for a stuck console (%lld ms)",
	   (long long)(now_ms() - t0));
	return done();
}
