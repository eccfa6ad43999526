/* Digests with mbedTLS (firmware/lib/hash.c): SHA-256 of files, file
 * descriptors and buffers as lowercase hex, and SHA-1 where SPDX asks for
 * it. Bundles, updates, SBOMs and bhpack all hash through here. */
#ifndef BULKHEAD_HASH_H
#define BULKHEAD_HASH_H

#include <bulkhead/error.h>

#include <stddef.h>
#include <stdint.h>

/* n bytes as 2n lowercase hex digits and a NUL. */
void hex_encode(const void *data, size_t n, char *out);

void sha256_hex(const void *data, size_t len, char hex[65]);
void sha1_hex(const void *data, size_t len, char hex[41]);

/* A regular file; a symlink is refused (O_NOFOLLOW), since an SBOM lists a
 * link as its own entry. size may be NULL. */
int sha256_file(const char *path, char hex[65], uint64_t *size, struct bh_error *err);
int sha1_file(const char *path, char hex[41], struct bh_error *err);
/* The same for a path a user named (bhpack's inputs): a symlink, a
 * kernel's usual name, is followed. */
int sha256_path(const char *path, char hex[65], uint64_t *size, struct bh_error *err);

/* Reads fd from its offset to its end, or max bytes at most, and hashes
 * what it read; *size (may be NULL) gets the count. Errors name `what`. */
int sha256_fd(int fd, const char *what, uint64_t max, char hex[65], uint64_t *size,
	      struct bh_error *err);

#endif
