#include "cli.h"
#include <bulkhead/sbom.h>

#include <getopt.h>
#include <stdio.h>

int cmd_match(int argc, char **argv)
{
	static const struct option opts[] = {{"sbom", required_argument, NULL, 's'},
					     {NULL, 0, NULL, 0}};
	const char *sbom = DEFAULT_SBOM;
	struct osv_result res;
	struct spdx_doc doc;
	struct bh_error err;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c != 's')
			goto usage;
		sbom = optarg;
	}
	if (optind != argc - 1)
		goto usage;
	if (spdx_read(sbom, &doc, &err) < 0) {
		bh_error_print(&err, "bhsbom match");
		return EXIT_ERROR;
	}
	if (osv_match_file(argv[optind], &doc, &res, &err) < 0) {
		spdx_doc_free(&doc);
		bh_error_print(&err, "bhsbom match");
		return EXIT_ERROR;
	}
	for (size_t i = 0; i < res.n; i++)
		printf("AFFECTED %s %s %s (%s)\n", res.m[i].component, res.m[i].version,
		       res.m[i].advisory, res.m[i].why);
	for (size_t i = 0; i < res.notes.n; i++)
		printf("note: %s\n", res.notes.v[i]);
	printf("%zu advisories, %zu affected components\n", res.advisories, res.n);
	c = res.n ? EXIT_FINDINGS : EXIT_CLEAN;
	osv_result_free(&res);
	spdx_doc_free(&doc);
	return c;
usage:
	fprintf(stderr, "usage: bhsbom match [--sbom FILE] ADVISORIES.json\n");
	return EXIT_ERROR;
}
