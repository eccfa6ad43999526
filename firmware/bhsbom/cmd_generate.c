#include "cli.h"
#include <bulkhead/sbom.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static int generate(struct sbom_image *img, const char *info, const char *manifest,
		    const char *root, const char *out, struct bh_error *err)
{
	char path[4096];

	if (sbom_load_info_dir(img, info, err) < 0 ||
	    sbom_load_manifest(img, manifest, root, err) < 0 || sbom_resolve_links(img, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/components", out);
	if (mkdir(out, 0755) < 0 && errno != EEXIST)
		return bh_error(err, errno, "mkdir %s", out);
	if (mkdir(path, 0755) < 0 && errno != EEXIST)
		return bh_error(err, errno, "mkdir %s", path);
	snprintf(path, sizeof(path), "%s/image.spdx.json", out);
	if (sbom_write_spdx(img, path, -1, err) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/image.cdx.json", out);
	if (sbom_write_cyclonedx(img, path, err) < 0)
		return -1;
	for (size_t c = 0; c < img->n_comps; c++) {
		snprintf(path, sizeof(path), "%s/components/%s.spdx.json", out, img->comps[c].name);
		if (sbom_write_spdx(img, path, (ssize_t)c, err) < 0)
			return -1;
	}
	return 0;
}

int cmd_generate(int argc, char **argv)
{
	static const struct option opts[] = {
		{"info-dir", required_argument, NULL, 'i'}, {"manifest", required_argument, NULL, 'm'},
		{"root", required_argument, NULL, 'r'},     {"out", required_argument, NULL, 'o'},
		{"name", required_argument, NULL, 'n'},     {"version", required_argument, NULL, 'v'},
		{"board", required_argument, NULL, 'b'},    {"profile", required_argument, NULL, 'p'},
		{"arch", required_argument, NULL, 'a'},     {"created", required_argument, NULL, 'c'},
		{NULL, 0, NULL, 0},
	};
	const char *info = NULL, *manifest = NULL, *root = NULL, *out = NULL;
	struct sbom_image img = {0};
	struct bh_error err;
	char *end;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'i': info = optarg; break;
		case 'm': manifest = optarg; break;
		case 'r': root = optarg; break;
		case 'o': out = optarg; break;
		case 'n': img.name = strdup(optarg); break;
		case 'v': img.version = strdup(optarg); break;
		case 'b': img.board = strdup(optarg); break;
		case 'p': img.profile = strdup(optarg); break;
		case 'a': img.arch = strdup(optarg); break;
		case 'c':
			errno = 0;
			img.created = strtoll(optarg, &end, 10);
			if (errno || *end || end == optarg) {
				fprintf(stderr, "bhsbom generate: --created '%s' is not a Unix time\n",
					optarg);
				sbom_image_free(&img);
				return EXIT_ERROR;
			}
			break;
		default:
			sbom_image_free(&img);
			return EXIT_ERROR;
		}
	}
	if (!info || !manifest || !root || !out || !img.name || !img.version || !img.board ||
	    !img.profile || !img.arch) {
		fprintf(stderr, "usage: bhsbom generate --info-dir DIR --manifest FILE --root DIR "
			"--out DIR --name N --version V --board B --profile P --arch A [--created T]\n");
		sbom_image_free(&img);
		return EXIT_ERROR;
	}
	r = generate(&img, info, manifest, root, out, &err);
	sbom_image_free(&img);
	if (r < 0) {
		bh_error_print(&err, "bhsbom generate");
		return EXIT_ERROR;
	}
	return EXIT_CLEAN;
}
