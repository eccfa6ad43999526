/* bhpack build: manifest + image (+ SBOM) → a signed bundle. */
#include "bhpack.h"

#include <bulkhead/fs.h>
#include <bulkhead/sbom.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

struct build_opts {
	const char *manifest, *sbom, *rootfs, *oci, *kernel, *initrd, *disk, *key, *out, *arch;
	const char *supplier;
	int64_t created;
};

static int build(const struct build_opts *o, struct bh_error *err)
{
	struct bundle_file members[BUNDLE_MAX_MEMBERS], vmfiles[3];
	char work[] = "/tmp/bhpack.XXXXXX", staging[4200];
	struct wl_manifest m;
	const char *rootfs = NULL;
	size_t n = 0, nvm = 0, len;
	char *text;
	int rc = -1;

	text = bh_read_file(o->manifest, BUNDLE_MANIFEST_MAX, &len, err);
	if (!text)
		return -1;
	rc = wl_manifest_parse(text, len, o->manifest, &m, err);
	free(text);
	if (rc < 0)
		return -1;
	rc = -1;
	if (!mkdtemp(work)) {
		bh_error(err, errno, "create a work folder");
		goto out_manifest;
	}
	if (m.mode == WL_CONTAINER) {
		if (!!o->rootfs + !!o->oci != 1 || o->kernel || o->initrd || o->disk) {
			bh_error(err, 0, "%s: a container bundle needs exactly one of --rootfs and --oci",
				 o->manifest);
			goto out;
		}
		if (o->oci) {
			snprintf(staging, sizeof(staging), "%s/rootfs", work);
			if (oci_unpack(o->oci, o->arch, work, staging, err) < 0)
				goto out;
			rootfs = staging;
		} else {
			rootfs = o->rootfs;
		}
	} else {
		if (!o->kernel || o->rootfs || o->oci) {
			bh_error(err, 0, "%s: a vm bundle needs --kernel (and optionally --initrd, --disk)",
				 o->manifest);
			goto out;
		}
		vmfiles[nvm].name = "kernel";
		snprintf(vmfiles[nvm++].path, sizeof(vmfiles[0].path), "%s", o->kernel);
		if (o->initrd) {
			vmfiles[nvm].name = "initrd";
			snprintf(vmfiles[nvm++].path, sizeof(vmfiles[0].path), "%s", o->initrd);
		}
		if (o->disk) {
			vmfiles[nvm].name = "disk.img";
			snprintf(vmfiles[nvm++].path, sizeof(vmfiles[0].path), "%s", o->disk);
		}
	}
	members[n].name = "manifest.json";
	snprintf(members[n++].path, sizeof(members[0].path), "%s", o->manifest);
	members[n].name = "sbom.spdx.json";
	if (o->sbom) {
		struct spdx_doc doc;

		if (spdx_read(o->sbom, &doc, err) < 0)
			goto out;
		spdx_doc_free(&doc);
		snprintf(members[n++].path, sizeof(members[0].path), "%s", o->sbom);
	} else {
		snprintf(members[n++].path, sizeof(members[0].path), "%s/sbom.spdx.json", work);
		if (generate_sbom(&m, rootfs, vmfiles, nvm, o->arch, o->supplier, o->created,
				  members[n - 1].path, err) < 0)
			goto out;
	}
	if (rootfs) {
		members[n].name = "rootfs.tar";
		snprintf(members[n++].path, sizeof(members[0].path), "%s/rootfs.tar", work);
		if (rootfs_to_tar(rootfs, members[n - 1].path, o->created, err) < 0)
			goto out;
	}
	for (size_t i = 0; i < nvm; i++)
		members[n++] = vmfiles[i];
	rc = bundle_write(o->out, m.name, members, n, o->key, err);
out:
	bh_remove_tree(work);
out_manifest:
	wl_manifest_free(&m);
	return rc;
}

int cmd_build(int argc, char **argv)
{
	static const struct option opts[] = {
		{"manifest", required_argument, NULL, 'm'}, {"sbom", required_argument, NULL, 's'},
		{"rootfs", required_argument, NULL, 'r'},   {"oci", required_argument, NULL, 'O'},
		{"kernel", required_argument, NULL, 'k'},   {"initrd", required_argument, NULL, 'i'},
		{"disk", required_argument, NULL, 'd'},     {"key", required_argument, NULL, 'K'},
		{"arch", required_argument, NULL, 'a'},     {"supplier", required_argument, NULL, 'S'},
		{"created", required_argument, NULL, 'c'},  {"output", required_argument, NULL, 'o'},
		{NULL, 0, NULL, 0},
	};
	struct build_opts o = {.supplier = "NOASSERTION"};
	struct utsname u;
	struct bh_error err;
	const char *sde = getenv("SOURCE_DATE_EPOCH");
	int c;

	uname(&u);
	o.arch = u.machine;
	o.created = sde ? strtoll(sde, NULL, 10) : 0;
	while ((c = getopt_long(argc, argv, "o:", opts, NULL)) != -1) {
		switch (c) {
		case 'm': o.manifest = optarg; break;
		case 's': o.sbom = optarg; break;
		case 'r': o.rootfs = optarg; break;
		case 'O': o.oci = optarg; break;
		case 'k': o.kernel = optarg; break;
		case 'i': o.initrd = optarg; break;
		case 'd': o.disk = optarg; break;
		case 'K': o.key = optarg; break;
		case 'a': o.arch = optarg; break;
		case 'S': o.supplier = optarg; break;
		case 'c': o.created = strtoll(optarg, NULL, 10); break;
		case 'o': o.out = optarg; break;
		default: return EXIT_ERROR;
		}
	}
	if (!o.manifest || !o.out || optind != argc) {
		fprintf(stderr,
			"usage: bhpack build --manifest MANIFEST.json (--rootfs DIR | --oci IMAGE | "
			"--kernel K [--initrd I] [--disk D]) [--sbom SBOM.spdx.json] [--key KEY.pem] "
			"[--arch x86_64|aarch64] [--supplier 'Organization: X'] -o BUNDLE\n");
		return EXIT_ERROR;
	}
	if (build(&o, &err) < 0) {
		bh_error_print(&err, "bhpack build");
		return EXIT_ERROR;
	}
	printf("%s: %s bundle\n", o.out, o.key ? "signed" : "unsigned (bhpack sign before use)");
	return EXIT_OK;
}
