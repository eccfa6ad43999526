/* The command-line flags. --config FILE is read first, wherever it is, so
 * that any other flag overrides what the file says. */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <stdlib.h>
#include <string.h>

enum {
	OPT_CONFIG = 256,
	OPT_KERNEL,
	OPT_KERNEL_FORMAT,
	OPT_INITRD,
	OPT_CMDLINE,
	OPT_MEM,
	OPT_CPUS,
	OPT_DISK,
	OPT_NET,
	OPT_MAC,
	OPT_CONSOLE,
	OPT_NO_RNG,
	OPT_JAIL_UID,
	OPT_JAIL_GID,
	OPT_CGROUP,
	OPT_NO_JAIL,
};

static const struct option options[] = {
    {"config", required_argument, NULL, OPT_CONFIG},
    {"kernel", required_argument, NULL, OPT_KERNEL},
    {"kernel-format", required_argument, NULL, OPT_KERNEL_FORMAT},
    {"initrd", required_argument, NULL, OPT_INITRD},
    {"cmdline", required_argument, NULL, OPT_CMDLINE},
    {"mem", required_argument, NULL, OPT_MEM},
    {"cpus", required_argument, NULL, OPT_CPUS},
    {"disk", required_argument, NULL, OPT_DISK},
    {"net", required_argument, NULL, OPT_NET},
    {"mac", required_argument, NULL, OPT_MAC},
    {"console", required_argument, NULL, OPT_CONSOLE},
    {"no-rng", no_argument, NULL, OPT_NO_RNG},
    {"jail-uid", required_argument, NULL, OPT_JAIL_UID},
    {"jail-gid", required_argument, NULL, OPT_JAIL_GID},
    {"cgroup", required_argument, NULL, OPT_CGROUP},
    {"no-jail", no_argument, NULL, OPT_NO_JAIL},
    {NULL, 0, NULL, 0},
};

static int parse_long(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

static int copy_path(char *dst, size_t size, const char *src, const char *flag,
                     struct bh_error *err)
{
	if (!*src || strlen(src) >= size)
		return bh_error(err, 0, "%s: '%s' is empty or too long", flag, src);
	strcpy(dst, src);
	return 0;
}

static int find_config(int argc, char **argv, const char **path)
{
	*path = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--"))
			break;
		if (!strcmp(argv[i], "--config")) {
			if (i + 1 >= argc)
				return -1;
			*path = argv[i + 1];
		} else if (!strncmp(argv[i], "--config=", 9)) {
			*path = argv[i] + 9;
		}
	}
	return 0;
}

static int apply(struct bhv_config *cfg, int opt, const char *arg, struct bh_error *err)
{
	long v;

	switch (opt) {
	case OPT_CONFIG:
		return 0; /* already read */
	case OPT_KERNEL:
		return copy_path(cfg->kernel, sizeof(cfg->kernel), arg, "--kernel", err);
	case OPT_KERNEL_FORMAT:
		if (!strcmp(arg, "auto"))
			cfg->kernel_format = BHV_KERNEL_AUTO;
		else if (!strcmp(arg, "raw16"))
			cfg->kernel_format = BHV_KERNEL_RAW16;
		else if (!strcmp(arg, "raw64"))
			cfg->kernel_format = BHV_KERNEL_RAW64;
		else
			return bh_error(err, 0, "--kernel-format: '%s' is not auto, raw16 or raw64",
			                arg);
		return 0;
	case OPT_INITRD:
		return copy_path(cfg->initrd, sizeof(cfg->initrd), arg, "--initrd", err);
	case OPT_CMDLINE:
		if (strlen(arg) >= sizeof(cfg->cmdline))
			return bh_error(err, 0, "--cmdline: longer than %zu bytes",
			                sizeof(cfg->cmdline) - 1);
		strcpy(cfg->cmdline, arg);
		return 0;
	case OPT_MEM:
		if (parse_mem_mib(arg, &cfg->mem_mib) < 0)
			return bh_error(err, 0, "--mem: '%s' is not a size (256, 256M, 1G)", arg);
		return 0;
	case OPT_CPUS:
		if (parse_long(arg, 1, BHV_MAX_CPUS, &v) < 0)
			return bh_error(err, 0, "--cpus: '%s' is not a number from 1 to %d", arg,
			                BHV_MAX_CPUS);
		cfg->cpus = (int)v;
		return 0;
	case OPT_DISK:
		if (cfg->n_disks >= BHV_MAX_DISKS)
			return bh_error(err, 0, "--disk: at most %d disks", BHV_MAX_DISKS);
		if (parse_disk(arg, &cfg->disks[cfg->n_disks]) < 0)
			return bh_error(err, 0, "--disk: '%s' is not PATH, PATH,ro or PATH,rw",
			                arg);
		cfg->n_disks++;
		return 0;
	case OPT_NET:
		if (parse_long(arg, 0, INT32_MAX, &v) < 0)
			return bh_error(err, 0, "--net: '%s' is not a file descriptor number", arg);
		cfg->net_fd = (int)v;
		return 0;
	case OPT_MAC:
		if (parse_mac(arg, cfg->mac) < 0)
			return bh_error(err, 0, "--mac: '%s' is not a unicast aa:bb:cc:dd:ee:ff",
			                arg);
		return 0;
	case OPT_CONSOLE:
		if (parse_console(arg, &cfg->console) < 0)
			return bh_error(err, 0,
			                "--console: '%s' is not serial, virtio, both or none", arg);
		return 0;
	case OPT_NO_RNG:
		cfg->rng = false;
		return 0;
	case OPT_JAIL_UID:
		if (parse_long(arg, 1, INT32_MAX - 1, &v) < 0)
			return bh_error(err, 0, "--jail-uid: '%s' is not a non-root uid", arg);
		cfg->jail_uid = (uid_t)v;
		cfg->jail_gid = (gid_t)v;
		cfg->jail_uid_auto = cfg->jail_gid_auto = false;
		return 0;
	case OPT_JAIL_GID:
		if (parse_long(arg, 1, INT32_MAX - 1, &v) < 0)
			return bh_error(err, 0, "--jail-gid: '%s' is not a non-root gid", arg);
		cfg->jail_gid = (gid_t)v;
		cfg->jail_gid_auto = false;
		return 0;
	case OPT_CGROUP:
		return copy_path(cfg->cgroup, sizeof(cfg->cgroup), arg, "--cgroup", err);
	case OPT_NO_JAIL:
		cfg->jail = false;
		return 0;
	}
	return bh_error(err, 0, "unknown option");
}

int config_from_args(struct bhv_config *cfg, int argc, char **argv, struct bh_error *err)
{
	const char *file;
	int opt, gid_set = 0;
	gid_t gid = 0;

	if (find_config(argc, argv, &file) < 0)
		return bh_error(err, 0, "--config: a file name is missing");
	if (file && config_from_file(cfg, file, err) < 0)
		return -1;
	optind = 0;
	opterr = 0;
	while ((opt = getopt_long(argc, argv, "+", options, NULL)) != -1) {
		if (opt == '?' || opt == ':')
			return bh_error(err, 0, "%s: unknown option or missing value",
			                argv[optind - 1]);
		if (apply(cfg, opt, optarg, err) < 0)
			return -1;
		if (opt == OPT_JAIL_GID) {
			gid_set = 1;
			gid = cfg->jail_gid;
		}
	}
	/* --jail-gid wins over the gid --jail-uid implies, whatever the order. */
	if (gid_set)
		cfg->jail_gid = gid;
	if (optind < argc)
		return bh_error(err, 0, "unexpected argument '%s'", argv[optind]);
	return 0;
}
