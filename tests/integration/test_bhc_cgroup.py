#!/usr/bin/python3
"""bhc's cgroup v2 paths that need no controller, on the build host: the
test mounts the cgroup2 hierarchy over /sys/fs/cgroup in a mount
namespace of its own (the host itself is cgroup v1/hybrid, and no
controller is free for v2 here, so limits are tested in the booted image,
tests/e2e/test_container.py).

`kill --all` with a signal other than SIGKILL freezes the container's
cgroup, signals each process through a pidfd and thaws it (never kill(2)
on pids read from a file, which a recycled pid could take); SIGKILL goes
through cgroup.kill."""
import ctypes
import os
import select
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

t = Tap()
tmp = tempfile.mkdtemp(prefix="bhc-cg-")
ready, why = bhctest.prepare(t, tmp)
if not ready:
    t.skip("bhc cgroup v2 tests", why)
    t.done()
bhc, rootfs, out = ready
root = os.path.join(tmp, "state")
CG = "/sys/fs/cgroup"

# A mount namespace of our own, with cgroup2 where bhc looks for it.
libc = ctypes.CDLL(None, use_errno=True)
if libc.unshare(0x00020000) != 0:  # CLONE_NEWNS
    t.skip("bhc cgroup v2 tests", "unshare(CLONE_NEWNS): %s" % os.strerror(ctypes.get_errno()))
    t.done()
subprocess.run(["mount", "--make-rprivate", "/"], check=True)
p = subprocess.run(["mount", "-t", "cgroup2", "none", CG], capture_output=True, text=True)
if p.returncode != 0:
    t.skip("bhc cgroup v2 tests", "this kernel cannot mount cgroup2: " + p.stderr.strip())
    t.done()
made_workloads = not os.path.isdir(CG + "/workloads")
os.makedirs(CG + "/workloads", exist_ok=True)
name = "killall-%d" % os.getpid()
cg = "%s/workloads/%s" % (CG, name)


def cmd(*args):
    with tempfile.TemporaryFile("w+") as o:
        p = subprocess.run([bhc, "--root", root] + list(args), stdin=subprocess.DEVNULL, stdout=o,
                           stderr=subprocess.STDOUT, timeout=30)
        o.seek(0)
        return p.returncode, o.read()


def procs():
    try:
        return [int(x) for x in open(cg + "/cgroup.procs").read().split()]
    except OSError:
        return []


# pid 1 ignores TERM (no handler, as every pid 1); the two others do not.
b = bhctest.make_bundle(bhc, os.path.join(tmp, "b"), rootfs,
                        ["sh", "-c", "sleep 1000 & sleep 1000 & exec sleep 1000"])
rc, o = cmd("run", "--detach", "--bundle", b, name)
for _ in range(100):
    if len(procs()) == 3:
        break
    time.sleep(0.05)
t.ok(rc == 0 and len(procs()) == 3, "the container's three processes are in its cgroup", o + str(procs()))

# cgroup.events changes (POLLPRI) when the cgroup is frozen or thawed.
ev = open(cg + "/cgroup.events")
ev.read()
poller = select.poll()
poller.register(ev, select.POLLPRI)
rc, o = cmd("kill", "--all", name, "TERM")
changed = bool(poller.poll(0))
for _ in range(100):
    if len(procs()) == 1:
        break
    time.sleep(0.05)
t.ok(rc == 0 and len(procs()) == 1, "kill --all TERM reaches every process of the cgroup", o + str(procs()))
t.ok(changed, "kill --all TERM froze the cgroup while it signalled (cgroup.events changed)")
ev.seek(0)
t.ok(open(cg + "/cgroup.freeze").read().strip() == "0" and "frozen 0" in ev.read(),
     "the cgroup is thawed afterwards")
ev.close()

# A cgroup that was frozen before stays frozen.
with open(cg + "/cgroup.freeze", "w") as f:
    f.write("1")
rc, o = cmd("kill", "--all", name, "USR1")
t.ok(rc == 0 and open(cg + "/cgroup.freeze").read().strip() == "1",
     "kill --all leaves a cgroup frozen that was frozen before", o)
with open(cg + "/cgroup.freeze", "w") as f:
    f.write("0")

rc, o = cmd("kill", "--all", name, "KILL")
for _ in range(100):
    if not procs():
        break
    time.sleep(0.05)
t.ok(rc == 0 and procs() == [], "kill --all KILL empties the cgroup", o + str(procs()))
rc, o = cmd("delete", "--force", name)
t.ok(rc == 0 and not os.path.exists(cg), "delete removes the cgroup", o)

if os.path.exists(cg):
    subprocess.run([bhc, "--root", root, "delete", "--force", name], capture_output=True)
if made_workloads:
    try:
        os.rmdir(CG + "/workloads")
    except OSError:
        pass
subprocess.run(["umount", CG])
shutil.rmtree(tmp, ignore_errors=True)
t.done()
