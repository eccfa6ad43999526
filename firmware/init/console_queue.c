/* init's writes to the console, which never wait on it.
 *
 * The console may be a 115200-baud serial line: about 11 KiB a second, so
 * the 16 KiB init copies of a chatty service in one wakeup take it 1.4 s.
 * A PID 1 blocked in write() reaps nothing, pets no watchdog and reads no
 * service's pipe; a service then blocks on its full pipe, and when that
 * service is bhd, nothing answers bhctl and no trial boot is confirmed.
 *
 * So the console is written non-blocking. What it cannot take at once waits
 * in a bounded queue, written out when epoll reports the console writable.
 * A service's line that would fill the queue past SERVICE_SHARE is dropped
 * and counted (its file under /run/log keeps it); init's own lines may use
 * the whole queue, so they still come through a flood. The count is printed
 * ahead of the next line that fits. Shutdown drains the queue, waiting at
 * most CONSOLE_DRAIN_MS for a console that takes nothing. */
#include "init.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#define CONSOLE_QUEUE    (64 * 1024)
#define SERVICE_SHARE    (CONSOLE_QUEUE / 2)
#define CONSOLE_DRAIN_MS 3000

static char queue[CONSOLE_QUEUE];
static size_t q_head, q_len;
static unsigned long long dropped, dropped_total;
static int watch_epfd = -1;
static bool watched;

void console_nonblocking(void)
{
	int fl = fcntl(STDOUT_FILENO, F_GETFL);

	if (fl >= 0)
		fcntl(STDOUT_FILENO, F_SETFL, fl | O_NONBLOCK);
}

static void queue_put(const char *s, size_t n)
{
	while (n) {
		size_t tail = (q_head + q_len) % CONSOLE_QUEUE;
		size_t room = CONSOLE_QUEUE - tail < n ? CONSOLE_QUEUE - tail : n;

		memcpy(queue + tail, s, room);
		q_len += room;
		s += room;
		n -= room;
	}
}

/* Asks epoll for the console's writability only while something waits. */
static void watch_update(void)
{
	struct epoll_event ev = {.events = EPOLLOUT, .data.fd = STDOUT_FILENO};
	bool want = q_len > 0;

	if (watch_epfd < 0 || want == watched)
		return;
	if (epoll_ctl(watch_epfd, want ? EPOLL_CTL_ADD : EPOLL_CTL_DEL, STDOUT_FILENO, &ev) == 0)
		watched = want;
}

void console_flush(void)
{
	while (q_len) {
		size_t chunk = q_len < CONSOLE_QUEUE - q_head ? q_len : CONSOLE_QUEUE - q_head;
		ssize_t n = write(STDOUT_FILENO, queue + q_head, chunk);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			/* No console at all (EBADF, EIO on a hung-up line): nothing
			 * will ever take these bytes. */
			if (n == 0 || errno != EAGAIN)
				q_len = 0;
			break;
		}
		q_head = (q_head + (size_t)n) % CONSOLE_QUEUE;
		q_len -= (size_t)n;
	}
	if (q_len == 0)
		q_head = 0;
	watch_update();
}

void console_watch(int epfd)
{
	watch_epfd = epfd;
	watch_update();
}

unsigned long long console_dropped(void)
{
	return dropped_total;
}

void console_put(const char *line, size_t len, bool own)
{
	size_t limit = own ? CONSOLE_QUEUE : SERVICE_SHARE;

	if (q_len + len > limit) {
		dropped++;
		dropped_total++;
		return;
	}
	if (dropped) {
		char note[200];
		int n = snprintf(note, sizeof(note),
		                 "init: console: %llu lines dropped, the console being slower "
		                 "than the output (%llu in all; /run/log keeps them)\n",
		                 dropped, dropped_total);

		if (q_len + (size_t)n + len <= limit) {
			queue_put(note, (size_t)n);
			dropped = 0;
		}
	}
	queue_put(line, len);
	console_flush();
}

void console_drain(void)
{
	int64_t deadline = now_ms() + CONSOLE_DRAIN_MS;

	console_flush();
	while (q_len && now_ms() < deadline) {
		struct pollfd p = {.fd = STDOUT_FILENO, .events = POLLOUT};

		if (poll(&p, 1, (int)(deadline - now_ms())) < 0 && errno != EINTR)
			break;
		console_flush();
	}
}
