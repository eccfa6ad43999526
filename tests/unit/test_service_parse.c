/* init's service file parser: every field, defaults, and a clear error
 * naming the file, line and field for each kind of bad input. */
#include "tap.h"

#include "init.h"

#include <string.h>

static struct service_config cfg;
static struct bh_error err;

static int parse(const char *text)
{
	service_config_free(&cfg);
	return service_parse_text("/etc/bulkhead/services.d/demo.service", text, &cfg, &err);
}

static void bad(const char *text, const char *want, const char *what)
{
	int r = parse(text);

	ok(r < 0 && strstr(err.msg, want) != NULL, "rejects %s: %s", what, r < 0 ? err.msg : "(accepted)");
}

int main(void)
{
	ok(parse("exec = /sbin/udhcpc -f -i eth0\n") == 0, "minimal file parses");
	ok(!strcmp(cfg.name, "demo") && !strcmp(cfg.argv[0], "/sbin/udhcpc") &&
		   !strcmp(cfg.argv[3], "eth0") && cfg.argv[4] == NULL,
	   "name from the file name, argv split on spaces");
	ok(cfg.type == SERVICE_SIMPLE && cfg.restart == RESTART_ON_FAILURE &&
		   cfg.restart_delay_ms == 500 && cfg.max_restarts == 5 && cfg.no_new_privs &&
		   !cfg.critical && cfg.uid == 0 && cfg.caps == 0,
	   "defaults: simple, on-failure, 500 ms, 5 restarts, no_new_privs, no capabilities");

	ok(parse("# comment\n\nexec = /bin/x \"two words\" three # trailing\ntype = oneshot\n"
		 "after = a, b c\nrestart = always\nrestart_delay_ms = 250\n"
		 "restart_max_delay_ms = 4000\nmax_restarts = 0\nstop_timeout_ms = 100\n"
		 "user = 65534\ngroup = 65534\ncapabilities = CAP_NET_RAW net_admin\n"
		 "critical = yes\nno_new_privs = no\n") == 0,
	   "every field parses: %s", err.msg);
	ok(!strcmp(cfg.argv[1], "two words") && !strcmp(cfg.argv[2], "three"),
	   "double quotes group words");
	ok(cfg.n_after == 3 && !strcmp(cfg.after[2], "c"), "after takes a list");
	ok(cfg.type == SERVICE_ONESHOT && cfg.restart == RESTART_ALWAYS &&
		   cfg.restart_delay_ms == 250 && cfg.restart_max_delay_ms == 4000 &&
		   cfg.max_restarts == 0 && cfg.stop_timeout_ms == 100 && cfg.uid == 65534 &&
		   cfg.gid == 65534 && cfg.critical && !cfg.no_new_privs,
	   "values are kept");
	ok(cfg.caps == ((1ULL << 13) | (1ULL << 12)), "capability names, with or without CAP_");

	bad("type = simple\n", "field 'exec' is missing", "a missing exec");
	bad("exec = /bin/x\nrestart = sometimes\n", "demo.service:2: field 'restart': 'sometimes'",
	    "an unknown restart policy");
	bad("exec = bin/x\n", "field 'exec': 'bin/x' must be an absolute path", "a relative exec");
	bad("exec = /bin/x \"open\n", "unterminated quote", "an unterminated quote");
	bad("exec = /bin/x\ncolour = blue\n", ":2: field 'colour': unknown field", "an unknown field");
	bad("exec = /bin/x\nmax_restarts = -1\n", "field 'max_restarts'", "a negative number");
	bad("exec = /bin/x\nrestart_delay_ms = 12abc\n", "field 'restart_delay_ms'", "trailing junk");
	bad("exec = /bin/x\nuser = nosuchuser\n", "field 'user': 'nosuchuser'", "an unknown user");
	bad("exec = /bin/x\ncapabilities = CAP_FLY\n", "'CAP_FLY' is not a capability", "an unknown capability");
	bad("exec = /bin/x\ncritical = maybe\n", "field 'critical'", "a bad boolean");
	bad("exec = /bin/x\njust words\n", ":2: expected 'key = value'", "a line without =");
	bad("exec = /bin/x\nafter = a b c d e f g h i\n", "field 'after'", "too many dependencies");
	bad("exec = /bin/x\nafter = bad/name\n", "field 'after'", "a bad dependency name");
	{
		char big[4096] = "exec = /bin/x";

		for (int i = 0; i < 40; i++)
			strcat(big, " w");
		bad(big, "more than 32 words", "too many words");
	}
	service_config_free(&cfg);
	ok(service_parse_text("/x/bad name.service", "exec = /bin/x\n", &cfg, &err) < 0 &&
		   strstr(err.msg, "may only hold"),
	   "rejects a file name that is not a valid service name");
	ok(service_parse_text("/x/noext", "exec = /bin/x\n", &cfg, &err) < 0 &&
		   strstr(err.msg, "<name>.service"),
	   "rejects a file without .service");
	return done();
}
