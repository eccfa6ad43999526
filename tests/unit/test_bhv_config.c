/* bhv's configuration: every flag, the JSON file with every key, flags
 * overriding the file, and a clear error naming the flag or JSON path for
 * each kind of bad input. */
#include "tap.h"

#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static struct bhv_config cfg;
static struct bh_error err;

static int args(const char *a0, ...)
{
	char *argv[32];
	int argc = 0;
	va_list ap;

	argv[argc++] = "bhv";
	va_start(ap, a0);
	for (const char *a = a0; a && argc < 31; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	argv[argc] = NULL;
	config_defaults(&cfg);
	memset(&err, 0, sizeof(err));
	return config_from_args(&cfg, argc, argv, &err);
}

static int json(const char *text)
{
	config_defaults(&cfg);
	memset(&err, 0, sizeof(err));
	return config_from_json(&cfg, "vm.json", text, strlen(text), &err);
}

static void bad_args(const char *want, const char *what, const char *a0, ...)
{
	char *argv[16] = {"bhv"};
	int argc = 1, r;
	va_list ap;

	va_start(ap, a0);
	for (const char *a = a0; a && argc < 15; a = va_arg(ap, const char *))
		argv[argc++] = (char *)a;
	va_end(ap);
	config_defaults(&cfg);
	r = config_from_args(&cfg, argc, argv, &err);
	if (r == 0)
		r = config_check(&cfg, &err);
	ok(r < 0 && strstr(err.msg, want) != NULL, "flags: rejects %s: %s", what,
	   r < 0 ? err.msg : "(accepted)");
}

static void bad_json(const char *text, const char *want, const char *what)
{
	int r = json(text);

	ok(r < 0 && strstr(err.msg, want) != NULL, "json: rejects %s: %s", what,
	   r < 0 ? err.msg : "(accepted)");
}

static void test_defaults(void)
{
	config_defaults(&cfg);
	ok(cfg.mem_mib == BHV_DEFAULT_MEM && cfg.cpus == 1 && cfg.net_fd == -1 &&
	       cfg.console == BHV_CONSOLE_SERIAL && cfg.rng && cfg.jail &&
	       cfg.jail_uid_auto && cfg.jail_gid_auto && !(cfg.mac[0] & 1) && (cfg.mac[0] & 2),
	   "defaults: 128 MiB, 1 vCPU, serial console, rng, a jail uid of its own, local unicast MAC");
	ok(config_check(&cfg, &err) < 0 && strstr(err.msg, "no kernel"), "a kernel is required");
}

static void test_flags(void)
{
	ok(args("--kernel", "/k", "--initrd", "/i", "--cmdline", "console=ttyS0 quiet", "--mem",
	        "1G", "--cpus", "2", "--disk", "/a.img", "--disk", "/b.img,ro", "--net", "5",
	        "--mac", "02:11:22:33:44:55", "--console", "both", "--no-rng", "--jail-uid",
	        "65000", "--cgroup", "/sys/fs/cgroup/workloads/x", NULL) == 0,
	   "every flag parses: %s", err.msg);
	ok(!strcmp(cfg.kernel, "/k") && !strcmp(cfg.initrd, "/i") &&
	       !strcmp(cfg.cmdline, "console=ttyS0 quiet") && cfg.mem_mib == 1024 && cfg.cpus == 2,
	   "kernel, initrd, cmdline, memory (1G = 1024 MiB), cpus");
	ok(cfg.n_disks == 2 && !cfg.disks[0].read_only && cfg.disks[1].read_only &&
	       !strcmp(cfg.disks[1].path, "/b.img"),
	   "disks, with ,ro");
	ok(cfg.net_fd == 5 && cfg.mac[5] == 0x55 && cfg.console == BHV_CONSOLE_BOTH && !cfg.rng,
	   "net fd, MAC, console, no rng");
	ok(cfg.jail_uid == 65000 && cfg.jail_gid == 65000 &&
	       !strcmp(cfg.cgroup, "/sys/fs/cgroup/workloads/x"),
	   "jail uid (gid follows) and cgroup");
	ok(args("--jail-gid", "7", "--jail-uid", "65000", NULL) == 0 && cfg.jail_gid == 7 &&
	       !cfg.jail_uid_auto && !cfg.jail_gid_auto,
	   "--jail-gid wins over the gid --jail-uid implies, in any order");
	ok(args("--jail-gid", "7", NULL) == 0 && cfg.jail_uid_auto && !cfg.jail_gid_auto &&
	       cfg.jail_gid == 7,
	   "--jail-gid alone: the uid is still one of the VM's own, the gid is 7");
	ok(args("--kernel", "/k", "--no-jail", "--kernel-format", "raw64", NULL) == 0 &&
	       !cfg.jail && cfg.kernel_format == BHV_KERNEL_RAW64,
	   "--no-jail and a raw test format");

	bad_args("unknown option", "an unknown flag", "--kernel", "/k", "--colour", "red", NULL);
	bad_args("unknown option or missing value", "a flag without its value", "--kernel", NULL);
	bad_args("unexpected argument 'extra'", "a stray argument", "--kernel", "/k", "extra",
	         NULL);
	bad_args("--mem: '12x'", "a bad size", "--kernel", "/k", "--mem", "12x", NULL);
	bad_args("--mem: '99999G'", "a size that overflows", "--kernel", "/k", "--mem", "99999G",
	         NULL);
	bad_args("out of range", "too little memory", "--kernel", "/k", "--mem", "8", NULL);
	bad_args("--cpus: '0'", "zero vCPUs", "--kernel", "/k", "--cpus", "0", NULL);
	bad_args("--cpus: '3x'", "a vCPU count with junk", "--kernel", "/k", "--cpus", "3x", NULL);
	bad_args("--disk: '/a,rx'", "a bad disk option", "--kernel", "/k", "--disk", "/a,rx", NULL);
	bad_args("--disk: ',ro'", "an empty disk path", "--kernel", "/k", "--disk", ",ro", NULL);
	bad_args("at most 4 disks", "five disks", "--kernel", "/k", "--disk", "/1", "--disk", "/2",
	         "--disk", "/3", "--disk", "/4", "--disk", "/5", NULL);
	bad_args("--net: 'tap0'", "a tap name instead of a fd", "--kernel", "/k", "--net", "tap0",
	         NULL);
	bad_args("net: fd 1 is stdin, stdout or stderr", "stdout as the tap", "--kernel", "/k",
	         "--net", "1", NULL);
	bad_args("--mac: '03:00:00:00:00:01'", "a multicast MAC", "--kernel", "/k", "--mac",
	         "03:00:00:00:00:01", NULL);
	bad_args("--mac: '02:00:00:00:00'", "a short MAC", "--kernel", "/k", "--mac",
	         "02:00:00:00:00", NULL);
	bad_args("--console: 'tty'", "an unknown console", "--kernel", "/k", "--console", "tty",
	         NULL);
	bad_args("--jail-uid: '0'", "root as the jail uid", "--kernel", "/k", "--jail-uid", "0",
	         NULL);
	bad_args("only the jail joins a cgroup", "a cgroup without the jail", "--kernel", "/k",
	         "--no-jail", "--cgroup", "/sys/fs/cgroup/x", NULL);
	bad_args("--kernel-format: 'elf'", "an unknown kernel format", "--kernel", "/k",
	         "--kernel-format", "elf", NULL);
	bad_args("--config: a file name is missing", "--config without a file", "--config", NULL);
}

static void test_json(void)
{
	ok(json(
	       "{\"kernel\": \"/k\", \"initrd\": \"/i\", \"cmdline\": \"quiet\", \"mem_mib\": 256, "
	       "\"cpus\": 2, \"disks\": [{\"path\": \"/a\"}, {\"path\": \"/b\", \"read_only\": "
	       "true}], "
	       "\"net\": {\"tap_fd\": 7, \"mac\": \"02:00:00:00:00:07\"}, \"console\": \"virtio\", "
	       "\"rng\": false, \"jail\": {\"enabled\": true, \"uid\": 64001, \"gid\": 64002, "
	       "\"cgroup\": \"/sys/fs/cgroup/workloads/w\"}}") == 0,
	   "every key parses: %s", err.msg);
	ok(!strcmp(cfg.kernel, "/k") && cfg.mem_mib == 256 && cfg.cpus == 2 && cfg.n_disks == 2 &&
	       cfg.disks[1].read_only && cfg.net_fd == 7 && cfg.mac[5] == 7 &&
	       cfg.console == BHV_CONSOLE_VIRTIO && !cfg.rng && cfg.jail_uid == 64001 &&
	       cfg.jail_gid == 64002 && !strcmp(cfg.cgroup, "/sys/fs/cgroup/workloads/w"),
	   "values are kept");
	ok(json("{}") == 0 && cfg.mem_mib == BHV_DEFAULT_MEM, "an empty object keeps the defaults");

	bad_json("{\"kernel\": \"/k\"", "not valid JSON at byte", "truncated JSON");
	bad_json("[1]", "$: expected an object, got an array", "an array");
	bad_json("{\"kernal\": \"/k\"}", "vm.json: $.kernal: unknown key", "a misspelt key");
	bad_json("{\"mem_mib\": \"256\"}", "$.mem_mib: expected a non-negative integer, got a string", "a string number");
	bad_json("{\"mem_mib\": -1}", "$.mem_mib: expected a non-negative integer, got a negative", "a negative size");
	bad_json("{\"cpus\": 1.5}", "$.cpus: expected a non-negative integer, got a fractional", "a fraction");
	bad_json("{\"disks\": {}}", "$.disks: expected an array, got an object", "disks as an object");
	bad_json("{\"disks\": [{\"path\": \"/a\"}, {\"read_only\": true}]}",
	         "$.disks[1].path: is missing", "a disk without a path");
	bad_json("{\"disks\": [{\"path\": \"/a\", \"ro\": true}]}", "$.disks[0].ro: unknown key",
	         "an unknown disk key");
	bad_json("{\"disks\": [{\"path\": 5}]}", "$.disks[0].path: expected a string, got a number",
	         "a numeric path");
	bad_json("{\"net\": {\"tap_fd\": \"3\"}}", "$.net.tap_fd: expected a non-negative integer",
	         "a string fd");
	bad_json("{\"net\": {\"mac\": \"zz\"}}", "$.net.mac: is not a unicast", "a bad MAC");
	bad_json("{\"console\": \"vga\"}", "$.console: is not", "an unknown console");
	bad_json("{\"rng\": 1}", "$.rng: expected a boolean, got a number", "a number for a boolean");
	bad_json("{\"jail\": {\"uid\": 0}}", "$.jail.uid: must not be 0", "root as the jail uid");
	bad_json("{\"jail\": {\"chroot\": \"/x\"}}", "$.jail.chroot: unknown key",
	         "an unknown jail key");
	bad_json("{\"cmdline\": \"a\\u0000b\"}", "$.cmdline: string holds a NUL",
	         "a NUL byte");
}

static void test_file(void)
{
	char path[] = "/tmp/bhv-unit-config-XXXXXX";
	int fd = mkstemp(path);
	const char *text = "{\"kernel\": \"/from-file\", \"mem_mib\": 512, \"cpus\": 2}";

	if (write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return;
	close(fd);
	ok(args("--cpus", "4", "--config", path, NULL) == 0 && !strcmp(cfg.kernel, "/from-file") &&
	       cfg.mem_mib == 512 && cfg.cpus == 4,
	   "--config is read first and flags override it, wherever they are");
	unlink(path);
	ok(args("--config", path, NULL) < 0 && strstr(err.msg, "open config file"),
	   "a missing config file: %s", err.msg);
	ok(args("--config", "/dev", NULL) < 0 && strstr(err.msg, "not a regular file"),
	   "a directory as the config file: %s", err.msg);
}

static void test_values(void)
{
	uint64_t m;
	struct bhv_disk d;
	uint8_t mac[6];

	ok(parse_mem_mib("256", &m) == 0 && m == 256 && parse_mem_mib("256M", &m) == 0 &&
	       parse_mem_mib("2GiB", &m) == 0 && m == 2048,
	   "sizes: plain MiB, M, GiB");
	ok(parse_mem_mib("", &m) < 0 && parse_mem_mib("-5", &m) < 0 &&
	       parse_mem_mib("5T", &m) < 0 && parse_mem_mib("18446744073709551616", &m) < 0,
	   "sizes: empty, negative, unknown unit, overflow");
	ok(parse_disk("/x,y,ro", &d) == 0 && !strcmp(d.path, "/x,y") && d.read_only,
	   "a disk path may hold commas; the last one selects the mode");
	ok(parse_mac("02:AB:cd:00:00:01", mac) == 0 && mac[1] == 0xab &&
	       parse_mac("02:ab:cd:00:00:01x", mac) < 0,
	   "MACs: case-insensitive, nothing after");
}

int main(void)
{
	test_defaults();
	test_flags();
	test_json();
	test_file();
	test_values();
	return done();
}
