/* Internal interfaces of bhpack. */
#ifndef BULKHEAD_BHPACK_H
#define BULKHEAD_BHPACK_H

#include <bulkhead/bundle.h>
#include <bulkhead/error.h>
#include <bulkhead/manifest.h>

#include <stdint.h>

enum { EXIT_OK = 0, EXIT_REFUSED = 1, EXIT_ERROR = 2 };

int cmd_keygen(int argc, char **argv);
int cmd_build(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_update(int argc, char **argv);
int cmd_push(int argc, char **argv);
int cmd_state(int argc, char **argv);
int cmd_fetch(int argc, char **argv);

/* A member to write into a bundle: its name and the file holding it. */
struct member_file {
	const char *name;
	char path[4096];
};

/* Writes bundle.json (with key_id, or zeros when unsigned), bundle.sig when
 * key is given, then the members, into out (through a temporary file). */
int write_bundle(const char *out, const char *name, const struct member_file *members, size_t n,
		 const char *key, struct bh_error *err);
/* The same for another format (UPDATE_FORMAT: bhpack update). */
int write_bundle_as(const char *out, const char *format, const char *name,
		    const struct member_file *members, size_t n, const char *key,
		    struct bh_error *err);

/* A root filesystem folder as a reproducible tar (sorted, owner 0:0,
 * the given mtime; setuid and setgid bits dropped). */
int rootfs_to_tar(const char *dir, const char *tar_path, int64_t mtime, struct bh_error *err);

/* An OCI image layout folder, an OCI archive, or a `docker save` archive,
 * with its layers applied in order (whiteouts included) into staging. */
int oci_unpack(const char *src, const char *arch, const char *workdir, const char *staging,
	       struct bh_error *err);

/* An SPDX 2.3 SBOM of a bundle's contents: every file with its hashes, and
 * the packages an Alpine or Debian package database in the rootfs names. */
int generate_sbom(const struct wl_manifest *m, const char *rootfs, const struct member_file *files,
		  size_t n_files, const char *arch, const char *supplier, int64_t created,
		  const char *out, struct bh_error *err);

/* Removes a folder tree (no symlink is followed). */
void remove_all(const char *path);

#endif
