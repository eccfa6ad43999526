/* libFuzzer: the JSON config parser (yyjson underneath) and the checks. */
#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bhv_config cfg;
	struct bh_error err;

	config_defaults(&cfg);
	if (config_from_json(&cfg, "fuzz.json", (const char *)data, size, &err) == 0)
		config_check(&cfg, &err);
	return 0;
}
