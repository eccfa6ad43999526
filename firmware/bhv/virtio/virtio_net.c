/* virtio-net (virtio 1.x, 5.1) on a tap fd handed in by the caller. No
 * offloads are offered, so every frame is plain Ethernet behind a zero
 * virtio_net_hdr_v1; the header goes to the tap only when it was opened
 * with IFF_VNET_HDR, and it is always one bhv wrote, never the guest's.
 * A frame that does not fit is dropped, never cut. */
#include "virtio.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/uio.h>
#include <unistd.h>

#define NET_RX_QUEUE  0
#define NET_TX_QUEUE  1
#define NET_HDR       sizeof(struct virtio_net_hdr_v1)
#define NET_FRAME_MAX 65550 /* a 64 KiB frame and its Ethernet header */

struct net {
	struct virtio_dev dev;
	int tap_fd;
	bool vnet_hdr; /* the tap reads and writes the header too */
	uint8_t mac[6];
	/* A frame read from the tap waiting for a receive buffer. */
	uint8_t frame[NET_HDR + NET_FRAME_MAX];
	size_t frame_len; /* header included; 0 when empty */
	struct virtq_elem elem;
	struct iovec seg[1 + VIRTQ_CHAIN_MAX]; /* our header, then the frame */
	uint64_t tx_refused;                   /* frames sent with offload headers */
};

static void net_config(struct virtio_dev *d, uint8_t *out)
{
	struct net *n = d->priv;

	memcpy(out, n->mac, 6);
}

bool virtio_net_tx_header(const struct virtio_net_hdr_v1 *guest, struct virtio_net_hdr_v1 *out)
{
	/* No offload was negotiated (virtio 1.x, 5.1.6.2): flags other than 0
	 * ask for checksum offload and gso_type other than NONE (ECN bit
	 * included) for segmentation, neither of which the driver may use.
	 * With both zero the other fields mean nothing, so the tap gets zeros
	 * and the host kernel never reads a csum_start, gso_size or hdr_len
	 * the guest chose. */
	if (guest->flags != 0 || guest->gso_type != VIRTIO_NET_HDR_GSO_NONE)
		return false;
	memset(out, 0, sizeof(*out));
	return true;
}

/* Sends one chain's frame to the tap, or drops it; true when it was
 * refused for its header. */
static bool transmit_one(struct net *n)
{
	struct virtio_net_hdr_v1 guest, clean;
	uint64_t len = n->elem.out_len;
	unsigned first = n->vnet_hdr ? 1 : 0; /* whether the tap takes our header */
	int segs;

	/* A chain without a header or longer than a frame is dropped. */
	if (len < NET_HDR || len > NET_HDR + NET_FRAME_MAX)
		return false;
	/* Copied once, then checked: the guest may rewrite its memory while
	 * we look at it. */
	iov_to_buf(n->elem.iov, n->elem.n_out, 0, &guest, NET_HDR);
	if (!virtio_net_tx_header(&guest, &clean))
		return true;
	n->seg[0] = (struct iovec){.iov_base = &clean, .iov_len = NET_HDR};
	segs = iov_range(n->elem.iov, n->elem.n_out, NET_HDR, len - NET_HDR, n->seg + 1,
	                 VIRTQ_CHAIN_MAX);
	if (segs > 0 && writev(n->tap_fd, n->seg + 1 - first, segs + (int)first) < 0) {
		/* A full or downed tap drops frames, like a wire. */
	}
	return false;
}

static bool transmit(struct net *n, struct virtq *vq)
{
	bool used = false;
	int r;

	while ((r = virtq_pop(vq, n->dev.gm, &n->elem)) > 0) {
		if (transmit_one(n))
			n->tx_refused++;
		virtq_push(vq, n->elem.head, 0);
		used = true;
	}
	if (r < 0)
		virtio_set_broken(&n->dev, vq->error);
	return used;
}

/* Reads the next frame into n->frame; false when the tap has none. */
static bool read_frame(struct net *n)
{
	size_t skip = n->vnet_hdr ? 0 : NET_HDR;
	ssize_t r = read(n->tap_fd, n->frame + skip, sizeof(n->frame) - skip);

	if (r <= 0)
		return false;
	if (skip) {
		memset(n->frame, 0, NET_HDR);
	} else if ((size_t)r < NET_HDR) {
		return false;
	}
	/* One buffer per frame: we do not offer MRG_RXBUF, but the v1 header
	 * carries the field and the spec wants it set to 1. */
	((struct virtio_net_hdr_v1 *)n->frame)->num_buffers = 1;
	n->frame_len = (size_t)r + skip;
	return true;
}

/* Moves frames from the tap into receive buffers while both have some;
 * returns false when the guest ran out of buffers. */
static bool receive(struct net *n, struct virtq *vq)
{
	bool used = false, room = true;
	int r;

	for (;;) {
		if (!n->frame_len && !read_frame(n))
			break;
		r = virtq_pop(vq, n->dev.gm, &n->elem);
		if (r < 0)
			virtio_set_broken(&n->dev, vq->error);
		if (r <= 0) {
			room = false;
			break;
		}
		if (n->elem.in_len >= n->frame_len) {
			iov_from_buf(n->elem.iov + n->elem.n_out, n->elem.n_in, 0, n->frame,
			             n->frame_len);
			virtq_push(vq, n->elem.head, (uint32_t)n->frame_len);
		} else {
			virtq_push(vq, n->elem.head, 0); /* too small: frame dropped */
		}
		used = true;
		n->frame_len = 0;
	}
	if (used && virtq_wants_interrupt(vq))
		virtio_used_interrupt(&n->dev);
	return room;
}

static void net_process(struct virtio_dev *d, unsigned q)
{
	struct net *n = d->priv;

	if (q == NET_TX_QUEUE) {
		if (transmit(n, &d->vq[q]) && virtq_wants_interrupt(&d->vq[q]))
			virtio_used_interrupt(d);
	} else {
		receive(n, &d->vq[q]);
	}
}

bool virtio_net_receive(struct virtio_dev *d)
{
	struct net *n = d->priv;
	bool room = false;

	pthread_mutex_lock(&d->lock);
	if (virtio_running(d) && d->vq[NET_RX_QUEUE].ready)
		room = receive(n, &d->vq[NET_RX_QUEUE]);
	pthread_mutex_unlock(&d->lock);
	return room;
}

bool virtio_net_rx_ready(struct virtio_dev *d)
{
	bool ready;

	pthread_mutex_lock(&d->lock);
	ready = virtio_running(d) && d->vq[NET_RX_QUEUE].ready;
	pthread_mutex_unlock(&d->lock);
	return ready;
}

uint64_t virtio_net_tx_refused(struct virtio_dev *d)
{
	struct net *n = d->priv;
	uint64_t count;

	pthread_mutex_lock(&d->lock);
	count = n->tx_refused;
	pthread_mutex_unlock(&d->lock);
	return count;
}

static void net_reset(struct virtio_dev *d)
{
	struct net *n = d->priv;

	n->frame_len = 0;
}

static const struct virtio_ops net_ops = {
    .device_id = VIRTIO_ID_NET,
    .num_queues = 2,
    .features = (1ULL << VIRTIO_NET_F_MAC) | (1ULL << VIRTIO_RING_F_INDIRECT_DESC),
    .config_size = 6,
    .get_config = net_config,
    .process = net_process,
    .reset = net_reset,
};

struct virtio_dev *virtio_net_new(int tap_fd, const uint8_t mac[6], const struct guest_mem *gm,
                                  struct bh_error *err)
{
	struct ifreq ifr;
	struct net *n;
	int hdr = (int)NET_HDR, fl;

	memset(&ifr, 0, sizeof(ifr));
	if (ioctl(tap_fd, TUNGETIFF, &ifr) < 0)
		return bh_error(err, errno, "net: fd %d is not a tap device", tap_fd), NULL;
	if (!(ifr.ifr_flags & IFF_TAP))
		return bh_error(err, 0, "net: fd %d is a tun device, not a tap", tap_fd), NULL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return bh_error(err, ENOMEM, "virtio-net"), NULL;
	n->tap_fd = tap_fd;
	n->vnet_hdr = ifr.ifr_flags & IFF_VNET_HDR;
	if (n->vnet_hdr && ioctl(tap_fd, TUNSETVNETHDRSZ, &hdr) < 0) {
		free(n);
		return bh_error(err, errno, "net: set the tap's header size"), NULL;
	}
	fl = fcntl(tap_fd, F_GETFL);
	if (fl < 0 || fcntl(tap_fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		free(n);
		return bh_error(err, errno, "net: make the tap non-blocking"), NULL;
	}
	memcpy(n->mac, mac, 6);
	virtio_init(&n->dev, &net_ops, "net", n, gm);
	return &n->dev;
}
