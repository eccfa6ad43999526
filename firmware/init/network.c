/* Loopback always; the uplink either by DHCP (the dhcp service, udhcpc with
 * our C lease handler) or, when the board configuration says so, with a
 * static address set here. */
#include "init.h"

#include <bulkhead/autoconf.h>
#include <bulkhead/netcfg.h>

#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

void init_network(void)
{
	struct bh_error err;

	if (netcfg_link_up("lo", &err) < 0)
		init_log("network: %s", err.msg);
#ifdef BH_NET_STATIC
	{
		char addr[32];
		int prefix, fd;

		if (netcfg_parse_cidr(BH_NET_ADDRESS, addr, sizeof(addr), &prefix) < 0) {
			init_log("network: BH_NET_ADDRESS '%s' is not a.b.c.d/nn", BH_NET_ADDRESS);
			return;
		}
		if (netcfg_link_up(BH_NET_INTERFACE, &err) < 0 ||
		    netcfg_set_ipv4(BH_NET_INTERFACE, addr, prefix, &err) < 0 ||
		    (BH_NET_GATEWAY[0] &&
		     netcfg_default_route(BH_NET_INTERFACE, BH_NET_GATEWAY, &err) < 0)) {
			init_log("network: %s", err.msg);
			return;
		}
		fd = open("/run/resolv.conf", O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
		if (fd >= 0) {
			dprintf(fd, "nameserver %s\n", BH_NET_DNS);
			close(fd);
		}
		init_log("network: %s is %s (static)", BH_NET_INTERFACE, BH_NET_ADDRESS);
	}
#endif
}
