/* libbhc: the container runtime behind the bhc command line.
 *
 * The CLI verbs (cmd_*.c) parse their options and call these functions;
 * everything here reports failures through struct bh_error and never
 * prints or exits, except the container's own init process between clone
 * and execve (init.c), which reports to its parent over a socket, and
 * bhc_warn (warn.c), which prints the warnings the runtime spec requires. */
#ifndef BHC_LIBBHC_H
#define BHC_LIBBHC_H

#include <bulkhead/caps.h>
#include <bulkhead/error.h>
#include <bulkhead/fs.h>
#include <bulkhead/json.h>

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <yyjson.h>

#define BHC_OCI_VERSION      "1.2.0"
#define BHC_DEFAULT_ROOT     "/run/bhc"
#define BHC_CGROUP_ROOT      "/sys/fs/cgroup"
#define BHC_CGROUP_DELEGATED "/workloads"
#define BHC_MAX_IDMAPS       5
#define BHC_MAX_RLIMITS      16
#define BHC_MAX_SYSCTLS      32
#define BHC_MAX_IO_LIMITS    32
#define BHC_MAX_HUGETLB      8

/* Capability sets of process.capabilities, as bit masks. */
enum {
	CAPSET_BOUNDING,
	CAPSET_EFFECTIVE,
	CAPSET_INHERITABLE,
	CAPSET_PERMITTED,
	CAPSET_AMBIENT,
	CAPSET_N
};

/* Namespaces a container can be given a path to join. */
enum { NS_NET, NS_IPC, NS_UTS, NS_PID, NS_CGROUP, NS_N };

struct bhc_idmap {
	uint32_t container, host, size;
};

struct bhc_mount {
	const char *destination, *type, *source;
	unsigned long flags;         /* MS_* for mount(2) */
	uint64_t attr_set, attr_clr; /* MOUNT_ATTR_* for bind mounts */
	unsigned long propagation;   /* MS_PRIVATE, MS_SLAVE, ... or 0 */
	bool bind, recursive;
	bool tmpcopyup; /* tmpfs: start with the target folder's contents */
	bool skip;      /* not mounted (the parent warned why) */
	char data[512]; /* filesystem options, comma separated */
};

struct bhc_rlimit {
	int resource;
	uint64_t soft, hard;
};

/* One blockIO throttle: io.max's "MAJ:MIN key=value" (key rbps, wbps,
 * riops or wiops). */
struct bhc_io_max {
	int64_t major, minor;
	const char *key;
	uint64_t rate;
};

/* One hugepageLimits entry: hugetlb.<page_size>.max. */
struct bhc_hugetlb {
	const char *page_size;
	uint64_t limit;
};

struct bhc_sysctl {
	const char *key, *value;
};

/* hooks: the runtime spec's six kinds, in the order of the lifecycle. */
enum bhc_hook_kind {
	BHC_HOOK_PRESTART,
	BHC_HOOK_CREATE_RUNTIME,
	BHC_HOOK_CREATE_CONTAINER,
	BHC_HOOK_START_CONTAINER,
	BHC_HOOK_POSTSTART,
	BHC_HOOK_POSTSTOP,
	BHC_HOOK_N
};

struct bhc_hook {
	const char *path;         /* absolute */
	const char **args, **env; /* NULL-terminated; args NULL: argv is { path } */
	int timeout;              /* seconds; 0: none */
};

struct bhc_hooks {
	struct bhc_hook *list[BHC_HOOK_N];
	size_t n[BHC_HOOK_N];
	yyjson_val *json; /* the hooks object they were parsed from, or NULL */
	yyjson_doc *doc;  /* owned when loaded from the state folder */
};

struct bhc_config {
	yyjson_doc *doc; /* every const char * below points into it */
	char bundle[4096], rootfs[4096];
	bool readonly;
	const char *hostname, *domainname;

	/* process */
	bool terminal;
	unsigned short console_rows, console_cols;
	uint32_t uid, gid;
	uint32_t gids[32];
	size_t n_gids;
	int umask; /* -1: leave it */
	const char **args, **env;
	size_t n_args, n_env;
	const char *cwd;
	uint64_t caps[CAPSET_N];
	struct bhc_rlimit rlimits[BHC_MAX_RLIMITS];
	size_t n_rlimits;
	bool has_oom_score_adj;
	int oom_score_adj;

	struct bhc_mount *mounts;
	size_t n_mounts;

	/* linux */
	const char *ns_path[NS_N];
	struct bhc_idmap uidmap[BHC_MAX_IDMAPS], gidmap[BHC_MAX_IDMAPS];
	size_t n_uidmap, n_gidmap;
	const char *cgroups_path;
	int64_t memory_max, memory_swap, pids_max, cpu_quota; /* -1: no limit */
	int64_t memory_low;                                   /* memory.reservation, -1: none */
	uint64_t cpu_period, cpu_shares;
	const char *cpuset_cpus, *cpuset_mems; /* cpu.cpus, cpu.mems, or NULL */
	uint16_t io_weight;                    /* blockIO.weight (10..1000), 0: none */
	struct bhc_io_max io_max[BHC_MAX_IO_LIMITS];
	size_t n_io_max;
	struct bhc_hugetlb hugetlb[BHC_MAX_HUGETLB];
	size_t n_hugetlb;
	const char **masked, **readonly_paths;
	size_t n_masked, n_readonly;
	unsigned long rootfs_propagation;
	struct bhc_sysctl sysctls[BHC_MAX_SYSCTLS];
	size_t n_sysctls;
	yyjson_val *seccomp; /* linux.seccomp, or NULL for our default */
	yyjson_val *annotations;
	struct bhc_hooks hooks;
};

/* config.c: loads and validates <bundle>/config.json. Errors name the file,
 * the JSON path ($.process.args[0]) and the problem. */
int bhc_config_load(const char *bundle, struct bhc_config *cfg, struct bh_error *err);
int bhc_config_parse(const char *bundle, const char *text, size_t len, struct bhc_config *cfg,
                     struct bh_error *err);
void bhc_config_free(struct bhc_config *cfg);
bool bhc_config_has_limits(const struct bhc_config *cfg);

/* config_process.c, config_linux.c, config_mounts.c: the parts of the file. */
int bhc_parse_process(yyjson_val *proc, struct bhc_config *cfg, struct bh_error *err);
int bhc_parse_linux(yyjson_val *linux, struct bhc_config *cfg, struct bh_error *err);
int bhc_parse_mounts(yyjson_val *mounts, struct bhc_config *cfg, struct bh_error *err);
int bhc_parse_mount_options(yyjson_val *opts, const char *path, struct bhc_mount *m,
                            struct bh_error *err);

/* config_caps.c: process.capabilities, less what bhc never grants (with a
 * warning for each capability left out); bhc_cap_denied says why a
 * capability is never granted, or NULL. */
int bhc_parse_caps(yyjson_val *caps, struct bhc_config *cfg, struct bh_error *err);
const char *bhc_cap_denied(int cap);

/* config_hooks.c: $.hooks, and the copy saved in the container's state
 * folder for start (poststart) and delete (poststop). cfg names the file
 * in warnings (unknown kinds); NULL parses without warning (the saved copy,
 * warned about at create). */
extern const char *const bhc_hook_names[BHC_HOOK_N];
int bhc_parse_hooks(yyjson_val *v, const struct bhc_config *cfg, struct bhc_hooks *h,
                    struct bh_error *err);
void bhc_hooks_free(struct bhc_hooks *h);
bool bhc_hooks_any(const struct bhc_hooks *h);
int bhc_hooks_save(int dirfd, const struct bhc_hooks *h, struct bh_error *err);
int bhc_hooks_load(const char *root, const char *id, struct bhc_hooks *h, struct bh_error *err);

/* hooks.c: runs the hooks of one kind in order, the state JSON on each
 * one's stdin, stopping at the first that fails (exit status not 0, a
 * signal, exec failed, timeout: the hook's process group is killed). */
struct bhc_hook_run {
	const char *state_json;
	const char *cwd; /* chdir before exec, or NULL */
	int ns_pidfd;    /* >= 0: enter this process's namespaces, as its root
	                  * (createContainer); the path is opened first */
	void *seccomp;   /* loaded before exec (startContainer, in the init) */
};
int bhc_hooks_run(const struct bhc_hooks *h, enum bhc_hook_kind k, const struct bhc_hook_run *how,
                  struct bh_error *err);
/* The same, a failure only a warning (poststart, poststop). */
void bhc_hooks_run_warn(const struct bhc_hooks *h, enum bhc_hook_kind k, const char *bundle,
                        const struct bhc_hook_run *how);

/* warn.c: a config setting accepted but not applied as written. Prints
 * "bhc: warning: <bundle>/config.json: <field>: <message>" to stderr (or to
 * the sink a test sets; NULL restores stderr). field is the JSON path, as in
 * errors: "$.linux.resources.memory.kernel". */
typedef void (*bhc_warn_sink)(const char *line);
void bhc_warn_set_sink(bhc_warn_sink fn);
__attribute__((format(printf, 3, 4))) void bhc_warn(const struct bhc_config *cfg, const char *field,
                                                    const char *fmt, ...);
/* The same for a bundle without its parsed config (start, delete). */
__attribute__((format(printf, 3, 4))) void bhc_warn_bundle(const char *bundle, const char *field,
                                                           const char *fmt, ...);

/* rlimits.c */
int bhc_rlimit_from_name(const char *name);

/* signals.c */
int bhc_signal_parse(const char *s);

/* pid1_signal.c: waits (up to a second) until pid, when it is pid 1 of its
 * namespace, catches, blocks or ignores sig, so that the kernel does not
 * drop it; returns at once for SIGKILL, SIGSTOP and any other process. */
void bhc_wait_signal_handled(pid_t pid, int sig);

/* spec.c: our hardened default config.json. */
char *bhc_spec_generate(const char *const *args, size_t n_args, struct bh_error *err);

/* state.c: <root>/<id>/state.json and the container's files. */
enum bhc_status { BHC_CREATING, BHC_CREATED, BHC_RUNNING, BHC_STOPPED };

struct bhc_state {
	char id[128];
	char bundle[4096];
	char cgroup[512]; /* relative to BHC_CGROUP_ROOT, or "" */
	pid_t pid;
	uint64_t start_time; /* /proc/<pid>/stat field 22: guards against pid reuse */
	uint32_t uid_base;
	char created[40];
	enum bhc_status status;
	yyjson_doc *annotations_doc;
	yyjson_val *annotations;
};

int bhc_id_check(const char *id, struct bh_error *err);
int bhc_root_open(const char *root, bool create, struct bh_error *err);
int bhc_root_lock(int rootfd, struct bh_error *err);
int bhc_state_dir_create(int rootfd, const char *id, struct bh_error *err);
int bhc_state_write(int dirfd, const struct bhc_state *st, yyjson_val *annotations,
                    struct bh_error *err);
int bhc_state_load(const char *root, const char *id, struct bhc_state *st, struct bh_error *err);
void bhc_state_free(struct bhc_state *st);
int bhc_state_remove(int rootfd, const char *id, struct bh_error *err);
char *bhc_state_json(const struct bhc_state *st, struct bh_error *err);
const char *bhc_status_name(enum bhc_status s);
uint64_t bhc_proc_start_time(pid_t pid);
int bhc_state_list(const char *root, char ***ids, size_t *n, struct bh_error *err);
int bhc_uid_base_pick(int rootfd, uint32_t *base, struct bh_error *err);

/* userns.c */
#define BHC_UID_RANGE_BASE  0x10000000u
#define BHC_UID_RANGE_SIZE  65536u
#define BHC_UID_RANGE_SLOTS 4096u
int bhc_idmaps_check(const struct bhc_idmap *m, size_t n, const char *path, struct bh_error *err);
int bhc_idmap_write(pid_t pid, const char *file, const struct bhc_idmap *m, size_t n,
                    struct bh_error *err);

/* cgroup.c: cgroup v2 limits under the delegated subtree. A config
 * without pids or memory limits gets these (where the controller is). */
#define BHC_DEFAULT_PIDS_MAX 1024
int64_t bhc_default_memory_max(uint64_t mem_total);
bool bhc_cgroup2_available(void);
int bhc_cgroup_path(const struct bhc_config *cfg, const char *id, char *out, size_t len,
                    struct bh_error *err);
int bhc_cgroup_create(const char *rel, const struct bhc_config *cfg, struct bh_error *err);
int bhc_cgroup_remove(const char *rel, struct bh_error *err);

/* seccomp.c: builds the filter the container's process gets. */
void *bhc_seccomp_build(yyjson_val *profile, struct bh_error *err);
int bhc_seccomp_load(void *ctx, struct bh_error *err);
void bhc_seccomp_free(void *ctx);
extern const char *const bhc_seccomp_always_denied[];

/* container.c: create, start, kill, delete. */
struct bhc_create_opts {
	const char *root, *id, *bundle, *pid_file, *console_socket;
	int preserve_fds;
	bool foreground; /* run: relay the console, keep the parent */
};

struct bhc_container {
	pid_t pid;
	int pidfd;
	int console_master; /* -1 unless the parent holds the pty */
	int rootfd;
	char cgroup[512];
};

int bhc_create(const struct bhc_create_opts *o, struct bhc_container *c, struct bh_error *err);
int bhc_start(const char *root, const char *id, struct bh_error *err);
int bhc_kill(const char *root, const char *id, int sig, bool all, struct bh_error *err);
int bhc_delete(const char *root, const char *id, bool force, struct bh_error *err);
int bhc_wait(struct bhc_container *c, int *status, struct bh_error *err);

/* fds.c: --preserve-fds, checked in the caller and in the init. */
int bhc_preserved_fds_open(int n, struct bh_error *err);
int bhc_preserved_fds_check(int n, const int *own, size_t n_own, struct bh_error *err);

/* init.c: the container side, from clone to execve. Never returns. */
#define BHC_MAX_OWN_FDS 8
struct bhc_init_args {
	const struct bhc_config *cfg;
	void *seccomp;
	int sync_fd; /* socket to the parent */
	int fifo_fd; /* exec.fifo, opened read-write */
	int preserve_fds;
	bool foreground;
	int own_fds[BHC_MAX_OWN_FDS]; /* bhc's fds the init inherited (-1: none) */
	const struct bhc_state *st;   /* id, bundle, created: the startContainer hooks' state */
};
__attribute__((noreturn)) void bhc_init_run(const struct bhc_init_args *a);

/* rootfs.c: the container's filesystem, from its own mount namespace. */
/* Docker's masked and read-only paths, NULL-terminated: always applied,
 * whatever the config lists, and what `bhc spec` writes. */
extern const char *const bhc_default_masked[];
extern const char *const bhc_default_readonly[];
/* fds: the rootfs, then the source of each bind mount in config order,
 * opened by the privileged parent through /proc/<init>/root so that host
 * folders the container's ids cannot search still work. */
#define BHC_MAX_SOURCES 63
/* before_pivot (or NULL) runs once the mounts are done, before pivot_root:
 * the point of the createRuntime and createContainer hooks. */
int bhc_rootfs_setup(const struct bhc_config *cfg, const int *fds, size_t n_fds,
                     int (*before_pivot)(void *arg, struct bh_error *err), void *arg,
                     struct bh_error *err);

/* targets.c: the mount targets the rootfs lacks, created by the privileged
 * parent before the clone (the container's ids cannot write a rootfs owned
 * by host root). */
int bhc_mount_targets_create(const struct bhc_config *cfg, struct bh_error *err);

/* copyup.c: a folder's contents copied into another (tmpcopyup). */
int bhc_copy_tree(int src_dir, int dst_dir, const char *what, struct bh_error *err);

/* console.c */
int bhc_console_open(const struct bhc_config *cfg, int *master, char *name, size_t len,
                     struct bh_error *err);
int bhc_console_send(const char *socket_path, int master, struct bh_error *err);
int bhc_console_relay(int master, int pidfd, int sfd);
int bhc_send_fd(int sock, int fd, const void *data, size_t len);
int bhc_send_fds(int sock, const int *fds, size_t n, const void *data, size_t len);
int bhc_recv_fds(int sock, int *fds, size_t max, size_t *n, void *data, size_t len);
int bhc_recv_fd(int sock, int *fd, void *data, size_t len);

/* fs.c: writes text into an existing file (a cgroup knob). */
int bhc_write_file_at(int dirfd, const char *name, const char *text, struct bh_error *err);

/* state.c: the time for state.json's "created". */
void bhc_now_rfc3339(char *buf, size_t n);

#endif
