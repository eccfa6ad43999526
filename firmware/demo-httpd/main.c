/* The demo container: answers every HTTP request on port 8080 with a line
 * that says where it runs, and logs each request to stdout. No shell and no
 * tools sit beside it in its root filesystem. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <unistd.h>

static void serve(int c, unsigned long *count)
{
	char req[1024], body[512], resp[1024];
	struct utsname u;
	ssize_t n = read(c, req, sizeof(req) - 1);
	int len;

	if (n <= 0)
		return;
	req[n] = 0;
	req[strcspn(req, "\r\n")] = 0;
	uname(&u);
	(*count)++;
	snprintf(body, sizeof(body),
		 "Hello from the Bulkhead demo container: host %s, pid %d, uid %d, request %lu\n",
		 u.nodename, (int)getpid(), (int)getuid(), *count);
	len = snprintf(resp, sizeof(resp),
		       "HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n"
		       "Connection: close\r\n\r\n%s",
		       strlen(body), body);
	if (write(c, resp, (size_t)len) < 0)
		return;
	printf("request %lu: %s\n", *count, req);
}

static volatile sig_atomic_t stop;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	/* Without SA_RESTART, accept4 returns EINTR and the loop ends: as pid 1
	 * of its namespace the server only gets the signals it handles. */
	struct sigaction sa_term = {.sa_handler = on_term};
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons(8080)};
	unsigned long count = 0;
	int one = 1, fd;

	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGPIPE, SIG_IGN);
	sigaction(SIGTERM, &sa_term, NULL);
	sigaction(SIGINT, &sa_term, NULL);
	if (argc > 1)
		sa.sin_port = htons((unsigned short)atoi(argv[1]));
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
		fprintf(stderr, "demo-httpd: listen on port %d: %s\n", ntohs(sa.sin_port),
			strerror(errno));
		return 1;
	}
	printf("demo-httpd: listening on port %d\n", ntohs(sa.sin_port));
	while (!stop) {
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

		if (c < 0)
			continue;
		serve(c, &count);
		close(c);
	}
	printf("demo-httpd: stopping\n");
	return 0;
}
