/* BusyBox udhcpc's lease handler: udhcpc runs it with the event as argv[1]
 * (deconfig, bound, renew, leasefail, nak) and the lease in environment
 * variables (interface, ip, mask, router, dns). It configures the interface
 * and writes /run/resolv.conf atomically. */
#include <bulkhead/fs.h>
#include <bulkhead/netcfg.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define RESOLV_CONF "/run/resolv.conf"

static int write_resolv_conf(const char *dns, const char *domain, struct bh_error *err)
{
	char list[256], text[1024];
	char *w, *save = NULL;
	size_t n = 0;

	if (domain && *domain)
		n += (size_t)snprintf(text + n, sizeof(text) - n, "search %s\n", domain);
	snprintf(list, sizeof(list), "%s", dns ? dns : "");
	for (w = strtok_r(list, " ", &save); w && n < sizeof(text);
	     w = strtok_r(NULL, " ", &save))
		n += (size_t)snprintf(text + n, sizeof(text) - n, "nameserver %s\n", w);
	if (n >= sizeof(text))
		return bh_error(err, 0, "%s: too many name servers", RESOLV_CONF);
	return bh_write_atomic(RESOLV_CONF, text, n, 0644, err);
}

static int bound(const char *ifname, struct bh_error *err)
{
	const char *ip = getenv("ip"), *mask = getenv("mask"), *subnet = getenv("subnet");
	const char *router = getenv("router");
	int prefix = mask ? atoi(mask) : subnet ? netcfg_mask_to_prefix(subnet) : -1;
	char gw[32] = "";

	if (!ip || prefix < 0 || prefix > 32)
		return bh_error(err, 0, "lease for %s lacks ip or mask (ip=%s mask=%s)", ifname,
				ip ? ip : "", mask ? mask : subnet ? subnet : "");
	if (netcfg_link_up(ifname, err) < 0 || netcfg_set_ipv4(ifname, ip, prefix, err) < 0)
		return -1;
	/* The first of the offered routers becomes the default route. */
	if (router && *router) {
		snprintf(gw, sizeof(gw), "%s", router);
		gw[strcspn(gw, " ")] = 0;
		if (netcfg_default_route(ifname, gw, err) < 0)
			return -1;
	}
	if (write_resolv_conf(getenv("dns"), getenv("domain"), err) < 0)
		return -1;
	printf("%s: %s/%d%s%s\n", ifname, ip, prefix, *gw ? " via " : "", gw);
	return 0;
}

int main(int argc, char **argv)
{
	const char *ifname = getenv("interface");
	struct bh_error err;
	int r = 0;

	if (argc < 2 || !ifname) {
		fprintf(stderr, "udhcpc-event: run by udhcpc, with the event and $interface\n");
		return 2;
	}
	if (!strcmp(argv[1], "deconfig"))
		r = netcfg_link_up(ifname, &err) < 0 || netcfg_flush_ipv4(ifname, &err) < 0 ? -1 : 0;
	else if (!strcmp(argv[1], "bound") || !strcmp(argv[1], "renew"))
		r = bound(ifname, &err);
	else if (!strcmp(argv[1], "leasefail") || !strcmp(argv[1], "nak"))
		printf("%s: no lease yet (%s)\n", ifname, argv[1]);
	if (r < 0) {
		bh_error_print(&err, "udhcpc-event");
		return 1;
	}
	return 0;
}
