/* A helper (not a test) that tests/e2e/test_vm.py runs inside the booted
 * image. It plays the workload agent's
 * part for networking: creates tap device IFNAME, gives it ADDR/24, brings
 * it up, and runs the command with every argument "TAPFD" replaced by the
 * number of the open tap fd, the way bhd hands a tap to bhv:
 *
 *   tapwrap IFNAME ADDR bhv --net TAPFD ...
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int set_addr(int s, const char *ifname, unsigned long req, const char *ip)
{
	struct ifreq ifr;
	struct sockaddr_in *a = (struct sockaddr_in *)&ifr.ifr_addr;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	a->sin_family = AF_INET;
	if (inet_pton(AF_INET, ip, &a->sin_addr) != 1)
		return -1;
	return ioctl(s, req, &ifr);
}

int main(int argc, char **argv)
{
	struct ifreq ifr;
	char num[16];
	int fd, s;

	if (argc < 4) {
		fprintf(stderr, "usage: tapwrap IFNAME ADDR COMMAND [ARG|TAPFD]...\n");
		return 2;
	}
	/* Not O_CLOEXEC: the point is to hand it to the command. */
	fd = open("/dev/net/tun", O_RDWR);
	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", argv[1]);
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) {
		perror("tapwrap: create the tap");
		return 2;
	}
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (s < 0 || set_addr(s, argv[1], SIOCSIFADDR, argv[2]) < 0 ||
	    set_addr(s, argv[1], SIOCSIFNETMASK, "255.255.255.0") < 0 ||
	    ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		perror("tapwrap: configure the tap");
		return 2;
	}
	ifr.ifr_flags |= IFF_UP;
	if (ioctl(s, SIOCSIFFLAGS, &ifr) < 0) {
		perror("tapwrap: bring the tap up");
		return 2;
	}
	close(s);
	snprintf(num, sizeof(num), "%d", fd);
	for (int i = 3; i < argc; i++)
		if (!strcmp(argv[i], "TAPFD"))
			argv[i] = num;
	execv(argv[3], argv + 3);
	perror("tapwrap: exec");
	return 2;
}
