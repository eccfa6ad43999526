/* Not a test program: the /init of the Linux guest that tests/e2e/test_vm.py
 * and tests/bench/bench_bhv.py boot inside bhv (tests/run skips .c files
 * here). Built static with the target compiler and packed into an
 * initramfs. It proves, on the guest's console, what the monitor gave it:
 *
 *   BHV-GUEST-INIT            init runs (the boot-time marker)
 *   BHV-GUEST-CPUS n          online CPUs
 *   BHV-GUEST-DISK-READ text  the first line of /dev/vda
 *   BHV-GUEST-DISK-WROTE      sector 1 of /dev/vda written and flushed
 *   BHV-GUEST-RNG n           bytes read from virtio-rng (/dev/hwrng)
 *   BHV-GUEST-HVC             written to /dev/hvc0 (the virtio console)
 *   BHV-GUEST-NET ifname      a virtio-net interface exists
 *
 * then ends as the kernel command line says: bhv.end=poweroff (default),
 * reboot, or exit (init exits: the kernel panics). */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/reboot.h>
#include <sys/stat.h>
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

static void net(void)
{
	struct stat st;

	if (stat("/sys/class/net/eth0", &st) == 0)
		printf("BHV-GUEST-NET eth0\n");
}

static const char *end_mode(void)
{
	static char cmdline[1024];
	int fd = open("/proc/cmdline", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd < 0 ? 0 : read(fd, cmdline, sizeof(cmdline) - 1);
	char *p;

	if (fd >= 0)
		close(fd);
	cmdline[n > 0 ? n : 0] = 0;
	p = strstr(cmdline, "bhv.end=");
	if (!p)
		return "poweroff";
	p += 8;
	p[strcspn(p, " \n")] = 0;
	return p;
}

int main(void)
{
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
	net();
	end = end_mode();
	printf("BHV-GUEST-END %s\n", end);
	fflush(stdout);
	sync();
	if (!strcmp(end, "exit"))
		return 1;
	reboot(!strcmp(end, "reboot") ? RB_AUTOBOOT : RB_POWER_OFF);
	return 1;
}
