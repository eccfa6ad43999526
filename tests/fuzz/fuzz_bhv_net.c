/* libFuzzer: virtio-net transmit and receive queues on a real tap, through
 * the real transport. Frames the guest "sends" go to the tap, which is
 * down: the kernel drops them. Creating a tap needs CAP_NET_ADMIN; without
 * it the harness says so once and tests only the header check.
 *
 * The tap has IFF_VNET_HDR, and every frame bhv writes to it must start
 * with a header bhv made, all zeros (no offloads were negotiated): the
 * harness's writev() checks that before the frame reaches the kernel, so a
 * guest header passed through is a crash whatever bytes carry it. */
#include "fuzz_bhv.h"

#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_net.h>
#include <net/if.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

static int tap_fd = -1;

/* Replaces libc's (and the sanitizer's) writev in this harness only. */
ssize_t writev(int fd, const struct iovec *iov, int n)
{
	uint8_t hdr[sizeof(struct virtio_net_hdr_v1)];
	static const uint8_t zero[sizeof(hdr)];
	size_t got = 0;

	for (int i = 0; fd == tap_fd && i < n && got < sizeof(hdr); i++) {
		size_t take =
		    iov[i].iov_len < sizeof(hdr) - got ? iov[i].iov_len : sizeof(hdr) - got;

		memcpy(hdr + got, iov[i].iov_base, take);
		got += take;
	}
	if (fd == tap_fd && (got < sizeof(hdr) || memcmp(hdr, zero, sizeof(hdr))))
		abort();
	return syscall(SYS_writev, fd, iov, n);
}

/* The check alone, on the input's first bytes: a header passes exactly
 * when it asks for no offload, and what passes is all zeros. */
static void check_header(const uint8_t *data, size_t size)
{
	struct virtio_net_hdr_v1 g, out;
	static const struct virtio_net_hdr_v1 zero;
	bool plain;

	if (size < sizeof(g))
		return;
	memcpy(&g, data, sizeof(g));
	plain = g.flags == 0 && g.gso_type == VIRTIO_NET_HDR_GSO_NONE;
	if (virtio_net_tx_header(&g, &out) != plain || (plain && memcmp(&out, &zero, sizeof(out))))
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t mac[6] = {2, 0, 0, 0, 0, 1};
	static struct virtio_dev *d;
	static bool unavailable;
	struct bh_error err;

	check_header(data, size);
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
		tap_fd = fd;
	}
	fuzz_run_device(d, data, size);
	virtio_net_receive(d);
	return 0;
}
