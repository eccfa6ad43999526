/* Splitting a child's output into lines (firmware/lib/line_split.c): init
 * logs its services' output and bhd its workloads' this way, a line at a
 * time, from a non-blocking pipe that the child may fill faster than it is
 * read. */
#ifndef BULKHEAD_LINE_SPLIT_H
#define BULKHEAD_LINE_SPLIT_H

#include <bulkhead/error.h>

#include <stdbool.h>
#include <stddef.h>

#define LINE_SPLIT_MAX 511

/* The line being read. A line longer than max bytes is handed on in parts
 * of max bytes. Set max (at most LINE_SPLIT_MAX; 0 is LINE_SPLIT_MAX) and
 * cr_ends with line_split_init; the rest is the splitter's. */
struct line_split {
	size_t max;
	bool cr_ends; /* '\r' ends a line as '\n' does */
	size_t len;
	char line[LINE_SPLIT_MAX + 1];
};

/* Called for each line, NUL-terminated, without its end; len may be 0. */
typedef void line_split_fn(void *ctx, const char *line, size_t len);

void line_split_init(struct line_split *ls, size_t max, bool cr_ends);

/* Reads fd until it has nothing more now, or budget bytes were read, and
 * calls fn for every complete line. 1 while more may come (the pipe is
 * empty for now, or the budget was spent), 0 at end of file and -1 on a
 * read error: then the caller closes fd. What is left after the last line
 * end stays for the next call, or for line_split_finish. */
int line_split_read(struct line_split *ls, int fd, size_t budget, line_split_fn *fn, void *ctx,
                    struct bh_error *err);

/* Hands on the line without an end that is left (none when there is none),
 * and starts afresh. */
void line_split_finish(struct line_split *ls, line_split_fn *fn, void *ctx);

#endif
