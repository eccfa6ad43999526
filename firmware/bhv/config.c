/* Defaults, value parsers and the checks shared by the flags and the JSON
 * config file. */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void config_defaults(struct bhv_config *cfg)
{
	/* A locally administered unicast address (bit 1 of the first byte). */
	static const uint8_t mac[6] = {0x02, 0x62, 0x68, 0x76, 0x00, 0x01};

	memset(cfg, 0, sizeof(*cfg));
	cfg->mem_mib = BHV_DEFAULT_MEM;
	cfg->cpus = 1;
	cfg->net_fd = -1;
	memcpy(cfg->mac, mac, sizeof(mac));
	cfg->console = BHV_CONSOLE_SERIAL;
	cfg->rng = true;
	cfg->jail = true;
	cfg->jail_uid_auto = cfg->jail_gid_auto = true;
}

/* "256", "256M", "256MiB", "1G", "1GiB": MiB when no unit is given. */
int parse_mem_mib(const char *s, uint64_t *mib)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	if (!strcmp(end, "G") || !strcmp(end, "GiB")) {
		if (v > BHV_MAX_MEM_MIB / 1024)
			return -1;
		v *= 1024;
	} else if (*end && strcmp(end, "M") && strcmp(end, "MiB")) {
		return -1;
	}
	*mib = v;
	return 0;
}

int parse_mac(const char *s, uint8_t mac[6])
{
	unsigned int b[6];
	char tail;

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
	           &tail) != 6 ||
	    strlen(s) != 17)
		return -1;
	for (int i = 0; i < 6; i++)
		mac[i] = (uint8_t)b[i];
	/* A multicast address would make the guest drop its own traffic. */
	return (mac[0] & 1) ? -1 : 0;
}

int parse_console(const char *s, enum bhv_console *c)
{
	static const struct {
		const char *name;
		enum bhv_console value;
	} names[] = {
	    {"none", BHV_CONSOLE_NONE},
	    {"serial", BHV_CONSOLE_SERIAL},
	    {"virtio", BHV_CONSOLE_VIRTIO},
	    {"both", BHV_CONSOLE_BOTH},
	};

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (!strcmp(s, names[i].name)) {
			*c = names[i].value;
			return 0;
		}
	return -1;
}

/* PATH or PATH,ro or PATH,rw. */
int parse_disk(const char *s, struct bhv_disk *d)
{
	const char *comma = strrchr(s, ',');
	size_t len = comma ? (size_t)(comma - s) : strlen(s);

	d->read_only = false;
	if (comma) {
		if (!strcmp(comma + 1, "ro"))
			d->read_only = true;
		else if (strcmp(comma + 1, "rw"))
			return -1;
	}
	if (len == 0 || len >= sizeof(d->path))
		return -1;
	memcpy(d->path, s, len);
	d->path[len] = 0;
	return 0;
}

int config_check(const struct bhv_config *cfg, struct bh_error *err)
{
	if (!cfg->kernel[0])
		return bh_error(err, 0, "no kernel given (--kernel PATH or \"kernel\")");
	if (cfg->cpus < 1 || cfg->cpus > BHV_MAX_CPUS)
		return bh_error(err, 0, "cpus: %d is out of range (1 to %d)", cfg->cpus,
		                BHV_MAX_CPUS);
	if (cfg->mem_mib < BHV_MIN_MEM_MIB || cfg->mem_mib > BHV_MAX_MEM_MIB)
		return bh_error(err, 0, "mem: %llu MiB is out of range (%d to %d MiB)",
		                (unsigned long long)cfg->mem_mib, BHV_MIN_MEM_MIB, BHV_MAX_MEM_MIB);
	if (cfg->net_fd >= 0 && cfg->net_fd <= 2)
		return bh_error(err, 0, "net: fd %d is stdin, stdout or stderr, not a tap device",
		                cfg->net_fd);
	if (!cfg->jail && cfg->cgroup[0])
		return bh_error(err, 0, "cgroup %s: only the jail joins a cgroup (drop --no-jail)",
		                cfg->cgroup);
	if (cfg->jail && !cfg->jail_uid_auto && cfg->jail_uid == 0)
		return bh_error(err, 0, "jail uid 0 is root: choose an unprivileged uid");
	return 0;
}
