/* `bhc spec`: the hardened default config is valid for bhc's own parser
 * and carries every default the threat model relies on. */
#include "tap.h"

#include "libbhc.h"

#include <stdlib.h>
#include <string.h>

int main(void)
{
	const char *args[] = {"/bin/app", "--flag"};
	struct bh_error err = {0};
	struct bhc_config cfg;
	char *text = bhc_spec_generate(NULL, 0, &err);
	yyjson_doc *doc;
	yyjson_val *root, *ns, *v;
	size_t i, max;
	unsigned seen = 0;

	ok(text != NULL, "spec generates");
	ok(bhc_config_parse("/b", text, strlen(text), &cfg, &err) == 0,
	   "bhc parses its own spec: %s", err.msg);
	ok(cfg.readonly && !cfg.terminal && cfg.n_args == 1 && !strcmp(cfg.args[0], "sh"),
	   "read-only, no terminal, sh");
	ok(cfg.caps[CAPSET_BOUNDING] == 0 && cfg.caps[CAPSET_EFFECTIVE] == 0 &&
	       cfg.caps[CAPSET_PERMITTED] == 0,
	   "no capabilities");
	ok(!bhc_config_has_limits(&cfg), "no limits: it runs where there is no cgroup v2");
	ok(cfg.n_masked >= 10 && cfg.n_readonly >= 5, "masked and read-only paths listed");
	ok(cfg.seccomp == NULL, "no seccomp section: bhc's default filter applies");
	bhc_config_free(&cfg);
	doc = yyjson_read(text, strlen(text), 0);
	root = yyjson_doc_get_root(doc);
	ns = yyjson_obj_get(yyjson_obj_get(root, "linux"), "namespaces");
	yyjson_arr_foreach(ns, i, max, v)
	{
		const char *t = yyjson_get_str(yyjson_obj_get(v, "type"));
		const char *all[] = {"pid", "network", "ipc", "uts", "mount", "user", "cgroup"};

		for (unsigned k = 0; k < 7; k++)
			if (!strcmp(t, all[k]))
				seen |= 1u << k;
	}
	ok(seen == 0x7f, "all seven namespaces, user and cgroup included");
	ok(yyjson_get_bool(yyjson_obj_get(yyjson_obj_get(root, "process"), "noNewPrivileges")),
	   "noNewPrivileges");
	yyjson_doc_free(doc);
	free(text);
	text = bhc_spec_generate(args, 2, &err);
	ok(text && bhc_config_parse("/b", text, strlen(text), &cfg, &err) == 0 && cfg.n_args == 2 &&
	       !strcmp(cfg.args[1], "--flag"),
	   "spec -- ARGS sets process.args");
	bhc_config_free(&cfg);
	free(text);
	return done();
}
