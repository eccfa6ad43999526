/* IPv4 interface configuration through the classic ioctls: enough for a
 * gateway's uplink (DHCP lease handler, static address) without netlink. */
#ifndef BULKHEAD_NETCFG_H
#define BULKHEAD_NETCFG_H

#include <bulkhead/error.h>

int netcfg_link_up(const char *ifname, struct bh_error *err);
/* addr "a.b.c.d"; prefix 0..32. */
int netcfg_set_ipv4(const char *ifname, const char *addr, int prefix, struct bh_error *err);
/* Removes the interface's IPv4 address (and with it its routes). */
int netcfg_flush_ipv4(const char *ifname, struct bh_error *err);
int netcfg_default_route(const char *ifname, const char *gateway, struct bh_error *err);
/* "a.b.c.d/nn" → address and prefix; -1 when malformed. */
int netcfg_parse_cidr(const char *cidr, char *addr, size_t size, int *prefix);
/* Netmask "255.255.255.0" → 24; -1 when not a contiguous mask. */
int netcfg_mask_to_prefix(const char *mask);

/* rtnetlink: a veth pair whose peer goes straight into the network
 * namespace open at peer_netns_fd, and removing a link by name. */
int netcfg_veth_create(const char *name, const char *peer, int peer_netns_fd,
		       struct bh_error *err);
int netcfg_link_delete(const char *name, struct bh_error *err);
/* A persistent tap device (for a microVM's virtio-net); returns its fd. */
int netcfg_tap_open(const char *name, struct bh_error *err);

#endif
