/* Internal interfaces between the parts of PID 1. */
#ifndef BULKHEAD_INIT_H
#define BULKHEAD_INIT_H

#include <bulkhead/error.h>
#include <bulkhead/line_split.h>

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define SERVICES_DIR         "/etc/bulkhead/services.d"
#define RUNTIME_SERVICES_DIR "/run/bulkhead/services.d"
#define SYSCTL_CONF          "/etc/bulkhead/sysctl.conf"
#define LOG_DIR              "/run/log"
#define CGROUP_ROOT          "/sys/fs/cgroup"

#define SERVICE_NAME_MAX 64
#define SERVICE_ARGV_MAX 32
#define SERVICE_DEPS_MAX 8
#define SERVICES_MAX     64

/* Monotonic milliseconds since boot (CLOCK_BOOTTIME, so it includes the
 * kernel's own start-up). */
int64_t now_ms(void);

/* Console output, one line, prefixed with "init: ". */
__attribute__((format(printf, 1, 2))) void init_log(const char *fmt, ...);

/* Mounts the kernel filesystems and tmpfs folders the host needs and sets
 * up cgroup v2 with the workloads subtree. */
int init_mount_all(struct bh_error *err);
int init_cgroups(struct bh_error *err);

/* Finds, formats when blank, checks, and mounts the persistent /data
 * (data.c); falls back to a tmpfs with a warning. Never fails the boot. */
void init_data(void);

/* What init_data did this boot, for the console and DATA_STATUS. */
#define DATA_STATUS "/run/bulkhead/data-status"
struct data_status {
	char device[64];
	char mounted[8];   /* "ext4" or "tmpfs" */
	bool formatted, partition_grown, fs_grown, journal_added;
	bool reinstall;    /* damage e2fsck -p could not repair: workloads cleared */
	int fsck;          /* e2fsck -p's exit status, -1 when it did not run */
	int repair;        /* e2fsck -fy's, -1 when it did not run */
	char reason[400];  /* why /data is a tmpfs */
};

/* Runs one of e2fsprogs' programs with its output on the console, each
 * line prefixed with "init: data: <program>: " (data_check.c). Returns its
 * exit status, or -1 when it could not run. */
int data_run(char *const argv[]);
/* Checks dev with e2fsck and repairs it by the documented policy; -1 when
 * it cannot be mounted (st->reason says why). */
int data_check(const char *dev, struct data_status *st);
/* Adds a journal to an ext2 filesystem (an older image's /data). */
void data_add_journal(const char *dev, struct data_status *st);
/* After a repair that may have lost files: removes the installed workloads
 * (bhd reinstalls the image's own bundles, the fleet its workloads); the
 * workloads' volumes and the device's identity stay. */
void data_clear_installed(void);

/* Grows the bulkhead-data partition (a name such as "nvme0n1p4") to the
 * end of its disk: 1 grown, 0 nothing to do, -1 with err set. */
int data_grow(const char *part, struct bh_error *err);
/* Grows the mounted filesystem on dev to the size of dev (resize2fs,
 * online). */
void data_grow_fs(const char *dev, struct data_status *st);

/* One line of a configuration file (conf_line.c), split in place: 1 with
 * *key and *value set, 0 for a blank or comment line, -1 for a line
 * without '=' (*key is then the whole line, trimmed). */
int conf_line(char *line, char **key, char **value);

/* Applies SYSCTL_CONF; each failure is logged, none stops the boot. */
int init_sysctl(const char *path);

/* Brings up loopback and, when the board asks for one, a static address. */
void init_network(void);

/* Hardware watchdog. */
void watchdog_open(void);
void watchdog_pet(int64_t now);
void watchdog_disarm(void);
int64_t watchdog_next(void);

/* Power button: opens every input device that has KEY_POWER; returns how
 * many were found. power_button_pressed() reads one fd's events. */
int power_buttons_open(int epfd);
bool power_button_pressed(int fd);

/* A/B boot (boot.c). bhd creates BOOT_CONFIRMED once this boot is healthy
 * and its slot's boot counter re-armed. boot_deadline_tick() returns the
 * milliseconds to wait, -1 for no deadline, 0 when the boot must end. */
#define BOOT_CONFIRMED "/run/bulkhead/boot-confirmed"
bool boot_halt_requested(void);
__attribute__((noreturn)) void boot_halt(void);
void boot_deadline_arm(int64_t now);
int64_t boot_deadline_tick(int64_t now);

/* Console and debug shell. */
void console_open(void);
pid_t debug_shell_start(void);

/* --- Services ----------------------------------------------------------- */

/* In the order of their names in service files (service_parse.c). */
enum restart_policy { RESTART_ALWAYS, RESTART_ON_FAILURE, RESTART_NEVER };
enum service_type { SERVICE_SIMPLE, SERVICE_ONESHOT };
enum service_state {
	SVC_WAITING,  /* for its dependencies */
	SVC_RUNNING,  /* simple: started; oneshot: still running */
	SVC_DONE,     /* oneshot exited 0 */
	SVC_BACKOFF,  /* crashed, restart scheduled */
	SVC_FAILED,   /* gave up, or dependencies failed */
	SVC_STOPPING, /* SIGTERM sent */
	SVC_STOPPED,
};

struct service_config {
	char name[SERVICE_NAME_MAX];
	char file[256];
	char *argv[SERVICE_ARGV_MAX + 1];
	char after[SERVICE_DEPS_MAX][SERVICE_NAME_MAX];
	int n_after;
	enum service_type type;
	enum restart_policy restart;
	int restart_delay_ms, restart_max_delay_ms, max_restarts, stop_timeout_ms;
	uid_t uid;
	gid_t gid;
	uint64_t caps; /* bit n = capability n */
	bool critical, no_new_privs;
	char *storage; /* owns the argv strings */
};

/* Parses one service file. The service's name is the file name without
 * ".service". Errors name the file, the line and the field. */
int service_parse(const char *path, struct service_config *cfg, struct bh_error *err);
int service_parse_text(const char *path, const char *text, struct service_config *cfg,
		       struct bh_error *err);
void service_config_free(struct service_config *cfg);

struct service {
	struct service_config cfg;
	enum service_state state;
	pid_t pid;
	int out_fd;         /* read end of the service's stdout/stderr pipe */
	int restarts;       /* consecutive failed runs */
	int64_t started_at, next_at;
	struct line_split out; /* its output, a line at a time */
};

/* Loads every *.service file in dir (bad ones are logged and skipped). */
int services_load(const char *dir);
/* Starts what can start, schedules restarts; returns ms until the next
 * timed event or -1. */
int64_t services_tick(int epfd, int64_t now);
/* A child exited: returns true when it was a service. */
bool services_child_exited(pid_t pid, int status, int64_t now);
/* Output from a service's pipe. */
bool services_output(int fd);
bool services_all_critical_up(void);
bool services_critical_failed(void);
/* Stops every service in reverse start order, within their timeouts. */
void services_stop_all(void);

/* Runs in the forked child: cgroup, privileges, fds, then exec. */
__attribute__((noreturn)) void service_exec(const struct service_config *cfg, int out_fd,
					    int status_fd);

/* Log of a service's output: a bounded file under LOG_DIR plus the
 * console. */
void service_log_line(const char *name, const char *line);

/* --- Shutdown ----------------------------------------------------------- */

enum init_halt { INIT_POWEROFF, INIT_REBOOT };
__attribute__((noreturn)) void init_shutdown(enum init_halt how);

#endif
