/* One read loop for a child's output: a budget per call, so that a child
 * that writes without pause cannot hold up the caller's event loop (its
 * epoll set is level-triggered: the rest is read on the next turn), and
 * a fixed line buffer, so that nothing is allocated however long a line
 * is. */
#include <bulkhead/line_split.h>

#include <errno.h>
#include <unistd.h>

/* One read's worth; a smaller budget reads less. */
#define LINE_SPLIT_READ 4096

void line_split_init(struct line_split *ls, size_t max, bool cr_ends)
{
	ls->max = max && max <= LINE_SPLIT_MAX ? max : LINE_SPLIT_MAX;
	ls->cr_ends = cr_ends;
	ls->len = 0;
}

static void hand_on(struct line_split *ls, line_split_fn *fn, void *ctx)
{
	ls->line[ls->len] = 0;
	fn(ctx, ls->line, ls->len);
	ls->len = 0;
}

int line_split_read(struct line_split *ls, int fd, size_t budget, line_split_fn *fn, void *ctx,
                    struct bh_error *err)
{
	char buf[LINE_SPLIT_READ];
	size_t max = ls->max ? ls->max : LINE_SPLIT_MAX; /* not set: the most */
	ssize_t n = -1;

	while (budget > 0 && (n = read(fd, buf, budget < sizeof(buf) ? budget : sizeof(buf))) > 0) {
		budget -= (size_t)n;
		for (ssize_t i = 0; i < n; i++) {
			bool end = buf[i] == '\n' || (ls->cr_ends && buf[i] == '\r');

			/* A line of max bytes ends there; the next byte, unless
			 * it is the line's end, starts the next part. */
			if (end || ls->len >= max) {
				hand_on(ls, fn, ctx);
				if (end)
					continue;
			}
			ls->line[ls->len++] = buf[i];
		}
	}
	if (n == 0)
		return 0;
	if (n < 0 && errno != EAGAIN && errno != EINTR)
		return bh_error(err, errno, "read output (fd %d)", fd);
	return 1;
}

void line_split_finish(struct line_split *ls, line_split_fn *fn, void *ctx)
{
	if (ls->len)
		hand_on(ls, fn, ctx);
	ls->len = 0;
}
