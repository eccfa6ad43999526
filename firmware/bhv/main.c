/* bhv: a jailed KVM microVM monitor (README.md). A thin command line over
 * the library: the verb table below, one file per verb. Only this file
 * prints errors and chooses the exit status. */
#include "commands.h"
#include "config.h"

#include <bulkhead/version.h>

#include <stdio.h>
#include <string.h>

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv, struct bh_error *err);
	const char *help;
} commands[] = {
    {"run", cmd_run, "boot a VM (the default: `bhv --kernel ...` is `bhv run --kernel ...`)"},
    {"check", cmd_check, "check a configuration and its files without starting anything"},
    {"syscalls", cmd_syscalls, "list the seccomp allow-list of each thread"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: bhv [run|check] --kernel PATH [--initrd PATH] [--cmdline TEXT]\n"
	           "           [--mem MIB] [--cpus N] [--disk PATH[,ro]]... [--net TAPFD]\n"
	           "           [--mac MAC] [--console serial|virtio|both|none] [--no-rng]\n"
	           "           [--jail-uid UID] [--jail-gid GID] [--cgroup DIR] [--no-jail]\n"
	           "       bhv [run|check] --config FILE.json [flags overriding it]\n"
	           "       bhv syscalls | version | help\n"
	           "exit status: 0 guest powered off, 2 rebooted, 3 crashed, 1 monitor error\n"
	           "verbs:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
}

int main(int argc, char **argv)
{
	struct bh_error err = {0};
	const struct command *cmd = &commands[0];
	int status;

	if (argc < 2) {
		usage(stderr);
		return BHV_EXIT_ERROR;
	}
	if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	if (!strcmp(argv[1], "version") || !strcmp(argv[1], "--version")) {
		printf("bhv %s\n", BH_VERSION);
		return 0;
	}
	if (argv[1][0] != '-') {
		cmd = NULL;
		for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
			if (!strcmp(argv[1], commands[i].name))
				cmd = &commands[i];
		if (!cmd) {
			fprintf(stderr, "bhv: unknown verb '%s' (bhv help lists them)\n", argv[1]);
			return BHV_EXIT_ERROR;
		}
		argc--;
		argv++;
	}
	status = cmd->run(argc, argv, &err);
	if (status != 0 && err.msg[0])
		bh_error_print(&err, "bhv");
	return status;
}
