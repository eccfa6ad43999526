/* The update manifest parser and image version rules (firmware/lib/update.c). */
#include "tap.h"

#include <bulkhead/sbom.h>
#include <bulkhead/update.h>

#include <string.h>

static int parse(const char *json, struct update_manifest *m, struct bh_error *err)
{
	return update_manifest_parse(json, strlen(json), "u.bhu", m, err);
}

static void bad(const char *json, const char *why)
{
	struct update_manifest m;
	struct bh_error err = {0};

	ok(parse(json, &m, &err) < 0 && strstr(err.msg, why) && strstr(err.msg, "u.bhu"),
	   "refused (%s): %s", why, err.msg);
}

int main(void)
{
	struct update_manifest m;
	struct bh_error err = {0};

	ok(parse("{\"board\": \"qemu-x86_64\", \"arch\": \"x86_64\", \"version\": \"0.1.0.1764100000\", "
		 "\"slot_bytes\": 8192}", &m, &err) == 0 && !strcmp(m.board, "qemu-x86_64") &&
		   !strcmp(m.arch, "x86_64") && !strcmp(m.version, "0.1.0.1764100000") &&
		   m.slot_bytes == 8192,
	   "a good manifest parses %s", err.msg);
	bad("[]", "not a JSON object");
	bad("{\"board\": \"b\", \"arch\": \"x86_64\", \"slot_bytes\": 4096}", "$.version");
	bad("{\"board\": \"b\", \"arch\": \"riscv64\", \"version\": \"1\", \"slot_bytes\": 4096}",
	    "is not x86_64 or aarch64");
	bad("{\"board\": \"b\", \"arch\": \"x86_64\", \"version\": \"../x\", \"slot_bytes\": 4096}",
	    "not a valid image version");
	bad("{\"board\": \"b\", \"arch\": \"x86_64\", \"version\": \"1+3-0\", \"slot_bytes\": 4096}",
	    "not a valid image version");
	bad("{\"board\": \"b\", \"arch\": \"x86_64\", \"version\": \"1\", \"slot_bytes\": 4097}",
	    "multiple of 4096");
	bad("{\"board\": \"b\", \"arch\": \"x86_64\", \"version\": \"1\", \"slot_bytes\": -4096}",
	    "multiple of 4096");
	bad("{\"board\": 5, \"arch\": \"x86_64\", \"version\": \"1\", \"slot_bytes\": 4096}", "$.board");
	bad("not json", "not a JSON object");
	ok(update_version_valid("0.1.0.1764100000") && update_version_valid("1.0~rc1"),
	   "plain versions are valid");
	ok(!update_version_valid("") && !update_version_valid("a/b") && !update_version_valid("1 2") &&
		   !update_version_valid(".1") && !update_version_valid("1+2"),
	   "empty, '/', ' ', a leading '.' and '+' are not");
	ok(version_compare("0.1.0.1764100000", "0.1.0.1764100000.1") < 0, "a suffix is newer");
	ok(version_compare("0.1.0.1764100000", "0.1.0.1764000000") > 0, "a later commit is newer");
	ok(version_compare("0.2.0.1", "0.1.0.1764100000") > 0, "VERSION outranks the commit time");
	return done();
}
