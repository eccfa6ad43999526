/* The demo microVM's init: says hello on the console with the guest's own
 * kernel version, takes its address from the kernel command line
 * (bulkhead.ip=a.b.c.d/nn bulkhead.gw=a.b.c.d), serves HTTP on port 8081,
 * prints a heartbeat, and powers the VM off when the monitor presses the
 * power button (bhv turns the agent's SIGTERM into a KEY_POWER press on an
 * input device; no kernel driver turns that into a shutdown by itself) or
 * on SIGTERM/SIGPWR. */
#include <bulkhead/netcfg.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/input.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void cmdline_value(const char *key, char *out, size_t size)
{
	char buf[4096] = "", *p;
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	out[0] = 0;
	if (n <= 0)
		return;
	buf[n] = 0;
	p = strstr(buf, key);
	if (p)
		snprintf(out, size, "%.*s", (int)strcspn(p + strlen(key), " \n"), p + strlen(key));
}

static void network(void)
{
	char cidr[64], gw[64], addr[32];
	struct bh_error err;
	int prefix;

	netcfg_link_up("lo", &err);
	cmdline_value("bulkhead.ip=", cidr, sizeof(cidr));
	cmdline_value("bulkhead.gw=", gw, sizeof(gw));
	if (!cidr[0]) {
		printf("demo-vm: no network (no bulkhead.ip= on the command line)\n");
		return;
	}
	if (netcfg_parse_cidr(cidr, addr, sizeof(addr), &prefix) < 0 ||
	    netcfg_link_up("eth0", &err) < 0 || netcfg_set_ipv4("eth0", addr, prefix, &err) < 0 ||
	    (gw[0] && netcfg_default_route("eth0", gw, &err) < 0)) {
		printf("demo-vm: network: %s\n", err.msg);
		return;
	}
	printf("demo-vm: eth0 is %s\n", cidr);
}

static int listen_http(void)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(8081)};
	int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);

	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 8) < 0)
		return -1;
	return fd;
}

static void answer(int fd, const struct utsname *u)
{
	char req[512], body[256], resp[512];
	int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC), len;

	if (c < 0)
		return;
	if (read(c, req, sizeof(req)) > 0) {
		snprintf(body, sizeof(body), "Hello from the Bulkhead demo VM: kernel %s, machine %s\n",
			 u->release, u->machine);
		len = snprintf(resp, sizeof(resp),
			       "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
			       "Connection: close\r\n\r\n%s", strlen(body), body);
		if (write(c, resp, (size_t)len) < 0) {
			/* The client went away. */
		}
		printf("demo-vm: answered an HTTP request\n");
	}
	close(c);
}

#define MAX_INPUTS 8

/* Every input device the kernel found: the power button is one of them
 * (ACPI on x86_64, gpio-keys on ARM64). Returns how many were opened. */
static int open_inputs(struct pollfd *p, int max)
{
	char path[32];
	int n = 0;

	for (int i = 0; i < max; i++) {
		snprintf(path, sizeof(path), "/dev/input/event%d", i);
		if ((p[n].fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)) >= 0)
			p[n++].events = POLLIN;
	}
	return n;
}

static int power_pressed(int fd)
{
	struct input_event ev;

	while (read(fd, &ev, sizeof(ev)) == (ssize_t)sizeof(ev))
		if (ev.type == EV_KEY && ev.code == KEY_POWER && ev.value == 1)
			return 1;
	return 0;
}

int main(void)
{
	struct utsname u;
	struct pollfd pfd[1 + MAX_INPUTS];
	unsigned beats = 0;
	int n_inputs;

	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGTERM, on_signal);
	signal(SIGPWR, on_signal);
	signal(SIGINT, on_signal);
	uname(&u);
	printf("demo-vm: hello from the guest kernel %s (%s)\n", u.release, u.machine);
	network();
	pfd[0].fd = listen_http();
	pfd[0].events = POLLIN;
	if (pfd[0].fd >= 0)
		printf("demo-vm: serving HTTP on port 8081\n");
	n_inputs = open_inputs(pfd + 1, MAX_INPUTS);
	while (!stop) {
		int r = poll(pfd, (nfds_t)(1 + n_inputs), 30000);

		if (r == 0) {
			printf("demo-vm: heartbeat %u\n", ++beats);
			continue;
		}
		if (r < 0)
			continue; /* EINTR: a signal set stop */
		if (pfd[0].revents & POLLIN)
			answer(pfd[0].fd, &u);
		for (int i = 1; i <= n_inputs; i++)
			if ((pfd[i].revents & POLLIN) && power_pressed(pfd[i].fd)) {
				printf("demo-vm: power button pressed\n");
				stop = 1;
			}
	}
	printf("demo-vm: powering off\n");
	sync();
	reboot(RB_POWER_OFF);
	return 0;
}
