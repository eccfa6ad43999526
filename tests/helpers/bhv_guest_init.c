/* The /init (a helper, not a test) of the Linux guest that
 * tests/e2e/test_vm.py and tests/bench/bench_bhv.py boot inside bhv. Built
 * static with the target compiler and packed into an initramfs. It proves,
 * on the guest's console, what the monitor gave it:
 *
 *   BHV-GUEST-INIT            init runs (the boot-time marker)
 *   BHV-GUEST-CPUS n          online CPUs
 *   BHV-GUEST-DISK-READ text  the first line of /dev/vda
 *   BHV-GUEST-DISK-WROTE      sector 1 of /dev/vda written and flushed
 *   BHV-GUEST-RNG n           bytes read from virtio-rng (/dev/hwrng)
 *   BHV-GUEST-HVC             written to /dev/hvc0 (the virtio console)
 *   BHV-GUEST-NET-SENT        with bhv.net=GUEST,HOST on the command line:
 *                             eth0 got address GUEST, resolved HOST with ARP
 *                             (a frame received) and sent it a UDP datagram
 *                             "BHV-NET-HELLO" on port 9000 (a frame sent)
 *
 * then ends as the kernel command line says: bhv.end=poweroff (default),
 * reboot, exit (init exits: the kernel panics) or wait (until the power
 * button, KEY_POWER on an input device: BHV-GUEST-POWER-BUTTON, then
 * power-off). */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/input.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void disk(void)
{
	char buf[513] = "";
	const char out[] = "BHV-DISK-OUT written by the guest\n";
	char sector[512];
	int fd = open("/dev/vda", O_RDWR | O_CLOEXEC);

	if (fd < 0) {
		printf("BHV-GUEST-DISK none\n");
		return;
	}
	if (pread(fd, buf, 512, 0) == 512) {
		buf[strcspn(buf, "\n")] = 0;
		printf("BHV-GUEST-DISK-READ %s\n", buf);
	}
	memset(sector, 0, sizeof(sector));
	memcpy(sector, out, sizeof(out) - 1);
	if (pwrite(fd, sector, 512, 512) == 512 && fsync(fd) == 0)
		printf("BHV-GUEST-DISK-WROTE\n");
	else
		printf("BHV-GUEST-DISK-WRITE-FAILED\n");
	close(fd);
}

static void rng(void)
{
	unsigned char b[16];
	int fd = open("/dev/hwrng", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? -1 : read(fd, b, sizeof(b));

	printf("BHV-GUEST-RNG %zd\n", n);
	if (fd >= 0)
		close(fd);
}

static void hvc(void)
{
	int fd = open("/dev/hvc0", O_WRONLY | O_CLOEXEC | O_NOCTTY);

	if (fd >= 0) {
		const char msg[] = "BHV-GUEST-HVC hello through virtio-console\n";

		if (write(fd, msg, sizeof(msg) - 1) == (ssize_t)sizeof(msg) - 1)
			printf("BHV-GUEST-HVC\n");
		close(fd);
	}
}

static char cmdline[1024];

static void read_cmdline(void)
{
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? 0 : read(fd, cmdline, sizeof(cmdline) - 1);

	if (fd >= 0)
		close(fd);
	cmdline[n > 0 ? n : 0] = 0;
}

/* The value of key=... on the kernel command line, or NULL. */
static const char *param(const char *key, char *buf, size_t size)
{
	const char *p = strstr(cmdline, key);
	size_t len;

	if (!p)
		return NULL;
	p += strlen(key);
	len = strcspn(p, " \n");
	if (len >= size)
		len = size - 1;
	memcpy(buf, p, len);
	buf[len] = 0;
	return buf;
}

static int if_set(int s, unsigned long req, const char *ip)
{
	struct ifreq ifr;
	struct sockaddr_in *a = (struct sockaddr_in *)&ifr.ifr_addr;

	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "eth0");
	a->sin_family = AF_INET;
	inet_pton(AF_INET, ip, &a->sin_addr);
	return ioctl(s, req, &ifr);
}

/* A complete ARP entry for host in /proc/net/arp: a frame came back. */
static int arp_resolved(const char *host)
{
	char buf[2048];
	int fd = open("/proc/net/arp", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? 0 : read(fd, buf, sizeof(buf) - 1);
	const char *line;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	line = strstr(buf, host);
	return line && strstr(line, " 0x2 ") != NULL;
}

static void net(void)
{
	char spec[64], *host;
	struct ifreq ifr;
	struct sockaddr_in to = {.sin_family = AF_INET, .sin_port = htons(9000)};
	const char msg[] = "BHV-NET-HELLO from the guest\n";
	struct timespec tick = {0, 50 * 1000 * 1000};
	int s;

	if (!param("bhv.net=", spec, sizeof(spec)) || !(host = strchr(spec, ',')))
		return;
	*host++ = 0;
	s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	memset(&ifr, 0, sizeof(ifr));
	strcpy(ifr.ifr_name, "eth0");
	if (s < 0 || if_set(s, SIOCSIFADDR, spec) < 0 ||
	    if_set(s, SIOCSIFNETMASK, "255.255.255.0") < 0 || ioctl(s, SIOCGIFFLAGS, &ifr) < 0) {
		printf("BHV-GUEST-NET-FAILED setup\n");
		return;
	}
	ifr.ifr_flags |= IFF_UP;
	ioctl(s, SIOCSIFFLAGS, &ifr);
	inet_pton(AF_INET, host, &to.sin_addr);
	for (int i = 0; i < 100 && !arp_resolved(host); i++) {
		sendto(s, msg, sizeof(msg) - 1, 0, (struct sockaddr *)&to, sizeof(to));
		nanosleep(&tick, NULL);
	}
	if (!arp_resolved(host)) {
		printf("BHV-GUEST-NET-FAILED no ARP reply from %s\n", host);
		return;
	}
	sendto(s, msg, sizeof(msg) - 1, 0, (struct sockaddr *)&to, sizeof(to));
	nanosleep(&tick, NULL);
	printf("BHV-GUEST-NET-SENT\n");
	close(s);
}

/* Waits for KEY_POWER on any input device (none: forever). */
static void wait_power_button(void)
{
	struct pollfd p[8];
	struct input_event ev;
	char path[32];
	int n = 0;

	for (int i = 0; i < 8; i++) {
		snprintf(path, sizeof(path), "/dev/input/event%d", i);
		if ((p[n].fd = open(path, O_RDONLY | O_CLOEXEC)) >= 0)
			p[n++].events = POLLIN;
	}
	for (;;) {
		if (poll(p, (nfds_t)n, -1) <= 0) {
			pause();
			continue;
		}
		for (int i = 0; i < n; i++)
			if ((p[i].revents & POLLIN) &&
			    read(p[i].fd, &ev, sizeof(ev)) == sizeof(ev) && ev.type == EV_KEY &&
			    ev.code == KEY_POWER && ev.value == 1) {
				printf("BHV-GUEST-POWER-BUTTON\n");
				return;
			}
	}
}

int main(void)
{
	char endbuf[32];
	const char *end;
	int fd;

	mkdir("/dev", 0755);
	mkdir("/proc", 0755);
	mkdir("/sys", 0755);
	mount("devtmpfs", "/dev", "devtmpfs", 0, NULL);
	mount("proc", "/proc", "proc", 0, NULL);
	mount("sysfs", "/sys", "sysfs", 0, NULL);
	fd = open("/dev/console", O_RDWR | O_CLOEXEC);
	if (fd >= 0) {
		dup2(fd, 1);
		dup2(fd, 2);
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("BHV-GUEST-INIT\n");
	printf("BHV-GUEST-CPUS %ld\n", sysconf(_SC_NPROCESSORS_ONLN));
	disk();
	rng();
	hvc();
	read_cmdline();
	net();
	end = param("bhv.end=", endbuf, sizeof(endbuf));
	if (!end)
		end = "poweroff";
	printf("BHV-GUEST-END %s\n", end);
	fflush(stdout);
	sync();
	if (!strcmp(end, "exit"))
		return 1;
	if (!strcmp(end, "wait"))
		wait_power_button();
	reboot(!strcmp(end, "reboot") ? RB_AUTOBOOT : RB_POWER_OFF);
	return 1;
}
