/* The bhc command line: global options, one function per verb. */
#ifndef BHC_CLI_H
#define BHC_CLI_H

#include "libbhc.h"

enum {
	OPT_BUNDLE = 1 << 0,
	OPT_PID_FILE = 1 << 1,
	OPT_CONSOLE_SOCKET = 1 << 2,
	OPT_DETACH = 1 << 3,
	OPT_FORCE = 1 << 4,
	OPT_ALL = 1 << 5,
	OPT_FORMAT = 1 << 6,
	OPT_QUIET = 1 << 7,
	OPT_PRESERVE_FDS = 1 << 8,
	OPT_NO_NEW_KEYRING = 1 << 9,
	OPT_ROOTLESS = 1 << 10,
};

struct cli {
	const char *root, *bundle, *pid_file, *console_socket, *format;
	bool detach, force, all, quiet;
	int preserve_fds;
	char **args; /* positional arguments after the verb */
	int n_args;
};

int cli_parse(int argc, char **argv, unsigned allowed, struct cli *c, struct bh_error *err);

int cmd_create(struct cli *c, struct bh_error *err);
int cmd_start(struct cli *c, struct bh_error *err);
int cmd_run(struct cli *c, struct bh_error *err);
int cmd_state(struct cli *c, struct bh_error *err);
int cmd_kill(struct cli *c, struct bh_error *err);
int cmd_delete(struct cli *c, struct bh_error *err);
int cmd_spec(struct cli *c, struct bh_error *err);
int cmd_features(struct cli *c, struct bh_error *err);
int cmd_list(struct cli *c, struct bh_error *err);

#endif
