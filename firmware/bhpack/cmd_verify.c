/* bhpack verify: what the device does before installing a bundle: the
 * signature against trusted keys, every member's hash, the manifest, the
 * SBOM, and then that the SBOM lists exactly the files the bundle holds. */
#include "bhpack.h"

#include <bulkhead/fs.h>

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
	struct wl_manifest m;
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
	rc = bundle_check_contents(&b, path, dir, err);
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
