/* bhc's hooks: $.hooks parsed into the six kinds with each bad input
 * refused by its JSON path, an unknown kind warned about; the saved copy
 * trusted only when bhc's user alone can write it; and runtime-side hooks
 * run with the state on stdin, exact argv and env, their exit status, an
 * exec failure and a timeout reported naming the hook. */
#include "tap.h"

#include "libbhc.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static struct bhc_config cfg;
static struct bh_error err;
static int n_warnings;
static char last_warning[2048];

static void count_warning(const char *line)
{
	n_warnings++;
	snprintf(last_warning, sizeof(last_warning), "%s", line);
}

static int with_hooks(const char *hooks)
{
	char text[8192];

	snprintf(text, sizeof(text),
	         "{\"ociVersion\": \"1.0.2\", \"root\": {\"path\": \"rootfs\"}, \"process\": "
	         "{\"args\": [\"true\"], \"cwd\": \"/\", \"user\": {\"uid\": 0, \"gid\": 0}}, "
	         "\"hooks\": %s}",
	         hooks);
	bhc_config_free(&cfg);
	memset(&err, 0, sizeof(err));
	n_warnings = 0;
	return bhc_config_parse("/bundle", text, strlen(text), &cfg, &err);
}

static void bad(const char *hooks, const char *want, const char *what)
{
	int r = with_hooks(hooks);

	ok(r < 0 && strstr(err.msg, want) != NULL, "refuses %s: %s", what,
	   r < 0 ? err.msg : "(accepted)");
}

static char *slurp(const char *path)
{
	static char buf[8192];
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	buf[n > 0 ? n : 0] = 0;
	return buf;
}

static void parsing(void)
{
	const struct bhc_hook *h;

	ok(with_hooks("{\"prestart\": [{\"path\": \"/a\"}], \"createRuntime\": [{\"path\": \"/b\", "
	              "\"args\": [\"b\", \"x y\"], \"env\": [\"A=1\"], \"timeout\": 5}], "
	              "\"createContainer\": [], \"startContainer\": [{\"path\": \"/c\"}], "
	              "\"poststart\": [{\"path\": \"/d\"}, {\"path\": \"/e\"}], \"poststop\": "
	              "[{\"path\": \"/f\"}]}") == 0,
	   "all six kinds parse: %s", err.msg);
	h = cfg.hooks.list[BHC_HOOK_CREATE_RUNTIME];
	ok(cfg.hooks.n[BHC_HOOK_PRESTART] == 1 && cfg.hooks.n[BHC_HOOK_CREATE_CONTAINER] == 0 &&
	       cfg.hooks.n[BHC_HOOK_POSTSTART] == 2 && cfg.hooks.n[BHC_HOOK_POSTSTOP] == 1 &&
	       !strcmp(cfg.hooks.list[BHC_HOOK_POSTSTART][1].path, "/e"),
	   "each kind in its list, in order");
	ok(h && !strcmp(h->path, "/b") && !strcmp(h->args[1], "x y") && !h->args[2] &&
	       !strcmp(h->env[0], "A=1") && !h->env[1] && h->timeout == 5,
	   "path, args, env (NULL-terminated), timeout");
	h = cfg.hooks.list[BHC_HOOK_PRESTART];
	ok(!h->args && !h->env && h->timeout == 0, "no args, env or timeout: none");
	ok(bhc_hooks_any(&cfg.hooks) && with_hooks("{}") == 0 && !bhc_hooks_any(&cfg.hooks),
	   "an empty hooks object has no hook");

	bad("[]", "$.hooks: expected an object, got an array", "hooks as an array");
	bad("{\"prestart\": {}}", "$.hooks.prestart: expected an array", "a kind as an object");
	bad("{\"prestart\": [\"/bin/true\"]}", "$.hooks.prestart[0]: expected an object",
	    "a hook as a string");
	bad("{\"poststop\": [{\"args\": []}]}", "$.hooks.poststop[0].path: missing", "no path");
	bad("{\"poststop\": [{\"path\": 1}]}", "$.hooks.poststop[0].path: expected a string",
	    "a numeric path");
	bad("{\"prestart\": [{\"path\": \"bin/true\"}]}",
	    "$.hooks.prestart[0].path: 'bin/true' must be an absolute path", "a relative path");
	bad("{\"createRuntime\": [{\"path\": \"/x\", \"timeout\": 0}]}",
	    "$.hooks.createRuntime[0].timeout: 0 must be from 1", "a zero timeout");
	bad("{\"createRuntime\": [{\"path\": \"/x\", \"timeout\": -1}]}",
	    "$.hooks.createRuntime[0].timeout: -1 must be from 1", "a negative timeout");
	bad("{\"createRuntime\": [{\"path\": \"/x\", \"timeout\": 1e9}]}",
	    "$.hooks.createRuntime[0].timeout", "a real number timeout");
	bad("{\"createRuntime\": [{\"path\": \"/x\", \"timeout\": 99999999}]}",
	    "$.hooks.createRuntime[0].timeout: 99999999 must be from 1 to 86400", "a huge timeout");
	bad("{\"startContainer\": [{\"path\": \"/x\", \"args\": \"x\"}]}",
	    "$.hooks.startContainer[0].args: expected an array", "args as a string");
	bad("{\"startContainer\": [{\"path\": \"/x\", \"args\": [1]}]}",
	    "$.hooks.startContainer[0].args[0]: expected a string", "a numeric arg");
	bad("{\"poststart\": [{\"path\": \"/x\"}, {\"path\": \"/y\", \"env\": [\"NOEQ\"]}]}",
	    "$.hooks.poststart[1].env[0]: 'NOEQ' is not NAME=value", "env without =");
	bad("{\"poststart\": [{\"path\": \"/x\", \"env\": [\"=x\"]}]}",
	    "$.hooks.poststart[0].env[0]", "env without a name");

	ok(with_hooks("{\"preStart\": [{\"path\": \"relative\"}], \"poststop\": [{\"path\": "
	              "\"/p\"}]}") == 0 &&
	       n_warnings == 1 &&
	       strstr(last_warning,
	              "bhc: warning: /bundle/config.json: $.hooks.preStart: not a hook kind") &&
	       cfg.hooks.n[BHC_HOOK_POSTSTOP] == 1,
	   "an unknown kind is one warning naming it, and ignored: %s", last_warning);
}

/* The copy in the state folder: saved, loaded, refused when others could
 * write it. */
static void saved(const char *dir)
{
	struct bhc_hooks h;
	char path[512];
	int dirfd;

	snprintf(path, sizeof(path), "%s/c1", dir);
	mkdir(path, 0700);
	dirfd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	ok(with_hooks("{\"poststop\": [{\"path\": \"/p\", \"args\": [\"p\", \"1\"], \"timeout\": "
	              "3}], \"x-unknown\": 1}") == 0 &&
	       bhc_hooks_save(dirfd, &cfg.hooks, &err) == 0,
	   "hooks saved: %s", err.msg);
	snprintf(path, sizeof(path), "%s/c1/hooks.json", dir);
	ok((stat(path, &(struct stat){0}) == 0), "hooks.json written");
	ok(bhc_hooks_load(dir, "c1", &h, &err) == 0 && h.n[BHC_HOOK_POSTSTOP] == 1 &&
	       !strcmp(h.list[BHC_HOOK_POSTSTOP][0].args[1], "1") &&
	       h.list[BHC_HOOK_POSTSTOP][0].timeout == 3,
	   "hooks loaded back: %s", err.msg);
	bhc_hooks_free(&h);
	chmod(path, 0620);
	ok(bhc_hooks_load(dir, "c1", &h, &err) < 0 && strstr(err.msg, "hooks.json: not a file") &&
	       strstr(err.msg, "not run") && !bhc_hooks_any(&h),
	   "a hooks.json its group can write is refused: %s", err.msg);
	bhc_hooks_free(&h);
	chmod(path, 0600);
	snprintf(path, sizeof(path), "%s/c1", dir);
	chmod(path, 0777);
	ok(bhc_hooks_load(dir, "c1", &h, &err) < 0 && strstr(err.msg, "not a folder owned"),
	   "a state folder others can write is refused: %s", err.msg);
	bhc_hooks_free(&h);
	chmod(path, 0700);
	snprintf(path, sizeof(path), "%s/c1/hooks.json", dir);
	unlink(path);
	symlink("/etc/passwd", path);
	ok(bhc_hooks_load(dir, "c1", &h, &err) < 0, "a hooks.json symlink is refused: %s", err.msg);
	bhc_hooks_free(&h);
	unlink(path);
	ok(bhc_hooks_load(dir, "c1", &h, &err) == 0 && !bhc_hooks_any(&h),
	   "no hooks.json: no hooks");
	ok(with_hooks("{}") == 0 && bhc_hooks_save(dirfd, &cfg.hooks, &err) == 0 &&
	       stat(path, &(struct stat){0}) < 0,
	   "no hooks: no file saved");
	close(dirfd);
}

static void running(const char *dir)
{
	char text[4096], out[512], script[512];
	struct bhc_hook_run how = {"{\"id\": \"c1\", \"status\": \"creating\"}", dir, -1, NULL};
	time_t t0;
	int r;

	snprintf(out, sizeof(out), "%s/out", dir);
	/* The shell's own view of argv and env is not the kernel's (dash
	 * makes up a PATH): /proc/$$ says what execve got. */
	snprintf(text, sizeof(text),
	         "{\"createRuntime\": [{\"path\": \"/bin/sh\", \"args\": [\"hook-argv0\", \"-c\", "
	         "\"cat > %s; tr '\\\\0' '|' < /proc/$$/cmdline > %s.argv; tr '\\\\0' '|' < "
	         "/proc/$$/environ > %s.env; pwd > %s.cwd\", \"a b\"], \"env\": [\"X=y z\", "
	         "\"PATH=/usr/bin:/bin\"]}]}",
	         out, out, out, out);
	ok(with_hooks(text) == 0, "a runtime hook config: %s", err.msg);
	r = bhc_hooks_run(&cfg.hooks, BHC_HOOK_CREATE_RUNTIME, &how, &err);
	ok(r == 0 && !strcmp(slurp(out), how.state_json), "the state JSON on stdin: %s", err.msg);
	snprintf(script, sizeof(script), "%s.argv", out);
	ok(!strncmp(slurp(script), "hook-argv0|-c|", 14) &&
	       strstr(slurp(script), "|a b|") == slurp(script) + strlen(slurp(script)) - 5,
	   "argv as given, argv[0] included: %s", slurp(script));
	snprintf(script, sizeof(script), "%s.env", out);
	ok(!strcmp(slurp(script), "X=y z|PATH=/usr/bin:/bin|"),
	   "exactly the env given, nothing of bhc's: %s", slurp(script));
	snprintf(script, sizeof(script), "%s.cwd", out);
	snprintf(text, sizeof(text), "%s\n", dir);
	ok(!strcmp(slurp(script), text), "cwd as asked: %s", slurp(script));
	snprintf(script, sizeof(script), "%s/x", dir);
	{
		char expect[600];

		snprintf(text, sizeof(text),
		         "{\"poststart\": [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", "
		         "\"tr '\\\\0' '|' < /proc/$$/environ > $0.noenv\", \"%s\"]}]}",
		         script);
		snprintf(expect, sizeof(expect), "%s.noenv", script);
		setenv("BHC_SECRET", "leak", 1);
		ok(with_hooks(text) == 0 &&
		       bhc_hooks_run(&cfg.hooks, BHC_HOOK_POSTSTART, &how, &err) == 0 &&
		       !strcmp(slurp(expect), ""),
		   "no env given: an empty environment (bhc's BHC_SECRET not passed): '%s' %s",
		   slurp(expect), err.msg);
	}

	ok(with_hooks("{\"poststop\": [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"exit "
	              "7\"]}]}") == 0 &&
	       bhc_hooks_run(&cfg.hooks, BHC_HOOK_POSTSTOP, &how, &err) < 0 &&
	       !strcmp(err.msg, "$.hooks.poststop[0] (/bin/sh): exited with status 7"),
	   "an exit status names the hook: %s", err.msg);
	ok(with_hooks("{\"prestart\": [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", \"kill "
	              "-9 $$\"]}]}") == 0 &&
	       bhc_hooks_run(&cfg.hooks, BHC_HOOK_PRESTART, &how, &err) < 0 &&
	       strstr(err.msg, "$.hooks.prestart[0] (/bin/sh): killed by signal 9"),
	   "a signal names the hook: %s", err.msg);
	ok(with_hooks("{\"prestart\": [{\"path\": \"/no/such/hook\"}]}") == 0 &&
	       bhc_hooks_run(&cfg.hooks, BHC_HOOK_PRESTART, &how, &err) < 0 &&
	       strstr(err.msg, "$.hooks.prestart[0] (/no/such/hook): run: No such file"),
	   "a missing program says why: %s", err.msg);
	/* Sleeps with a child in its group; both are killed at the timeout. */
	ok(with_hooks("{\"createRuntime\": [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", "
	              "\"sleep 30 & wait\"], \"timeout\": 1}]}") == 0,
	   "a slow hook's config");
	t0 = time(NULL);
	r = bhc_hooks_run(&cfg.hooks, BHC_HOOK_CREATE_RUNTIME, &how, &err);
	ok(r < 0 && time(NULL) - t0 < 5 &&
	       !strcmp(err.msg, "$.hooks.createRuntime[0] (/bin/sh): timed out after 1 s: killed"),
	   "a hook past its timeout is killed and named: %s", err.msg);
	/* A hook that never reads stdin, with a state bigger than a pipe. */
	{
		static char big[300000];

		memset(big, 'x', sizeof(big) - 1);
		how.state_json = big;
		ok(with_hooks("{\"poststart\": [{\"path\": \"/bin/sh\", \"args\": [\"sh\", \"-c\", "
		              "\"exit 0\"], \"timeout\": 5}]}") == 0 &&
		       bhc_hooks_run(&cfg.hooks, BHC_HOOK_POSTSTART, &how, &err) == 0,
		   "a hook that does not read a large state: %s", err.msg);
	}
	n_warnings = 0;
	ok(with_hooks("{\"poststop\": [{\"path\": \"/bin/false\"}, {\"path\": \"/bin/true\"}]}") ==
	       0,
	   "two poststop hooks");
	n_warnings = 0;
	bhc_hooks_run_warn(&cfg.hooks, BHC_HOOK_POSTSTOP, "/bundle", &how);
	ok(n_warnings == 1 && strstr(last_warning, "/bundle/config.json: $.hooks.poststop[0]: ") &&
	       strstr(last_warning, "/bin/false: exited with status 1"),
	   "run_warn: a failure is one warning naming the hook: %s", last_warning);
}

int main(void)
{
	char dir[] = "/tmp/bhc-hooks-XXXXXX";

	if (!mkdtemp(dir))
		return 1;
	/* Counted, not printed. */
	bhc_warn_set_sink(count_warning);
	parsing();
	saved(dir);
	running(dir);
	bhc_config_free(&cfg);
	{
		char cmd[600];

		snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
		if (system(cmd) != 0)
			diag("could not remove the temporary folder");
	}
	return done();
}
