/* libFuzzer harness for bhc's config.json handling: the parser with its
 * JSON-path errors, the hooks' saved copy parsed again, then what create derives from a parsed
 * config before any process exists (cgroup path, seccomp filter from linux.seccomp). Built by `make
 * fuzzers` (BHC_FUZZERS), run by `make fuzz`. */
#include "libbhc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Warnings (settings accepted but not applied) are checked to be one
 * line that names the file, then dropped: they would flood the output. */
static void check_warning(const char *line)
{
	static const char prefix[] = "bhc: warning: /bundle/config.json: $.";

	if (strncmp(line, prefix, sizeof(prefix) - 1) ||
	    strchr(line, '\n') != line + strlen(line) - 1)
		__builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bhc_config cfg;
	struct bh_error err;
	char rel[512];
	void *filter;

	bhc_warn_set_sink(check_warning);
	if (bhc_config_parse("/bundle", (const char *)data, size, &cfg, &err) < 0) {
		/* Every refusal says what was wrong. */
		if (!err.msg[0])
			__builtin_trap();
		return 0;
	}
	/* The hooks saved at create are parsed again by start and delete:
	 * the copy must give the same hooks. */
	if (bhc_hooks_any(&cfg.hooks)) {
		struct bhc_hooks again = {0};
		yyjson_doc *doc;
		size_t len;
		char *text = yyjson_val_write(cfg.hooks.json, 0, &len);

		doc = text ? yyjson_read(text, len, 0) : NULL;
		if (!doc || bhc_parse_hooks(yyjson_doc_get_root(doc), NULL, &again, &err) < 0)
			__builtin_trap();
		for (int k = 0; k < BHC_HOOK_N; k++)
			if (again.n[k] != cfg.hooks.n[k])
				__builtin_trap();
		bhc_hooks_free(&again);
		yyjson_doc_free(doc);
		free(text);
	}
	bhc_cgroup_path(&cfg, "fuzz", rel, sizeof(rel), &err);
	bhc_config_has_limits(&cfg);
	if (cfg.seccomp) {
		filter = bhc_seccomp_build(cfg.seccomp, &err);
		bhc_seccomp_free(filter);
	}
	bhc_config_free(&cfg);
	return 0;
}
