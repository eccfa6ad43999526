/* Capabilities (firmware/lib/caps.c): names both ways, the kernel's last
 * capability, and bh_drop_privileges in a forked child, which must end
 * with exactly the identity and capability sets asked for (as root only:
 * nobody else can change uid). */
#include "tap.h"

#include <bulkhead/caps.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

/* The value of a /proc/self/status line, e.g. "CapEff". */
static unsigned long long status_hex(const char *key)
{
	char line[256];
	unsigned long long v = ~0ULL;
	size_t n = strlen(key);
	FILE *f = fopen("/proc/self/status", "re");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, key, n) && line[n] == ':')
			v = strtoull(line + n + 1, NULL, 16);
	if (f)
		fclose(f);
	return v;
}

/* Runs in a child: drops, then reports what it became as exit codes. */
static int dropped(const struct bh_privileges *p, uint64_t want_bounding)
{
	pid_t pid = fork();
	int status;

	if (pid == 0) {
		struct bh_error err;

		if (bh_drop_privileges(p, &err) < 0) {
			fprintf(stderr, "%s\n", err.msg);
			_exit(10);
		}
		if (getuid() != p->uid || geteuid() != p->uid || getgid() != p->gid ||
		    getgroups(0, NULL) != (int)p->n_groups)
			_exit(11);
		if (status_hex("CapEff") != p->effective || status_hex("CapPrm") != p->permitted ||
		    status_hex("CapInh") != p->inheritable || status_hex("CapAmb") != p->ambient)
			_exit(12);
		if ((status_hex("CapBnd") & ~(~0ULL << (p->last_cap + 1))) != want_bounding)
			_exit(13);
		if (status_hex("NoNewPrivs") != (p->no_new_privs ? 1 : 0))
			_exit(14);
		_exit(0);
	}
	if (pid < 0 || waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 99;
}

int main(void)
{
	uint64_t net_raw = 1ULL << 13;
	gid_t groups[] = {65533};
	int last = bh_cap_last(), rc;

	ok(bh_cap_from_name("CAP_SYS_ADMIN") == 21 && bh_cap_from_name("cap_net_raw") == 13 &&
		   bh_cap_from_name("CAP_CHECKPOINT_RESTORE") == 40,
	   "names to numbers, in any case");
	ok(bh_cap_from_name("CAP_FLY") < 0 && bh_cap_from_name("NET_RAW") < 0 &&
		   bh_cap_from_name("") < 0,
	   "an unknown name, or one without CAP_, is no capability");
	ok(!strcmp(bh_cap_name(0), "CAP_CHOWN") && !strcmp(bh_cap_name(40), "CAP_CHECKPOINT_RESTORE") &&
		   !bh_cap_name(41) && !bh_cap_name(-1),
	   "numbers to names, NULL past the last");
	ok(last >= 40 && last <= 63, "the kernel's last capability: %d", last);

	if (geteuid() != 0) {
		skip("dropping to an unprivileged uid with nothing", "not root");
		skip("dropping with one capability in every set", "not root");
		return done();
	}
	rc = dropped(&(struct bh_privileges){.uid = 65534, .gid = 65534, .no_new_privs = true,
					     .last_cap = last},
		     0);
	ok(rc == 0, "an unprivileged uid with no capability in any set, no_new_privs (bhv's jail; "
	   "child status %d)", rc);
	rc = dropped(&(struct bh_privileges){.uid = 65534, .gid = 65534, .groups = groups,
					     .n_groups = 1, .bounding = net_raw,
					     .permitted = net_raw, .effective = net_raw,
					     .inheritable = net_raw, .ambient = net_raw,
					     .last_cap = last},
		     net_raw);
	ok(rc == 0, "one capability kept in every set across the uid change, a group (init's "
	   "services; child status %d)", rc);
	return done();
}
