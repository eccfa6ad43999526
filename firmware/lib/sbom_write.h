/* Helpers shared by the document writers. */
#ifndef BULKHEAD_SBOM_WRITE_H
#define BULKHEAD_SBOM_WRITE_H

#include <bulkhead/sbom.h>

#include <bulkhead/version.h>

#include <stdlib.h>
#include <yyjson.h>

#define BHSBOM_VERSION BH_VERSION
#define GENERATION_CONTEXT                                                                      \
	"Generated at build time (lifecycle: build) by bhsbom from the package recipes, the "    \
	"link step of every program and the files installed in the root filesystem."

static inline int isalnum_ascii(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* A digest of everything the documents say, for their unique names. */
void sbom_content_hash(const struct sbom_image *img, const char *salt, char hex[65]);
void iso_time(int64_t t, char *out, size_t size);
int write_json_atomic(yyjson_mut_doc *doc, const char *path, struct bh_error *err);

#endif
