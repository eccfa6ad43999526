/* OCI artifacts (image spec 1.1): what `bhpack push` stores in a registry
 * and the device pulls. One image manifest per artifact, with our
 * artifactType, the empty config descriptor and exactly one layer: the
 * bundle, the update file or the signed state (docs/fleet.md). */
#ifndef BULKHEAD_ARTIFACT_H
#define BULKHEAD_ARTIFACT_H

#include <bulkhead/error.h>
#include <bulkhead/registry.h>

#include <stddef.h>
#include <stdint.h>

#define OCI_MANIFEST_MEDIA_TYPE "application/vnd.oci.image.manifest.v1+json"
#define OCI_EMPTY_MEDIA_TYPE    "application/vnd.oci.empty.v1+json"
/* The empty config, "{}": its digest and size are fixed by the spec. */
#define OCI_EMPTY_DIGEST "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
#define OCI_EMPTY_DATA   "{}"

#define ARTIFACT_BUNDLE       "application/vnd.bulkhead.bundle.v1"
#define ARTIFACT_UPDATE       "application/vnd.bulkhead.update.v1"
#define ARTIFACT_STATE        "application/vnd.bulkhead.state.v1"
#define ARTIFACT_BUNDLE_LAYER "application/vnd.bulkhead.bundle.v1.tar"
#define ARTIFACT_UPDATE_LAYER "application/vnd.bulkhead.update.v1.tar"
#define ARTIFACT_STATE_LAYER  "application/vnd.dsse.envelope.v1+json"

#define ARTIFACT_TITLE_MAX 128

struct artifact {
	char artifact_type[REGISTRY_MEDIA_TYPE_MAX];
	char layer_media_type[REGISTRY_MEDIA_TYPE_MAX];
	char layer_digest[REGISTRY_DIGEST_LEN + 1];
	uint64_t layer_size;
	char title[ARTIFACT_TITLE_MAX]; /* org.opencontainers.image.title, "" when none */
};

/* The layer media type of one of our artifact types, or NULL. */
const char *artifact_layer_type(const char *artifact_type);

/* The manifest's JSON (malloc'd; the caller frees it). */
int artifact_manifest_write(const struct artifact *a, char **json, size_t *len,
                            struct bh_error *err);

/* Parses an image manifest of one of our artifacts. want_type (NULL: any of
 * ours) is the artifactType the caller expects; the error names `what`
 * and the field that is wrong. */
int artifact_manifest_parse(const char *json, size_t len, const char *what, const char *want_type,
                            struct artifact *a, struct bh_error *err);

#endif
