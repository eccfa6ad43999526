/* The registry options every bhpack verb that talks to a registry takes
 * (push, fetch): TLS, client certificate, credentials, limits. */
#ifndef BHPACK_REGISTRY_CLI_H
#define BHPACK_REGISTRY_CLI_H

#include <bulkhead/error.h>
#include <bulkhead/registry.h>

#include <getopt.h>
#include <stdio.h>

struct registry_cli {
	struct registry_opts opts;
	const char *password_env, *password_file;
	char password[512];
};

/* getopt_long entries for the options below, to append to a verb's own
 * (their vals are 0x1000 and up). */
/* clang-format off */
#define REGISTRY_CLI_OPTIONS                                   \
	{"ca", required_argument, NULL, 0x1000},               \
	{"client-cert", required_argument, NULL, 0x1001},      \
	{"client-key", required_argument, NULL, 0x1002},       \
	{"user", required_argument, NULL, 0x1003},             \
	{"password-env", required_argument, NULL, 0x1004},     \
	{"password-file", required_argument, NULL, 0x1005},    \
	{"low-speed", required_argument, NULL, 0x1006},        \
	{"timeout", required_argument, NULL, 0x1007}
/* clang-format on */

#define REGISTRY_CLI_USAGE                                                                         \
	"registry options:\n"                                                                      \
	"  --ca FILE             CA bundle (PEM) the registry's certificate must chain to\n"       \
	"                        (default " REGISTRY_SYSTEM_CA ")\n"                               \
	"  --client-cert FILE --client-key FILE   client certificate for mutual TLS\n"             \
	"  --user NAME           user name; the password comes from --password-file FILE\n"        \
	"                        or the variable --password-env VAR (default\n"                    \
	"                        BHPACK_REGISTRY_PASSWORD), never from the command line\n"         \
	"  --low-speed B/S       fail a transfer slower than B bytes/s for S s (1024/30)\n"        \
	"  --timeout S           limit for small requests (120)\n"

/* Handles one option; returns 1 when c was one of ours, 0 when not, -1
 * on a bad value (printed). */
int registry_cli_option(struct registry_cli *c, int opt, const char *arg);
/* Reads the password and opens the client for ref's host. */
int registry_cli_open(struct registry_cli *c, const struct registry_ref *ref, struct registry **r,
                      struct bh_error *err);
/* "fault=... http_status=... retry_after=..." of the last operation. */
void registry_cli_print_result(FILE *f, const struct registry *r);
const char *registry_fault_name(int fault);

#endif
