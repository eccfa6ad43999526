/* bhsbom: the SBOM tool, on the build host (generate) and on the device
 * (list, verify, match). */
#include "cli.h"

#include <bulkhead/version.h>

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} commands[] = {
	{"generate", cmd_generate, "write the SPDX 2.3 and CycloneDX 1.6 documents of an image"},
	{"list", cmd_list, "list the components with version, licence and purl"},
	{"verify", cmd_verify, "re-hash installed files: modified, missing and unlisted ones"},
	{"match", cmd_match, "match the components against OSV advisories in a local file"},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: bhsbom COMMAND [OPTIONS]   (bhsbom %s)\n\n", BH_VERSION);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-9s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nExit status: 0 clean, 1 findings (verify, match), 2 error.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_ERROR : EXIT_CLEAN;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "bhsbom: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_ERROR;
}
