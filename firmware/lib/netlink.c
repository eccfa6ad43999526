/* The little rtnetlink the workload agent needs: veth pairs for containers
 * (ioctls cannot create them) and deleting links. Messages are built by
 * hand; each request waits for its acknowledgement. */
#include <bulkhead/netcfg.h>

#include <errno.h>
#include <fcntl.h>
#include <linux/if_tun.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

struct nlbuf {
	char data[1024];
	size_t len;
};

static struct rtattr *put_attr(struct nlbuf *b, unsigned short type, const void *val, size_t len)
{
	struct rtattr *a = (struct rtattr *)(b->data + NLMSG_ALIGN(b->len));

	a->rta_type = type;
	a->rta_len = (unsigned short)RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(a), val, len);
	b->len = NLMSG_ALIGN(b->len) + RTA_ALIGN(a->rta_len);
	return a;
}

/* Nested attributes: open one, add to it, then close it to fix its length. */
static struct rtattr *nest(struct nlbuf *b, unsigned short type)
{
	return put_attr(b, type, NULL, 0);
}

static void end_nest(struct nlbuf *b, struct rtattr *a)
{
	a->rta_len = (unsigned short)((b->data + b->len) - (char *)a);
}

static int talk(struct nlbuf *b, const char *what, struct bh_error *err)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	struct nlmsghdr *h = (struct nlmsghdr *)b->data;
	char reply[4096];
	ssize_t n;
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);

	if (fd < 0)
		return bh_error(err, errno, "%s: netlink socket", what);
	h->nlmsg_len = (uint32_t)b->len;
	h->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	h->nlmsg_seq = 1;
	if (sendto(fd, b->data, b->len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		return bh_error(err, e, "%s: netlink send", what);
	}
	n = recv(fd, reply, sizeof(reply), 0);
	close(fd);
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)))
		return bh_error(err, n < 0 ? errno : EPROTO, "%s: netlink reply", what);
	h = (struct nlmsghdr *)reply;
	if (h->nlmsg_type == NLMSG_ERROR) {
		struct nlmsgerr *e = NLMSG_DATA(h);

		if (e->error)
			return bh_error(err, -e->error, "%s", what);
	}
	return 0;
}

int netcfg_veth_create(const char *name, const char *peer, int peer_netns_fd, struct bh_error *err)
{
	struct nlbuf b = {.len = NLMSG_LENGTH(sizeof(struct ifinfomsg))};
	struct nlmsghdr *h = (struct nlmsghdr *)b.data;
	struct rtattr *linkinfo, *data, *peer_attr;
	struct ifinfomsg *pi;
	char what[128];

	memset(b.data, 0, sizeof(b.data));
	snprintf(what, sizeof(what), "create veth pair %s/%s", name, peer);
	if (strlen(name) >= IFNAMSIZ || strlen(peer) >= IFNAMSIZ)
		return bh_error(err, 0, "%s: interface names are at most %d characters", what,
				IFNAMSIZ - 1);
	h->nlmsg_type = RTM_NEWLINK;
	h->nlmsg_flags = NLM_F_CREATE | NLM_F_EXCL;
	put_attr(&b, IFLA_IFNAME, name, strlen(name) + 1);
	linkinfo = nest(&b, IFLA_LINKINFO);
	put_attr(&b, IFLA_INFO_KIND, "veth", 5);
	data = nest(&b, IFLA_INFO_DATA);
	peer_attr = nest(&b, VETH_INFO_PEER);
	pi = (struct ifinfomsg *)(b.data + b.len);
	memset(pi, 0, sizeof(*pi));
	b.len += NLMSG_ALIGN(sizeof(*pi));
	put_attr(&b, IFLA_IFNAME, peer, strlen(peer) + 1);
	put_attr(&b, IFLA_NET_NS_FD, &peer_netns_fd, sizeof(peer_netns_fd));
	end_nest(&b, peer_attr);
	end_nest(&b, data);
	end_nest(&b, linkinfo);
	return talk(&b, what, err);
}

int netcfg_link_delete(const char *name, struct bh_error *err)
{
	struct nlbuf b = {.len = NLMSG_LENGTH(sizeof(struct ifinfomsg))};
	struct nlmsghdr *h = (struct nlmsghdr *)b.data;
	char what[64];

	memset(b.data, 0, sizeof(b.data));
	snprintf(what, sizeof(what), "delete link %s", name);
	h->nlmsg_type = RTM_DELLINK;
	put_attr(&b, IFLA_IFNAME, name, strlen(name) + 1);
	return talk(&b, what, err);
}

int netcfg_tap_open(const char *name, struct bh_error *err)
{
	struct ifreq ifr;
	int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return bh_error(err, errno, "open /dev/net/tun");
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
	if (ioctl(fd, TUNSETIFF, &ifr) < 0) {
		int e = errno;

		close(fd);
		return bh_error(err, e, "create tap %s", name);
	}
	return fd;
}
