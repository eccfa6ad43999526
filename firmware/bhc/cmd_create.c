/* bhc create [--bundle DIR] [--pid-file FILE] [--console-socket SOCK] ID */
#include "cli.h"

#include <unistd.h>

int cmd_create(struct cli *c, struct bh_error *err)
{
	struct bhc_create_opts o = {
	    c->root,         NULL, c->bundle ? c->bundle : ".", c->pid_file, c->console_socket,
	    c->preserve_fds, false};
	struct bhc_container ct;

	if (c->n_args != 1)
		return bh_error(err, 0, "create takes one container id");
	o.id = c->args[0];
	if (bhc_create(&o, &ct, err) < 0)
		return -1;
	close(ct.pidfd);
	close(ct.rootfd);
	return 0;
}
