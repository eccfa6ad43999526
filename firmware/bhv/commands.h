/* The verbs of the bhv command line (main.c holds the table). Each parses
 * its own arguments, calls the library and returns the exit status; on
 * failure, or when the guest did not power off, err says why. */
#ifndef BHV_COMMANDS_H
#define BHV_COMMANDS_H

#include <bulkhead/error.h>

int cmd_run(int argc, char **argv, struct bh_error *err);
int cmd_check(int argc, char **argv, struct bh_error *err);
int cmd_syscalls(int argc, char **argv, struct bh_error *err);

#endif
