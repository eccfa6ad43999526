/* init's service files (the runtime folder of debug images, the image's
 * own services.d). */
#include "init.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct service_config cfg;
	struct bh_error err;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = 0;
	if (service_parse_text("/run/bulkhead/services.d/fuzz.service", text, &cfg, &err) == 0)
		service_config_free(&cfg);
	free(text);
	return 0;
}
