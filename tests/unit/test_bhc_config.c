/* bhc's config.json parser: a runc-style config parses into the right
 * fields, and each kind of bad input is refused with the JSON path and the
 * reason. */
#include "tap.h"

#include "libbhc.h"

#include <stdio.h>
#include <string.h>
#include <sys/mount.h>

static struct bhc_config cfg;
static struct bh_error err;

static const char *base_process =
    "\"process\": {\"args\": [\"sh\", \"-c\", \"true\"], \"cwd\": \"/\", "
    "\"user\": {\"uid\": 0, \"gid\": 0}, \"env\": [\"PATH=/bin\"]}";

static int parse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int parse(const char *fmt, ...)
{
	char text[8192];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	bhc_config_free(&cfg);
	memset(&err, 0, sizeof(err));
	return bhc_config_parse("/bundle", text, strlen(text), &cfg, &err);
}

/* A config with the given extra top-level members. */
static int with(const char *extra)
{
	return parse("{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"}, %s%s%s}",
	             base_process, *extra ? ", " : "", extra);
}

static char warning[1024];

static void keep_warning(const char *line)
{
	snprintf(warning, sizeof(warning), "%s", line);
}

static void bad(const char *extra, const char *want, const char *what)
{
	int r = with(extra);

	ok(r < 0 && strstr(err.msg, want) != NULL, "refuses %s: %s", what,
	   r < 0 ? err.msg : "(accepted)");
}

int main(void)
{
	ok(with("") == 0, "minimal config parses: %s", err.msg);
	ok(!strcmp(cfg.rootfs, "/bundle/rootfs") && cfg.readonly,
	   "root.path is relative to the bundle; read-only by default");
	ok(cfg.n_args == 3 && !strcmp(cfg.args[2], "true") && cfg.args[3] == NULL,
	   "args, NULL-terminated");
	ok(cfg.n_env == 1 && cfg.umask == -1 && cfg.memory_max == -1 && cfg.pids_max == -1,
	   "defaults");
	ok(!bhc_config_has_limits(&cfg), "no limits unless asked");

	ok(with("\"hostname\": \"web\", \"mounts\": [{\"destination\": \"/proc\", \"type\": "
	        "\"proc\", \"source\": "
	        "\"proc\"}, {\"destination\": \"/dev\", \"type\": \"tmpfs\", \"source\": "
	        "\"tmpfs\", \"options\": "
	        "[\"nosuid\", \"strictatime\", \"mode=755\", \"size=65536k\"]}, {\"destination\": "
	        "\"/data\", "
	        "\"type\": \"bind\", \"source\": \"/srv\", \"options\": [\"rbind\", \"ro\", "
	        "\"rprivate\"]}], "
	        "\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"network\", "
	        "\"path\": "
	        "\"/run/netns/web\"}], \"uidMappings\": [{\"containerID\": 0, \"hostID\": 100000, "
	        "\"size\": "
	        "65536}], \"gidMappings\": [{\"containerID\": 0, \"hostID\": 100000, \"size\": "
	        "65536}], "
	        "\"cgroupsPath\": \"/workloads/web\", \"resources\": {\"memory\": {\"limit\": "
	        "1048576}, "
	        "\"pids\": {\"limit\": 10}, \"cpu\": {\"quota\": 5000, \"period\": 10000}}, "
	        "\"maskedPaths\": "
	        "[\"/proc/kcore\"], \"sysctl\": {\"net.ipv4.ip_forward\": \"0\"}}") == 0,
	   "a full config parses: %s", err.msg);
	ok(!strcmp(cfg.hostname, "web") && cfg.n_mounts == 3, "hostname and mounts");
	ok(cfg.mounts[1].flags == (MS_NOSUID | MS_STRICTATIME) &&
	       !strcmp(cfg.mounts[1].data, "mode=755,size=65536k"),
	   "mount options split into flags and filesystem data (%lx, %s)", cfg.mounts[1].flags,
	   cfg.mounts[1].data);
	ok(cfg.mounts[2].bind && cfg.mounts[2].recursive && (cfg.mounts[2].flags & MS_RDONLY) &&
	       cfg.mounts[2].propagation == (MS_PRIVATE | MS_REC),
	   "rbind, ro, rprivate");
	ok(cfg.ns_path[NS_NET] && !strcmp(cfg.ns_path[NS_NET], "/run/netns/web") &&
	       !cfg.ns_path[NS_PID],
	   "a network namespace path is kept for joining");
	ok(cfg.n_uidmap == 1 && cfg.uidmap[0].host == 100000 && cfg.gidmap[0].size == 65536,
	   "id mappings");
	ok(cfg.memory_max == 1048576 && cfg.pids_max == 10 && cfg.cpu_quota == 5000 &&
	       cfg.cpu_period == 10000 && bhc_config_has_limits(&cfg),
	   "resources");
	ok(cfg.n_sysctls == 1 && !strcmp(cfg.sysctls[0].key, "net.ipv4.ip_forward"),
	   "namespaced sysctl");
	{
		char rel[512];

		ok(bhc_cgroup_path(&cfg, "web", rel, sizeof(rel), &err) == 0 &&
		       !strcmp(rel, "workloads/web"),
		   "cgroupsPath under /workloads: %s", rel);
		cfg.cgroups_path = "/system/evil";
		ok(bhc_cgroup_path(&cfg, "web", rel, sizeof(rel), &err) < 0 &&
		       strstr(err.msg, "outside /workloads"),
		   "cgroupsPath outside /workloads refused: %s", err.msg);
		cfg.cgroups_path = "/workloads/../system";
		ok(bhc_cgroup_path(&cfg, "web", rel, sizeof(rel), &err) < 0,
		   "cgroupsPath with .. refused");
		cfg.cgroups_path = NULL;
		ok(bhc_cgroup_path(&cfg, "db", rel, sizeof(rel), &err) == 0 &&
		       !strcmp(rel, "workloads/db"),
		   "default cgroup is /workloads/<id>");
	}

	ok(parse("{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"r\"}, \"process\": {") < 0 &&
	       strstr(err.msg, "invalid JSON at byte"),
	   "truncated JSON: %s", err.msg);
	ok(parse("[]") < 0 && strstr(err.msg, "$: expected an object, got an array"),
	   "not an object: %s", err.msg);
	ok(parse("{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"r\"}}") < 0 &&
	       strstr(err.msg, "$.process: missing"),
	   "no process: %s", err.msg);
	ok(parse("{\"ociVersion\": 1, \"root\": {\"path\": \"r\"}}") < 0 &&
	       strstr(err.msg, "$.ociVersion: expected a string, got a number"),
	   "ociVersion type: %s", err.msg);
	bad("\"hooks\": {}", "$.hooks: not supported by bhc", "hooks");
	ok(parse("{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"\"}, %s}", base_process) < 0 &&
	       strstr(err.msg, "$.root.path: must not be empty"),
	   "an empty root path: %s", err.msg);
	ok(parse("{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"r\", \"readonly\": \"yes\"}, "
	         "%s}",
	         base_process) < 0 &&
	       strstr(err.msg, "$.root.readonly: expected a boolean, got a string"),
	   "a string readonly: %s", err.msg);
	bad("\"mounts\": [{\"destination\": \"/x\", \"type\": \"nfs\"}]",
	    "$.mounts[0].type: 'nfs' is not supported", "nfs");
	bad("\"mounts\": [{\"destination\": \"/x\", \"type\": \"tmpfs\", \"options\": "
	    "[\"remount\"]}]",
	    "$.mounts[0].options[0]: mount option 'remount' is not supported", "remount");
	bad("\"mounts\": [{\"destination\": \"/x\", \"type\": \"bind\"}]",
	    "$.mounts[0].source: a bind mount needs a source", "a bind without source");
	/* Filesystem options on a bind: the kernel ignores them, so bhc
	 * accepts them with a warning that names the field (issue 20, item 7). */
	bhc_warn_set_sink(keep_warning);
	ok(with("\"mounts\": [{\"destination\": \"/x\", \"source\": \"/y\", \"options\": "
	        "[\"bind\", \"size=1\"]}]") == 0 &&
	       cfg.mounts[0].bind && !cfg.mounts[0].data[0] &&
	       strstr(warning, "bhc: warning: /bundle/config.json: $.mounts[0].options: 'size=1' "
	                       "ignored"),
	   "data options on a bind: accepted, dropped, warned: %s", warning);
	warning[0] = 0;
	{
		int r = with("\"mounts\": [{\"destination\": \"/x\", \"type\": \"tmpfs\", "
		             "\"options\": [\"tmpcopyup\", \"rprivate\"]}]");

		ok(r == 0 && cfg.mounts[0].tmpcopyup &&
		       cfg.mounts[0].propagation == (MS_PRIVATE | MS_REC) && !cfg.mounts[0].data[0] &&
		       !warning[0],
		   "tmpcopyup and rprivate on a tmpfs are mount settings, not data: %s",
		   r == 0 ? cfg.mounts[0].data : err.msg);
	}
	bhc_warn_set_sink(NULL);
	bad("\"linux\": {\"namespaces\": [{\"type\": \"pid\"}, {\"type\": \"pid\"}]}",
	    "'pid' is listed twice", "a namespace twice");
	bad("\"linux\": {\"namespaces\": [{\"type\": \"mount\", \"path\": \"/x\"}]}",
	    "$.linux.namespaces[0].path: joining an existing mount namespace is not supported",
	    "joining a mount ns");
	bad("\"linux\": {\"namespaces\": [{\"type\": \"network\", \"path\": \"netns\"}]}",
	    "not an absolute path", "a relative namespace path");
	bad("\"linux\": {\"uidMappings\": [{\"containerID\": 0, \"hostID\": 0, \"size\": 1}], "
	    "\"gidMappings\": "
	    "[{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}]}",
	    "$.linux.uidMappings[0].hostID: maps host root", "mapping host root");
	bad("\"linux\": {\"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 10}, "
	    "{\"containerID\": 5, "
	    "\"hostID\": 5000, \"size\": 10}], \"gidMappings\": [{\"containerID\": 0, \"hostID\": "
	    "1000, \"size\": 1}]}",
	    "container range overlaps entry 0", "overlapping ranges");
	bad("\"linux\": {\"uidMappings\": [{\"containerID\": 0, \"hostID\": 1000, \"size\": 1}]}",
	    "must be given together", "uid maps without gid maps");
	bad("\"linux\": {\"resources\": {\"memory\": {\"limit\": -5}}}", "limits must be -1",
	    "a negative memory limit");
	bad("\"linux\": {\"resources\": {\"memory\": {\"limit\": 100, \"swap\": 50}}}",
	    "must be at least memory.limit", "swap below memory");
	bad("\"linux\": {\"resources\": {\"cpu\": {\"period\": 5}}}", "outside 1000..1000000",
	    "a tiny cpu period");
	bad("\"linux\": {\"resources\": {\"hugepageLimits\": []}}",
	    "$.linux.resources.hugepageLimits: not supported", "hugepage limits");
	bad("\"linux\": {\"resources\": {\"devices\": [{\"allow\": true, \"type\": \"b\", "
	    "\"major\": 8, \"minor\": 0, "
	    "\"access\": \"rwm\"}]}}",
	    "allowing devices beyond bhc's minimal /dev", "allowing a block device");
	bad("\"linux\": {\"sysctl\": {\"kernel.panic\": \"1\"}}",
	    "$.linux.sysctl.kernel.panic: not a sysctl of the", "a host sysctl");
	bad("\"linux\": {\"sysctl\": {\"net.../x\": \"1\"}}", "not a sysctl",
	    "a sysctl with a path");
	bad("\"linux\": {\"intelRdt\": {}}", "$.linux.intelRdt: not supported", "intelRdt");
	bad("\"linux\": {\"maskedPaths\": [\"proc/kcore\"]}",
	    "$.linux.maskedPaths[0]: 'proc/kcore' is not an absolute", "a relative masked path");
	bad("\"linux\": {\"rootfsPropagation\": \"shared\"}", "'shared' is not supported",
	    "shared propagation");
	ok(parse("{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": "
	         "[\"a\\u0000b\"], "
	         "\"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": 0}}}") < 0 &&
	       strstr(err.msg, "$.process.args[0]: string holds a NUL"),
	   "a NUL inside a string: %s", err.msg);
	ok(parse("{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": "
	         "[\"a\"], "
	         "\"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": 0}, \"capabilities\": "
	         "{\"bounding\": "
	         "[\"CAP_SYS_ADMIN\", \"cap_net_raw\"]}, \"apparmorProfile\": \"\", "
	         "\"oomScoreAdj\": 500}, "
	         "\"unknownThing\": {\"x\": 1}}") == 0 &&
	       cfg.caps[CAPSET_BOUNDING] == ((1ULL << 21) | (1ULL << 13)) &&
	       cfg.oom_score_adj == 500,
	   "capability names any case, empty apparmorProfile, unknown properties ignored: %s",
	   err.msg);
	ok(parse("{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"r\"}, \"process\": {\"args\": "
	         "[\"a\"], "
	         "\"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": 0}, \"oomScoreAdj\": 5000}}") <
	           0 &&
	       strstr(err.msg, "$.process.oomScoreAdj: 5000 is outside -1000..1000"),
	   "a huge oomScoreAdj: %s", err.msg);
	bhc_config_free(&cfg);
	/* A config without limits gets a quarter of the memory, in pages. */
	ok(bhc_default_memory_max(1024ULL * 1024 * 1024) == 256 * 1024 * 1024 &&
	       bhc_default_memory_max(1000003) == 249856 && bhc_default_memory_max(0) == 0,
	   "default memory.max: a quarter of MemTotal, rounded down to whole pages");
	ok(BHC_DEFAULT_PIDS_MAX == 1024, "default pids.max: 1024");
	return done();
}
