/* Workload manifests (docs/workloads.md): what to run, in which
 * compartment, with which limits, restart policy, network and volumes.
 * Parsed by bhpack when it builds a bundle and by bhd when it installs one;
 * every error names the manifest and the JSON path. */
#ifndef BULKHEAD_MANIFEST_H
#define BULKHEAD_MANIFEST_H

#include <bulkhead/error.h>

#include <stdbool.h>
#include <stdint.h>
#include <stddef.h>

#define WL_NAME_MAX    64
#define WL_ARGS_MAX    64
#define WL_ENV_MAX     64
#define WL_PORTS_MAX   16
#define WL_VOLUMES_MAX 8

enum wl_mode { WL_CONTAINER, WL_VM };
enum wl_restart { WL_RESTART_ALWAYS, WL_RESTART_ON_FAILURE, WL_RESTART_NEVER };
enum wl_network { WL_NET_NONE, WL_NET_ISOLATED };

struct wl_port {
	uint16_t host, workload;
};

struct wl_volume {
	char name[WL_NAME_MAX];
	char path[256];
};

struct wl_manifest {
	char name[WL_NAME_MAX];
	char version[64];
	enum wl_mode mode;
	/* container */
	char *args[WL_ARGS_MAX + 1];
	char *env[WL_ENV_MAX + 1];
	size_t n_args, n_env;
	char workdir[256];
	uint32_t user, group;
	/* vm; which of kernel, initrd and disk.img it has comes from the bundle */
	char cmdline[1024];
	bool disk_readonly;
	uint32_t vcpus;
	/* resources: 0 means no limit (vm: memory is required) */
	uint64_t memory;
	uint32_t cpu_millis; /* 1000 = one CPU */
	uint32_t pids;
	/* restart */
	enum wl_restart restart;
	uint32_t max_restarts, restart_delay_ms;
	/* network */
	enum wl_network network;
	struct wl_port ports[WL_PORTS_MAX];
	size_t n_ports;
	struct wl_volume volumes[WL_VOLUMES_MAX];
	size_t n_volumes;
	char *storage; /* owns args and env */
};

int wl_manifest_parse(const char *json, size_t len, const char *what, struct wl_manifest *m,
		      struct bh_error *err);
void wl_manifest_free(struct wl_manifest *m);
/* "64M", "1G", "1048576" → bytes; -1 when malformed. */
int64_t wl_parse_size(const char *s);
bool wl_valid_name(const char *s);

#endif
