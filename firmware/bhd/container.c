/* A container workload as an OCI bundle for bhc: config.json under
 * /run/bulkhead/workloads/<name>, the root filesystem read-only from
 * /data/workloads/<name>/rootfs, volumes bound from /data/volumes/<name>,
 * limits in the workloads cgroup subtree, its own user namespace with a
 * uid range no other workload shares, and the network namespace bhd
 * prepared (or a new, empty one). bhc adds its hardened defaults on top. */
#include "bhd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <yyjson.h>

static void add_mount(yyjson_mut_doc *d, yyjson_mut_val *mounts, const char *dst, const char *type,
		      const char *src, const char *const *opts)
{
	yyjson_mut_val *m = yyjson_mut_arr_add_obj(d, mounts), *o;

	yyjson_mut_obj_add_strcpy(d, m, "destination", dst);
	yyjson_mut_obj_add_str(d, m, "type", type);
	yyjson_mut_obj_add_strcpy(d, m, "source", src);
	o = yyjson_mut_obj_add_arr(d, m, "options");
	for (; *opts; opts++)
		yyjson_mut_arr_add_str(d, o, *opts);
}

static void add_ns(yyjson_mut_doc *d, yyjson_mut_val *arr, const char *type, const char *path)
{
	yyjson_mut_val *ns = yyjson_mut_arr_add_obj(d, arr);

	yyjson_mut_obj_add_str(d, ns, "type", type);
	if (path)
		yyjson_mut_obj_add_strcpy(d, ns, "path", path);
}

static void add_idmap(yyjson_mut_doc *d, yyjson_mut_val *linux_, const char *key, uint32_t host)
{
	yyjson_mut_val *m = yyjson_mut_arr_add_obj(d, yyjson_mut_obj_add_arr(d, linux_, key));

	yyjson_mut_obj_add_uint(d, m, "containerID", 0);
	yyjson_mut_obj_add_uint(d, m, "hostID", host);
	yyjson_mut_obj_add_uint(d, m, "size", WORKLOAD_UID_RANGE);
}

int container_prepare(struct workload *w, char *bundle_dir, size_t size, struct bh_error *err)
{
	static const char *const proc_opts[] = {"nosuid", "noexec", "nodev", NULL};
	static const char *const dev_opts[] = {"nosuid", "strictatime", "mode=755", "size=65536k", NULL};
	static const char *const pts_opts[] = {"nosuid", "noexec", "newinstance", "ptmxmode=0666",
					       "mode=0620", NULL};
	static const char *const shm_opts[] = {"nosuid", "noexec", "nodev", "mode=1777", "size=65536k",
					       NULL};
	static const char *const tmp_opts[] = {"nosuid", "nodev", "mode=1777", "size=65536k", NULL};
	static const char *const sys_opts[] = {"nosuid", "noexec", "nodev", "ro", NULL};
	static const char *const vol_opts[] = {"rbind", "rw", "nosuid", "nodev", NULL};
	yyjson_mut_doc *d = yyjson_mut_doc_new(NULL);
	yyjson_mut_val *root = yyjson_mut_obj(d), *proc, *user, *args, *env, *caps, *r, *mounts;
	yyjson_mut_val *linux_, *nss, *res;
	char path[256], cgroup[128], netns[128];
	yyjson_write_err werr;
	int rc = 0;

	snprintf(bundle_dir, size, OCI_BUNDLES "/%s", w->m.name);
	if (mkdir(bundle_dir, 0700) < 0 && errno != EEXIST)
		return bh_error(err, errno, "mkdir %s", bundle_dir);
	yyjson_mut_doc_set_root(d, root);
	yyjson_mut_obj_add_str(d, root, "ociVersion", "1.2.0");
	proc = yyjson_mut_obj_add_obj(d, root, "process");
	yyjson_mut_obj_add_bool(d, proc, "terminal", false);
	user = yyjson_mut_obj_add_obj(d, proc, "user");
	yyjson_mut_obj_add_uint(d, user, "uid", w->m.user);
	yyjson_mut_obj_add_uint(d, user, "gid", w->m.group);
	args = yyjson_mut_obj_add_arr(d, proc, "args");
	for (size_t i = 0; i < w->m.n_args; i++)
		yyjson_mut_arr_add_strcpy(d, args, w->m.args[i]);
	env = yyjson_mut_obj_add_arr(d, proc, "env");
	yyjson_mut_arr_add_str(d, env, "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	for (size_t i = 0; i < w->m.n_env; i++)
		yyjson_mut_arr_add_strcpy(d, env, w->m.env[i]);
	yyjson_mut_obj_add_strcpy(d, proc, "cwd", w->m.workdir);
	yyjson_mut_obj_add_bool(d, proc, "noNewPrivileges", true);
	/* No capability at all: the workload is an ordinary program. */
	caps = yyjson_mut_obj_add_obj(d, proc, "capabilities");
	for (const char *set = "bounding\0effective\0permitted\0inheritable\0ambient\0"; *set;
	     set += strlen(set) + 1)
		yyjson_mut_obj_add_arr(d, caps, set);
	r = yyjson_mut_obj_add_obj(d, root, "root");
	snprintf(path, sizeof(path), WORKLOADS_DIR "/%s/rootfs", w->m.name);
	yyjson_mut_obj_add_strcpy(d, r, "path", path);
	yyjson_mut_obj_add_bool(d, r, "readonly", true);
	yyjson_mut_obj_add_strcpy(d, root, "hostname", w->m.name);
	mounts = yyjson_mut_obj_add_arr(d, root, "mounts");
	add_mount(d, mounts, "/proc", "proc", "proc", proc_opts);
	add_mount(d, mounts, "/dev", "tmpfs", "tmpfs", dev_opts);
	add_mount(d, mounts, "/dev/pts", "devpts", "devpts", pts_opts);
	add_mount(d, mounts, "/dev/shm", "tmpfs", "shm", shm_opts);
	add_mount(d, mounts, "/tmp", "tmpfs", "tmpfs", tmp_opts);
	add_mount(d, mounts, "/sys", "sysfs", "sysfs", sys_opts);
	for (size_t i = 0; i < w->m.n_volumes && rc == 0; i++) {
		char src[256];

		rc = volume_prepare(w, &w->m.volumes[i], src, sizeof(src), err);
		if (rc == 0)
			add_mount(d, mounts, w->m.volumes[i].path, "bind", src, vol_opts);
	}
	linux_ = yyjson_mut_obj_add_obj(d, root, "linux");
	nss = yyjson_mut_obj_add_arr(d, linux_, "namespaces");
	add_ns(d, nss, "pid", NULL);
	add_ns(d, nss, "ipc", NULL);
	add_ns(d, nss, "uts", NULL);
	add_ns(d, nss, "mount", NULL);
	add_ns(d, nss, "cgroup", NULL);
	add_ns(d, nss, "user", NULL);
	snprintf(netns, sizeof(netns), NETNS_DIR "/%s", w->m.name);
	add_ns(d, nss, "network", w->m.network == WL_NET_ISOLATED ? netns : NULL);
	add_idmap(d, linux_, "uidMappings", workload_uid_base(w));
	add_idmap(d, linux_, "gidMappings", workload_uid_base(w));
	snprintf(cgroup, sizeof(cgroup), "/workloads/%s", w->m.name);
	yyjson_mut_obj_add_strcpy(d, linux_, "cgroupsPath", cgroup);
	res = yyjson_mut_obj_add_obj(d, linux_, "resources");
	if (w->m.memory)
		yyjson_mut_obj_add_uint(d, yyjson_mut_obj_add_obj(d, res, "memory"), "limit", w->m.memory);
	if (w->m.pids)
		yyjson_mut_obj_add_uint(d, yyjson_mut_obj_add_obj(d, res, "pids"), "limit", w->m.pids);
	if (w->m.cpu_millis) {
		yyjson_mut_val *cpu = yyjson_mut_obj_add_obj(d, res, "cpu");

		yyjson_mut_obj_add_int(d, cpu, "quota", (int64_t)w->m.cpu_millis * 100);
		yyjson_mut_obj_add_uint(d, cpu, "period", 100000);
	}
	snprintf(path, sizeof(path), "%s/config.json", bundle_dir);
	if (rc == 0 && !yyjson_mut_write_file(path, d, YYJSON_WRITE_PRETTY_TWO_SPACES, NULL, &werr))
		rc = bh_error(err, 0, "write %s: %s", path, werr.msg);
	yyjson_mut_doc_free(d);
	/* A container left over from a crash of bhd would block the name. Only
	 * then: the extra bhc run costs each start several milliseconds. */
	if (container_leftover(w))
		container_cleanup(w);
	return rc;
}

/* bhc's state folder or the workload's cgroup still exists. */
bool container_leftover(const struct workload *w)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), BHC_ROOT "/%s", w->m.name);
	if (lstat(path, &st) == 0)
		return true;
	snprintf(path, sizeof(path), "/sys/fs/cgroup/workloads/%s", w->m.name);
	return lstat(path, &st) == 0;
}

/* bhc delete --force: whatever state the container is in, it goes. */
void container_cleanup(struct workload *w)
{
	int status;
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

		dup2(fd, 1);
		dup2(fd, 2);
		execl(BHC, BHC, "delete", "--force", "--root", BHC_ROOT, w->m.name, (char *)NULL);
		_exit(127);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
}
