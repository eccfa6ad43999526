/* The parts of bhv's jail that need no root: the resource limits it
 * computes for a configuration, and the per-VM uid slots (flock on one
 * file per uid), taken and given back in a temporary folder. */
#include "tap.h"

#include "jail.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static void test_limits(void)
{
	struct bhv_config cfg;
	struct jail_limits l;

	config_defaults(&cfg);
	cfg.cpus = 8;
	jail_limits_for(&cfg, 0, &l);
	/* The largest configuration's descriptors, counted in jail_limits.c. */
	ok(l.nofile >= 48 && l.nofile <= 128, "RLIMIT_NOFILE fits the largest VM's 48 fds: %llu",
	   (unsigned long long)l.nofile);
	ok(l.nproc == 8 + 4, "RLIMIT_NPROC: 8 vCPUs, the device thread, the outer process, spare");
	ok(l.fsize == 64ULL << 20, "RLIMIT_FSIZE without disks: 64 MiB of console file");
	cfg.cpus = 1;
	jail_limits_for(&cfg, 10ULL << 30, &l);
	ok(l.nproc == 5 && l.fsize == 10ULL << 30, "a 10 GiB disk: RLIMIT_FSIZE is its size");
}

static void test_uid(void)
{
	char dir[] = "/tmp/bhv-unit-jail-XXXXXX", sub[64], path[96];
	struct bh_error err;
	uid_t a = 0, b = 0, c = 0;
	int fa, fb, fc;

	if (!mkdtemp(dir))
		abort();
	snprintf(sub, sizeof(sub), "%s/run", dir);
	fa = jail_uid_allocate(sub, 1000, 3, &a, &err);
	fb = jail_uid_allocate(sub, 1000, 3, &b, &err);
	ok(fa >= 0 && fb >= 0 && a == 1000 && b == 1001, "two VMs get two uids: %u and %u",
	   (unsigned)a, (unsigned)b);
	close(fa);
	fa = jail_uid_allocate(sub, 1000, 3, &a, &err);
	ok(fa >= 0 && a == 1000, "a uid whose VM ended is taken again (no stale state)");
	fc = jail_uid_allocate(sub, 1000, 3, &c, &err);
	ok(fc >= 0 && c == 1002, "the third slot");
	ok(jail_uid_allocate(sub, 1000, 3, &c, &err) < 0 && strstr(err.msg, "all 3 jail uids"),
	   "no slot left: %s", err.msg);
	if (fork() == 0) {
		/* A child holding the same open file keeps the slot. */
		close(fb);
		_exit(0);
	}
	ok(jail_uid_allocate(sub, 1000, 3, &c, &err) < 0,
	   "a slot stays taken while another holder of its open file lives");
	close(fa);
	close(fb);
	close(fc);
	chmod(sub, 0777);
	ok(jail_uid_allocate(sub, 1000, 3, &c, &err) < 0 && strstr(err.msg, "only this user"),
	   "a folder others may write is refused: %s", err.msg);
	for (unsigned i = 1000; i < 1003; i++) {
		snprintf(path, sizeof(path), "%s/uid-%u.lock", sub, i);
		unlink(path);
	}
	rmdir(sub);
	rmdir(dir);
}

int main(void)
{
	test_limits();
	test_uid();
	return done();
}
