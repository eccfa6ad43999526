/* bhd's control protocol (firmware/lib/control.c): the verbs bhctl and bhd
 * share, and a request with its descriptor over a Unix socket pair. */
#include "tap.h"

#include <bulkhead/control.h>

#include <fcntl.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

int main(void)
{
	const struct control_verb *v;
	char buf[CONTROL_REQUEST_MAX];
	int sv[2], fd = -2, n = 0, sent = open("/dev/null", O_RDONLY | O_CLOEXEC);
	struct stat a, b;

	for (v = control_verbs; v->name; v++)
		n++;
	ok(n == 11, "eleven verbs (%d)", n);
	ok(control_verb("sync") && control_verb("sync")->arg == CONTROL_ARG_NONE &&
	       control_verb("fleet") && control_verb("fleet")->arg == CONTROL_ARG_NONE,
	   "sync and fleet take nothing");
	v = control_verb("install");
	ok(v && v->arg == CONTROL_ARG_FILE && control_verb("update")->arg == CONTROL_ARG_FILE,
	   "install and update pass a file");
	ok(control_verb("list")->arg == CONTROL_ARG_NONE &&
		   control_verb("logs")->arg == CONTROL_ARG_WORKLOAD,
	   "list takes nothing, logs a workload");
	ok(!control_verb("reboot") && !control_verb(""), "an unknown verb is none");

	if (sent < 0 || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return 1;
	ok(control_send(sv[0], "{\"cmd\":\"install\"}", sent) == 0 &&
		   control_receive(sv[1], buf, sizeof(buf), &fd) == 0 &&
		   !strcmp(buf, "{\"cmd\":\"install\"}"),
	   "a request arrives whole: %s", buf);
	ok(fd >= 0 && fstat(fd, &a) == 0 && fstat(sent, &b) == 0 && a.st_ino == b.st_ino &&
		   a.st_dev == b.st_dev && (fcntl(fd, F_GETFD) & FD_CLOEXEC),
	   "with the descriptor it carries, close-on-exec");
	if (fd >= 0)
		close(fd);
	ok(control_send(sv[0], "{\"cmd\":\"list\"}", -1) == 0 &&
		   control_receive(sv[1], buf, sizeof(buf), &fd) == 0 && fd == -1,
	   "a request without one gives -1");
	close(sv[0]);
	ok(control_receive(sv[1], buf, sizeof(buf), &fd) < 0 && fd == -1,
	   "a closed connection is no request");
	close(sv[1]);
	return done();
}
