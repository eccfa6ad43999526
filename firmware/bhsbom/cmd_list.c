#include "cli.h"
#include <bulkhead/sbom.h>

#include <stdio.h>
#include <string.h>

int cmd_list(int argc, char **argv)
{
	const char *path = DEFAULT_SBOM;
	struct spdx_doc doc;
	struct bh_error err;

	if (argc == 3 && !strcmp(argv[1], "--sbom"))
		path = argv[2];
	else if (argc != 1) {
		fprintf(stderr, "usage: bhsbom list [--sbom FILE]\n");
		return EXIT_ERROR;
	}
	if (spdx_read(path, &doc, &err) < 0) {
		bh_error_print(&err, "bhsbom list");
		return EXIT_ERROR;
	}
	printf("%-20s %-22s %-40s %s\n", "COMPONENT", "VERSION", "LICENCE", "PURL");
	for (size_t i = 0; i < doc.n_pkgs; i++) {
		const struct spdx_package *p = &doc.pkgs[i];

		/* Source archives and the image itself are not components. */
		if (!strncmp(p->spdxid, "SPDXRef-Source-", 15) ||
		    !strcmp(p->spdxid, "SPDXRef-Package-image"))
			continue;
		printf("%-20s %-22s %-40s %s\n", p->name, p->version ? p->version : "-",
		       p->license ? p->license : "-", p->purl ? p->purl : "-");
	}
	spdx_doc_free(&doc);
	return EXIT_CLEAN;
}
