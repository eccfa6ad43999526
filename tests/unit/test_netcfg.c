/* The address parsing of libbulkhead's netcfg (used by the DHCP lease
 * handler and static configuration). */
#include "tap.h"

#include <bulkhead/netcfg.h>

#include <string.h>

int main(void)
{
	char addr[32];
	int prefix;

	ok(netcfg_parse_cidr("192.168.1.10/24", addr, sizeof(addr), &prefix) == 0 &&
		   !strcmp(addr, "192.168.1.10") && prefix == 24,
	   "parses a.b.c.d/nn");
	ok(netcfg_parse_cidr("10.0.0.1/0", addr, sizeof(addr), &prefix) == 0 && prefix == 0,
	   "prefix 0");
	ok(netcfg_parse_cidr("10.0.0.1/33", addr, sizeof(addr), &prefix) < 0, "rejects /33");
	ok(netcfg_parse_cidr("10.0.0.1", addr, sizeof(addr), &prefix) < 0, "rejects a missing prefix");
	ok(netcfg_parse_cidr("10.0.0.256/8", addr, sizeof(addr), &prefix) < 0, "rejects a bad address");
	ok(netcfg_parse_cidr("10.0.0.1/8x", addr, sizeof(addr), &prefix) < 0, "rejects trailing junk");
	ok(netcfg_parse_cidr("1.2.3.4/8", addr, 4, &prefix) < 0, "rejects an address too long for the buffer");
	ok(netcfg_mask_to_prefix("255.255.255.0") == 24, "mask to prefix");
	ok(netcfg_mask_to_prefix("255.255.0.255") == -1, "rejects a non-contiguous mask");
	ok(netcfg_mask_to_prefix("0.0.0.0") == 0, "mask 0");
	return done();
}
