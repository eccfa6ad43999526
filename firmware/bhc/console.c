/* process.terminal: the container's init opens a pty from its own devpts,
 * makes the slave its controlling terminal and stdio, and hands the master
 * to bhc over the sync socket. bhc passes it on to --console-socket (the OCI
 * convention: one SCM_RIGHTS message), or, for `bhc run` without one,
 * relays it to its own stdio until the container exits. */
#include "libbhc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#define MAX_FDS 64

int bhc_send_fds(int sock, const int *fds, size_t n, const void *data, size_t len)
{
	char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
	struct iovec iov = {(void *)data, len};
	struct msghdr msg = {.msg_iov = &iov, .msg_iovlen = 1};
	struct cmsghdr *c;

	if (n > MAX_FDS) {
		errno = EMFILE;
		return -1;
	}
	if (n) {
		memset(buf, 0, sizeof(buf));
		msg.msg_control = buf;
		msg.msg_controllen = CMSG_SPACE(sizeof(int) * n);
		c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * n);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * n);
	}
	return sendmsg(sock, &msg, MSG_NOSIGNAL) < 0 ? -1 : 0;
}

int bhc_send_fd(int sock, int fd, const void *data, size_t len)
{
	return bhc_send_fds(sock, &fd, 1, data, len);
}

/* Receives one message and up to max fds (*n of them). Returns its length. */
int bhc_recv_fds(int sock, int *fds, size_t max, size_t *n, void *data, size_t len)
{
	char buf[CMSG_SPACE(sizeof(int) * MAX_FDS)];
	struct iovec iov = {data, len};
	struct msghdr msg = {
	    .msg_iov = &iov, .msg_iovlen = 1, .msg_control = buf, .msg_controllen = sizeof(buf)};
	struct cmsghdr *c;
	ssize_t r;

	*n = 0;
	do
		r = recvmsg(sock, &msg, MSG_CMSG_CLOEXEC);
	while (r < 0 && errno == EINTR);
	if (r < 0)
		return -1;
	for (c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c))
		if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
			size_t got = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
			int tmp[MAX_FDS];

			memcpy(tmp, CMSG_DATA(c), got * sizeof(int));
			for (size_t i = 0; i < got; i++)
				if (*n < max)
					fds[(*n)++] = tmp[i];
				else
					close(tmp[i]);
		}
	return (int)r;
}

int bhc_recv_fd(int sock, int *fd, void *data, size_t len)
{
	size_t n;
	int r = bhc_recv_fds(sock, fd, 1, &n, data, len);

	if (n == 0)
		*fd = -1;
	return r;
}

int bhc_console_open(const struct bhc_config *cfg, int *master, char *name, size_t len,
                     struct bh_error *err)
{
	int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC), s;
	unsigned n, unlock = 0;

	if (m < 0)
		return bh_error(err, errno, "open /dev/ptmx");
	if (ioctl(m, TIOCSPTLCK, &unlock) < 0 || ioctl(m, TIOCGPTN, &n) < 0) {
		close(m);
		return bh_error(err, errno, "unlock the pty");
	}
	snprintf(name, len, "/dev/pts/%u", n);
	s = open(name, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (s < 0) {
		close(m);
		return bh_error(err, errno, "open %s", name);
	}
	if (cfg->console_rows || cfg->console_cols) {
		struct winsize ws = {.ws_row = cfg->console_rows, .ws_col = cfg->console_cols};

		ioctl(s, TIOCSWINSZ, &ws);
	}
	if (ioctl(s, TIOCSCTTY, 0) < 0 || dup2(s, 0) < 0 || dup2(s, 1) < 0 || dup2(s, 2) < 0) {
		close(s);
		close(m);
		return bh_error(err, errno, "make %s the console", name);
	}
	if (s > 2)
		close(s);
	*master = m;
	return 0;
}

int bhc_console_send(const char *socket_path, int master, struct bh_error *err)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int s;

	if (strlen(socket_path) >= sizeof(sa.sun_path))
		return bh_error(err, 0, "--console-socket %s: path too long", socket_path);
	strcpy(sa.sun_path, socket_path);
	s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return bh_error(err, errno, "socket");
	if (connect(s, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
	    bhc_send_fd(s, master, "/dev/ptmx", 9) < 0) {
		int e = errno;

		close(s);
		return bh_error(err, e, "send the console to %s", socket_path);
	}
	close(s);
	return 0;
}

static int copy(int from, int to)
{
	char buf[4096];
	ssize_t n = read(from, buf, sizeof(buf));

	if (n <= 0)
		return -1;
	for (ssize_t off = 0; off < n;) {
		ssize_t w = write(to, buf + off, (size_t)(n - off));

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		off += w;
	}
	return 0;
}

/* Relays stdin to the pty and the pty to stdout until the container's
 * process has exited and its output is drained; signals from sfd are passed
 * to the container. stdin goes raw if it is a terminal (restored after);
 * its end of file becomes the terminal's EOF character, as on a terminal. */
int bhc_console_relay(int master, int pidfd, int sfd)
{
	struct termios saved, raw;
	bool restore = tcgetattr(0, &saved) == 0;
	struct pollfd p[4] = {
	    {master, POLLIN, 0}, {0, POLLIN, 0}, {pidfd, POLLIN, 0}, {sfd, POLLIN, 0}};
	bool exited = false;

	if (restore) {
		raw = saved;
		cfmakeraw(&raw);
		tcsetattr(0, TCSANOW, &raw);
	}
	for (;;) {
		int n = poll(p, 4, exited ? 100 : -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		if (p[0].revents & POLLIN) {
			if (copy(master, 1) < 0)
				break;
		} else if (p[0].revents & (POLLHUP | POLLERR)) {
			break;
		}
		if ((p[1].revents & (POLLIN | POLLHUP | POLLERR)) && copy(0, master) < 0) {
			/* Ctrl-D: c_cc[VEOF] is VMIN while the program has the
			 * terminal in raw mode. */
			if (write(master, "\x04", 1) < 0)
				break;
			p[1].fd = -1;
		}
		if (p[2].revents & POLLIN) {
			exited = true;
			p[2].fd = -1;
		}
		if (p[3].revents & POLLIN) {
			struct signalfd_siginfo si;

			if (read(sfd, &si, sizeof(si)) == sizeof(si))
				syscall(SYS_pidfd_send_signal, pidfd, (int)si.ssi_signo, NULL, 0);
		}
	}
	if (restore)
		tcsetattr(0, TCSANOW, &saved);
	return 0;
}
