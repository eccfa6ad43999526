/* bhc list [--format table|json] [--quiet] */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cmd_list(struct cli *c, struct bh_error *err)
{
	bool json = c->format && !strcmp(c->format, "json");
	char **ids;
	size_t n;

	if (c->format && !json && strcmp(c->format, "table"))
		return bh_error(err, 0, "--format '%s': table or json", c->format);
	if (bhc_state_list(c->root, &ids, &n, err) < 0)
		return -1;
	if (json)
		printf("[");
	else if (!c->quiet)
		printf("%-24s %-8s %-8s %s\n", "ID", "PID", "STATUS", "BUNDLE");
	for (size_t i = 0; i < n; i++) {
		struct bhc_state st;
		struct bh_error e2;

		if (!ids[i] || bhc_state_load(c->root, ids[i], &st, &e2) < 0) {
			free(ids[i]);
			continue;
		}
		if (json) {
			char *s = bhc_state_json(&st, &e2);

			printf("%s%s", i ? "," : "", s ? s : "{}");
			free(s);
		} else if (c->quiet) {
			printf("%s\n", st.id);
		} else {
			printf("%-24s %-8d %-8s %s\n", st.id,
			       st.status == BHC_STOPPED ? 0 : (int)st.pid,
			       bhc_status_name(st.status), st.bundle);
		}
		bhc_state_free(&st);
		free(ids[i]);
	}
	if (json)
		printf("]\n");
	free(ids);
	return 0;
}
