/* bhpack verify: what the device does before installing a bundle: the
 * signature against trusted keys, every member's hash, the manifest, the
 * SBOM, and then that the SBOM lists exactly the files the bundle holds. */
#include "bhpack.h"

#include <bulkhead/fs.h>
#include <bulkhead/sbom.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int verify(const char *path, const char *keys, struct bh_error *err)
{
	char work[] = "/tmp/bhpack.XXXXXX", dir[4200];
	struct verify_report rep = {0};
	struct strv covered = {0}, skip = {0};
	struct wl_manifest m;
	struct spdx_doc doc;
	struct bundle b;
	int fd, rc = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return bh_error(err, errno, "open %s", path);
	if (bundle_check(fd, path, keys, &b, err) < 0) {
		close(fd);
		return -1;
	}
	if (wl_manifest_parse(b.manifest, strlen(b.manifest), "manifest.json", &m, err) < 0)
		goto out_bundle;
	wl_manifest_free(&m);
	if (!mkdtemp(work)) {
		bh_error(err, errno, "create a work folder");
		goto out_bundle;
	}
	snprintf(dir, sizeof(dir), "%s/workload", work);
	if (bundle_extract(fd, path, &b, dir, err) < 0)
		goto out_work;
	if (spdx_read_buf(b.sbom, b.sbom_len, "sbom.spdx.json", &doc, err) < 0)
		goto out_work;
	rc = sbom_verify_tree(&doc, dir, "", &rep, err);
	for (size_t i = 0; rc == 0 && i < doc.n_files; i++)
		strv_push(&covered, doc.files[i].path);
	if (rc == 0)
		rc = sbom_find_unlisted(dir, &covered, &skip, "", &rep, err);
	if (rc == 0 && (rep.modified.n || rep.missing.n || rep.unlisted.n))
		rc = bh_error(err, 0, "%s: its SBOM does not describe its contents (%zu modified, "
			      "%zu missing, %zu unlisted%s%s)", path, rep.modified.n, rep.missing.n,
			      rep.unlisted.n, rep.unlisted.n ? ", e.g. " : "",
			      rep.unlisted.n ? rep.unlisted.v[0] : "");
	spdx_doc_free(&doc);
	verify_report_free(&rep);
	strv_free(&covered);
out_work:
	bh_remove_tree(work);
out_bundle:
	bundle_free(&b);
	close(fd);
	return rc;
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {{"keys", required_argument, NULL, 'k'},
					     {NULL, 0, NULL, 0}};
	const char *keys = NULL;
	struct bh_error err;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 'k')
			return EXIT_ERROR;
		keys = optarg;
	}
	if (!keys || optind != argc - 1) {
		fprintf(stderr, "usage: bhpack verify --keys TRUSTED_KEYS_DIR BUNDLE\n");
		return EXIT_ERROR;
	}
	if (verify(argv[optind], keys, &err) < 0) {
		bh_error_print(&err, "bhpack verify");
		return EXIT_REFUSED;
	}
	printf("%s: valid, signed by a trusted key, SBOM matches the contents\n", argv[optind]);
	return EXIT_OK;
}
