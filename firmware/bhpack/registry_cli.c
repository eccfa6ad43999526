/* Registry options shared by bhpack's push and fetch verbs. */
#include "registry_cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int registry_cli_option(struct registry_cli *c, int opt, const char *arg)
{
	switch (opt) {
	case 0x1000:
		c->opts.ca_file = arg;
		return 1;
	case 0x1001:
		c->opts.client_cert = arg;
		return 1;
	case 0x1002:
		c->opts.client_key = arg;
		return 1;
	case 0x1003:
		c->opts.username = arg;
		return 1;
	case 0x1004:
		c->password_env = arg;
		return 1;
	case 0x1005:
		c->password_file = arg;
		return 1;
	case 0x1006:
		if (sscanf(arg, "%ld/%ld", &c->opts.low_speed_bytes, &c->opts.low_speed_time_s) !=
		        2 ||
		    c->opts.low_speed_bytes < 1 || c->opts.low_speed_time_s < 1) {
			fprintf(stderr, "bhpack: --low-speed wants BYTES/SECONDS, e.g. 1024/30\n");
			return -1;
		}
		return 1;
	case 0x1007:
		c->opts.request_timeout_s = atol(arg);
		if (c->opts.request_timeout_s < 1) {
			fprintf(stderr, "bhpack: --timeout wants seconds\n");
			return -1;
		}
		return 1;
	}
	return 0;
}

static int read_password(struct registry_cli *c, struct bh_error *err)
{
	const char *var = c->password_env ? c->password_env : "BHPACK_REGISTRY_PASSWORD";

	if (c->password_file) {
		FILE *f = fopen(c->password_file, "re");

		if (!f)
			return bh_error(err, errno, "open password file %s", c->password_file);
		if (!fgets(c->password, sizeof(c->password), f))
			c->password[0] = 0;
		fclose(f);
		c->password[strcspn(c->password, "\r\n")] = 0;
	} else if (getenv(var)) {
		snprintf(c->password, sizeof(c->password), "%s", getenv(var));
	} else {
		return bh_error(err, 0,
		                "--user %s: no password: give --password-file FILE or set "
		                "the variable %s",
		                c->opts.username, var);
	}
	if (!c->password[0])
		return bh_error(err, 0, "--user %s: the password is empty", c->opts.username);
	c->opts.password = c->password;
	return 0;
}

int registry_cli_open(struct registry_cli *c, const struct registry_ref *ref, struct registry **r,
                      struct bh_error *err)
{
	if ((c->password_env || c->password_file) && !c->opts.username)
		return bh_error(err, 0, "a password option needs --user");
	if (c->opts.username && read_password(c, err) < 0)
		return -1;
	return registry_open(r, ref->host, &c->opts, err);
}

const char *registry_fault_name(int fault)
{
	static const char *const names[] = {
	    [REGISTRY_OK] = "none",
	    [REGISTRY_NETWORK] = "network",
	    [REGISTRY_TLS] = "tls",
	    [REGISTRY_AUTH] = "auth",
	    [REGISTRY_NOT_FOUND] = "not-found",
	    [REGISTRY_RATE_LIMITED] = "rate-limited",
	    [REGISTRY_SERVER] = "server",
	    [REGISTRY_PROTOCOL] = "protocol",
	    [REGISTRY_INTEGRITY] = "integrity",
	    [REGISTRY_TOO_LARGE] = "too-large",
	    [REGISTRY_NO_SPACE] = "no-space",
	    [REGISTRY_LOCAL] = "local",
	};

	return fault >= 0 && (size_t)fault < sizeof(names) / sizeof(names[0]) ? names[fault]
	                                                                      : "unknown";
}

void registry_cli_print_result(FILE *f, const struct registry *r)
{
	const struct registry_result *l = registry_last(r);

	fprintf(f, "fault=%s http_status=%ld retry_after=%ld\n", registry_fault_name(l->fault),
	        l->http_status, l->retry_after_s);
}
