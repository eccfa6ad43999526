/* bhc state ID: the OCI state JSON on stdout. */
#include "cli.h"

#include <stdio.h>
#include <stdlib.h>

int cmd_state(struct cli *c, struct bh_error *err)
{
	struct bhc_state st;
	char *json;

	if (c->n_args != 1)
		return bh_error(err, 0, "state takes one container id");
	if (bhc_state_load(c->root, c->args[0], &st, err) < 0)
		return -1;
	json = bhc_state_json(&st, err);
	bhc_state_free(&st);
	if (!json)
		return -1;
	printf("%s\n", json);
	free(json);
	return 0;
}
