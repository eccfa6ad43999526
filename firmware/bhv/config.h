/* What a microVM is made of, as the flags or the JSON config file say it,
 * and the checks every value passes before anything starts. */
#ifndef BHV_CONFIG_H
#define BHV_CONFIG_H

#include <bulkhead/error.h>

#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Exit statuses: the interface the workload agent relies on. */
#define BHV_EXIT_POWEROFF 0
#define BHV_EXIT_ERROR    1
#define BHV_EXIT_REBOOT   2
#define BHV_EXIT_CRASH    3

#define BHV_MAX_CPUS    8
#define BHV_MAX_DISKS   4
#define BHV_CMDLINE_MAX 2048
#define BHV_MIN_MEM_MIB 16
#define BHV_MAX_MEM_MIB (64 * 1024)
#define BHV_DEFAULT_MEM 128

enum bhv_console {
	BHV_CONSOLE_NONE = 0,
	BHV_CONSOLE_SERIAL = 1, /* 8250 on x86_64, PL011 on ARM64 */
	BHV_CONSOLE_VIRTIO = 2, /* virtio-console (hvc0) */
	BHV_CONSOLE_BOTH = 3,
};

/* How the kernel file is entered. The raw formats are flat binaries for the
 * integration tests' tiny guests, never a Linux kernel. */
enum bhv_kernel_format {
	BHV_KERNEL_AUTO = 0,
	BHV_KERNEL_RAW16, /* loaded at 0x8000, entered in real mode (x86_64) */
	BHV_KERNEL_RAW64, /* loaded at 0x100000, entered in long mode (x86_64) */
};

struct bhv_disk {
	char path[PATH_MAX];
	bool read_only;
};

struct bhv_config {
	char kernel[PATH_MAX];
	enum bhv_kernel_format kernel_format;
	char initrd[PATH_MAX];
	char cmdline[BHV_CMDLINE_MAX];
	uint64_t mem_mib;
	int cpus;
	struct bhv_disk disks[BHV_MAX_DISKS];
	int n_disks;
	int net_fd;     /* an open tap fd handed in, or -1 */
	uint8_t mac[6]; /* the guest's address; a fixed local one by default */
	enum bhv_console console;
	bool rng;
	/* The jail (README.md, "Threat model"). */
	bool jail;
	uid_t jail_uid;
	gid_t jail_gid;
	/* Not given: run takes a uid of its own (jail_uid_allocate), and the
	 * gid follows it unless one was given. */
	bool jail_uid_auto, jail_gid_auto;
	char cgroup[PATH_MAX];
};

void config_defaults(struct bhv_config *cfg);

/* Parses the command-line flags into cfg. --config FILE is applied first,
 * wherever it appears, and the other flags override it. */
int config_from_args(struct bhv_config *cfg, int argc, char **argv, struct bh_error *err);

/* Parses a JSON config document (config_json.c documents the fields);
 * `name` is used in messages. */
int config_from_json(struct bhv_config *cfg, const char *name, const char *text, size_t len,
                     struct bh_error *err);
int config_from_file(struct bhv_config *cfg, const char *path, struct bh_error *err);

/* Checks the values that do not need the files: sizes, counts, limits. */
int config_check(const struct bhv_config *cfg, struct bh_error *err);

/* Value parsers shared by the flags and the JSON file. */
int parse_mem_mib(const char *s, uint64_t *mib);
int parse_mac(const char *s, uint8_t mac[6]);
int parse_console(const char *s, enum bhv_console *c);
int parse_disk(const char *s, struct bhv_disk *d);

#endif
