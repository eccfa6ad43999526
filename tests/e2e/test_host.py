#!/usr/bin/python3
"""The hardened host as a user sees it, on the booted image.

Every image: init reaches `ready`, /data is mounted from its disk, DHCP
configures the uplink, and the power button (QMP system_powerdown) ends in a
clean poweroff that exits QEMU with status 0.

Debug images (through the root shell): every hardening sysctl, the mount
flags, cgroup v2 and its delegated controllers; then test services dropped
into /run/bulkhead/services.d prove that orphans are reaped, a crashing
service restarts with backoff and gives up, a service gets exactly the
privileges its file grants, a bad service file is rejected with the file
and field named while the others start, and a critical service that gives
up stops the watchdog from being petted, so the machine resets.

Environment: BH_OUTPUT, the O folder of a built image.
"""
import os
import re
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap  # noqa: E402
from qemu import Machine, Timeout  # noqa: E402
import image  # noqa: E402
import hardening_checker as khc  # noqa: E402

t = Tap()
out = os.environ["BH_OUTPUT"]
cfg = image.config(out)
images = os.path.join(out, "images")
debug = cfg["BH_PROFILE"] == "debug"
data_img = os.path.join(out, "e2e-host-data.img")
if os.path.exists(data_img):
    os.unlink(data_img)
# A fresh data disk for the direct kernel boot; a board that boots disk.img
# only (pc-x86_64-efi) has /data on a partition of its own fresh copy.
env = dict(os.environ, BULKHEAD_DATA=data_img)

# The sysctls of the hardened-host issue. None means "absent from this
# kernel because the feature is not built", which the check accepts only
# together with proof that the feature is missing.
SYSCTLS = {
    "kernel/kptr_restrict": "2", "kernel/dmesg_restrict": "1",
    "kernel/unprivileged_bpf_disabled": None, "net/core/bpf_jit_harden": None,
    "kernel/yama/ptrace_scope": "2", "kernel/perf_event_paranoid": "3",
    "kernel/kexec_load_disabled": None, "kernel/sysrq": None,
    "fs/protected_symlinks": "1", "fs/protected_hardlinks": "1",
    "fs/protected_fifos": "2", "fs/protected_regular": "2", "fs/suid_dumpable": "0",
    "kernel/randomize_va_space": "2", "vm/unprivileged_userfaultfd": None,
    "dev/tty/ldisc_autoload": "0", "kernel/unprivileged_userns_clone": "0",
}
# The kernel option whose absence makes a missing sysctl acceptable.
ABSENT_PROOF = {
    "kernel/unprivileged_bpf_disabled": "CONFIG_BPF_SYSCALL",
    "net/core/bpf_jit_harden": "CONFIG_BPF_JIT",
    "kernel/kexec_load_disabled": "CONFIG_KEXEC_CORE",
    "kernel/sysrq": "CONFIG_MAGIC_SYSRQ",
    "vm/unprivileged_userfaultfd": "CONFIG_USERFAULTFD",
    "kernel/perf_event_paranoid": "CONFIG_PERF_EVENTS",
}


def write_service(m, name, text):
    body = text.strip().replace("\n", "\\n")
    st, o = m.shell("mkdir -p /run/bulkhead/services.d && printf '%s\\n' > "
                    "/run/bulkhead/services.d/%s.service" % (body, name))
    return st == 0


with Machine(images, log_path=os.path.join(out, "e2e-host.log"), env=env) as m:
    try:
        m.expect(r"init: bulkhead boot complete", 240)
        ready = m.expect(r"init: ready: ([\d.]+) s since kernel start \(init (\d+) ms\)", 120)
        t.ok(True, "init reaches ready (%s s after kernel start)" % ready.group(1).decode())
    except Timeout as e:
        t.ok(False, "init reaches ready", str(e))
        t.done()
    t.ok(re.search(rb"data: /dev/\w+ mounted on /data", m.console) is not None,
         "/data is mounted from the disk labelled bulkhead-data", m.tail())
    t.ok(re.search(rb"data: /dev/\w+ is blank: formatting it", m.console) is not None,
         "a blank data disk is formatted on first boot")
    t.ok(b"WARNING" not in m.console, "no warning at boot", m.tail())
    t.ok(b"sysctl:" not in m.console, "every sysctl of /etc/bulkhead/sysctl.conf applies",
         "\n".join(l for l in m.text().splitlines() if "sysctl:" in l))
    t.run("DHCP configures the uplink through the C lease handler",
          m.expect, r"dhcp: eth0: 10\.0\.2\.15/24 via 10\.0\.2\.2", 60)
    t.ok(re.search(rb"watchdog: armed", m.console) is not None, "the hardware watchdog is armed")

    if debug:
        kconf = image.kernel_config(out)
        m.send("\n")
        m.expect(r"# ", 30)
        for key, want in SYSCTLS.items():
            st, val = m.shell("cat /proc/sys/%s" % key)
            val = val.strip()
            if st != 0 and key in ABSENT_PROOF:
                opt = ABSENT_PROOF[key]
                t.ok(opt not in kconf, "sysctl %s absent: the kernel has no %s"
                     % (key.replace("/", "."), opt), "%s=%s" % (opt, kconf.get(opt)))
            elif want is not None:
                t.ok(st == 0 and val == want, "sysctl %s = %s" % (key.replace("/", "."), want),
                     "got %r" % val)
            else:
                t.ok(False, "sysctl %s is absent (feature not built)" % key, "exists: %r" % val)
        # kernel-hardening-checker with the booted command line and
        # sysctls (issue 17): the counts for docs/hardening.md, and every
        # failing check must be one the doc lists with its reason.
        st1, booted_cmdline = m.shell("cat /proc/cmdline")
        st2, sysctls = m.shell("sysctl -a 2>/dev/null", timeout=120)
        checker = khc.find_checker()
        if not checker:
            t.ok(False, "kernel-hardening-checker is available for the booted checks")
        else:
            import tempfile
            with tempfile.TemporaryDirectory() as d:
                cl, sc = os.path.join(d, "cmdline"), os.path.join(d, "sysctl")
                open(cl, "w").write(booted_cmdline.strip() + "\n")
                open(sc, "w").write(sysctls + "\n")
                kc = os.path.join(image.make_vars(out, "LINUX_PREFIX")["LINUX_PREFIX"], "config")
                try:
                    res_l = khc.run_checker(checker, kc, cl)
                    res_ls = khc.run_checker(checker, kc, cl, sc)
                except (RuntimeError, ValueError) as e:
                    res_l = res_ls = []
                    t.ok(False, "kernel-hardening-checker runs with the booted cmdline and sysctls", str(e))
            if res_ls:
                for name, res in (("-l /proc/cmdline", res_l), ("-l /proc/cmdline -s sysctl -a", res_ls)):
                    n_ok = sum(1 for r in res if r["check_result_bool"])
                    t.diag("kernel-hardening-checker %s (booted): %d of %d checks pass (%.1f%%)"
                           % (name, n_ok, len(res), 100.0 * n_ok / len(res)))
                accepted = khc.documented_failures(cfg["BH_ARCH"])
                undocumented = [r for r in res_ls if not r["check_result_bool"]
                                and r["option_name"] not in accepted]
                # (BusyBox's sysctl -a exits 1 when an entry cannot be read,
                # as some write-only ones cannot: what it printed counts.)
                t.ok(st1 == 0 and len(sysctls.splitlines()) > 100 and not undocumented,
                     "every check failing on the booted image (cmdline and sysctls) is in docs/hardening.md",
                     "\n".join("%s (%s): %s" % (r["option_name"], r["type"], r["check_result"])
                               for r in undocumented))
        st, mounts = m.shell("cat /proc/mounts")

        def opts(target):
            for line in mounts.splitlines():
                f = line.split()
                if len(f) >= 4 and f[1] == target:
                    return f[2], set(f[3].split(","))
            return None, set()

        fs, o = opts("/")
        t.ok(fs == "squashfs" and "ro" in o, "/ is squashfs, read-only", "%s %s" % (fs, o))
        for target, fstype, flags in (("/proc", "proc", {"nosuid", "nodev", "noexec", "hidepid=invisible"}),
                                      ("/sys", "sysfs", {"nosuid", "nodev", "noexec"}),
                                      ("/run", "tmpfs", {"nosuid", "nodev", "noexec"}),
                                      ("/tmp", "tmpfs", {"nosuid", "nodev", "noexec"}),
                                      ("/dev/shm", "tmpfs", {"nosuid", "nodev", "noexec"}),
                                      ("/dev", "devtmpfs", {"nosuid", "noexec"}),
                                      ("/dev/pts", "devpts", {"nosuid", "noexec"}),
                                      ("/data", "ext4", {"nosuid", "nodev"}),
                                      ("/sys/fs/cgroup", "cgroup2", {"nosuid", "nodev", "noexec", "nsdelegate"})):
            fs, o = opts(target)
            t.ok(fs == fstype and flags <= o, "%s is %s with %s" % (target, fstype, ",".join(sorted(flags))),
                 "got %s %s" % (fs, sorted(o)))
        st, ctl = m.shell("cat /sys/fs/cgroup/cgroup.subtree_control")
        t.ok(set(ctl.split()) >= {"cpu", "memory", "pids"}, "cgroup v2 root enables cpu, memory, pids", ctl)
        st, ctl = m.shell("cat /sys/fs/cgroup/workloads/cgroup.subtree_control")
        t.ok(set(ctl.split()) >= {"cpu", "memory", "pids"},
             "the workloads subtree delegates cpu, memory and pids", ctl)
        st, _ = m.shell("touch /etc/x 2>/dev/null")
        t.ok(st != 0, "nothing on / is writable, even for root")

        # Orphans: each test-service child exits at once, leaving a
        # grandchild that init inherits and must reap a second later.
        write_service(m, "orphans", "exec = /usr/libexec/bulkhead/test-service orphans 5\nrestart = never")
        pos = m.mark()
        m.shell("kill -HUP 1")
        m.expect(r"orphans: left 5 orphans", 30, since=pos)
        m.shell("sleep 3")
        st, z = m.shell("for s in /proc/[0-9]*/stat; do read -r l < $s 2>/dev/null && "
                        "case $l in *\") Z \"*) echo zombie $l;; esac; done")
        t.ok("zombie" not in z, "orphans left by a service are reaped", z)

        # Crash with backoff, then give up.
        write_service(m, "crasher", "exec = /usr/libexec/bulkhead/test-service crash 3\n"
                      "restart = on-failure\nmax_restarts = 3\nrestart_delay_ms = 200")
        pos = m.mark()
        m.shell("kill -HUP 1")
        delays = []
        for n in (1, 2, 3):
            mm = m.expect(r"service crasher: restart %d of 3 in (\d+) ms" % n, 30, since=pos)
            pos = mm.end()
            delays.append(int(mm.group(1)))
        t.ok(delays == [200, 400, 800], "a crashing service restarts with exponential backoff",
             "delays %s" % delays)
        t.run("it gives up after max_restarts", m.expect,
              r"service crasher gave up after 3 restarts", 30, pos)
        st, log = m.shell("cat /run/log/crasher.log")
        t.ok(log.count("crashing with status 3") == 4, "its output is kept in /run/log/crasher.log", log)

        # Least privilege: an unprivileged uid with one capability.
        write_service(m, "caps", "exec = /usr/libexec/bulkhead/test-service caps\nuser = 65534\n"
                      "group = 65534\ncapabilities = CAP_NET_BIND_SERVICE\nrestart = never")
        pos = m.mark()
        m.shell("kill -HUP 1")
        m.expect(r"caps: NoNewPrivs:\s+1", 30, since=pos)
        st, log = m.shell("cat /run/log/caps.log")
        caps = dict(re.findall(r"(\w+):\s+(\S+)", log))
        t.ok(caps.get("Uid") == "65534" and caps.get("Gid") == "65534", "a service runs as its user and group", log)
        t.ok(caps.get("CapEff") == "0000000000000400" and caps.get("CapBnd") == "0000000000000400"
             and caps.get("CapAmb") == "0000000000000400",
             "it holds exactly CAP_NET_BIND_SERVICE (effective, bounding, ambient)", log)
        t.ok(caps.get("NoNewPrivs") == "1", "no_new_privs is set", log)

        # A bad service file is rejected by name and field; the good one
        # loaded with it starts.
        write_service(m, "bad", "exec = /usr/libexec/bulkhead/test-service run\nrestart = sometimes")
        write_service(m, "good", "exec = /usr/libexec/bulkhead/test-service run")
        pos = m.mark()
        m.shell("kill -HUP 1")
        t.run("a bad service file is rejected, naming the file, line and field", m.expect,
              r"service file rejected: /run/bulkhead/services.d/bad.service:2: field 'restart': "
              r"'sometimes' is not always, on-failure or never", 30, pos)
        t.run("the other services still start", m.expect, r"good: running", 30, pos)

        # A critical service that gives up leaves the watchdog unpetted.
        timeout = int(cfg.get("BH_WATCHDOG_TIMEOUT", "30"))
        write_service(m, "doomed", "exec = /usr/libexec/bulkhead/test-service crash 1\n"
                      "critical = yes\nmax_restarts = 1\nrestart_delay_ms = 100")
        # QEMU reports the i6300esb firing as a WATCHDOG event on QMP: that,
        # not just any reboot, is the watchdog's reset.
        events = m.qmp_events()
        pos = m.mark()
        m.shell("kill -HUP 1")
        m.expect(r"service doomed gave up after 1 restarts: it is critical", 30, since=pos)
        gave_up = m.pos
        try:
            boot = m.expect(r"Linux version", timeout + 60)
            fired = events.wait("WATCHDOG", 10)
            between = m.console[gave_up:boot.start()]
            t.ok(fired is not None and fired.get("data", {}).get("action") == "reset" and
                 not re.search(rb"reboot: Restarting|init: rebooting", between),
                 "the unpetted watchdog resets the machine (QEMU's WATCHDOG event, no reboot by software)",
                 "events %s; console between:\n%s" % (events.seen, between[-1500:].decode(errors="replace")))
            m.expect(r"init: ready:", 240)
            t.ok(True, "the machine boots again after the reset")
            # The second boot's whole console: init formats before `ready`.
            second = m.console[boot.start():]
            t.ok(re.search(rb"data: /dev/\w+ mounted on /data", second) is not None and
                 re.search(rb"data: /dev/\w+ is blank", second) is None,
                 "the data disk is mounted again, not formatted again",
                 b"\n".join(l for l in second.splitlines() if b"data" in l).decode(errors="replace"))
        except Timeout as e:
            t.ok(False, "the unpetted watchdog resets the machine", str(e))
        events.close()
        m.send("\n")
        m.expect(r"# ", 30)

    # The power button: ACPI on x86, gpio-keys on ARM64.
    m.qmp("system_powerdown")
    t.run("the power button starts an ordered shutdown", m.expect, r"init: power button pressed", 60)
    t.run("init powers off after stopping services", m.expect, r"init: powering off", 60)
    try:
        status = m.wait_exit(60)
        t.ok(status == 0, "QEMU exits with status 0 after a clean poweroff", "status %s" % status)
    except Timeout as e:
        t.ok(False, "QEMU exits after poweroff", str(e))
os.path.exists(data_img) and os.unlink(data_img)
t.done()
