/* libFuzzer harness for the key revocation list reader (firmware/lib/
 * revoke.c): the envelope as a state or the image carries it, checked
 * against the TEST-ONLY keys, and the payload parser on its own (the
 * signature keeps the fuzzer from reaching it through the envelope). A
 * list that parses is also compared with a fixed held list. Nothing may
 * crash, leak or read out of bounds, whatever the bytes. */
#include <bulkhead/revoke.h>

#include <stddef.h>
#include <stdint.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct revocations r,
	    held = {.serial = 2, .n = 1, .keys = {{.key_id = "0123456789abcdef0123456789abcdef"}}};
	struct bh_error err;

	revoke_read((const char *)data, size, "fuzz", KEYS_DIR, &r, &err);
	if (revoke_parse((const char *)data, size, "fuzz", &r, &err) == 0) {
		revoke_compare(&held, &r, "fuzz", &err);
		revoke_check(&r, "fuzz", "0123456789abcdef0123456789abcdef", "fuzz", &err);
	}
	return 0;
}
