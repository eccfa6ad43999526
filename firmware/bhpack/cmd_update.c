/* bhpack update: a signed firmware update file (docs/update.md), or
 * --check: the device's checks on one, on the host. */
#include "bhpack.h"

#include <bulkhead/trust.h>
#include <bulkhead/update.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yyjson.h>

static int usage(void)
{
	fprintf(stderr,
		"usage: bhpack update --key KEY.pem --board B --arch A --version V --sbom SBOM.json\n"
		"                     --uki-a A.efi --uki-b B.efi --slot SLOT.img -o OUT.bhu\n"
		"       bhpack update --check FILE (--keys DIR | --root IMAGE_ROOT) --board B --arch A\n"
		"                     [--running VERSION] [--allow-downgrade]\n");
	return EXIT_ERROR;
}

static int build(const char *key, const char *board, const char *arch, const char *version,
		 const char *sbom, const char *uki_a, const char *uki_b, const char *slot,
		 const char *out, struct bh_error *err)
{
	struct bundle_file members[5] = {{.name = "manifest.json"}, {.name = "sbom.spdx.json"},
					 {.name = "uki-a.efi"},     {.name = "uki-b.efi"},
					 {.name = "slot.img"}};
	char name[80];
	yyjson_mut_doc *doc;
	yyjson_mut_val *root;
	struct stat st;
	FILE *f;
	int rc;

	if (!update_version_valid(version))
		return bh_error(err, 0, "version '%s' is not a valid image version", version);
	if (stat(slot, &st) < 0)
		return bh_error(err, errno, "%s", slot);
	if (st.st_size == 0 || st.st_size % 4096)
		return bh_error(err, 0, "%s: a slot image is a positive multiple of 4096 bytes", slot);
	snprintf(members[0].path, sizeof(members[0].path), "%s.manifest.json", out);
	snprintf(members[1].path, sizeof(members[1].path), "%s", sbom);
	snprintf(members[2].path, sizeof(members[2].path), "%s", uki_a);
	snprintf(members[3].path, sizeof(members[3].path), "%s", uki_b);
	snprintf(members[4].path, sizeof(members[4].path), "%s", slot);
	doc = yyjson_mut_doc_new(NULL);
	root = yyjson_mut_obj(doc);
	yyjson_mut_doc_set_root(doc, root);
	yyjson_mut_obj_add_str(doc, root, "board", board);
	yyjson_mut_obj_add_str(doc, root, "arch", arch);
	yyjson_mut_obj_add_str(doc, root, "version", version);
	yyjson_mut_obj_add_uint(doc, root, "slot_bytes", (uint64_t)st.st_size);
	f = fopen(members[0].path, "we");
	rc = f && yyjson_mut_write_fp(f, doc, YYJSON_WRITE_PRETTY_TWO_SPACES, NULL, NULL) ? 0 : -1;
	if (f && fclose(f) != 0)
		rc = -1;
	yyjson_mut_doc_free(doc);
	if (rc < 0) {
		unlink(members[0].path);
		return bh_error(err, errno, "write %s", members[0].path);
	}
	snprintf(name, sizeof(name), "bulkhead-%s", board);
	rc = bundle_write_as(out, UPDATE_FORMAT, name, members, 5, key, err);
	unlink(members[0].path);
	return rc;
}

int cmd_update(int argc, char **argv)
{
	static const struct option opts[] = {
		{"key", required_argument, NULL, 'K'},    {"board", required_argument, NULL, 'b'},
		{"arch", required_argument, NULL, 'a'},   {"version", required_argument, NULL, 'v'},
		{"sbom", required_argument, NULL, 's'},   {"uki-a", required_argument, NULL, 'A'},
		{"uki-b", required_argument, NULL, 'B'},  {"slot", required_argument, NULL, 'S'},
		{"output", required_argument, NULL, 'o'}, {"check", required_argument, NULL, 'c'},
		{"keys", required_argument, NULL, 'k'},   {"running", required_argument, NULL, 'r'},
		{"allow-downgrade", no_argument, NULL, 'd'}, {"root", required_argument, NULL, 'R'},
		{NULL, 0, NULL, 0}};
	const char *key = NULL, *board = NULL, *arch = NULL, *version = NULL, *sbom = NULL,
		   *uki_a = NULL, *uki_b = NULL, *slot = NULL, *out = NULL, *check = NULL,
		   *keys = NULL, *running = NULL, *root = NULL;
	char root_keys[4096];
	int c, downgrade = 0;
	struct bh_error err;

	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'K': key = optarg; break;
		case 'b': board = optarg; break;
		case 'a': arch = optarg; break;
		case 'v': version = optarg; break;
		case 's': sbom = optarg; break;
		case 'A': uki_a = optarg; break;
		case 'B': uki_b = optarg; break;
		case 'S': slot = optarg; break;
		case 'o': out = optarg; break;
		case 'c': check = optarg; break;
		case 'k': keys = optarg; break;
		case 'r': running = optarg; break;
		case 'd': downgrade = 1; break;
		case 'R': root = optarg; break;
		default: return usage();
		}
	}
	if (optind != argc || !board || !arch)
		return usage();
	if (check) {
		struct update_manifest m;
		struct bundle b;
		int fd;

		/* --root: the trust root the device uses, in an image's tree. */
		if (root) {
			snprintf(root_keys, sizeof(root_keys), "%s%s", root, TRUST_UPDATE_KEYS);
			keys = root_keys;
		}
		if (!keys)
			return usage();
		fd = open(check, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			fprintf(stderr, "bhpack update: open %s: %s\n", check, bh_strerror(errno));
			return EXIT_ERROR;
		}
		if (update_check(fd, check, keys, board, arch, running, downgrade, &b, &m, &err) < 0) {
			close(fd);
			bh_error_print(&err, "bhpack update");
			return EXIT_REFUSED;
		}
		close(fd);
		printf("%s: update to %s for %s (%s), signed by key %s: accepted\n", check, m.version,
		       m.board, m.arch, b.key_id);
		bundle_free(&b);
		return EXIT_OK;
	}
	if (!key || !version || !sbom || !uki_a || !uki_b || !slot || !out)
		return usage();
	if (build(key, board, arch, version, sbom, uki_a, uki_b, slot, out, &err) < 0) {
		bh_error_print(&err, "bhpack update");
		return EXIT_ERROR;
	}
	printf("%s: update to %s for %s (%s)\n", out, version, board, arch);
	return EXIT_OK;
}
