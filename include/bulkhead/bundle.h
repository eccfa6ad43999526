/* Workload bundles: one signed file holding a workload's manifest, its
 * image and its SBOM (docs/workloads.md).
 *
 * A bundle is a tar archive whose first member is the index, bundle.json:
 *   {"format": "bulkhead-bundle/1", "name": "...", "key_id": "...",
 *    "members": [{"name": "manifest.json", "sha256": "...", "size": N}, ...]}
 * its second member, bundle.sig, is an ECDSA P-256 signature (DER) over
 * SHA-256 of the index's bytes, and the members it lists follow in that
 * order: manifest.json and sbom.spdx.json always, then the image:
 * rootfs.tar (a container's root filesystem) or kernel, initrd, disk.img
 * (a VM). Checking a bundle reads it whole before anything is written. */
#ifndef BULKHEAD_BUNDLE_H
#define BULKHEAD_BUNDLE_H

#include <bulkhead/error.h>
#include <bulkhead/sign.h>

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define BUNDLE_FORMAT      "bulkhead-bundle/1"
/* A firmware update is the same signed container (docs/update.md):
 * manifest.json (board, arch, version), sbom.spdx.json (the new image's),
 * uki-a.efi, uki-b.efi (the signed UKI for either slot) and slot.img (root
 * filesystem + dm-verity tree). */
#define UPDATE_FORMAT      "bulkhead-update/1"
#define BUNDLE_MAX_MEMBERS 8
#define BUNDLE_INDEX_MAX   (64 * 1024)
#define BUNDLE_MANIFEST_MAX (64 * 1024)
#define BUNDLE_SBOM_MAX    (32 * 1024 * 1024)

struct bundle_member {
	char name[32];
	char sha256[65];
	uint64_t size;
};

struct bundle {
	char format[24];   /* the format it was checked as */
	char name[64];
	char key_id[SIGN_KEY_ID_LEN + 1];
	struct bundle_member members[BUNDLE_MAX_MEMBERS];
	size_t n_members;
	char *index;       /* bundle.json as signed */
	size_t index_len;
	char *manifest;    /* manifest.json, NUL-terminated */
	char *sbom;        /* sbom.spdx.json, NUL-terminated */
	size_t sbom_len;
};

/* Reads the bundle at fd from its start: the index, the signature against
 * the trusted keys in keys_dir, and every member's size and SHA-256. Keeps
 * the index, manifest and SBOM in b. The error names the bundle (what) and
 * says which check failed: not a bundle, no SBOM, unknown key, bad
 * signature, a member that does not match. keys_dir NULL skips the
 * signature (bhpack inspect). */
int bundle_check(int fd, const char *what, const char *keys_dir, struct bundle *b,
		 struct bh_error *err);
/* The same for another format (UPDATE_FORMAT): its own set of members. */
int bundle_check_as(int fd, const char *what, const char *format, const char *keys_dir,
		    struct bundle *b, struct bh_error *err);
void bundle_free(struct bundle *b);
/* The member of a checked bundle named name, or NULL when it has none. */
const struct bundle_member *bundle_member(const struct bundle *b, const char *name);

/* Writes the image members of a checked bundle into dir, which must not
 * exist yet (the caller renames it into place): rootfs.tar is unpacked into
 * dir/rootfs, the other members are copied as files. Hashes are checked
 * again while writing; on any error nothing is left in dir's place. */
int bundle_extract(int fd, const char *what, const struct bundle *b, const char *dir,
		   struct bh_error *err);

/* After bundle_extract into dir: the bundle's SBOM must list exactly the
 * files there, with their hashes, so that a bundle cannot carry a file its
 * SBOM does not own up to. The error names `what` and counts the files
 * that differ. */
int bundle_check_contents(const struct bundle *b, const char *what, const char *dir,
			  struct bh_error *err);

/* Opens the checked bundle at fd again, checks that its index is the one
 * checked, and leaves *tr at the start of member's data (tar_read gives its
 * *size bytes; the caller hashes them and fcloses *fp). */
struct tar_reader;
int bundle_open_member(int fd, const char *what, const struct bundle *b, const char *member,
		       FILE **fp, struct tar_reader *tr, uint64_t *size, struct bh_error *err);

/* Writing (firmware/lib/bundle_write.c, bhpack only). A member to write:
 * its name in the bundle and the file that holds it. */
struct bundle_file {
	const char *name;
	char path[4096];
};

/* Writes out (through a temporary file, renamed when complete): the index
 * bundle.json with the key's id (zeros when key is NULL: unsigned),
 * bundle.sig when key is given, then the members in order. */
int bundle_write(const char *out, const char *name, const struct bundle_file *members, size_t n,
		 const char *key, struct bh_error *err);
/* The same for another format (UPDATE_FORMAT: bhpack update). */
int bundle_write_as(const char *out, const char *format, const char *name,
		    const struct bundle_file *members, size_t n, const char *key,
		    struct bh_error *err);

#endif
