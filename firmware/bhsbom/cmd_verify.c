/* bhsbom verify [ROOT]: every file the image SBOM lists is re-hashed under
 * ROOT; every file on ROOT's filesystem that no SBOM lists is reported.
 * Workloads installed later have their own SBOMs under ROOT/data/sbom/,
 * their files under ROOT/data/workloads/<name>/: they are verified too. */
#include "cli.h"
#include <bulkhead/sbom.h>

#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

static void print_list(const char *what, const struct strv *s)
{
	for (size_t i = 0; i < s->n; i++)
		printf("%s /%s\n", what, s->v[i]);
}

static int verify_workloads(const char *root, struct verify_report *rep, struct bh_error *err)
{
	char dir[4096];
	struct dirent *e;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/data/sbom", root);
	d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : bh_error(err, errno, "open %s", dir);
	while ((e = readdir(d))) {
		char name[256], sbom[4400], base[4400], prefix[300];
		size_t len = strlen(e->d_name);

		if (len <= 10 || strcmp(e->d_name + len - 10, ".spdx.json") || len - 10 >= sizeof(name))
			continue;
		memcpy(name, e->d_name, len - 10);
		name[len - 10] = 0;
		snprintf(sbom, sizeof(sbom), "%s/%s", dir, e->d_name);
		snprintf(base, sizeof(base), "%s/data/workloads/%s", root, name);
		snprintf(prefix, sizeof(prefix), "data/workloads/%s/", name);
		if (sbom_verify_installed(sbom, base, prefix, NULL, NULL, rep, err) < 0) {
			closedir(d);
			return bh_error_wrap(err, "workload %s", name);
		}
	}
	closedir(d);
	return 0;
}

int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {{"sbom", required_argument, NULL, 's'},
					     {NULL, 0, NULL, 0}};
	const char *root = "/", *sbom = NULL;
	char sbom_path[4096];
	struct verify_report rep = {0};
	struct strv skip = {0};
	struct bh_error err;
	int c, r;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 's') {
			fprintf(stderr, "usage: bhsbom verify [--sbom FILE] [ROOT]\n");
			return EXIT_ERROR;
		}
		sbom = optarg;
	}
	if (optind < argc)
		root = argv[optind];
	if (!sbom) {
		snprintf(sbom_path, sizeof(sbom_path), "%s/%s/image.spdx.json", root,
			 SBOM_DIR_IN_ROOT);
		sbom = sbom_path;
	}
	/* The SBOM documents cannot list themselves. */
	strv_push(&skip, SBOM_DIR_IN_ROOT);
	r = sbom_verify_installed(sbom, root, "", &skip, NULL, &rep, &err);
	if (r == 0)
		r = verify_workloads(root, &rep, &err);
	strv_free(&skip);
	if (r < 0) {
		verify_report_free(&rep);
		bh_error_print(&err, "bhsbom verify");
		return EXIT_ERROR;
	}
	print_list("modified", &rep.modified);
	print_list("missing", &rep.missing);
	print_list("unlisted", &rep.unlisted);
	for (size_t i = 0; i < rep.skipped.n; i++)
		printf("skipped /%s (the boot partition is not mounted under %s)\n", rep.skipped.v[i],
		       root);
	printf("%zu files checked: %zu modified, %zu missing, %zu unlisted\n", rep.checked,
	       rep.modified.n, rep.missing.n, rep.unlisted.n);
	c = rep.modified.n || rep.missing.n || rep.unlisted.n ? EXIT_FINDINGS : EXIT_CLEAN;
	verify_report_free(&rep);
	return c;
}
