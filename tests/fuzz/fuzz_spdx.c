/* SPDX documents as bhsbom and bhd read them (image and workload SBOMs). */
#include <bulkhead/sbom.h>

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spdx_doc doc;
	struct bh_error err;

	if (spdx_read_buf((const char *)data, size, "fuzz", &doc, &err) == 0)
		spdx_doc_free(&doc);
	return 0;
}
