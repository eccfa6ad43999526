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

static int n_warnings;
static char last_warning[2048];

static void count_warning(const char *line)
{
	n_warnings++;
	snprintf(last_warning, sizeof(last_warning), "%s", line);
}

/* A config whose process has the given members after args, cwd and user
 * (uid 1000), warnings counted from zero. */
static int process_with(const char *members)
{
	n_warnings = 0;
	last_warning[0] = 0;
	return parse(
	    "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"r\"}, \"process\": "
	    "{\"args\": [\"a\"], \"cwd\": \"/\", \"user\": {\"uid\": 1000, \"gid\": 1000}, "
	    "%s}}",
	    members);
}

#define KILL (1ULL << 5)
#define NBS  (1ULL << 10)

/* Issue 20 item 8: the five capability sets as written, less the deny
 * list and what the kernel refuses, each left-out capability warned;
 * noNewPrivileges false warned. */
static void test_caps(void)
{
	static const char *const deny[] = {
	    "CAP_SYS_MODULE",         "CAP_SYS_RAWIO",     "CAP_SYS_TIME", "CAP_SYS_BOOT",
	    "CAP_MAC_ADMIN",          "CAP_MAC_OVERRIDE",  "CAP_SYSLOG",   "CAP_WAKE_ALARM",
	    "CAP_BLOCK_SUSPEND",      "CAP_AUDIT_CONTROL", "CAP_BPF",      "CAP_PERFMON",
	    "CAP_CHECKPOINT_RESTORE", "CAP_SYS_ADMIN",     "CAP_NET_ADMIN"};
	int n_denied = 0, listed = 0;

	bhc_warn_set_sink(count_warning);
	ok(process_with(
	       "\"capabilities\": {\"bounding\": [\"CAP_CHOWN\", \"CAP_KILL\", "
	       "\"CAP_NET_BIND_SERVICE\"], \"permitted\": [\"CAP_KILL\", "
	       "\"CAP_NET_BIND_SERVICE\"], \"effective\": [\"CAP_KILL\"], \"inheritable\": "
	       "[\"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"], \"ambient\": "
	       "[\"CAP_NET_BIND_SERVICE\"]}") == 0 &&
	       cfg.caps[CAPSET_BOUNDING] == (1 | KILL | NBS) &&
	       cfg.caps[CAPSET_PERMITTED] == (KILL | NBS) && cfg.caps[CAPSET_EFFECTIVE] == KILL &&
	       cfg.caps[CAPSET_INHERITABLE] == (KILL | NBS) && cfg.caps[CAPSET_AMBIENT] == NBS &&
	       n_warnings == 0,
	   "the five capability sets as written, no warning: %s %s", err.msg, last_warning);
	ok(process_with("\"capabilities\": {\"bounding\": [\"CAP_KILL\", \"CAP_SYS_MODULE\"], "
	                "\"permitted\": [\"CAP_SYS_MODULE\", \"CAP_KILL\"], \"effective\": "
	                "[\"CAP_SYS_MODULE\"]}") == 0 &&
	       cfg.caps[CAPSET_BOUNDING] == KILL && cfg.caps[CAPSET_PERMITTED] == KILL &&
	       cfg.caps[CAPSET_EFFECTIVE] == 0 && n_warnings == 3 &&
	       strstr(last_warning,
	              "bhc: warning: /bundle/config.json: "
	              "$.process.capabilities.permitted: CAP_SYS_MODULE: not granted: "
	              "bhc never grants it: it loads code into the host's kernel"),
	   "a denied capability: left out of every set, one warning per set (%d): %s", n_warnings,
	   last_warning);
	for (int c = 0; bh_cap_name(c); c++) {
		int in_list = 0;

		for (size_t i = 0; i < sizeof(deny) / sizeof(*deny); i++)
			in_list |= !strcmp(deny[i], bh_cap_name(c));
		n_denied += bhc_cap_denied(c) != NULL;
		listed += in_list && bhc_cap_denied(c) != NULL;
	}
	ok(n_denied == (int)(sizeof(deny) / sizeof(*deny)) && listed == n_denied,
	   "the deny list is the README's %zu capabilities (%d denied, %d of them listed)",
	   sizeof(deny) / sizeof(*deny), n_denied, listed);
	ok(process_with("\"capabilities\": {\"bounding\": [\"CAP_KILL\", \"CAP_FLY\"]}") == 0 &&
	       cfg.caps[CAPSET_BOUNDING] == KILL && n_warnings == 1 &&
	       strstr(last_warning, "$.process.capabilities.bounding[1]: 'CAP_FLY' is not a "
	                            "capability bhc knows: ignored"),
	   "an unknown capability name: a warning, not an error (%s): %s", err.msg, last_warning);
	ok(process_with("\"capabilities\": {\"bounding\": [\"CAP_\\nX\"]}") == 0 &&
	       n_warnings == 1 && strstr(last_warning, "'CAP_?X' is not") &&
	       strchr(last_warning, '\n') == last_warning + strlen(last_warning) - 1,
	   "an unknown name with a newline: the warning stays one line: %s", last_warning);
	/* runc spec's own sets: ambient without inheritable. */
	ok(process_with(
	       "\"capabilities\": {\"bounding\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", "
	       "\"CAP_NET_BIND_SERVICE\"], \"effective\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", "
	       "\"CAP_NET_BIND_SERVICE\"], \"permitted\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", "
	       "\"CAP_NET_BIND_SERVICE\"], \"ambient\": [\"CAP_AUDIT_WRITE\", \"CAP_KILL\", "
	       "\"CAP_NET_BIND_SERVICE\"]}") == 0 &&
	       cfg.caps[CAPSET_AMBIENT] == 0 &&
	       cfg.caps[CAPSET_PERMITTED] == ((1ULL << 29) | KILL | NBS) && n_warnings == 1 &&
	       strstr(last_warning,
	              "$.process.capabilities.ambient: CAP_KILL, CAP_NET_BIND_SERVICE, "
	              "CAP_AUDIT_WRITE: not raised: an ambient capability must be in "
	              "the permitted and inheritable sets too"),
	   "ambient capabilities that are not inheritable: not raised, one warning (%d): %s",
	   n_warnings, last_warning);
	ok(process_with("\"capabilities\": {\"bounding\": [\"CAP_KILL\"], \"permitted\": "
	                "[\"CAP_KILL\"], \"effective\": [\"CAP_KILL\", \"CAP_NET_BIND_SERVICE\"], "
	                "\"inheritable\": [\"CAP_KILL\", \"CAP_CHOWN\"], \"ambient\": "
	                "[\"CAP_CHOWN\"]}") == 0 &&
	       cfg.caps[CAPSET_EFFECTIVE] == KILL && cfg.caps[CAPSET_INHERITABLE] == KILL &&
	       cfg.caps[CAPSET_AMBIENT] == 0 && n_warnings == 3,
	   "effective outside permitted, inheritable outside bounding, and an ambient capability "
	   "they took away: one warning each (%d): %s",
	   n_warnings, last_warning);
	ok(process_with("\"noNewPrivileges\": false") == 0 && n_warnings == 1 &&
	       strstr(last_warning, "$.process.noNewPrivileges: false ignored: bhc always sets "
	                            "no_new_privs"),
	   "noNewPrivileges false: a warning (%s): %s", err.msg, last_warning);
	ok(process_with("\"noNewPrivileges\": true") == 0 && n_warnings == 0 &&
	       process_with("\"terminal\": false") == 0 && n_warnings == 0,
	   "noNewPrivileges true or absent: no warning: %s", last_warning);
	bhc_warn_set_sink(NULL);
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
		bhc_warn_set_sink(count_warning);
		n_warnings = 0;
		ok(bhc_cgroup_path(&cfg, "web", rel, sizeof(rel), &err) == 0 &&
		       !strcmp(rel, "workloads/system/evil") && n_warnings == 1 &&
		       strstr(last_warning, "$.linux.cgroupsPath: '/system/evil' is outside "
		                            "/workloads") &&
		       strstr(last_warning, "placed at /workloads/system/evil"),
		   "cgroupsPath outside /workloads: placed below it, with a warning: %s", rel);
		bhc_warn_set_sink(NULL);
		cfg.cgroups_path = "/workloads";
		ok(bhc_cgroup_path(&cfg, "web", rel, sizeof(rel), &err) < 0 &&
		       strstr(err.msg, "delegated to workloads itself"),
		   "cgroupsPath /workloads itself refused: %s", err.msg);
		cfg.cgroups_path = "/../system";
		ok(bhc_cgroup_path(&cfg, "web", rel, sizeof(rel), &err) < 0,
		   "cgroupsPath /../system refused");
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
	bad("\"linux\": {\"resources\": {\"hugepageLimits\": [{\"pageSize\": \"2XB\", "
	    "\"limit\": 1}]}}",
	    "$.linux.resources.hugepageLimits[0].pageSize: '2XB' is not a size", "a bad page size");
	bad("\"linux\": {\"resources\": {\"devices\": [{\"allow\": true, \"type\": \"b\", "
	    "\"access\": \"rwm\"}]}}",
	    "$.linux.resources.devices[0]: allowing every block device",
	    "allowing every block device");
	bad("\"linux\": {\"resources\": {\"devices\": [{\"allow\": true, \"access\": "
	    "\"rwm\"}]}}",
	    "allowing every device", "allowing every device");
	bad("\"linux\": {\"resources\": {\"cpu\": {\"cpus\": \"0-1;x\"}}}",
	    "$.linux.resources.cpu.cpus: '0-1", "a cpu list with other characters");
	bad("\"linux\": {\"resources\": {\"blockIO\": {\"weight\": 5}}}",
	    "$.linux.resources.blockIO.weight", "a block weight below 10");
	bad("\"linux\": {\"resources\": {\"memory\": {\"disableOOMKiller\": true}}}",
	    "disableOOMKiller: not supported", "disabling the OOM killer");
	bad("\"linux\": {\"devices\": [{\"path\": \"/dev/net/tun\", \"type\": \"c\", "
	    "\"major\": 10, \"minor\": 200}]}",
	    "$.linux.devices[0]: device nodes beyond", "a device node of the host");

	/* Issue 20: settings accepted, with a warning when not applied. */
	bhc_warn_set_sink(count_warning);
	n_warnings = 0;
	ok(with("\"linux\": {\"resources\": {\"devices\": [{\"allow\": false, \"access\": "
	        "\"rwm\"}, {\"allow\": true, \"type\": \"c\", \"major\": 1, \"minor\": 3, "
	        "\"access\": \"rwm\"}, {\"allow\": true, \"type\": \"c\", \"major\": 10, "
	        "\"minor\": 200, \"access\": \"rwm\"}, {\"allow\": true, \"type\": \"b\", "
	        "\"access\": \"m\"}]}}") == 0 &&
	       n_warnings == 2 && strstr(last_warning, "devices[3]") &&
	       strstr(last_warning,
	              "bhc: warning: /bundle/config.json: $.linux.resources.devices[2]") == NULL,
	   "allow rules for devices bhc does not create: accepted, one warning each (%d): %s: %s",
	   n_warnings, err.msg, last_warning);
	n_warnings = 0;
	ok(with("\"linux\": {\"resources\": {\"memory\": {\"limit\": 1048576, \"kernel\": 1, "
	        "\"kernelTCP\": 1, \"swappiness\": 0, \"reservation\": 524288, "
	        "\"disableOOMKiller\": false}, \"cpu\": {\"cpus\": \"0-1,3\", \"mems\": \"0\"}, "
	        "\"blockIO\": {\"weight\": 500, \"leafWeight\": 10, \"throttleReadBpsDevice\": "
	        "[{\"major\": 8, \"minor\": 0, \"rate\": 1000}], \"throttleWriteIOPSDevice\": "
	        "[{\"major\": 8, \"minor\": 16, \"rate\": 20}]}, \"hugepageLimits\": "
	        "[{\"pageSize\": \"2MB\", \"limit\": 2097152}]}}") == 0,
	   "cgroup v2 fields runc accepts parse: %s", err.msg);
	ok(n_warnings == 4 && strstr(last_warning, "leafWeight: ignored"),
	   "kernel, kernelTCP, swappiness, leafWeight: one warning each (%d): %s", n_warnings,
	   last_warning);
	ok(cfg.memory_low == 524288 && !strcmp(cfg.cpuset_cpus, "0-1,3") &&
	       !strcmp(cfg.cpuset_mems, "0") && cfg.io_weight == 500 && cfg.n_io_max == 2 &&
	       !strcmp(cfg.io_max[1].key, "wiops") && cfg.io_max[1].minor == 16 &&
	       cfg.n_hugetlb == 1 && !strcmp(cfg.hugetlb[0].page_size, "2MB") &&
	       bhc_config_has_limits(&cfg),
	   "reservation, cpus, mems, blockIO and hugepage limits kept for the cgroup");
	bhc_warn_set_sink(NULL);
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
	         "[\"CAP_CHOWN\", \"cap_net_raw\"]}, \"apparmorProfile\": \"\", "
	         "\"oomScoreAdj\": 500}, "
	         "\"unknownThing\": {\"x\": 1}}") == 0 &&
	       cfg.caps[CAPSET_BOUNDING] == ((1ULL << 0) | (1ULL << 13)) &&
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
	test_caps();
	bhc_config_free(&cfg);
	return done();
}
