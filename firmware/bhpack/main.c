/* bhpack: workload bundles on the build host. */
#include "bhpack.h"

#include <bulkhead/version.h>

#include <stdio.h>
#include <string.h>

static const struct {
	const char *name;
	int (*fn)(int, char **);
	const char *help;
} commands[] = {
	{"keygen", cmd_keygen, "create an ECDSA P-256 signing key pair"},
	{"keys", cmd_keys, "make a vendor's whole key set (signing and Secure Boot) in a new folder"},
	{"build", cmd_build, "build a bundle from a folder, an OCI image or VM images"},
	{"sign", cmd_sign, "sign (or re-sign) a bundle"},
	{"inspect", cmd_inspect, "show a bundle's index, manifest and SBOM summary"},
	{"verify", cmd_verify, "check a bundle as the device does: signature, hashes, SBOM"},
	{"update", cmd_update, "build a signed firmware update file, or --check one as the device does"},
	{"push", cmd_push, "publish a bundle, update file or desired state in an OCI registry"},
	{"state", cmd_state, "write and sign a desired state, or --check one as the device does"},
	{"revoke", cmd_revoke, "write and sign a key revocation list, or --check one as the device does"},
	{"provision", cmd_provision, "write a gateway's fleet provisioning onto its disk's ESP"},
	/* Not listed: drives the registry client as the device does (tests). */
	{"fetch", cmd_fetch, NULL},
};

static void usage(FILE *f)
{
	fprintf(f, "usage: bhpack COMMAND [OPTIONS]   (bhpack %s)\n\n", BH_VERSION);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (commands[i].help)
			fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\nExit status: 0 success, 1 bundle refused (verify), 2 error.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? EXIT_ERROR : EXIT_OK;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			return commands[i].fn(argc - 1, argv + 1);
	fprintf(stderr, "bhpack: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return EXIT_ERROR;
}
