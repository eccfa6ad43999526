/* bhc: Bulkhead's OCI container runtime. A thin command line over libbhc:
 * the command table below, one file per verb (cmd_*.c). Options follow the
 * OCI runtime command-line conventions of runc and crun; global options
 * (--root, --log, --log-format, --debug) are accepted before or after the
 * verb. Only this file prints errors and chooses the exit status. */
#include "cli.h"

#include <bulkhead/version.h>

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
	const char *name;
	int (*fn)(struct cli *, struct bh_error *);
	unsigned options;
	const char *usage;
} verbs[] = {
    {"create", cmd_create,
     OPT_BUNDLE | OPT_PID_FILE | OPT_CONSOLE_SOCKET | OPT_PRESERVE_FDS | OPT_NO_NEW_KEYRING,
     "create [--bundle DIR] [--pid-file FILE] [--console-socket SOCK] [--preserve-fds N] ID"},
    {"start", cmd_start, 0, "start ID"},
    {"run", cmd_run,
     OPT_BUNDLE | OPT_PID_FILE | OPT_CONSOLE_SOCKET | OPT_DETACH | OPT_PRESERVE_FDS |
         OPT_NO_NEW_KEYRING,
     "run [--bundle DIR] [--pid-file FILE] [--console-socket SOCK] [--detach] [--preserve-fds N] "
     "ID"},
    {"state", cmd_state, 0, "state ID"},
    {"kill", cmd_kill, OPT_ALL, "kill [--all] ID [SIGNAL]"},
    {"delete", cmd_delete, OPT_FORCE, "delete [--force] ID"},
    {"spec", cmd_spec, OPT_BUNDLE | OPT_ROOTLESS, "spec [--bundle DIR] [-- ARGS...]"},
    {"features", cmd_features, 0, "features"},
    {"list", cmd_list, OPT_FORMAT | OPT_QUIET, "list [--format table|json] [--quiet]"},
};

#define N_VERBS (sizeof(verbs) / sizeof(*verbs))

static const char *log_path, *log_format;

int cli_parse(int argc, char **argv, unsigned allowed, struct cli *c, struct bh_error *err)
{
	static const struct option opts[] = {
	    {"root", required_argument, NULL, 'R'},
	    {"log", required_argument, NULL, 'L'},
	    {"log-format", required_argument, NULL, 'F'},
	    {"debug", no_argument, NULL, 'D'},
	    {"systemd-cgroup", no_argument, NULL, 'S'},
	    {"bundle", required_argument, NULL, 'b'},
	    {"pid-file", required_argument, NULL, 'p'},
	    {"console-socket", required_argument, NULL, 'c'},
	    {"detach", no_argument, NULL, 'd'},
	    {"force", no_argument, NULL, 'f'},
	    {"all", no_argument, NULL, 'a'},
	    {"format", required_argument, NULL, 'o'},
	    {"quiet", no_argument, NULL, 'q'},
	    {"preserve-fds", required_argument, NULL, 'P'},
	    {"no-new-keyring", no_argument, NULL, 'K'},
	    {"rootless", required_argument, NULL, 'r'},
	    {NULL, 0, NULL, 0},
	};
	static const struct {
		int ch;
		unsigned bit;
	} bits[] = {{'b', OPT_BUNDLE},         {'p', OPT_PID_FILE}, {'c', OPT_CONSOLE_SOCKET},
	            {'d', OPT_DETACH},         {'f', OPT_FORCE},    {'a', OPT_ALL},
	            {'o', OPT_FORMAT},         {'q', OPT_QUIET},    {'P', OPT_PRESERVE_FDS},
	            {'K', OPT_NO_NEW_KEYRING}, {'r', OPT_ROOTLESS}};
	int ch;

	optind = 0;
	opterr = 0;
	while ((ch = getopt_long(argc, argv, "b:dfaqo:", opts, NULL)) != -1) {
		for (size_t i = 0; i < sizeof(bits) / sizeof(*bits); i++)
			if (bits[i].ch == ch && !(allowed & bits[i].bit))
				return bh_error(err, 0, "option '%s' does not apply to '%s'",
				                argv[optind - 1], argv[0]);
		switch (ch) {
		case 'R':
			c->root = optarg;
			break;
		case 'L':
			log_path = optarg;
			break;
		case 'F':
			log_format = optarg;
			break;
		case 'D':
		case 'K':
			break;
		case 'S':
			return bh_error(
			    err, 0,
			    "--systemd-cgroup: not supported by bhc (cgroup v2 paths only)");
		case 'r':
			if (strcmp(optarg, "false"))
				return bh_error(
				    err, 0, "--rootless %s: bhc specs always use a user namespace",
				    optarg);
			break;
		case 'b':
			c->bundle = optarg;
			break;
		case 'p':
			c->pid_file = optarg;
			break;
		case 'c':
			c->console_socket = optarg;
			break;
		case 'd':
			c->detach = true;
			break;
		case 'f':
			c->force = true;
			break;
		case 'a':
			c->all = true;
			break;
		case 'o':
			c->format = optarg;
			break;
		case 'q':
			c->quiet = true;
			break;
		case 'P': {
			char *end;
			long n = strtol(optarg, &end, 10);

			if (*end || n < 0 || n > 1024)
				return bh_error(err, 0, "--preserve-fds '%s': not a count of fds",
				                optarg);
			c->preserve_fds = (int)n;
			break;
		}
		default:
			return bh_error(err, 0, "unknown option '%s' for '%s'", argv[optind - 1],
			                argv[0]);
		}
	}
	c->args = argv + optind;
	c->n_args = argc - optind;
	return 0;
}

static void usage(FILE *f)
{
	fprintf(f, "usage: bhc [--root DIR] COMMAND [OPTIONS]\n\n");
	for (size_t i = 0; i < N_VERBS; i++)
		fprintf(f, "  bhc %s\n", verbs[i].usage);
}

/* Errors also go to --log, in JSON when asked (containerd reads it). */
static void log_error(const struct bh_error *err)
{
	int fd;

	if (!log_path)
		return;
	fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return;
	if (log_format && !strcmp(log_format, "json")) {
		dprintf(fd, "{\"level\":\"error\",\"msg\":\"");
		for (const char *p = err->msg; *p; p++)
			if (*p == '"' || *p == '\\')
				dprintf(fd, "\\%c", *p);
			else if ((unsigned char)*p < 0x20)
				dprintf(fd, "\\u%04x", *p);
			else
				dprintf(fd, "%c", *p);
		dprintf(fd, "\"}\n");
	} else {
		dprintf(fd, "bhc: %s\n", err->msg);
	}
	close(fd);
}

int main(int argc, char **argv)
{
	struct cli c = {.root = BHC_DEFAULT_ROOT};
	struct bh_error err = {0};
	int i = 1, r;

	/* Global options before the verb. */
	while (i < argc && argv[i][0] == '-') {
		if (!strcmp(argv[i], "--version") || !strcmp(argv[i], "-v")) {
			printf("bhc version %s\nspec: %s\n", BH_VERSION, BHC_OCI_VERSION);
			return 0;
		}
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage(stdout);
			return 0;
		}
		i += (strchr(argv[i], '=') || !strcmp(argv[i], "--debug") ||
		      !strcmp(argv[i], "--systemd-cgroup"))
		         ? 1
		         : 2;
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	for (size_t v = 0; v < N_VERBS; v++) {
		if (strcmp(argv[i], verbs[v].name))
			continue;
		/* Global options first, then the verb's own. */
		if (cli_parse(i, argv, 0, &c, &err) < 0 ||
		    cli_parse(argc - i, argv + i, verbs[v].options, &c, &err) < 0) {
			bh_error_print(&err, "bhc");
			fprintf(stderr, "usage: bhc %s\n", verbs[v].usage);
			return 2;
		}
		r = verbs[v].fn(&c, &err);
		if (r < 0) {
			log_error(&err);
			bh_error_print(&err, "bhc");
			return 1;
		}
		return r;
	}
	fprintf(stderr, "bhc: unknown command '%s'\n", argv[i]);
	usage(stderr);
	return 2;
}
