/* bhc kill [--all] ID [SIGNAL]: SIGTERM unless a signal is named. */
#include "cli.h"

#include <signal.h>

int cmd_kill(struct cli *c, struct bh_error *err)
{
	int sig = SIGTERM;

	if (c->n_args < 1 || c->n_args > 2)
		return bh_error(err, 0, "kill takes a container id and an optional signal");
	if (c->n_args == 2 && (sig = bhc_signal_parse(c->args[1])) < 0)
		return bh_error(err, 0, "'%s' is not a signal", c->args[1]);
	return bhc_kill(c->root, c->args[0], sig, c->all, err);
}
