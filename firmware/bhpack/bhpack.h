/* Internal interfaces of bhpack. */
#ifndef BULKHEAD_BHPACK_H
#define BULKHEAD_BHPACK_H

#include <bulkhead/bundle.h>
#include <bulkhead/error.h>
#include <bulkhead/manifest.h>

#include <stdint.h>

enum { EXIT_OK = 0, EXIT_REFUSED = 1, EXIT_ERROR = 2 };

int cmd_keygen(int argc, char **argv);
int cmd_keys(int argc, char **argv);
int cmd_build(int argc, char **argv);
int cmd_sign(int argc, char **argv);
int cmd_inspect(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_update(int argc, char **argv);
int cmd_push(int argc, char **argv);
int cmd_state(int argc, char **argv);
int cmd_revoke(int argc, char **argv);
int cmd_provision(int argc, char **argv);

/* A new device key and its certificate (CN = id, client auth, days long)
 * signed by the device CA, both PEM, malloc'd (device_identity.c). */
int device_identity_make(const char *id, const char *ca_key, const char *ca_cert, unsigned days,
			 char **cert_pem, char **key_pem, struct bh_error *err);
int cmd_fetch(int argc, char **argv);

/* A root filesystem folder as a reproducible tar (sorted, owner 0:0,
 * the given mtime; setuid and setgid bits dropped). */
int rootfs_to_tar(const char *dir, const char *tar_path, int64_t mtime, struct bh_error *err);

/* An OCI image layout folder, an OCI archive, or a `docker save` archive,
 * with its layers applied in order (whiteouts included) into staging. */
int oci_unpack(const char *src, const char *arch, const char *workdir, const char *staging,
	       struct bh_error *err);

/* An SPDX 2.3 SBOM of a bundle's contents: every file with its hashes, and
 * the packages an Alpine or Debian package database in the rootfs names. */
int generate_sbom(const struct wl_manifest *m, const char *rootfs, const struct bundle_file *files,
		  size_t n_files, const char *arch, const char *supplier, int64_t created,
		  const char *out, struct bh_error *err);

#endif
