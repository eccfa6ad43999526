#!/usr/bin/python3
"""bhc inside the booted debug image, where cgroup v2 exists (init
delegates memory, pids and cpu to /sys/fs/cgroup/workloads) and bhc runs
as root on our own kernel:

- the escape probes in a `bhc spec` container, with bait on the image's
  host (a host process's pid, another container's secret file, an
  abstract socket, bhd's control socket): every one BLOCKED but those
  whose kernel feature the image's kernel does not have, which are
  skipped by name, and those of a known gap in bhc (bhctest.known_open),
  and BLOCKED equal to the program's own total less those; bhc runs with
  a pty of its own as its terminal (for the probe tiocsti); and the
  probes the runner makes: a #!/proc/self/exe entrypoint and
  /proc/self/fd/N as process.args[0];
- limits from the config land in the container's cgroup under /workloads
  (memory.max, memory.swap.max, pids.max, cpu.max) and the init is born in
  it; bhc delete removes that cgroup; a config without limits gets bhc's
  defaults (pids.max 1024, memory.max a quarter of MemTotal,
  memory.oom.group 1);
- a memory hog is OOM-killed inside its container (status 137, oom_kill
  counted) while the host lives on;
- a fork bomb stops at pids.max, having reached it;
- a cgroupsPath outside /workloads is placed below it with a warning, and
  no cgroup outside it is made;
- issue 20: the configs of `runc spec` and `ctr oci spec`
  (tests/fixtures/oci) run unchanged, on rootfses with and without the
  usual mount points; containerd's device allow rules run with a warning;
  delete of a created container needs --force; uid 1000 keeps an ambient
  capability (binds port 80) and noNewPrivileges false is a warning
  (item 8); memory.kernel, kernelTCP
  and swappiness run with warnings, memory.reservation lands as
  memory.low, cpuset/io/hugetlb land or fail naming the missing
  controller; start returns once the program runs and a SIGTERM right
  after it is delivered, 100 times in a row;
  nothing is left behind in /run/bhc or /sys/fs/cgroup/workloads;
- issue 20 mounts (the block at the end): podman's config.json
  (tests/fixtures/oci) with a rootfs that has the usual mount points and
  a FROM scratch one, tmpcopyup, its pids.limit in the container's cgroup;
  unbindable on a tmpfs; a target missing from a read-only rootfs named
  in the error; another container's ipc and uts namespaces joined by
  path, a pid namespace refused; data options on a bind warned about.

The payload (BusyBox rootfs with the static probe, memhog and forkbomb
programs, built with the board's compiler) goes in as a squashfs disk.
Production images have no shell: the test is skipped there.

Environment: BH_OUTPUT, the O folder of a built image.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, os.path.join(HERE, "..", "escape"))
sys.path.insert(0, HERE)
from tap import Tap  # noqa: E402
from qemu import Machine, Timeout  # noqa: E402
import image  # noqa: E402
import bhctest  # noqa: E402

t = Tap()
out = os.environ["BH_OUTPUT"]
cfg = image.config(out)
if cfg.get("BH_PROFILE") != "debug":
    t.skip("bhc in the booted image", "production images have no shell to drive it")
    t.done()
manifest = open(os.path.join(out, "images", "rootfs.manifest")).read()
if "usr/bin/bhc" not in manifest:
    t.ok(False, "the image carries /usr/bin/bhc", "not in rootfs.manifest")
    t.done()

# Payload disk --------------------------------------------------------------------
tmp = tempfile.mkdtemp(prefix="bhc-e2e-")
bins = [bhctest.build_static(out, src, os.path.join(tmp, name))
        for src, name in (("probes.c", "bhc-probes"), ("memhog.c", "bhc-memhog"), ("forkbomb.c", "bhc-forkbomb"),
                          ("bait.c", "bhc-bait"), ("withpty.c", "bhc-withpty"), ("sigterm_ready.c", "sigterm-ready"))]
subprocess.run(["make", "-s", "-C", bhctest.TOP, "O=" + out, "busybox"], check=True, capture_output=True)
payload_dir = os.path.join(tmp, "payload")
bhctest.make_rootfs(os.path.join(payload_dir, "rootfs"), bhctest.busybox(out), bins, probe_files=True)
# Issue 20: the configs runc and containerd write, as bundles on the
# payload disk (only root.path and process.args set, as a user sets them),
# and a rootfs without the usual mount points.
bhctest.make_rootfs(os.path.join(payload_dir, "bare"), bhctest.busybox(out), bins)
for d in ("proc", "sys", "dev", "tmp", "run"):
    os.rmdir(os.path.join(payload_dir, "bare", d))


def oci_bundle(name, fixture, rootfs, args, edit=None):
    c = bhctest.oci_fixture(fixture)
    c["root"]["path"] = "/tmp/payload/" + rootfs
    c["process"]["args"] = args
    if edit:
        edit(c)
    os.makedirs(os.path.join(payload_dir, "oci", name))
    bhctest.write_config(os.path.join(payload_dir, "oci", name), c)


def no_terminal(c):
    c["process"]["terminal"] = False


for fixture in bhctest.OCI_FIXTURES:
    for rootfs in ("rootfs", "bare"):
        name = "%s-%s" % (fixture.split("-")[0], rootfs)
        oci_bundle(name, fixture, rootfs, ["sh", "-c", "echo conformance-%s; exit 4" % name])
oci_bundle("devices", "ctr-spec.json", "rootfs", ["sh", "-c", "ls /dev/net/tun 2>&1 || echo no-tun"],
           lambda c: c["linux"]["resources"]["devices"].extend(bhctest.CTR_RUN_DEVICES))
oci_bundle("term", "runc-spec.json", "rootfs", ["/bin/sigterm-ready"], no_terminal)
oci_bundle("created", "runc-spec.json", "rootfs", ["sleep", "100"], no_terminal)
oci_bundle("memv1", "runc-spec.json", "rootfs", ["true"], lambda c: (no_terminal(c), c["linux"]["resources"].update(
    memory={"kernel": 1 << 26, "kernelTCP": 1 << 24, "swappiness": 10})))
oci_bundle("reservation", "runc-spec.json", "rootfs", ["sleep", "100"], lambda c: (no_terminal(c), c["linux"][
    "resources"].update(memory={"reservation": 16 << 20})))
CGROUP_WANTS = (("cpuset", "cpu.cpus", "cpuset.cpus", "0", lambda r: r.update(cpu={"cpus": "0"})),
                ("io", "blockIO.weight", "io.weight", "default 4950", lambda r: r.update(blockIO={"weight": 500})),
                ("hugetlb", "hugepageLimits", "hugetlb.2MB.max", str(2 << 20),
                 lambda r: r.update(hugepageLimits=[{"pageSize": "2MB", "limit": 2 << 20}])))
for ctl, _, _, _, edit in CGROUP_WANTS:
    oci_bundle("cg-" + ctl, "runc-spec.json", "rootfs", ["sleep", "100"],
               lambda c, edit=edit: (no_terminal(c), edit(c["linux"]["resources"])))


def ambient_edit(c):
    """Item 8: uid 1000 with CAP_NET_BIND_SERVICE in every set, and
    noNewPrivileges false."""
    no_terminal(c)
    c["process"]["user"] = {"uid": 1000, "gid": 1000}
    c["process"]["capabilities"] = {k: ["CAP_NET_BIND_SERVICE"] for k in ("bounding", "effective", "permitted",
                                                                         "inheritable", "ambient")}
    c["process"]["noNewPrivileges"] = False


oci_bundle("ambient", "runc-spec.json", "rootfs", ["sh", "-c", "grep -E '^(CapAmb|NoNewPrivs):' /proc/self/status; "
                                                   "nc -l -p 80 & p=$!; sleep 0.5; kill $p 2>/dev/null && "
                                                   "echo bound-80; exit 0"], ambient_edit)
# issue 20 mounts (oci20b): podman's config for the block at the end.
PODMAN = "/tmp/b/pm"
oci20b_podman = bhctest.podman_config_for(PODMAN, os.path.join(payload_dir, "oci20b"))
payload = os.path.join(tmp, "payload.sqfs")
subprocess.run(["mksquashfs", payload_dir, payload, "-all-root", "-noappend", "-quiet"], check=True,
               capture_output=True)

MiB = 1024 * 1024
# Inserted into `bhc spec`'s "resources": { ... } by sed in the image.
LIMITS = ('"memory": {"limit": %d, "swap": %d}, "pids": {"limit": 32}, '
          '"cpu": {"quota": 50000, "period": 100000}, ' % (32 * MiB, 32 * MiB))


def bundle(m, name, args, limits=False, extra_sed=None):
    """A bundle in the image's /tmp: bhc spec there, rootfs from the payload."""
    d = "/tmp/b/" + name
    cmd = "rm -rf %s && mkdir -p %s && ln -s /tmp/payload/rootfs %s/rootfs && bhc spec --bundle %s -- %s" % (
        d, d, d, d, args)
    if limits:
        cmd += " && sed -i 's|\"resources\": {|\"resources\": {%s|' %s/config.json" % (LIMITS, d)
    if extra_sed:
        cmd += " && sed -i '%s' %s/config.json" % (extra_sed, d)
    st, o = m.shell(cmd)
    return d if st == 0 else None


extra = ["-drive", "file=%s,if=none,id=payload,format=raw,readonly=on" % payload,
         "-device", "virtio-blk-pci,drive=payload,serial=bhcpayload"]
with Machine(os.path.join(out, "images"), extra_args=extra, log_path=os.path.join(out, "e2e-container.log")) as m:
    try:
        m.expect(r"init: ready", 300)
    except Timeout as e:
        t.ok(False, "the image boots", str(e))
        t.done()
    m.send("\n")
    m.expect(r"# ", 30)
    st, o = m.shell("for b in /sys/class/block/*; do [ \"$(cat $b/serial 2>/dev/null)\" = bhcpayload ] && "
                    "echo /dev/${b##*/}; done")
    dev = o.strip().splitlines()[-1] if o.strip() else ""
    st, o = m.shell("mkdir -p /tmp/payload && mount -t squashfs -o ro %s /tmp/payload && ls /tmp/payload/rootfs/bin/bhc-probes" % dev)
    t.ok(st == 0, "payload disk mounted (%s)" % dev, o)
    st, o = m.shell("bhc --version")
    t.ok(st == 0 and "bhc version" in o, "/usr/bin/bhc runs: %s" % o.splitlines()[-1] if o else "", o)

    # Escape probes, with bait on the image's host: a process of the host
    # (its pid), listening on an abstract socket, and another container's
    # secret file; bhd's control socket is there already.
    kconfig = image.kernel_config(out)
    absent = bhctest.absent_probes(kconfig)
    gaps = bhctest.known_open(kconfig)
    st, o = m.shell("mkdir -p /run/bhc-bait/other/rootfs; echo 'host secret' > /run/bhc-bait/other/rootfs/secret; "
                    "/tmp/payload/rootfs/bin/bhc-bait bhc-probe-bait </dev/null >/run/bhc-bait/log 2>&1 & "
                    "sleep 1; cat /run/bhc-bait/log; ls -l /run/bulkhead/bhd.sock")
    bait = re.search(r"bhc-bait: pid (\d+) listening", o)
    t.ok(bait is not None and "bhd.sock" in o, "bait on the image's host: a pid, an abstract socket, a secret file, "
         "bhd's socket", o)
    env = ['"BHC_PROBE_HOST_PID=%s"' % (bait.group(1) if bait else "0"),
           '"BHC_PROBE_SECRET=/run/bhc-bait/other/rootfs/secret"', '"BHC_PROBE_ABSTRACT=bhc-probe-bait"',
           '"BHC_PROBE_SKIP=%s"' % " ".join(sorted(absent)), '"BHC_PROBE_TTY=0"']
    b = bundle(m, "probes", "/bin/bhc-probes", extra_sed='s|"env": \\[|"env": [%s, |' % ", ".join(env))
    # bhc started from a terminal of its own (a pty no shell reads), for
    # the probe tiocsti.
    st, o = m.shell("grep -c BHC_PROBE_HOST_PID %s/config.json && /tmp/payload/rootfs/bin/bhc-withpty "
                    "bhc run --bundle %s probes" % (b, b), timeout=300)
    open_now = bhctest.check_blocked(t, "image: ", o, absent, gaps)
    t.ok(st == (1 if open_now else 0), "bhc run of the probes exits %d in the image (%s)"
         % (1 if open_now else 0, "only known gaps escaped" if open_now else "no escape"), o[-1500:])
    if bait:
        m.shell("kill %s" % bait.group(1))
    # The probes the runner makes (tests/integration/test_bhc_escape.py has
    # their runc controls): a #!/proc/self/exe entrypoint must not run
    # bhc's binary in the container, /proc/self/fd/N as args[0] nothing.
    b = bundle(m, "selfexe", "/bin/bhc-selfexe")
    st, o = m.shell("bhc run --bundle %s selfexe" % b, timeout=120)
    ran = bhctest.RUNTIME_RAN.search(o)
    bhctest.check_runner_probe(t, "image: ", "shebang_proc_self_exe", ran is not None,
                               "the runtime's binary ran in the container: %s" % ran.group(0) if ran else o, gaps)
    st, o = m.shell("for n in 3 4 5 6 7 8 9; do d=/tmp/b/fd$n; rm -rf $d; mkdir -p $d; "
                    "ln -s /tmp/payload/rootfs $d/rootfs; bhc spec --bundle $d -- /proc/self/fd/$n --list; "
                    "bhc run --bundle $d fd$n 2>/dev/null | sed -n \"1s|^|fd$n ran: |p\"; done; echo end", timeout=300)
    ran = [l for l in o.splitlines() if " ran: " in l]
    bhctest.check_runner_probe(t, "image: ", "args0_proc_self_fd", bool(ran),
                               "; ".join(ran) or "none of /proc/self/fd/3..9 ran as process.args[0]", gaps)

    # Limits land in the container's cgroup, and its init is born there.
    b = bundle(m, "limits", "sleep 1000", limits=True)
    st, o = m.shell("bhc run --detach --bundle %s limits < /dev/null > /dev/null 2>&1; "
                    "cd /sys/fs/cgroup/workloads/limits && cat memory.max pids.max cpu.max cgroup.procs; "
                    "cat memory.swap.max 2>/dev/null || echo no-swap; cd /; bhc state limits" % b)
    lines = o.splitlines()
    t.ok(st == 0 and "%d" % (32 * MiB) in lines and "32" in lines and "50000 100000" in lines and
     ("0" in lines or "no-swap" in lines),
     "memory.max, pids.max, cpu.max (and memory.swap.max if the kernel has swap) come from the config", o)
    pid = re.search(r'"pid": (\d+)', o)
    t.ok(pid is not None and pid.group(1) in lines, "the container's init is in its cgroup", o)
    st, o = m.shell("test -d /sys/fs/cgroup/workloads/limits && echo was-there; bhc delete --force limits; "
                    "echo delete=$?; test -e /sys/fs/cgroup/workloads/limits && echo still-there || echo gone")
    t.ok("was-there" in o and "delete=0" in o and "gone" in o and "still-there" not in o,
         "bhc delete removes the container's cgroup", o)

    # A config without limits gets bhc's defaults: pids.max 1024, memory.max
    # a quarter of MemTotal (whole pages), and the whole container is
    # OOM-killed together (memory.oom.group).
    b = bundle(m, "defaults", "sleep 1000")
    st, o = m.shell("bhc run --detach --bundle %s defaults < /dev/null > /dev/null 2>&1; "
                    "cd /sys/fs/cgroup/workloads/defaults && echo pids=$(cat pids.max) mem=$(cat memory.max) "
                    "oom=$(cat memory.oom.group); cd /; grep MemTotal /proc/meminfo; "
                    "bhc delete --force defaults" % b)
    mt = re.search(r"MemTotal:\s+(\d+) kB", o)
    want = (int(mt.group(1)) * 1024 // 4) & ~4095 if mt else -1
    t.ok("pids=1024" in o and "mem=%d" % want in o and "oom=1" in o,
         "a config without limits: pids.max 1024, memory.max a quarter of MemTotal (%d), memory.oom.group 1" % want,
         o)

    # A memory hog is OOM-killed in its container; the host lives on.
    b = bundle(m, "memhog", "/bin/bhc-memhog 256", limits=True)
    st, before = m.shell("grep oom_kill /sys/fs/cgroup/workloads/memory.events")
    st, o = m.shell("bhc run --bundle %s memhog; echo status=$?" % b, timeout=300)
    st2, after = m.shell("grep oom_kill /sys/fs/cgroup/workloads/memory.events")
    n_before = int(before.split()[-1]) if before.split() else 0
    n_after = int(after.split()[-1]) if after.split() else 0
    t.ok("status=137" in o and "survived" not in o, "the memory hog is killed (status 137)", o[-600:])
    t.ok(n_after > n_before, "the kernel counts an OOM kill under /workloads (%d -> %d)" % (n_before, n_after))
    st, o = m.shell("echo host-alive")
    t.ok(st == 0 and "host-alive" in o, "the host lives on after the OOM kill")

    # A fork bomb stops at pids.max.
    b = bundle(m, "forkbomb", "/bin/bhc-forkbomb 1000", limits=True)
    st, o = m.shell("bhc run --bundle %s forkbomb; echo status=$?" % b, timeout=300)
    # pids.max counts the bomb itself: it stops at 31 children.
    mm = re.search(r"forkbomb: (\d+) children, stopped by (.*)", o)
    t.ok(mm is not None and int(mm.group(1)) == 31 and "unavailable" in mm.group(2).lower(),
         "the fork bomb stops at pids.max = 32: itself and 31 children (%s)" % (mm.group(0) if mm else "no report"),
         o[-600:])

    # A cgroupsPath outside the delegated subtree is placed below it, with
    # a warning (containerd writes /default/<id>): never in the host's own.
    st, before = m.shell("test -e /sys/fs/cgroup/system && echo system-exists; echo ok")
    b = bundle(m, "outside", "cat /proc/self/cgroup",
               extra_sed='s|"linux": {|"linux": {"cgroupsPath": "/system/evil",|')
    st, o = m.shell("bhc run --bundle %s outside; echo status=$?" % b)
    t.ok("status=0" in o and "bhc: warning: " in o and "$.linux.cgroupsPath: '/system/evil' is outside /workloads"
         in o and "placed at /workloads/system/evil" in o,
         "a cgroupsPath outside /workloads is placed below it, with a warning", o)
    st, after = m.shell("test -e /sys/fs/cgroup/system/evil && echo evil-made; "
                        "test -e /sys/fs/cgroup/workloads/system/evil && echo nested-left; "
                        "rmdir /sys/fs/cgroup/workloads/system; "  # the level above it stays, as for any nested path
                        "test -e /sys/fs/cgroup/system && echo system-exists; echo ok")
    t.ok("evil-made" not in after and "nested-left" not in after
         and ("system-exists" in after) == ("system-exists" in before),
         "... no cgroup /system/evil was made, and its nested one is gone after the run", before + "\n" + after)

    # Issue 20 --------------------------------------------------------------------------
    # The configs runc and containerd write, unchanged but for root.path
    # and process.args (tests/fixtures/oci), on a rootfs with and without
    # the usual mount points; then one check per item (1, 5, 6, 10), here
    # where cgroup v2 exists. tests/integration/test_bhc_conformance.py
    # has the same checks on the build host.
    P = "/tmp/payload/oci/"
    # The bare rootfs must be writable for bhc to make its mount targets
    # (item 3; on the read-only squashfs it refuses, naming /proc): a copy
    # on a tmpfs of its own (the image's /tmp is noexec) bound over it.
    m.shell("mkdir -p /tmp/b/bare && mount -t tmpfs -o mode=755 bhc-bare /tmp/b/bare && "
            "cp -a /tmp/payload/bare/. /tmp/b/bare/ && mount --bind /tmp/b/bare /tmp/payload/bare")
    for fixture in bhctest.OCI_FIXTURES:
        for rootfs in ("rootfs", "bare"):
            name = "%s-%s" % (fixture.split("-")[0], rootfs)
            st, o = m.shell("bhc run --bundle %s%s %s </dev/null; echo status=$?" % (P, name, name), timeout=120)
            what = "%s runs unchanged in the image, on a rootfs %s the usual mount points" % (
                fixture, "with" if rootfs == "rootfs" else "without")
            t.ok("status=4" in o and "conformance-" + name in o, what, o[-800:])
            # ctr's cgroupsPath /default is placed below /workloads, with a
            # warning here where cgroup v2 is; the rest as on the build host.
            extra = ["$.linux.cgroupsPath: '/default"] if fixture == "ctr-spec.json" else []
            good, why = bhctest.fixture_warnings(fixture, o, extra)
            t.ok(good, "%s (%s): the warnings expected of it, no other" % (fixture, rootfs), why + "\n" + o[-800:])

    # Item 1: containerd's device allow rules, /dev/net/tun included.
    st, o = m.shell("bhc run --bundle %sdevices devices </dev/null; echo status=$?" % P, timeout=120)
    t.ok("status=0" in o and "no-tun" in o and "$.linux.resources.devices[10]: allow c 10:200 rwm has no effect" in o,
         "containerd's device allow rules are accepted with a warning for c 10:200; no /dev/net/tun inside", o[-800:])

    # Item 10: delete of a created container needs --force.
    st, o = m.shell("bhc create --bundle %screated created </dev/null >/dev/null 2>&1; bhc delete created; "
                    "echo delete=$?; bhc state created | grep -o '\"status\": *\"[a-z]*\"'; "
                    "bhc delete --force created; echo force=$?" % P, timeout=120)
    t.ok("delete=1" in o and "created" in o and "--force" in o and '"created"' in o and "force=0" in o,
         "delete of a created container fails without --force; --force removes it", o)

    # Item 8: a non-root process.user keeps its ambient capabilities
    # (uid 1000 binds port 80 with CAP_NET_BIND_SERVICE); noNewPrivileges
    # false is a warning and no_new_privs stays on.
    st, o = m.shell("bhc run --bundle %sambient ambient </dev/null; echo status=$?" % P, timeout=120)
    t.ok("status=0" in o and re.search(r"CapAmb:\s+0000000000000400", o) and "bound-80" in o,
         "uid 1000 keeps CAP_NET_BIND_SERVICE as an ambient capability and binds port 80", o[-800:])
    t.ok(re.search(r"NoNewPrivs:\s+1", o) and "$.process.noNewPrivileges: false ignored" in o,
         "noNewPrivileges false: a warning, no_new_privs stays on", o[-800:])

    # Item 6: memory.kernel, kernelTCP, swappiness ignored with a warning;
    # memory.reservation lands as memory.low; cpuset, io and hugetlb land
    # where the kernel has the controller, else a clear error names it.
    st, o = m.shell("bhc run --bundle %smemv1 memv1 </dev/null; echo status=$?" % P, timeout=120)
    t.ok("status=0" in o and all("memory.%s: ignored" % k in o for k in ("kernel", "kernelTCP", "swappiness")),
         "memory.kernel, kernelTCP, swappiness: run, one warning each", o[-800:])
    st, o = m.shell("bhc create --bundle %sreservation reservation </dev/null >/dev/null 2>&1; echo created=$?; "
                    "cat /sys/fs/cgroup/workloads/reservation/memory.low; bhc delete --force reservation" % P,
                    timeout=120)
    t.ok("created=0" in o and str(16 << 20) in o, "memory.reservation lands as memory.low (16 MiB)", o)
    _, ctls = m.shell("cat /sys/fs/cgroup/cgroup.controllers")
    for ctl, field, knob, want, _ in CGROUP_WANTS:
        st, o = m.shell("bhc create --bundle %scg-%s cg-%s </dev/null >/tmp/cg.out 2>&1; echo created=$?; "
                        "cat /tmp/cg.out; cat /sys/fs/cgroup/workloads/cg-%s/%s 2>/dev/null; "
                        "bhc delete --force cg-%s 2>/dev/null; test -e /sys/fs/cgroup/workloads/cg-%s && echo left"
                        % (P, ctl, ctl, ctl, knob, ctl, ctl), timeout=120)
        if ctl in ctls.split():
            t.ok("created=0" in o and want in o, "%s lands as %s (the kernel has %s)" % (field, knob, ctl), o)
        else:
            t.ok("created=1" in o and "this kernel has no %s controller" % ctl in o and "left" not in o,
                 "%s: a clear error, the kernel has no %s controller (image kernel config)" % (field, ctl), o)

    # Item 5: bhc start returns once the program runs, and a SIGTERM right
    # after it reaches the program's handler, 100 times in a row.
    st, o = m.shell(
        "ok=0; exe=0; i=0; while [ $i -lt 100 ]; do i=$((i+1)); "
        "bhc create --bundle %sterm t$i </dev/null >/tmp/term.out 2>&1; bhc start t$i; "
        "pid=$(bhc state t$i | sed -n 's/.*\"pid\": *\\([0-9]*\\).*/\\1/p'); "
        "case \"$(readlink /proc/$pid/exe)\" in */sigterm-ready) exe=$((exe+1));; esac; "
        "bhc kill t$i TERM; n=0; while [ $n -lt 100 ] && ! grep -q term /tmp/term.out; do sleep 0.1; "
        "n=$((n+1)); done; grep -q term /tmp/term.out && ok=$((ok+1)); bhc delete --force t$i; done; "
        "echo exe=$exe delivered=$ok" % P, timeout=1800)
    mm = re.search(r"exe=(\d+) delivered=(\d+)", o)
    t.ok(mm is not None and mm.group(1) == "100", "bhc start returns once the program runs: %s of 100"
         % (mm.group(1) if mm else "?"), o[-800:])
    t.ok(mm is not None and mm.group(2) == "100", "a SIGTERM right after bhc start reaches the handler: %s of 100"
         % (mm.group(2) if mm else "?"), o[-800:])

    # bhd's own workloads (the debug image's demos) live there too; only
    # what this test started must be gone.
    st, o = m.shell("ls /run/bhc; ls -d /sys/fs/cgroup/workloads/*/ 2>/dev/null; echo end")
    _, managed = m.shell("bhctl list 2>/dev/null | awk 'NR>1{print $1}'")
    left = [l for l in o.split() if l != "end" and
            l.rstrip("/").rsplit("/", 1)[-1] not in managed.split()]
    t.ok(o.strip().endswith("end") and not left, "nothing left in /run/bhc or under /workloads", o)

    # ---- issue 20, items 2, 3, 4 and 7 (mounts, branch oci20b) ----------------------------------------
    # issue 20 mounts: podman's own config.json and
    # bhc spec bundles, on copies of the payload's rootfs in the image's
    # /tmp (the payload is a read-only squashfs, which item 3 uses too).
    # podman's config is as podman wrote it but for root.path,
    # process.args, its host paths, and its cgroupsPath (podman's is outside
    # /workloads, which bhc refuses by design), made by
    # bhctest.podman_config_for.
    # A tmpfs of its own: the image's /tmp is noexec, and a rootfs there
    # could run nothing.
    st, o = m.shell("umount {p} 2>/dev/null; rm -rf {p} && mkdir -p {p} && mount -t tmpfs -o mode=755 bhc-pm {p} && "
                    "mkdir -p {p}/host/hostdata {p}/host/shm {p}/full {p}/scr && "
                    "echo podman-hostname > {p}/host/hostname && echo podman-hosts > {p}/host/hosts && "
                    "echo host-volume > {p}/host/hostdata/from-host && chmod 777 {p}/host/hostdata && "
                    "cp -a /tmp/payload/rootfs {p}/rootfs && mkdir -p {p}/rootfs/var/cache/keep && "
                    "echo from-the-image > {p}/rootfs/var/cache/keep/file && "
                    "mkdir -p {p}/scratch && cp -a /tmp/payload/rootfs/bin {p}/scratch/ && "
                    "cp /tmp/payload/oci20b/full.json {p}/full/config.json && "
                    "cp /tmp/payload/oci20b/scratch.json {p}/scr/config.json && echo prepared".format(p=PODMAN),
                    timeout=120)
    t.ok("prepared" in o, "podman bundles prepared in the image", o)

    def podman_run(name, bundle):
        """bhc run of a podman bundle, its seccomp profile as podman wrote it."""
        st, o = m.shell("bhc run --bundle %s %s 2>&1; echo status=$?" % (bundle, name), timeout=120)
        return o

    o = podman_run("pm-full", PODMAN + "/full")
    t.ok("status=0" in o, "image: podman's config.json runs under bhc (rootfs with the usual mount points)", o[-1500:])
    t.ok(re.search(r"^tmpfs /run tmpfs ", o, re.M) and re.search(r"^tmpfs /var/cache tmpfs .*size=65536k", o, re.M)
         and "from-the-image" in o, "image: podman's tmpfs mounts, /var/cache with the image's files (tmpcopyup)", o)
    t.ok("host-volume" in o and "hostname %s" % oci20b_podman["hostname"] in o and "podman-hostname" in o,
         "image: podman's volume, hostname and /etc/hostname", o)
    t.ok("pids.max 2048" in o, "image: podman's pids.limit lands in the container's cgroup", o)
    o = podman_run("pm-scratch", PODMAN + "/scr")
    st, made = m.shell("ls -d {p}/scratch/proc {p}/scratch/sys {p}/scratch/dev {p}/scratch/data && "
                       "test -f {p}/scratch/etc/hostname && echo made".format(p=PODMAN))
    t.ok("status=0" in o and "proc /proc proc" in o and "made" in made,
         "image: podman's config.json runs with a FROM scratch rootfs, its mount targets made", o[-1500:] + made)

    def spec(name, rootfs, args, sed):
        d = "%s/%s" % (PODMAN, name)
        m.shell("rm -rf {d} && mkdir -p {d} && ln -s {r} {d}/rootfs && bhc spec --bundle {d} -- {a} && "
                "sed -i '{s}' {d}/config.json".format(d=d, r=rootfs, a=args, s=sed))
        return d

    # Item 2: propagation on a tmpfs lands on the tmpfs itself.
    d = spec("prop", PODMAN + "/rootfs", "grep /mnt/u /proc/self/mountinfo",
             's|"mounts": \\[|"mounts": [{"destination": "/mnt/u", "type": "tmpfs", "source": "tmpfs", '
             '"options": ["unbindable"]},|')
    st, o = m.shell("bhc run --bundle %s prop 2>&1; echo status=$?" % d)
    t.ok("status=0" in o and re.search(r" /mnt/u [^-]*unbindable", o), "image: unbindable on a tmpfs (mountinfo)", o)
    # Item 3: a target missing from a read-only rootfs (the squashfs).
    d = spec("ro", "/tmp/payload/rootfs", "true",
             's|"mounts": \\[|"mounts": [{"destination": "/missing", "type": "tmpfs", "source": "tmpfs"},|')
    st, o = m.shell("bhc run --bundle %s ro 2>&1; echo status=$?" % d)
    t.ok("status=1" in o and "/missing is missing from the rootfs" in o and "read-only" in o,
         "image: a target missing from a read-only rootfs is an error naming it", o)
    # Item 4: another container's namespaces, joined by path.
    d = spec("owner", "/tmp/payload/rootfs", "sleep 300", "s|x|x|")
    st, o = m.shell("bhc run --detach --bundle %s pm-owner < /dev/null > /dev/null 2>&1; "
                    "bhc state pm-owner | sed -n 's/.*\"pid\": \\([0-9]*\\).*/pid=\\1/p'" % d)
    owner = re.search(r"pid=(\d+)", o)
    ns = "/proc/%s/ns/" % (owner.group(1) if owner else "0")
    d = spec("joined", "/tmp/payload/rootfs", "hostname",
             's|"type": "ipc"|"type": "ipc", "path": "%sipc"|; s|"type": "uts"|"type": "uts", "path": "%suts"|'
             % (ns, ns))
    st, o = m.shell("grep -c '\"path\"' %s/config.json; bhc run --bundle %s joined 2>&1; echo status=$?" % (d, d))
    t.ok(owner is not None and "status=0" in o and "bhc\n" in o and "mqueue at /dev/mqueue not mounted" in o,
         "image: another container's ipc and uts namespaces joined by path (mqueue dropped with a warning)", o)
    d = spec("joinpid", "/tmp/payload/rootfs", "true",
             's|"type": "pid"|"type": "pid", "path": "%spid"|' % ns)
    st, o = m.shell("bhc run --bundle %s joinpid 2>&1; echo status=$?" % d)
    t.ok("status=1" in o and "$.linux.namespaces: the pid namespace" in o,
         "image: joining a pid namespace by path is refused up front", o)
    m.shell("bhc delete --force pm-owner")
    # Item 7: a filesystem option on a bind mount: a warning.
    d = spec("binddata", "/tmp/payload/rootfs", "cat /etc/from-host",
             's|"mounts": \\[|"mounts": [{"destination": "/etc", "type": "bind", "source": "%s/host/hostdata", '
             '"options": ["rbind", "mode=755"]},|' % PODMAN)
    st, o = m.shell("bhc run --bundle %s binddata 2>&1; echo status=$?" % d)
    t.ok("status=0" in o and "'mode=755' ignored" in o, "image: data options on a bind mount: a warning", o)
    st, o = m.shell("ls /run/bhc | grep -c '^pm-' ; umount %s && rm -rf %s" % (PODMAN, PODMAN))
    t.ok(o.strip().startswith("0"), "image: no podman-test container left", o)
shutil.rmtree(tmp, ignore_errors=True)
t.done()
