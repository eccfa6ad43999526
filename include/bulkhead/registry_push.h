/* Uploads to an OCI registry (the build host's side: bhpack push). Kept
 * apart from include/bulkhead/registry.h so that the device, which only
 * pulls, does not link it. */
#ifndef BULKHEAD_REGISTRY_PUSH_H
#define BULKHEAD_REGISTRY_PUSH_H

#include <bulkhead/registry.h>

#include <stddef.h>
#include <stdint.h>

/* Uploads a file as a blob (monolithic: POST, then PUT with the digest),
 * unless the registry has it already. Gives its digest and size. */
int registry_push_blob_file(struct registry *r, const char *repo, const char *path,
                            char digest[REGISTRY_DIGEST_LEN + 1], uint64_t *size,
                            struct bh_error *err);
/* The same for bytes in memory. */
int registry_push_blob_mem(struct registry *r, const char *repo, const void *data, size_t len,
                           char digest[REGISTRY_DIGEST_LEN + 1], struct bh_error *err);
/* PUTs a manifest at a tag (or at its digest when tag is NULL); checks the
 * digest the registry names against the bytes sent. */
int registry_push_manifest(struct registry *r, const char *repo, const char *tag,
                           const char *media_type, const char *body, size_t len,
                           char digest[REGISTRY_DIGEST_LEN + 1], struct bh_error *err);

#endif
