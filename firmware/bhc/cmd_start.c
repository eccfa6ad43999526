/* bhc start ID */
#include "cli.h"

int cmd_start(struct cli *c, struct bh_error *err)
{
	if (c->n_args != 1)
		return bh_error(err, 0, "start takes one container id");
	return bhc_start(c->root, c->args[0], err);
}
