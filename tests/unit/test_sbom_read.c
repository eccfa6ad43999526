/* Reading SPDX documents: the fields bhsbom uses, and a clear error with the
 * file and JSON path for every malformed or truncated document. */
#include "tap.h"

#include <bulkhead/sbom.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char path[] = "/tmp/bhsbom-read-XXXXXX";

static int read_text(const char *text, struct spdx_doc *doc, struct bh_error *err)
{
	FILE *f = fopen(path, "w");

	fputs(text, f);
	fclose(f);
	return spdx_read(path, doc, err);
}

static void bad(const char *text, const char *want, const char *what)
{
	struct spdx_doc doc;
	struct bh_error err;
	int r = read_text(text, &doc, &err);

	ok(r < 0 && strstr(err.msg, path) && strstr(err.msg, want), "rejects %s: %s", what,
	   r < 0 ? err.msg : "(accepted)");
	if (r == 0)
		spdx_doc_free(&doc);
}

#define GOOD                                                                                    \
	"{\"spdxVersion\":\"SPDX-2.3\",\"name\":\"img\",\"packages\":[{\"SPDXID\":\"SPDXRef-"    \
	"Package-busybox\",\"name\":\"busybox\",\"versionInfo\":\"1.37.0\",\"licenseConcluded\":" \
	"\"GPL-2.0-only\",\"externalRefs\":[{\"referenceCategory\":\"PACKAGE-MANAGER\","         \
	"\"referenceType\":\"purl\",\"referenceLocator\":\"pkg:generic/busybox@1.37.0\"}]}],"    \
	"\"files\":[{\"SPDXID\":\"SPDXRef-File-1\",\"fileName\":\"./bin/busybox\",\"checksums\":" \
	"[{\"algorithm\":\"SHA1\",\"checksumValue\":\"x\"},{\"algorithm\":\"SHA256\","           \
	"\"checksumValue\":\"" SHA "\"}]},{\"SPDXID\":\"SPDXRef-File-2\",\"fileName\":"          \
	"\"./sbin/udhcpc\",\"comment\":\"symbolic link to ../bin/busybox (checksums are of the " \
	"target text)\",\"checksums\":[{\"algorithm\":\"SHA256\",\"checksumValue\":\"" SHA "\"}]}]}"
#define SHA "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

int main(void)
{
	struct spdx_doc doc;
	struct bh_error err;
	int fd = mkstemp(path);

	close(fd);
	ok(read_text(GOOD, &doc, &err) == 0, "a well-formed document reads: %s", err.msg);
	ok(doc.n_pkgs == 1 && !strcmp(doc.pkgs[0].name, "busybox") &&
		   !strcmp(doc.pkgs[0].version, "1.37.0") &&
		   !strcmp(doc.pkgs[0].purl, "pkg:generic/busybox@1.37.0"),
	   "package name, version and purl");
	ok(doc.n_files == 2 && !strcmp(doc.files[0].path, "bin/busybox") &&
		   !strcmp(doc.files[0].sha256, SHA) && !doc.files[0].link_target,
	   "file path without ./ and its SHA-256");
	ok(doc.files[1].link_target && !strcmp(doc.files[1].link_target, "../bin/busybox"),
	   "a symlink's target comes from its comment");
	spdx_doc_free(&doc);

	bad("{\"spdxVersion\":\"SPDX-2.3\",\"name\":\"x\",\"packages\":[", "not valid JSON at byte",
	    "a truncated document");
	bad("[]", "$ must be an object", "an array");
	bad("{\"name\":\"x\"}", "$.spdxVersion is missing", "a missing version");
	bad("{\"spdxVersion\":\"SPDX-3.0\",\"name\":\"x\"}", "$.spdxVersion is 'SPDX-3.0'",
	    "another SPDX version");
	bad("{\"spdxVersion\":\"SPDX-2.3\",\"name\":\"x\",\"packages\":{}}",
	    "$.packages must be an array", "packages that are not an array");
	bad("{\"spdxVersion\":\"SPDX-2.3\",\"name\":\"x\",\"packages\":[{\"SPDXID\":\"a\"}]}",
	    "$.packages[0].name is missing", "a package without a name");
	bad("{\"spdxVersion\":\"SPDX-2.3\",\"name\":\"x\",\"packages\":[{\"SPDXID\":\"a\","
	    "\"name\":7}]}", "$.packages[0].name must be a string", "a name that is a number");
	bad("{\"spdxVersion\":\"SPDX-2.3\",\"name\":\"x\",\"files\":[{\"SPDXID\":\"f\","
	    "\"fileName\":\"./a\",\"checksums\":[]}]}", "$.files[0] has no SHA256", "a file without SHA-256");
	bad("{\"spdxVersion\":\"SPDX-2.3\",\"name\":\"x\",\"files\":[{\"SPDXID\":\"f\","
	    "\"fileName\":\"./../etc/shadow\",\"checksums\":[{\"algorithm\":\"SHA256\","
	    "\"checksumValue\":\"" SHA "\"}]}]}", "$.files[0].fileName", "a path that climbs out with ..");
	bad("{\"spdxVersion\":\"SPDX-2.3\",\"name\":\"x\",\"files\":[{\"SPDXID\":\"f\","
	    "\"fileName\":\"/etc/shadow\",\"checksums\":[]}]}", "must be a relative path", "an absolute path");
	bad("{\"spdxVersion\":\"SPDX-2.3\",\"name\":\"x\",\"files\":[{\"SPDXID\":\"f\","
	    "\"fileName\":\"./a\",\"checksums\":[{\"algorithm\":\"SHA256\",\"checksumValue\":\"zz\"}]}]}",
	    "$.files[0].checksums[0].checksumValue is not a SHA-256", "a bad digest");
	{
		struct spdx_doc d2;

		ok(spdx_read("/nonexistent/x.json", &d2, &err) < 0 && strstr(err.msg, "/nonexistent/x.json"),
		   "a missing file names it: %s", err.msg);
	}
	unlink(path);
	return done();
}
