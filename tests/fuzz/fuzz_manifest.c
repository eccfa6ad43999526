/* Workload manifests as bhd reads them from a bundle. */
#include <bulkhead/manifest.h>

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct wl_manifest m;
	struct bh_error err;

	if (wl_manifest_parse((const char *)data, size, "fuzz", &m, &err) == 0)
		wl_manifest_free(&m);
	return 0;
}
