/* OSV advisory matching: purl, name and CPE identification, listed versions,
 * ranges with introduced/fixed/last_affected, GIT ranges as notes, and clear
 * errors with the JSON path for malformed advisories. */
#include "tap.h"

#include <bulkhead/sbom.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[] = "/tmp/bhsbom-osv-XXXXXX";
static struct spdx_package pkgs[] = {
	{.spdxid = "p1", .name = "busybox", .version = "1.37.0", .purl = "pkg:generic/busybox@1.37.0?download_url=x",
	 .cpe = "cpe:2.3:a:busybox:busybox:1.37.0:*:*:*:*:*:*:*"},
	{.spdxid = "p2", .name = "mbedtls", .version = "3.6.6", .purl = "pkg:github/mbed-tls/mbedtls@mbedtls-3.6.6"},
	{.spdxid = "p3", .name = "init", .version = "abc", .purl = "pkg:generic/bulkhead-init@abc"},
};
static struct spdx_doc doc = {.pkgs = pkgs, .n_pkgs = 3};

static int match(const char *json, struct osv_result *res, struct bh_error *err)
{
	FILE *f = fopen(path, "w");

	fputs(json, f);
	fclose(f);
	return osv_match_file(path, &doc, res, err);
}

static size_t count(const char *json)
{
	struct osv_result res;
	struct bh_error err;
	size_t n;

	if (match(json, &res, &err) < 0) {
		diag(err.msg);
		return 99;
	}
	n = res.n;
	osv_result_free(&res);
	return n;
}

static void bad(const char *json, const char *want, const char *what)
{
	struct osv_result res;
	struct bh_error err;
	int r = match(json, &res, &err);

	ok(r < 0 && strstr(err.msg, want), "rejects %s: %s", what, r < 0 ? err.msg : "(accepted)");
	if (r == 0)
		osv_result_free(&res);
}

int main(void)
{
	struct osv_result res;
	struct bh_error err;
	char base[64];
	int fd = mkstemp(path);

	close(fd);
	ok(purl_base("pkg:GitHub/Mbed-TLS/mbedtls@x?y#z", base, sizeof(base)) &&
		   !strcmp(base, "github/mbed-tls/mbedtls"),
	   "purl base drops version, qualifiers, subpath; lowercases");
	ok(!purl_base("busybox", base, sizeof(base)), "a bare name is not a purl");

	ok(count("{\"id\":\"A-1\",\"affected\":[{\"package\":{\"purl\":\"pkg:generic/busybox\"},"
		 "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":"
		 "\"1.38.0\"}]}]}]}") == 1,
	   "an affected version inside introduced..fixed matches (purl)");
	ok(count("{\"id\":\"A-2\",\"affected\":[{\"package\":{\"purl\":\"pkg:generic/busybox\"},"
		 "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"0\"},{\"fixed\":"
		 "\"1.36.1\"}]}]}]}") == 0,
	   "a version at or after fixed does not match");
	ok(count("{\"id\":\"A-3\",\"affected\":[{\"package\":{\"purl\":\"pkg:github/mbed-tls/mbedtls\"},"
		 "\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"3.6.0\"},"
		 "{\"last_affected\":\"3.6.6\"}]}]}]}") == 1,
	   "last_affected is inclusive");
	ok(count("{\"id\":\"A-4\",\"affected\":[{\"package\":{\"purl\":\"pkg:github/mbed-tls/mbedtls\"},"
		 "\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":\"3.6.7\"}]}]}]}") == 0,
	   "a version before introduced does not match");
	ok(count("{\"id\":\"A-5\",\"affected\":[{\"package\":{\"name\":\"init\",\"ecosystem\":"
		 "\"Bulkhead\"},\"versions\":[\"abc\"]}]}") == 1,
	   "an exact version in versions[] matches (Bulkhead ecosystem name)");
	ok(count("{\"id\":\"A-6\",\"affected\":[{\"package\":{\"name\":\"x\",\"ecosystem\":\"npm\"},"
		 "\"database_specific\":{\"cpe\":\"cpe:2.3:a:busybox:busybox:*:*:*:*:*:*:*:*\"},"
		 "\"ranges\":[{\"type\":\"ECOSYSTEM\",\"events\":[{\"introduced\":\"1.30\"}]}]}]}") == 1,
	   "a CPE vendor:product identifies the component");
	ok(count("[{\"id\":\"B-1\",\"affected\":[{\"package\":{\"purl\":\"pkg:generic/busybox\"},"
		 "\"versions\":[\"1.37.0\"]}]},{\"id\":\"B-2\",\"affected\":[{\"package\":{\"purl\":"
		 "\"pkg:generic/musl\"},\"versions\":[\"1.2.5\"]}]}]") == 1,
	   "an array of advisories; an absent component never matches");
	ok(count("{\"vulns\":[{\"id\":\"C-1\",\"affected\":[{\"package\":{\"purl\":"
		 "\"pkg:generic/busybox\"},\"versions\":[\"1.37.0\"]}]}]}") == 1,
	   "OSV API form {\"vulns\": [...]}");
	ok(match("{\"id\":\"G-1\",\"affected\":[{\"package\":{\"purl\":\"pkg:generic/busybox\"},"
		 "\"ranges\":[{\"type\":\"GIT\",\"repo\":\"x\",\"events\":[{\"introduced\":\"abc\"}]}]}]}",
		 &res, &err) == 0 && res.n == 0 && res.notes.n == 1,
	   "a GIT range is a note, not a match");
	osv_result_free(&res);

	bad("{\"id\":\"X\",\"affected\":", "not valid JSON at byte", "truncated JSON");
	bad("{\"affected\":[]}", "$.id is missing", "an advisory without id");
	bad("{\"id\":\"X\",\"affected\":{}}", "$.affected must be an array", "affected as an object");
	bad("{\"id\":\"X\",\"affected\":[{\"ranges\":[{\"type\":\"SEMVER\",\"events\":[{\"introduced\":"
	    "\"0\",\"fixed\":\"1\"}]}]}]}", "$.affected[0].ranges[0].events[0] must be an object with one event",
	    "an event with two keys");
	bad("[{\"id\":\"X\"},{\"id\":\"Y\",\"affected\":[{\"versions\":[1]}]}]",
	    "$[1].affected[0].versions[0] must be a string", "a version that is a number");
	bad("42", "$ must be an advisory", "a number");
	unlink(path);
	return done();
}
