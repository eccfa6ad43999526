/* Update files as bhd checks them before writing anything
 * (firmware/lib/update_check.c): the signed index, the members, the update
 * manifest, board, arch and version. The first input byte chooses whether
 * the signature is checked (against the test vendor key) or skipped, so
 * that the parsing behind it is reached too; the second whether the
 * running version is given. */
#include <bulkhead/bundle.h>
#include <bulkhead/update.h>

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct update_manifest m;
	struct bundle b;
	struct bh_error err;
	int fd;

	if (size < 2)
		return 0;
	/* The manifest parser alone, on the same bytes. */
	update_manifest_parse((const char *)data + 2, size - 2, "fuzz", &m, &err);
	fd = memfd_create("update", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data + 2, size - 2) == (ssize_t)(size - 2) &&
	    update_check(fd, "fuzz", (data[0] & 1) ? KEYS_DIR : NULL, "qemu-x86_64", "x86_64",
			 (data[1] & 1) ? "0.1.0.1" : NULL, data[1] & 2, &b, &m, &err) == 0)
		bundle_free(&b);
	close(fd);
	return 0;
}
