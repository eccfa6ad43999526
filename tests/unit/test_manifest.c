/* Workload manifests: a full container and VM manifest parse; every kind of
 * bad input is an error naming the manifest and the JSON path. */
#include "tap.h"

#include <bulkhead/manifest.h>

#include <string.h>

static struct wl_manifest m;
static struct bh_error err;

static int parse(const char *json)
{
	wl_manifest_free(&m);
	return wl_manifest_parse(json, strlen(json), "m.json", &m, &err);
}

static void bad(const char *json, const char *want, const char *what)
{
	int r = parse(json);

	ok(r < 0 && strstr(err.msg, "m.json") && strstr(err.msg, want), "rejects %s: %s", what,
	   r < 0 ? err.msg : "(accepted)");
}

#define C(x) "{\"name\":\"web\",\"mode\":\"container\",\"container\":{\"args\":[\"/bin/x\"]}" x "}"

int main(void)
{
	ok(parse("{\"name\":\"web\",\"version\":\"1.2\",\"mode\":\"container\",\"container\":{\"args\":"
		 "[\"/usr/bin/httpd\",\"-p\",\"80\"],\"env\":[\"A=1\"],\"workdir\":\"/srv\",\"user\":"
		 "1000,\"group\":1000},\"resources\":{\"memory\":\"64M\",\"cpus\":0.5,\"pids\":64},"
		 "\"restart\":{\"policy\":\"always\",\"max_restarts\":3,\"delay_ms\":200},\"network\":"
		 "{\"mode\":\"isolated\",\"ports\":[{\"host\":8080,\"workload\":80}]},\"volumes\":"
		 "[{\"name\":\"data\",\"path\":\"/var/lib/web\"}]}") == 0,
	   "a full container manifest parses: %s", err.msg);
	ok(!strcmp(m.name, "web") && m.mode == WL_CONTAINER && m.n_args == 3 &&
		   !strcmp(m.args[2], "80") && m.n_env == 1 && !strcmp(m.workdir, "/srv") &&
		   m.user == 1000,
	   "container fields");
	ok(m.memory == 64u << 20 && m.cpu_millis == 500 && m.pids == 64, "resources");
	ok(m.restart == WL_RESTART_ALWAYS && m.max_restarts == 3 && m.restart_delay_ms == 200,
	   "restart policy");
	ok(m.network == WL_NET_ISOLATED && m.n_ports == 1 && m.ports[0].host == 8080 &&
		   m.ports[0].workload == 80 && m.n_volumes == 1,
	   "network and volumes");
	ok(parse("{\"name\":\"vm1\",\"mode\":\"vm\",\"vm\":{\"cmdline\":\"console=ttyS0\",\"vcpus\":2},"
		 "\"resources\":{\"memory\":\"128M\"}}") == 0 && m.mode == WL_VM && m.vcpus == 2 &&
		   m.memory == 128u << 20 && m.restart == WL_RESTART_ON_FAILURE,
	   "a vm manifest parses with defaults: %s", err.msg);
	ok(wl_parse_size("1G") == 1 << 30 && wl_parse_size("64MiB") == 64 << 20 &&
		   wl_parse_size("12x") < 0 && wl_parse_size("-1") < 0,
	   "sizes");

	bad("{", "not valid JSON", "truncated JSON");
	bad("[]", "$: expected an object, got an array", "an array");
	bad("{\"mode\":\"container\"}", "$.name: expected a string, got nothing", "no name");
	bad(C(",\"colour\":1"), "$.colour: unknown key", "an unknown field");
	/* bhd writes bhc's config.json from the manifest alone: hooks, which
	 * run as host root, have no way in. */
	bad(C(",\"hooks\":{\"prestart\":[{\"path\":\"/x\"}]}"), "$.hooks: unknown key",
	    "hooks in a manifest");
	bad("{\"name\":\"w\",\"mode\":\"container\",\"container\":{\"args\":[\"/x\"],"
	    "\"hooks\":{}}}",
	    "$.container.hooks: unknown key", "hooks in a manifest's container");
	bad("{\"name\":\"Web!\",\"mode\":\"container\",\"container\":{\"args\":[\"/x\"]}}", "$.name 'Web!'",
	    "a bad name");
	bad("{\"name\":\"w\",\"mode\":\"lxc\"}", "$.mode 'lxc'", "an unknown mode");
	bad("{\"name\":\"w\",\"mode\":\"container\",\"container\":{\"args\":[\"x\"]}}",
	    "$.container.args must start with an absolute", "a relative program");
	bad("{\"name\":\"w\",\"mode\":\"container\",\"container\":{\"args\":[\"/x\"],\"env\":[\"NOEQ\"]}}",
	    "$.container.env[0]", "an env entry without =");
	bad(C(",\"resources\":{\"memory\":\"lots\"}"), "$.resources.memory", "a bad memory size");
	bad(C(",\"resources\":{\"cpus\":0}"), "$.resources.cpus", "zero cpus");
	bad(C(",\"resources\":{\"pids\":-4}"), "$.resources.pids", "negative pids");
	bad(C(",\"restart\":{\"policy\":\"sometimes\"}"), "$.restart.policy 'sometimes'", "a bad policy");
	bad(C(",\"network\":{\"mode\":\"none\",\"ports\":[{\"host\":1,\"workload\":2}]}"),
	    "$.network.ports needs mode isolated", "ports without a network");
	bad(C(",\"network\":{\"mode\":\"isolated\",\"ports\":[{\"host\":70000,\"workload\":2}]}"),
	    "$.network.ports[0].host", "a port out of range");
	bad(C(",\"volumes\":[{\"name\":\"v\",\"path\":\"/a/../etc\"}]"), "$.volumes[0].path",
	    "a volume path with ..");
	bad("{\"name\":\"v\",\"mode\":\"vm\",\"vm\":{}}", "$.resources.memory is required",
	    "a vm without memory");
	bad("{\"name\":\"v\",\"mode\":\"vm\",\"vm\":{},\"container\":{}}", "$.container given",
	    "a vm with a container section");
	wl_manifest_free(&m);
	return done();
}
