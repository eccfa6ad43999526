/* Payload for the output-flood tests (issue 17): writes lines to its
 * standard output as fast as it can, forever. Whoever reads them (bhd,
 * and for a microVM first bhv's console) must stay responsive and keep
 * only what its rate limit allows.
 *
 * The same binary is the init of a flooding microVM's initramfs, where it
 * starts with no standard output (the initramfs has no /dev/console for
 * the kernel to open): it then mounts devtmpfs and takes the guest's
 * console (the kernel's console= device) as fds 0-2 first. In a container
 * it is PID 1 too, but with its output already open. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

static int take_console(void)
{
	int fd;

	if (mount("devtmpfs", "/dev", "devtmpfs", 0, NULL) < 0)
		return -1;
	fd = open("/dev/console", O_RDWR);
	if (fd < 0)
		return -1;
	for (int i = 0; i < 3; i++)
		if (fd != i && dup2(fd, i) < 0)
			return -1;
	return 0;
}

int main(void)
{
	char line[128];

	if (fcntl(1, F_GETFD) < 0 && errno == EBADF && take_console() < 0)
		return 1;
	for (unsigned long n = 0;; n++) {
		int len = snprintf(line, sizeof(line),
				   "flood: line %lu, written as fast as the pipe takes it ..........\n", n);

		if (write(1, line, (size_t)len) < 0)
			return 1;
	}
}
