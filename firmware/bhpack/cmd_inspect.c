/* bhpack inspect: the index, manifest and SBOM of a bundle (hashes
 * checked, signature not: see bhpack verify). */
#include "bhpack.h"

#include <bulkhead/sbom.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

int cmd_inspect(int argc, char **argv)
{
	struct bundle b;
	struct spdx_doc doc;
	struct bh_error err;
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: bhpack inspect BUNDLE\n");
		return EXIT_ERROR;
	}
	fd = open(argv[1], O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "bhpack inspect: open %s: %s\n", argv[1], bh_strerror(errno));
		return EXIT_ERROR;
	}
	if (bundle_check(fd, argv[1], NULL, &b, &err) < 0) {
		close(fd);
		bh_error_print(&err, "bhpack inspect");
		return EXIT_ERROR;
	}
	close(fd);
	printf("bundle %s, signed with key %s\n", b.name, b.key_id);
	for (size_t i = 0; i < b.n_members; i++)
		printf("  %-16s %12llu bytes  sha256 %s\n", b.members[i].name,
		       (unsigned long long)b.members[i].size, b.members[i].sha256);
	printf("manifest:\n%s\n", b.manifest);
	if (spdx_read_buf(b.sbom, b.sbom_len, "sbom.spdx.json", &doc, &err) == 0) {
		printf("sbom: %s, %zu packages, %zu files\n", doc.name, doc.n_pkgs, doc.n_files);
		spdx_doc_free(&doc);
	}
	bundle_free(&b);
	return EXIT_OK;
}
