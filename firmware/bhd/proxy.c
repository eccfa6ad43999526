/* Port forwards: for each port a manifest lists, bhd listens on the host
 * (all addresses) and relays every TCP connection to the workload's
 * address. Non-blocking, one buffer each way per connection; a side that
 * closes is shut down on the other. Nothing but these ports reaches a
 * workload. */
#include "bhd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define CONNS_MAX 256
#define BUF_SIZE 16384

struct listener {
	int fd;
	struct workload *w;
	uint16_t target_port;
};

struct pipe_buf {
	char data[BUF_SIZE];
	size_t len, off;
	bool eof;
};

struct conn {
	int a, b;              /* a: the client, b: the workload */
	struct pipe_buf ab, ba; /* a → b and b → a */
	struct workload *w;
};

static struct listener listeners[WORKLOADS_MAX * WL_PORTS_MAX];
static struct conn *conns[CONNS_MAX];

static void watch(int epfd, int fd, uint32_t events, bool add)
{
	struct epoll_event ev = {.events = events, .data.fd = fd};

	epoll_ctl(epfd, add ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
}

int proxies_open(struct workload *w, int epfd, struct bh_error *err)
{
	if (!w->net_index)
		return 0;
	for (size_t p = 0; p < w->m.n_ports; p++) {
		struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(w->m.ports[p].host)};
		int one = 1, fd;
		size_t i;

		for (i = 0; i < sizeof(listeners) / sizeof(listeners[0]) && listeners[i].w; i++)
			;
		if (i == sizeof(listeners) / sizeof(listeners[0]))
			return bh_error(err, 0, "too many port forwards");
		fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return bh_error(err, errno, "socket");
		setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
		if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 64) < 0) {
			int e = errno;

			close(fd);
			return bh_error(err, e, "forward port %u", w->m.ports[p].host);
		}
		listeners[i] = (struct listener){.fd = fd, .w = w, .target_port = w->m.ports[p].workload};
		watch(epfd, fd, EPOLLIN, true);
		bhd_log("bhd: %s: port %u forwarded to %u", w->m.name, w->m.ports[p].host,
			w->m.ports[p].workload);
	}
	return 0;
}

static void conn_close(struct conn **slot)
{
	close((*slot)->a);
	close((*slot)->b);
	free(*slot);
	*slot = NULL;
}

void proxies_close(struct workload *w)
{
	for (size_t i = 0; i < sizeof(listeners) / sizeof(listeners[0]); i++)
		if (listeners[i].w == w) {
			close(listeners[i].fd);
			listeners[i] = (struct listener){0};
		}
	for (int i = 0; i < CONNS_MAX; i++)
		if (conns[i] && conns[i]->w == w)
			conn_close(&conns[i]);
}

static void accept_one(struct listener *l, int epfd)
{
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(l->target_port)};
	char addr[32];
	struct conn *c;
	int a, b, i;

	a = accept4(l->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (a < 0)
		return;
	for (i = 0; i < CONNS_MAX && conns[i]; i++)
		;
	snprintf(addr, sizeof(addr), "10.%d.%d.2", l->w->m.mode == WL_VM ? 89 : 88, l->w->net_index);
	inet_pton(AF_INET, addr, &to.sin_addr);
	b = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (i == CONNS_MAX || b < 0 ||
	    (connect(b, (struct sockaddr *)&to, sizeof(to)) < 0 && errno != EINPROGRESS) ||
	    !(c = calloc(1, sizeof(*c)))) {
		close(a);
		if (b >= 0)
			close(b);
		return;
	}
	c->a = a;
	c->b = b;
	c->w = l->w;
	conns[i] = c;
	watch(epfd, a, EPOLLIN, true);
	watch(epfd, b, EPOLLIN | EPOLLOUT, true);
}

/* Moves what can move from one side to the other; false when the pair is
 * done. */
static bool pump(int from, int to, struct pipe_buf *p)
{
	if (p->len == 0 && !p->eof) {
		ssize_t n = read(from, p->data, sizeof(p->data));

		if (n > 0) {
			p->len = (size_t)n;
			p->off = 0;
		} else if (n == 0 || (errno != EAGAIN && errno != EINTR)) {
			p->eof = true;
			shutdown(to, SHUT_WR);
		}
	}
	while (p->len) {
		ssize_t n = write(to, p->data + p->off, p->len);

		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		p->off += (size_t)n;
		p->len -= (size_t)n;
	}
	return true;
}

bool proxy_event(int fd, uint32_t events, int epfd)
{
	for (size_t i = 0; i < sizeof(listeners) / sizeof(listeners[0]); i++)
		if (listeners[i].w && listeners[i].fd == fd) {
			accept_one(&listeners[i], epfd);
			return true;
		}
	for (int i = 0; i < CONNS_MAX; i++) {
		struct conn *c = conns[i];
		bool ok;

		if (!c || (c->a != fd && c->b != fd))
			continue;
		if (events & EPOLLERR) {
			conn_close(&conns[i]);
			return true;
		}
		ok = pump(c->a, c->b, &c->ab) && pump(c->b, c->a, &c->ba);
		if (!ok || (c->ab.eof && c->ba.eof && !c->ab.len && !c->ba.len)) {
			conn_close(&conns[i]);
			return true;
		}
		/* Read from a side until its end; hear when a side can take
		 * what is left for it. */
		watch(epfd, c->a, (c->ab.eof ? 0 : EPOLLIN) | (c->ba.len ? EPOLLOUT : 0), false);
		watch(epfd, c->b, (c->ba.eof ? 0 : EPOLLIN) | (c->ab.len ? EPOLLOUT : 0), false);
		return true;
	}
	return false;
}
