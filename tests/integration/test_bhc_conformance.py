#!/usr/bin/python3
"""bhc runs the configs other tools write (issue 20), on the build host.

The configs are tests/fixtures/oci/*.json, written by Debian's runc
(`runc spec`) and containerd (`ctr oci spec`); regenerate.sh makes them
again. Each runs with only what a user changes adjusted: root.path (their
rootfs) and process.args (their program); nothing else. Each runs on a
rootfs with the usual mount points (/proc, /sys, /dev, /tmp, /run) and on
one without them.

Then one check per conformance item that fails without its fix:
- devices (item 1): containerd's allow rules (as `ctr run` adds them,
  /dev/net/tun included) are accepted with a warning that names the rule;
  the container still has no /dev/net/tun; an allow-every-device rule and
  a linux.devices node for a host device stay refused;
- start/kill (item 5): `bhc start` returns once the container's program
  runs (state running, /proc/<pid>/exe the program's), and a SIGTERM sent
  right after start reaches its handler 100 times in a row;
- cgroup fields (item 6): memory.kernel, kernelTCP and swappiness run with
  one warning each; cpu.cpus/mems, memory.reservation, blockIO and
  hugepageLimits are taken (not refused as unknown) and, on a cgroup v2
  without the controller, refused naming the controller;
- delete (item 10): `delete` of a created container fails without --force.

The build host has cgroup v1 (no controller is free for v2): limits are
applied in the booted image (tests/e2e/test_container.py); here the cgroup
parts are skipped by name, and the controller errors are checked on a
cgroup2 hierarchy the test mounts in a mount namespace of its own."""
import ctypes
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.path.insert(0, os.path.join(TOP, "tests", "escape"))
from tap import Tap  # noqa: E402
import bhctest  # noqa: E402

CONFIGS = bhctest.OCI_FIXTURES
CTR_RUN_DEVICES = bhctest.CTR_RUN_DEVICES
KILL_RUNS = 100

t = Tap()
tmp = tempfile.mkdtemp(prefix="bhc-conf-")
bhc, _, out = bhctest.prepare_or_skip(t, tmp, "bhc conformance tests")
root = os.path.join(tmp, "state")
payload = bhctest.build_static(out, "sigterm_ready.c", os.path.join(tmp, "sigterm-ready"))
full = bhctest.make_rootfs(os.path.join(tmp, "full"), bhctest.busybox(out), [payload])
bare = bhctest.make_rootfs(os.path.join(tmp, "bare"), bhctest.busybox(out), [payload])
for d in ("proc", "sys", "dev", "tmp", "run"):
    os.rmdir(os.path.join(bare, d))
cgroup2 = subprocess.run(["stat", "-f", "-c", "%T", "/sys/fs/cgroup"], capture_output=True,
                         text=True).stdout.strip() == "cgroup2fs" and os.path.isdir("/sys/fs/cgroup/workloads")


fixture = bhctest.oci_fixture


def bundle(name, cfg, rootfs, args):
    """A bundle of cfg with only root.path and process.args set, as a user
    sets them (plus what edit-style callers changed before)."""
    b = os.path.join(tmp, "b-" + name)
    shutil.rmtree(b, ignore_errors=True)
    os.makedirs(b)
    cfg["root"]["path"] = rootfs
    cfg["process"]["args"] = args
    bhctest.write_config(b, cfg)
    return b


def bhc_cmd(*args, timeout=60):
    return bhctest.bhc_files(bhc, root, *args, timeout=timeout)


def state(name):
    rc, o, _ = bhc_cmd("state", name)
    return json.loads(o) if rc == 0 else {}


def warnings(text):
    return [line for line in text.splitlines() if line.startswith("bhc: warning: ")]


# The configs, unchanged but for root.path and process.args ------------------------
for conf in CONFIGS:
    for label, rootfs in (("with", full), ("without", bare)):
        name = "%s-%s" % (conf.split("-")[0], label)
        b = bundle(name, fixture(conf), rootfs, ["sh", "-c", "echo conformance-%s; exit 4" % name])
        rc, o, e = bhc_cmd("run", "--bundle", b, name)
        what = "%s runs unchanged on a rootfs %s the usual mount points" % (conf, label)
        t.ok(rc == 4 and "conformance-%s" % name in o, what, "status %d\n%s%s" % (rc, o, e))
        good, why = bhctest.fixture_warnings(conf, e)
        t.ok(good, "%s (%s mount points): the warnings expected of it, no other (bhctest.OCI_FIXTURE_WARNINGS)"
             % (conf, label), why + "\n" + e)
        bhc_cmd("delete", "--force", name)
if not cgroup2:
    t.skip("ctr-spec.json: cgroupsPath /default and the default limits",
           "the build host has no cgroup v2 with /workloads (checked in tests/e2e/test_container.py)")

# Item 1: device allow rules -----------------------------------------------------------
cfg = fixture("ctr-spec.json")
cfg["linux"]["resources"]["devices"] += CTR_RUN_DEVICES
tun = len(cfg["linux"]["resources"]["devices"]) - 1
b = bundle("devices", cfg, full, ["sh", "-c", "ls -l /dev/net/tun 2>&1 || echo no-tun"])
rc, o, e = bhc_cmd("run", "--bundle", b, "devices")
w = warnings(e)
t.ok(rc == 0 and "no-tun" in o, "containerd's device allow rules (c 10:200 /dev/net/tun) are accepted; "
     "the container still has no /dev/net/tun", "status %d\n%s%s" % (rc, o, e))
t.ok(len(w) == 1 and "$.linux.resources.devices[%d]" % tun in w[0] and "c 10:200 rwm" in w[0]
     and "config.json" in w[0], "one warning, naming the tun rule; none for the minimal /dev's devices", e)
bhc_cmd("delete", "--force", "devices")
cfg = fixture("ctr-spec.json")
cfg["linux"]["resources"]["devices"].append({"allow": True, "access": "rwm"})
rc, o, e = bhc_cmd("run", "--bundle", bundle("alldev", cfg, full, ["true"]), "alldev")
t.ok(rc != 0 and "devices[1]" in e and "allowing every device" in e,
     "an allow rule for every device (a privileged container's /dev) stays refused", e)
cfg = fixture("ctr-spec.json")
cfg["linux"]["devices"] = [{"path": "/dev/net/tun", "type": "c", "major": 10, "minor": 200}]
rc, o, e = bhc_cmd("run", "--bundle", bundle("tunnode", cfg, full, ["true"]), "tunnode")
t.ok(rc != 0 and "$.linux.devices[0]" in e, "a linux.devices node of the host (/dev/net/tun) stays refused", e)

# Item 10: delete of a created container ---------------------------------------------
b = bundle("created", fixture("runc-spec.json"), full, ["sleep", "100"])
b_cfg = os.path.join(b, "config.json")
with open(b_cfg) as f:
    c = json.load(f)
c["process"]["terminal"] = False
bhctest.write_config(b, c)
rc, o, e = bhc_cmd("create", "--bundle", b, "created")
pid = state("created").get("pid", 0)
rc, o, e = bhc_cmd("delete", "created")
t.ok(rc != 0 and "created" in e and "--force" in e and pid and os.path.exists("/proc/%d" % pid)
     and state("created").get("status") == "created",
     "delete of a created container fails without --force and leaves it created", e)
rc, o, e = bhc_cmd("delete", "--force", "created")
t.ok(rc == 0 and not state("created"), "delete --force of a created container removes it", e)

# Item 5: start returns when the program runs; kill right after start ---------------
cfg = fixture("runc-spec.json")
cfg["process"]["terminal"] = False
b = bundle("term", cfg, full, ["/bin/sigterm-ready"])
exe_ok = 0
delivered = 0
first_bad = ""
for i in range(KILL_RUNS):
    name = "term-%d" % i
    log = os.path.join(tmp, "term.out")
    with open(log, "w") as f:
        p = subprocess.run([bhc, "--root", root, "create", "--bundle", b, name], stdin=subprocess.DEVNULL,
                           stdout=f, stderr=f, timeout=60)
    pid = state(name).get("pid", 0)
    rc_start = subprocess.run([bhc, "--root", root, "start", name], capture_output=True).returncode
    try:
        exe = os.readlink("/proc/%d/exe" % pid)
    except OSError:
        exe = ""
    rc_kill = subprocess.run([bhc, "--root", root, "kill", name, "TERM"], capture_output=True).returncode
    if exe.endswith("/sigterm-ready"):
        exe_ok += 1
    for _ in range(200):
        if state(name).get("status") == "stopped":
            break
        time.sleep(0.01)
    with open(log) as f:
        got = f.read()
    if p.returncode == 0 and rc_start == 0 and rc_kill == 0 and "term" in got:
        delivered += 1
    elif not first_bad:
        first_bad = "run %d: create %d start %d kill %d, exe %s, output %r" % (i, p.returncode, rc_start, rc_kill,
                                                                              exe, got)
    bhc_cmd("delete", "--force", name)
t.ok(exe_ok == KILL_RUNS, "bhc start returns once the container runs its program (/proc/<pid>/exe) in %d of %d"
     % (exe_ok, KILL_RUNS), first_bad)
t.ok(delivered == KILL_RUNS, "a SIGTERM right after bhc start reaches the program's handler: %d of %d runs"
     % (delivered, KILL_RUNS), first_bad)

# Item 6: cgroup fields ---------------------------------------------------------------
cfg = fixture("runc-spec.json")
cfg["process"]["terminal"] = False
cfg["linux"]["resources"]["memory"] = {"kernel": 1 << 26, "kernelTCP": 1 << 24, "swappiness": 10}
rc, o, e = bhc_cmd("run", "--bundle", bundle("memv1", cfg, full, ["true"]), "memv1")
good, why = bhctest.fixture_warnings("runc-spec.json", e, ["$.linux.resources.memory.%s: ignored" % k
                                                            for k in ("kernel", "kernelTCP", "swappiness")])
t.ok(rc == 0 and good, "memory.kernel, kernelTCP and swappiness: ignored, one warning each, as runc does",
     why + "\n" + e)
WANTS = (("cpu.cpus", "cpuset", lambda r: r.setdefault("cpu", {}).update(cpus="0")),
         ("cpu.mems", "cpuset", lambda r: r.setdefault("cpu", {}).update(mems="0")),
         ("memory.reservation", "memory.low", lambda r: r.setdefault("memory", {}).update(reservation=1 << 24)),
         ("blockIO.weight", "io", lambda r: r.update(blockIO={"weight": 500})),
         ("blockIO.throttleReadBpsDevice", "io",
          lambda r: r.update(blockIO={"throttleReadBpsDevice": [{"major": 8, "minor": 0, "rate": 1 << 20}]})),
         ("hugepageLimits", "hugetlb", lambda r: r.update(hugepageLimits=[{"pageSize": "2MB", "limit": 1 << 21}])))


def limited(field, edit):
    cfg = fixture("runc-spec.json")
    cfg["process"]["terminal"] = False
    edit(cfg["linux"]["resources"])
    return bundle("lim", cfg, full, ["true"])


if cgroup2:
    t.skip("cgroup fields on a host without cgroup v2", "this host has cgroup v2 (tests/e2e/test_container.py)")
else:
    for field, ctl, edit in WANTS:
        rc, o, e = bhc_cmd("run", "--bundle", limited(field, edit), "lim")
        t.ok(rc != 0 and "not supported" not in e and "no cgroup v2" in e,
             "%s is taken as a limit (%s), refused only for this host's lack of cgroup v2" % (field, ctl), e)
        bhc_cmd("delete", "--force", "lim")
    for field, ctl, _ in WANTS:
        t.skip("%s applied as %s" % (field, ctl), "the build host has no cgroup v2 (tests/e2e/test_container.py)")

# The controller errors, on a cgroup2 hierarchy of this test's own: no
# controller is free for v2 on a cgroup v1 host, so each is missing.
libc = ctypes.CDLL(None, use_errno=True)
if not cgroup2 and libc.unshare(0x00020000) == 0:  # CLONE_NEWNS
    subprocess.run(["mount", "--make-rprivate", "/"], check=True)
    mounted = subprocess.run(["mount", "-t", "cgroup2", "none", "/sys/fs/cgroup"], capture_output=True,
                             text=True)
    if mounted.returncode == 0:
        os.makedirs("/sys/fs/cgroup/workloads", exist_ok=True)
        with open("/sys/fs/cgroup/cgroup.subtree_control") as f:
            enabled_before = set(f.read().split())
        with open("/sys/fs/cgroup/cgroup.controllers") as f:
            free = set(f.read().split())
        t.diag("controllers free for cgroup v2 on this host: %s" % (" ".join(sorted(free)) or "none"))
        for field, ctl, edit in WANTS:
            if ctl == "hugetlb" and ctl in free:
                # hugetlb is often free (no cgroup v1 hierarchy holds it):
                # then the limit lands in the container's cgroup.
                rc, o, e = bhc_cmd("create", "--bundle", limited(field, edit), "lim")
                try:
                    with open("/sys/fs/cgroup/workloads/lim/hugetlb.2MB.max") as f:
                        got = f.read().strip()
                except OSError as x:
                    got = str(x)
                t.ok(rc == 0 and got == str(1 << 21), "%s lands in the container's cgroup (%s)" % (field, ctl),
                     e + got)
            else:
                rc, o, e = bhc_cmd("run", "--bundle", limited(field, edit), "lim")
                if ctl == "memory.low":
                    ok = rc != 0 and "memory.reservation" in e and "memory.low" in e
                else:
                    ok = rc != 0 and "has no %s controller" % ctl in e and field.split(".")[0] in e
                t.ok(ok and not os.path.exists("/sys/fs/cgroup/workloads/lim"),
                     "%s on a cgroup v2 without %s: a clear error, no cgroup left" % (field, ctl), e)
            bhc_cmd("delete", "--force", "lim")
        os.rmdir("/sys/fs/cgroup/workloads")
        # The hierarchy is the host's own: give back what bhc enabled.
        with open("/sys/fs/cgroup/cgroup.subtree_control") as f:
            for c in set(f.read().split()) - enabled_before:
                subprocess.run(["sh", "-c", "echo -%s > /sys/fs/cgroup/cgroup.subtree_control" % c])
        subprocess.run(["umount", "/sys/fs/cgroup"])
    else:
        t.skip("cgroup v2 controller errors", "cannot mount cgroup2: " + mounted.stderr.strip())
elif not cgroup2:
    t.skip("cgroup v2 controller errors", "unshare(CLONE_NEWNS): %s" % os.strerror(ctypes.get_errno()))

left = os.listdir(root) if os.path.isdir(root) else []
t.ok(left == [], "nothing left in the state folder", str(left))
for name in left:
    bhc_cmd("delete", "--force", name)
shutil.rmtree(tmp, ignore_errors=True)
t.done()
