/* bhc delete [--force] ID */
#include "cli.h"

int cmd_delete(struct cli *c, struct bh_error *err)
{
	if (c->n_args != 1)
		return bh_error(err, 0, "delete takes one container id");
	return bhc_delete(c->root, c->args[0], c->force, err);
}
