/* bhpack sign: (re)sign a bundle with a key; the members are kept as they
 * are, the index gets the key's id. */
#include "bhpack.h"

#include <bulkhead/fs.h>
#include <bulkhead/tar.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yyjson.h>

static int resign(const char *in, const char *key, const char *out, struct bh_error *err)
{
	char work[] = "/tmp/bhpack.XXXXXX", name[64] = "";
	struct bundle_file members[BUNDLE_MAX_MEMBERS];
	struct tar_reader r;
	struct tar_entry e;
	size_t n = 0;
	int got, rc = -1;
	FILE *f = fopen(in, "rbe");

	if (!f)
		return bh_error(err, errno, "open %s", in);
	if (!mkdtemp(work)) {
		fclose(f);
		return bh_error(err, errno, "create a work folder");
	}
	tar_reader_init(&r, f, in);
	/* Unpack the members; the old index and signature are replaced. */
	while ((got = tar_next(&r, &e, err)) > 0) {
		if (e.type != TAR_FILE) {
			bh_error(err, 0, "%s: %s is not a file: not a bundle", in, e.path);
			goto out;
		}
		if (!strcmp(e.path, "bundle.json")) {
			char *idx = malloc(e.size + 1);
			yyjson_doc *d;

			if (!idx || tar_read(&r, idx, e.size, err) != (ssize_t)e.size) {
				free(idx);
				goto out;
			}
			d = yyjson_read(idx, e.size, 0);
			snprintf(name, sizeof(name), "%s",
				 yyjson_get_str(yyjson_obj_get(yyjson_doc_get_root(d), "name"))
					 ?: "");
			yyjson_doc_free(d);
			free(idx);
			continue;
		}
		if (!strcmp(e.path, "bundle.sig"))
			continue;
		if (n == BUNDLE_MAX_MEMBERS || strchr(e.path, '/')) {
			bh_error(err, 0, "%s: unexpected member %s", in, e.path);
			goto out;
		}
		members[n].name = strdup(e.path);
		snprintf(members[n].path, sizeof(members[n].path), "%s/%s", work, e.path);
		{
			FILE *o = fopen(members[n].path, "wbe");
			char buf[65536];
			ssize_t k;

			n++;
			if (!o) {
				bh_error(err, errno, "create %s", members[n - 1].path);
				goto out;
			}
			while ((k = tar_read(&r, buf, sizeof(buf), err)) > 0)
				fwrite(buf, 1, (size_t)k, o);
			if (fclose(o) != 0 || k < 0) {
				bh_error(err, errno, "write %s", members[n - 1].path);
				goto out;
			}
		}
	}
	if (got < 0)
		goto out;
	if (!name[0]) {
		bh_error(err, 0, "%s: not a bundle (no bundle.json with a name)", in);
		goto out;
	}
	rc = bundle_write(out, name, members, n, key, err);
out:
	for (size_t i = 0; i < n; i++)
		free((char *)members[i].name);
	fclose(f);
	bh_remove_tree(work);
	return rc;
}

int cmd_sign(int argc, char **argv)
{
	static const struct option opts[] = {{"key", required_argument, NULL, 'K'},
					     {"output", required_argument, NULL, 'o'},
					     {NULL, 0, NULL, 0}};
	const char *key = NULL, *out = NULL;
	struct bh_error err;
	int c;

	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		if (c == 'K')
			key = optarg;
		else if (c == 'o')
			out = optarg;
		else
			return EXIT_ERROR;
	}
	if (!key || optind != argc - 1) {
		fprintf(stderr, "usage: bhpack sign --key KEY.pem BUNDLE [-o OUT]\n");
		return EXIT_ERROR;
	}
	if (resign(argv[optind], key, out ? out : argv[optind], &err) < 0) {
		bh_error_print(&err, "bhpack sign");
		return EXIT_ERROR;
	}
	printf("%s: signed\n", out ? out : argv[optind]);
	return EXIT_OK;
}
