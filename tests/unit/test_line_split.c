/* The line splitter of firmware/lib/line_split.c, over a real non-blocking
 * pipe: a line split across reads is handed on whole, an over-long one in
 * parts of its max, '\r' ends a line only when asked, the budget stops a
 * read with the rest left in the pipe, and at end of file the line without
 * an end is kept for line_split_finish. */
#include "tap.h"

#include <bulkhead/line_split.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* What the callback got: the lines joined by '|'. */
static char got[4096];
static int calls;

static void collect(void *ctx, const char *line, size_t len)
{
	size_t used = strlen(got);

	(void)ctx;
	calls++;
	if (strlen(line) != len)
		snprintf(got + used, sizeof(got) - used, "[len %zu != %zu]", len, strlen(line));
	else
		snprintf(got + used, sizeof(got) - used, "%s%s", used ? "|" : "", line);
}

static void reset(void)
{
	got[0] = 0;
	calls = 0;
}

static int pipe_nb(int fds[2])
{
	if (pipe2(fds, O_CLOEXEC) < 0)
		return -1;
	return fcntl(fds[0], F_SETFL, O_NONBLOCK);
}

static void put(int fd, const char *text)
{
	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		perror("write");
}

int main(void)
{
	struct line_split ls;
	struct bh_error err;
	char line[600], rest[64];
	int fds[2], r;

	if (pipe_nb(fds) < 0)
		return 1;

	line_split_init(&ls, 16, false);
	put(fds[1], "first line\nsecond ");
	reset();
	r = line_split_read(&ls, fds[0], 1024, collect, NULL, &err);
	ok(r == 1 && !strcmp(got, "first line"), "a complete line is handed on, the rest kept (%s)",
	   got);
	put(fds[1], "half\n\nthird\n");
	reset();
	r = line_split_read(&ls, fds[0], 1024, collect, NULL, &err);
	ok(r == 1 && !strcmp(got, "second half||third"),
	   "a line split across reads is handed on whole, an empty line as one (%s)", got);

	reset();
	put(fds[1], "0123456789abcdefXYZ\n0123456789abcdef\n");
	r = line_split_read(&ls, fds[0], 1024, collect, NULL, &err);
	ok(r == 1 && !strcmp(got, "0123456789abcdef|XYZ|0123456789abcdef"),
	   "a line over max bytes is handed on in parts of max; one of max bytes whole (%s)", got);

	reset();
	put(fds[1], "dos\r\nmac\rend\n");
	r = line_split_read(&ls, fds[0], 1024, collect, NULL, &err);
	ok(r == 1 && !strcmp(got, "dos\r|mac\rend"), "'\\r' is part of the line by default");
	line_split_init(&ls, 16, true);
	reset();
	put(fds[1], "dos\r\nmac\rend\n");
	r = line_split_read(&ls, fds[0], 1024, collect, NULL, &err);
	ok(r == 1 && !strcmp(got, "dos||mac|end"), "with cr_ends, '\\r' ends a line (%s)", got);

	memset(&ls, 0, sizeof(ls)); /* never initialised */
	memset(line, 'x', sizeof(line));
	line[sizeof(line) - 1] = 0;
	put(fds[1], line);
	put(fds[1], "\n");
	reset();
	r = line_split_read(&ls, fds[0], 1024, collect, NULL, &err);
	ok(r == 1 && calls == 2 && strlen(got) == sizeof(line) - 1 + 1,
	   "a splitter never set splits at LINE_SPLIT_MAX: %zu bytes give two lines",
	   sizeof(line) - 1);

	line_split_init(&ls, 64, false);
	put(fds[1], "aaaa\nbbbb\ncccc\n");
	reset();
	r = line_split_read(&ls, fds[0], 7, collect, NULL, &err);
	ok(r == 1 && !strcmp(got, "aaaa"), "a budget of 7 bytes reads 7 (%s)", got);
	ok(read(fds[0], rest, sizeof(rest)) == 8 && !memcmp(rest, "bbbb\ncccc\n" + 2, 8),
	   "the rest stays in the pipe for the next turn");
	reset();
	line_split_finish(&ls, collect, NULL);
	ok(!strcmp(got, "bb"), "the part read of the cut line is kept (%s)", got);

	line_split_init(&ls, 64, false);
	put(fds[1], "last\nno end");
	close(fds[1]);
	reset();
	r = line_split_read(&ls, fds[0], 1024, collect, NULL, &err);
	ok(r == 0 && !strcmp(got, "last"), "end of file returns 0, a line without an end not yet");
	reset();
	line_split_finish(&ls, collect, NULL);
	ok(!strcmp(got, "no end") && ls.len == 0, "line_split_finish hands it on (%s)", got);
	reset();
	line_split_finish(&ls, collect, NULL);
	ok(calls == 0, "and nothing more after that");
	close(fds[0]);

	r = line_split_read(&ls, -1, 1024, collect, NULL, &err);
	ok(r < 0 && strstr(err.msg, "read output"), "a read error returns -1: %s", err.msg);
	return done();
}
