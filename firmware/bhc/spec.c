/* bhc spec: the hardened default config.json. Every namespace including
 * user and cgroup, no capabilities, read-only rootfs, Docker's masked and
 * read-only paths spelled out, no seccomp section (bhc's default filter
 * applies), no resource limits (they need cgroup v2; add them per
 * workload). */
#include "libbhc.h"

#include <errno.h>
#include <stdint.h>

struct spec_mount {
	const char *dest, *type, *source, *options[8];
};

static const struct spec_mount mounts[] = {
    {"/proc", "proc", "proc", {"nosuid", "noexec", "nodev"}},
    {"/dev", "tmpfs", "tmpfs", {"nosuid", "noexec", "strictatime", "mode=755", "size=65536k"}},
    {"/dev/pts",
     "devpts",
     "devpts",
     {"nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620"}},
    {"/dev/shm", "tmpfs", "shm", {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k"}},
    {"/dev/mqueue", "mqueue", "mqueue", {"nosuid", "noexec", "nodev"}},
    {"/sys", "sysfs", "sysfs", {"nosuid", "noexec", "nodev", "ro"}},
    {"/sys/fs/cgroup", "cgroup2", "cgroup", {"nosuid", "noexec", "nodev", "relatime", "ro"}},
    {"/tmp", "tmpfs", "tmpfs", {"nosuid", "nodev", "noexec", "mode=1777", "size=65536k"}},
};

static yyjson_mut_val *strings(yyjson_mut_doc *d, const char *const *s, size_t n)
{
	yyjson_mut_val *a = yyjson_mut_arr(d);

	for (size_t i = 0; i < n && s[i]; i++)
		yyjson_mut_arr_add_str(d, a, s[i]);
	return a;
}

static void add_process(yyjson_mut_doc *d, yyjson_mut_val *root, const char *const *args,
                        size_t n_args)
{
	static const char *const env[] = {
	    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "HOME=/"};
	static const char *const sh[] = {"sh"};
	yyjson_mut_val *p = yyjson_mut_obj_add_obj(d, root, "process"), *u, *caps, *rl, *nofile;

	yyjson_mut_obj_add_bool(d, p, "terminal", false);
	u = yyjson_mut_obj_add_obj(d, p, "user");
	yyjson_mut_obj_add_uint(d, u, "uid", 0);
	yyjson_mut_obj_add_uint(d, u, "gid", 0);
	yyjson_mut_obj_add_val(d, p, "args", n_args ? strings(d, args, n_args) : strings(d, sh, 1));
	yyjson_mut_obj_add_val(d, p, "env", strings(d, env, 2));
	yyjson_mut_obj_add_str(d, p, "cwd", "/");
	caps = yyjson_mut_obj_add_obj(d, p, "capabilities");
	for (int i = 0; i < 5; i++) {
		static const char *const sets[] = {"bounding", "effective", "inheritable",
		                                   "permitted", "ambient"};

		yyjson_mut_obj_add_val(d, caps, sets[i], yyjson_mut_arr(d));
	}
	rl = yyjson_mut_obj_add_arr(d, p, "rlimits");
	nofile = yyjson_mut_arr_add_obj(d, rl);
	yyjson_mut_obj_add_str(d, nofile, "type", "RLIMIT_NOFILE");
	yyjson_mut_obj_add_uint(d, nofile, "hard", 1024);
	yyjson_mut_obj_add_uint(d, nofile, "soft", 1024);
	yyjson_mut_obj_add_bool(d, p, "noNewPrivileges", true);
}

static void add_mounts(yyjson_mut_doc *d, yyjson_mut_val *root)
{
	yyjson_mut_val *a = yyjson_mut_obj_add_arr(d, root, "mounts");

	for (size_t i = 0; i < sizeof(mounts) / sizeof(*mounts); i++) {
		yyjson_mut_val *m = yyjson_mut_arr_add_obj(d, a);

		yyjson_mut_obj_add_str(d, m, "destination", mounts[i].dest);
		yyjson_mut_obj_add_str(d, m, "type", mounts[i].type);
		yyjson_mut_obj_add_str(d, m, "source", mounts[i].source);
		yyjson_mut_obj_add_val(d, m, "options", strings(d, mounts[i].options, 8));
	}
}

static void add_linux(yyjson_mut_doc *d, yyjson_mut_val *root)
{
	static const char *const ns[] = {"pid", "network", "ipc", "uts", "mount", "user", "cgroup"};
	yyjson_mut_val *lx = yyjson_mut_obj_add_obj(d, root, "linux"), *a, *res, *dev;

	a = yyjson_mut_obj_add_arr(d, lx, "namespaces");
	for (size_t i = 0; i < sizeof(ns) / sizeof(*ns); i++) {
		yyjson_mut_val *n = yyjson_mut_arr_add_obj(d, a);

		yyjson_mut_obj_add_str(d, n, "type", ns[i]);
	}
	res = yyjson_mut_obj_add_obj(d, lx, "resources");
	dev = yyjson_mut_arr_add_obj(d, yyjson_mut_obj_add_arr(d, res, "devices"));
	yyjson_mut_obj_add_bool(d, dev, "allow", false);
	yyjson_mut_obj_add_str(d, dev, "access", "rwm");
	/* What bhc enforces anyway (rootfs.c), spelled out. */
	yyjson_mut_obj_add_val(d, lx, "maskedPaths", strings(d, bhc_default_masked, SIZE_MAX));
	yyjson_mut_obj_add_val(d, lx, "readonlyPaths", strings(d, bhc_default_readonly, SIZE_MAX));
}

char *bhc_spec_generate(const char *const *args, size_t n_args, struct bh_error *err)
{
	yyjson_mut_doc *d = yyjson_mut_doc_new(NULL);
	yyjson_mut_val *root, *r;
	char *text;

	if (!d)
		return bh_error(err, ENOMEM, "spec"), NULL;
	root = yyjson_mut_obj(d);
	yyjson_mut_doc_set_root(d, root);
	yyjson_mut_obj_add_str(d, root, "ociVersion", BHC_OCI_VERSION);
	add_process(d, root, args, n_args);
	r = yyjson_mut_obj_add_obj(d, root, "root");
	yyjson_mut_obj_add_str(d, r, "path", "rootfs");
	yyjson_mut_obj_add_bool(d, r, "readonly", true);
	yyjson_mut_obj_add_str(d, root, "hostname", "bhc");
	add_mounts(d, root);
	add_linux(d, root);
	text = yyjson_mut_write(d, YYJSON_WRITE_PRETTY_TWO_SPACES, NULL);
	yyjson_mut_doc_free(d);
	if (!text)
		bh_error(err, ENOMEM, "spec");
	return text;
}
