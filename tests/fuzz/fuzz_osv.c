/* OSV advisories as bhsbom match reads them, against a small image. */
#include <bulkhead/sbom.h>

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct spdx_package pkgs[] = {
	{.spdxid = "a", .name = "busybox", .version = "1.37.0", .purl = "pkg:generic/busybox@1.37.0",
	 .cpe = "cpe:2.3:a:busybox:busybox:1.37.0:*:*:*:*:*:*:*"},
	{.spdxid = "b", .name = "linux", .version = "6.12.117",
	 .cpe = "cpe:2.3:o:linux:linux_kernel:6.12.117:*:*:*:*:*:*:*"},
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spdx_doc doc = {.pkgs = pkgs, .n_pkgs = 2};
	struct osv_result res;
	struct bh_error err;

	if (osv_match_buf((const char *)data, size, "fuzz", &doc, &res, &err) == 0)
		osv_result_free(&res);
	/* The version comparison on its own, with both halves of the input. */
	if (size > 2) {
		char a[64] = "", b[64] = "";
		size_t half = size / 2 < 63 ? size / 2 : 63;

		for (size_t i = 0; i < half; i++) {
			a[i] = data[i] ? (char)data[i] : 'x';
			b[i] = data[size - 1 - i] ? (char)data[size - 1 - i] : 'y';
		}
		if (version_compare(a, b) != -version_compare(b, a))
			__builtin_trap(); /* the order must be antisymmetric */
	}
	return 0;
}
