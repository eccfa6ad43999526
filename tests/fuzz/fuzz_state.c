/* libFuzzer harness for the desired-state reader (firmware/lib/state.c,
 * dsse.c): the envelope as the registry serves it, checked against the
 * TEST-ONLY state key, and the payload parser on its own (the signature
 * keeps the fuzzer from reaching it through the envelope). Neither may
 * crash, leak or read out of bounds, whatever the bytes. */
#include <bulkhead/state.h>

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct state s;
	struct state_check c = {
	    .keys_dir = KEYS_DIR, .group = "lab", .applied_serial = 5, .now = 1800000000};
	enum state_verdict v;
	struct bh_error err;

	state_read((const char *)data, size, "fuzz", &c, &s, &v, &err);
	state_parse((const char *)data, size, "fuzz", &s, &err);
	return 0;
}
