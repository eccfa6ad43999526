/* libFuzzer: virtio-net transmit and receive queues on a real tap, through
 * the real transport. Frames the guest "sends" go to the tap, which is
 * down: the kernel drops them. Creating a tap needs CAP_NET_ADMIN; without
 * it the harness says so once and tests nothing. */
#include "fuzz_bhv.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
	static struct virtio_dev *d;
	static bool unavailable;
	struct bh_error err;

	if (unavailable)
		return 0;
	if (!d) {
		struct ifreq ifr = {.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR};
		int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

		snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "bhvfuzz%d", getpid() % 1000);
		if (fd < 0 || ioctl(fd, TUNSETIFF, &ifr) < 0) {
			perror("bhv_net: cannot create a tap (needs CAP_NET_ADMIN); not fuzzing");
			unavailable = true;
			if (fd >= 0)
				close(fd);
			return 0;
		}
		if (!(d = virtio_net_new(fd, mac, &fuzz_gm, &err)))
			abort();
	}
	fuzz_run_device(d, data, size);
	virtio_net_receive(d);
	return 0;
}
