/* Workload bundles as bhd checks them: the first input byte chooses whether
 * the signature is checked (against the test vendor key) or skipped, so
 * that the parsing behind the signature is reached too. */
#include <bulkhead/bundle.h>

#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>
#include <unistd.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bundle b;
	struct bh_error err;
	const char *keys = NULL;
	int fd;

	if (size < 1)
		return 0;
	if (data[0] & 1)
		keys = KEYS_DIR;
	fd = memfd_create("bundle", MFD_CLOEXEC);
	if (fd < 0)
		return 0;
	if (write(fd, data + 1, size - 1) == (ssize_t)(size - 1) &&
	    bundle_check(fd, "fuzz", keys, &b, &err) == 0)
		bundle_free(&b);
	close(fd);
	return 0;
}
