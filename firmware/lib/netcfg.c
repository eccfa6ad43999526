#include <bulkhead/netcfg.h>

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <net/route.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

static int with_socket(int (*fn)(int, void *), void *arg)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), r, e;

	if (fd < 0)
		return -1;
	r = fn(fd, arg);
	e = errno;
	close(fd);
	errno = e;
	return r;
}

static int ifreq_for(struct ifreq *ifr, const char *ifname, struct bh_error *err)
{
	memset(ifr, 0, sizeof(*ifr));
	if (strlen(ifname) >= sizeof(ifr->ifr_name))
		return bh_error(err, 0, "interface name '%s' is too long", ifname);
	strcpy(ifr->ifr_name, ifname);
	return 0;
}

static int do_up(int fd, void *arg)
{
	struct ifreq *ifr = arg;

	if (ioctl(fd, SIOCGIFFLAGS, ifr) < 0)
		return -1;
	ifr->ifr_flags |= IFF_UP;
	return ioctl(fd, SIOCSIFFLAGS, ifr);
}

int netcfg_link_up(const char *ifname, struct bh_error *err)
{
	struct ifreq ifr;

	if (ifreq_for(&ifr, ifname, err) < 0)
		return -1;
	if (with_socket(do_up, &ifr) < 0)
		return bh_error(err, errno, "bring %s up", ifname);
	return 0;
}

struct addr_req {
	struct ifreq addr, mask;
};

static int do_addr(int fd, void *arg)
{
	struct addr_req *r = arg;

	if (ioctl(fd, SIOCSIFADDR, &r->addr) < 0)
		return -1;
	return ioctl(fd, SIOCSIFNETMASK, &r->mask);
}

static void set_sin(struct sockaddr *sa, in_addr_t a)
{
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = a};

	memcpy(sa, &sin, sizeof(sin));
}

int netcfg_set_ipv4(const char *ifname, const char *addr, int prefix, struct bh_error *err)
{
	struct addr_req r;
	struct in_addr a;
	in_addr_t mask = prefix ? htonl(~0u << (32 - prefix)) : 0;

	if (prefix < 0 || prefix > 32 || inet_pton(AF_INET, addr, &a) != 1)
		return bh_error(err, 0, "'%s/%d' is not an IPv4 address and prefix", addr, prefix);
	if (ifreq_for(&r.addr, ifname, err) < 0 || ifreq_for(&r.mask, ifname, err) < 0)
		return -1;
	set_sin(&r.addr.ifr_addr, a.s_addr);
	set_sin(&r.mask.ifr_netmask, mask);
	if (with_socket(do_addr, &r) < 0)
		return bh_error(err, errno, "set %s/%d on %s", addr, prefix, ifname);
	return 0;
}

static int do_set_addr(int fd, void *arg)
{
	return ioctl(fd, SIOCSIFADDR, arg);
}

int netcfg_flush_ipv4(const char *ifname, struct bh_error *err)
{
	struct ifreq ifr;

	if (ifreq_for(&ifr, ifname, err) < 0)
		return -1;
	/* Setting 0.0.0.0 removes the address and the routes through it. */
	set_sin(&ifr.ifr_addr, INADDR_ANY);
	if (with_socket(do_set_addr, &ifr) < 0 && errno != EADDRNOTAVAIL)
		return bh_error(err, errno, "remove the IPv4 address of %s", ifname);
	return 0;
}

static int do_route(int fd, void *arg)
{
	return ioctl(fd, SIOCADDRT, arg);
}

int netcfg_default_route(const char *ifname, const char *gateway, struct bh_error *err)
{
	struct rtentry rt;
	struct in_addr gw;
	char dev[IFNAMSIZ];

	if (inet_pton(AF_INET, gateway, &gw) != 1)
		return bh_error(err, 0, "'%s' is not an IPv4 gateway address", gateway);
	if (strlen(ifname) >= sizeof(dev))
		return bh_error(err, 0, "interface name '%s' is too long", ifname);
	strcpy(dev, ifname);
	memset(&rt, 0, sizeof(rt));
	set_sin(&rt.rt_dst, INADDR_ANY);
	set_sin(&rt.rt_genmask, INADDR_ANY);
	set_sin(&rt.rt_gateway, gw.s_addr);
	rt.rt_flags = RTF_UP | RTF_GATEWAY;
	rt.rt_dev = dev;
	if (with_socket(do_route, &rt) < 0 && errno != EEXIST)
		return bh_error(err, errno, "add default route via %s on %s", gateway, ifname);
	return 0;
}

int netcfg_parse_cidr(const char *cidr, char *addr, size_t size, int *prefix)
{
	const char *slash = strchr(cidr, '/');
	struct in_addr a;
	char *end;
	long p;

	if (!slash || (size_t)(slash - cidr) >= size)
		return -1;
	memcpy(addr, cidr, slash - cidr);
	addr[slash - cidr] = 0;
	p = strtol(slash + 1, &end, 10);
	if (*end || end == slash + 1 || p < 0 || p > 32 || inet_pton(AF_INET, addr, &a) != 1)
		return -1;
	*prefix = (int)p;
	return 0;
}

int netcfg_mask_to_prefix(const char *mask)
{
	struct in_addr a;
	uint32_t m;
	int n = 0;

	if (inet_pton(AF_INET, mask, &a) != 1)
		return -1;
	m = ntohl(a.s_addr);
	while (m & 0x80000000u) {
		n++;
		m <<= 1;
	}
	return m ? -1 : n;
}
