/* sbom_verify_installed (firmware/lib/sbom_verify.c), which bhd runs before
 * a workload's first start and bhsbom verify for the image and each
 * workload: a tree that matches its SPDX document has no findings; a
 * changed, a removed and an added file are each reported as prefix + path;
 * a skipped folder is not walked; the owner's own file (a VM's writable
 * disk.img) is never reported modified, and only this document's findings
 * are looked at for it; a document that cannot be read is an error naming
 * it. */
#include "tap.h"

#include <bulkhead/hash.h>
#include <bulkhead/sbom.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static char tmp[] = "/tmp/bh-sbom-verify.XXXXXX";
static char sbom[128], base[128];

static const char *at(const char *rel)
{
	static char path[4][256];
	static int i;

	i = (i + 1) % 4;
	snprintf(path[i], sizeof(path[i]), "%s/%s", base, rel);
	return path[i];
}

static void put(const char *file, const char *text)
{
	FILE *f = fopen(file, "w");

	if (f) {
		fputs(text, f);
		fclose(f);
	}
}

/* An SPDX document listing the files with the content they have now. */
static void describe(const char *const *files, size_t n)
{
	FILE *f = fopen(sbom, "w");

	if (!f)
		return;
	fputs("{\"spdxVersion\":\"SPDX-2.3\",\"name\":\"w\",\"packages\":[],\"files\":[", f);
	for (size_t i = 0; i < n; i++) {
		char sha[65] = "";
		struct bh_error err;

		sha256_file(at(files[i]), sha, NULL, &err);
		fprintf(f,
		        "%s{\"SPDXID\":\"SPDXRef-File-%zu\",\"fileName\":\"./%s\",\"checksums\":"
		        "[{\"algorithm\":\"SHA256\",\"checksumValue\":\"%s\"}]}",
		        i ? "," : "", i, files[i], sha);
	}
	fputs("]}", f);
	fclose(f);
}

#define PREFIX "data/workloads/w/"

/* The findings of one run as "modified a, missing b, ..." or the error. */
static const char *verify(const struct strv *skip, const char *own_file, struct verify_report *rep)
{
	static char out[2048];
	const struct strv *lists[] = {&rep->modified, &rep->missing, &rep->unlisted};
	const char *names[] = {"modified", "missing", "unlisted"};
	struct bh_error err;

	out[0] = 0;
	if (sbom_verify_installed(sbom, base, PREFIX, skip, own_file, rep, &err) < 0) {
		snprintf(out, sizeof(out), "error: %s", err.msg);
		return out;
	}
	for (size_t l = 0; l < 3; l++)
		for (size_t i = 0; i < lists[l]->n; i++) {
			size_t used = strlen(out);

			snprintf(out + used, sizeof(out) - used, "%s%s %s", used ? ", " : "",
			         names[l], lists[l]->v[i]);
		}
	return out;
}

int main(void)
{
	static const char *const files[] = {"kernel", "disk.img", "etc/conf"};
	struct verify_report rep = {0};
	struct strv skip = {0};
	const char *got;

	if (!mkdtemp(tmp))
		return 1;
	snprintf(sbom, sizeof(sbom), "%s/w.spdx.json", tmp);
	snprintf(base, sizeof(base), "%s/w", tmp);
	mkdir(base, 0755);
	mkdir(at("etc"), 0755);
	put(at("kernel"), "kernel");
	put(at("disk.img"), "disk");
	put(at("etc/conf"), "conf");
	describe(files, 3);

	got = verify(NULL, NULL, &rep);
	ok(!*got && rep.checked == 3, "a tree that matches its SBOM: no findings, 3 checked (%s)",
	   got);
	verify_report_free(&rep);

	put(at("disk.img"), "written by the guest");
	put(at("kernel"), "tampered");
	unlink(at("etc/conf"));
	put(at("implant"), "x");
	memset(&rep, 0, sizeof(rep));
	got = verify(NULL, NULL, &rep);
	ok(!strcmp(got, "modified " PREFIX "kernel, modified " PREFIX "disk.img, missing " PREFIX
	                "etc/conf, unlisted " PREFIX "implant"),
	   "a modified, a missing and an unlisted file, as prefix + path (%s)", got);
	verify_report_free(&rep);

	memset(&rep, 0, sizeof(rep));
	got = verify(NULL, "disk.img", &rep);
	ok(!strcmp(got, "modified " PREFIX "kernel, missing " PREFIX "etc/conf, unlisted " PREFIX
	                "implant"),
	   "the owner's own file is not reported modified (%s)", got);
	verify_report_free(&rep);

	/* What another document found stays: bhsbom verify collects the
	 * image's findings and every workload's in one report. */
	put(at("disk.img"), "disk");
	memset(&rep, 0, sizeof(rep));
	strv_push(&rep.modified, PREFIX "disk.img");
	got = verify(NULL, "disk.img", &rep);
	ok(!strcmp(got, "modified " PREFIX "disk.img, modified " PREFIX "kernel, missing " PREFIX
	                "etc/conf, unlisted " PREFIX "implant"),
	   "the own file is looked for in this document's findings only (%s)", got);
	verify_report_free(&rep);

	mkdir(at("sbom"), 0755);
	put(at("sbom/other.spdx.json"), "{}");
	strv_push(&skip, "sbom");
	memset(&rep, 0, sizeof(rep));
	got = verify(&skip, "disk.img", &rep);
	ok(!strstr(got, "sbom/other"), "a skipped folder is not walked (%s)", got);
	verify_report_free(&rep);
	memset(&rep, 0, sizeof(rep));
	got = verify(NULL, "disk.img", &rep);
	ok(strstr(got, "unlisted " PREFIX "sbom/other.spdx.json") != NULL,
	   "without the skip its files are unlisted (%s)", got);
	verify_report_free(&rep);
	strv_free(&skip);

	put(sbom, "{\"spdxVersion\":");
	memset(&rep, 0, sizeof(rep));
	got = verify(NULL, NULL, &rep);
	ok(!strncmp(got, "error: ", 7) && strstr(got, sbom),
	   "an SBOM that cannot be read is an error naming it (%s)", got);
	verify_report_free(&rep);

	unlink(at("sbom/other.spdx.json"));
	rmdir(at("sbom"));
	unlink(at("implant"));
	unlink(at("kernel"));
	unlink(at("disk.img"));
	rmdir(at("etc"));
	rmdir(base);
	unlink(sbom);
	rmdir(tmp);
	return done();
}
