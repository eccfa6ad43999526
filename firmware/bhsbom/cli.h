/* The bhsbom commands; each parses its own options. */
#ifndef BULKHEAD_BHSBOM_CLI_H
#define BULKHEAD_BHSBOM_CLI_H

#define DEFAULT_SBOM "/usr/share/sbom/image.spdx.json"
#define SBOM_DIR_IN_ROOT "usr/share/sbom"

/* Exit statuses: 0 clean, 1 findings, 2 error. */
enum { EXIT_CLEAN = 0, EXIT_FINDINGS = 1, EXIT_ERROR = 2 };

int cmd_generate(int argc, char **argv);
int cmd_list(int argc, char **argv);
int cmd_verify(int argc, char **argv);
int cmd_match(int argc, char **argv);

#endif
