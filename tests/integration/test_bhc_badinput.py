#!/usr/bin/python3
"""Bad input to bhc: a malformed or invalid config.json gets an error with
the JSON path and the reason; features bhc does not implement are refused
by name; and a create that fails at any step leaves nothing behind (no
state, no process, no mount, no cgroup). Also the classes of past runtime
escapes that a config or an image can set up: a working directory on a
leaked fd (CVE-2024-21626), symlinks in the image pointing mounts out of the
rootfs, a masked path that is a symlink, masks through a /proc or /sys that
is not procfs or sysfs, mapping host root."""
import os
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.path.insert(0, os.path.join(TOP, "tests", "escape"))
from tap import Tap  # noqa: E402
import bhctest  # noqa: E402

t = Tap()
tmp = tempfile.mkdtemp(prefix="bhc-bad-")
ready, why = bhctest.prepare(t, tmp)
if not ready:
    t.skip("bhc bad input tests", why)
    t.done()
bhc, rootfs, out = ready
root = os.path.join(tmp, "state")
n = [0]


PREFIX = "bhcbad%d-" % os.getpid()  # every container of this test, and so its cgroups


def cgroups():
    """Cgroups of this test's containers anywhere under /sys/fs/cgroup
    (cgroup v2, or every v1 hierarchy)."""
    found = []
    for top, dirs, _ in os.walk("/sys/fs/cgroup"):
        found += [os.path.join(top, d) for d in dirs if d.startswith(PREFIX)]
    return sorted(found)


def host_snapshot():
    """Mounts, processes, cgroups and the state folder, to compare after a
    failure."""
    mounts = open("/proc/self/mountinfo").read().count("\n")
    procs = set()
    for pid in os.listdir("/proc"):
        if pid.isdigit():
            try:
                st = os.stat("/proc/" + pid)
                if st.st_uid >= 0x10000000:
                    procs.add(pid)
            except OSError:
                pass
    return mounts, procs, cgroups(), sorted(os.listdir(root)) if os.path.isdir(root) else []


def create(edit=None, raw=None, args=("true",), name=None, rootfs_dir=None):
    n[0] += 1
    name = name or "%sc%d" % (PREFIX, n[0])
    b = bhctest.make_bundle(bhc, os.path.join(tmp, name), rootfs_dir or rootfs, list(args), edit)
    if raw is not None:
        with open(os.path.join(b, "config.json"), "w") as f:
            f.write(raw)
    with tempfile.TemporaryFile("w+") as e:
        p = subprocess.run([bhc, "--root", root, "create", "--bundle", b, name], stdin=subprocess.DEVNULL,
                           stdout=subprocess.DEVNULL, stderr=e, timeout=30)
        e.seek(0)
        return p.returncode, e.read(), name


def refused(what, want, **kw):
    before = host_snapshot()
    rc, err, name = create(**kw)
    after = host_snapshot()
    t.ok(rc != 0 and all(w in err for w in want), "refused: %s" % what, "status %d: %s" % (rc, err))
    t.ok(after == before, "  ... and nothing left behind (state, processes, mounts, cgroups)",
         "before %s\nafter %s" % (before, after))
    if rc == 0:
        subprocess.run([bhc, "--root", root, "delete", "--force", name], capture_output=True)


def setp(path, value):
    def edit(c):
        obj = c
        for k in path[:-1]:
            obj = obj[k]
        if value is DELETE:
            del obj[path[-1]]
        else:
            obj[path[-1]] = value
    return edit


DELETE = object()

# Malformed and invalid config.json.
refused("truncated JSON", ["config.json", "invalid JSON at byte"], raw='{"ociVersion": "1.2.0", "process": {')
refused("not an object", ["$: expected an object"], raw="[1, 2]")
refused("wrong ociVersion", ["$.ociVersion", "not a 1.x"], edit=setp(["ociVersion"], "2.0.0"))
refused("args holding a number", ["$.process.args[1]: expected a string, got a number"],
        edit=setp(["process", "args"], ["sh", 5]))
refused("empty args", ["$.process.args", "must name a program"], edit=setp(["process", "args"], []))
refused("relative cwd", ["$.process.cwd", "not an absolute path"], edit=setp(["process", "cwd"], "tmp"))
refused("missing root", ["$.root: expected an object, got nothing"], edit=setp(["root"], DELETE))
refused("negative uid", ["$.process.user.uid", "non-negative integer"], edit=setp(["process", "user", "uid"], -1))
# An unknown capability name is a warning, as in runc (test_bhc_caps.py);
# a name that is not a string stays an error.
refused("a capability that is not a string", ["$.process.capabilities.bounding[1]", "expected a string"],
        edit=setp(["process", "capabilities", "bounding"], ["CAP_KILL", 7]))
refused("unknown rlimit", ["$.process.rlimits[0].type", "RLIMIT_FOO"],
        edit=setp(["process", "rlimits"], [{"type": "RLIMIT_FOO", "soft": 1, "hard": 1}]))
refused("soft above hard", ["$.process.rlimits[0]", "soft limit"],
        edit=setp(["process", "rlimits"], [{"type": "RLIMIT_NOFILE", "soft": 9, "hard": 1}]))
refused("env without =", ["$.process.env[0]", "NAME=value"], edit=setp(["process", "env"], ["PATH"]))
refused("mount type unknown", ["$.mounts[0].type", "'ext4' is not supported"],
        edit=setp(["mounts"], [{"destination": "/mnt", "type": "ext4", "source": "/dev/sda"}]))
refused("relative mount destination", ["$.mounts[0].destination", "not an absolute path"],
        edit=setp(["mounts"], [{"destination": "mnt", "type": "tmpfs", "source": "x"}]))
refused("an unknown filesystem option", ["mount /tmp", "mount tmpfs"],
        edit=setp(["mounts"], [{"destination": "/tmp", "type": "tmpfs", "source": "x", "options": ["bogus=1"]}]))
refused("a missing program", ["process.args[0]", "not in the container's PATH"], args=("no-such-program",))
refused("a bad container id", ["container id", "may only hold"], name="bad/id")

# Unsupported features: explicit errors, never ignored.
refused("a relative hook path", ["$.hooks.prestart[0].path", "must be an absolute path"],
        edit=setp(["hooks"], {"prestart": [{"path": "bin/true"}]}))
refused("an AppArmor profile", ["$.process.apparmorProfile: not supported"],
        edit=setp(["process", "apparmorProfile"], "docker-default"))
refused("joining a user namespace", ["$.linux.namespaces[5].path", "not supported"],
        edit=setp(["linux", "namespaces", 5, "path"], "/proc/1/ns/user"))
refused("a time namespace", ["$.linux.namespaces[7].type", "'time' is not supported"],
        edit=lambda c: c["linux"]["namespaces"].append({"type": "time"}))
refused("rdma limits", ["$.linux.resources.rdma: not supported"],
        edit=setp(["linux", "resources", "rdma"], {"mlx5_0": {"hcaHandles": 3}}))
refused("extra devices", ["$.linux.devices[0]", "beyond bhc's minimal /dev"],
        edit=setp(["linux", "devices"], [{"path": "/dev/sda", "type": "b", "major": 8, "minor": 0}]))
refused("a host sysctl", ["$.linux.sysctl.kernel.core_pattern", "not a sysctl of the container's own"],
        edit=setp(["linux", "sysctl"], {"kernel.core_pattern": "|/evil"}))
refused("seccomp notify", ["$.linux.seccomp.listenerPath: not supported"],
        edit=setp(["linux", "seccomp"], {"defaultAction": "SCMP_ACT_ALLOW", "listenerPath": "/x"}))
refused("an unknown seccomp action", ["$.linux.seccomp.syscalls[0].action", "SCMP_ACT_FOO"],
        edit=setp(["linux", "seccomp"], {"defaultAction": "SCMP_ACT_ALLOW",
                                          "syscalls": [{"names": ["getpid"], "action": "SCMP_ACT_FOO"}]}))
refused("shared rootfs propagation", ["$.linux.rootfsPropagation", "'shared' is not supported"],
        edit=setp(["linux", "rootfsPropagation"], "shared"))
refused("a /dev that is not tmpfs", ["/dev must be a tmpfs"],
        edit=lambda c: c["mounts"].append({"destination": "/dev", "type": "bind", "source": "/dev",
                                           "options": ["rbind"]}))

# Host root is never mapped into a container.
refused("a uid map that maps host root", ["$.linux.uidMappings[0].hostID", "maps host root"],
        edit=lambda c: c["linux"].update(uidMappings=[{"containerID": 0, "hostID": 0, "size": 65536}],
                                         gidMappings=[{"containerID": 0, "hostID": 0, "size": 65536}]))

# cgroup limits on a host without cgroup v2.
v2 = open("/proc/self/mountinfo").read().find(" /sys/fs/cgroup ") >= 0 and \
    os.path.exists("/sys/fs/cgroup/cgroup.controllers") and os.path.isdir("/sys/fs/cgroup/workloads")
if not v2:
    refused("limits without a cgroup v2 hierarchy", ["$.linux.resources", "no cgroup v2"],
            edit=setp(["linux", "resources", "pids"], {"limit": 10}))
else:
    t.skip("limits without a cgroup v2 hierarchy", "this host has cgroup v2 with /workloads")

# CVE-2024-21626: a working directory through a leaked fd of the runtime.
# Every such cwd is refused, for the reason that it is not a folder of the
# container: either no such fd or not a folder (chdir fails), or a folder
# outside the rootfs (bhc's getcwd check).
leaks, reasons = [], {}
for fd in range(3, 12):
    rc, err, name = create(edit=setp(["process", "cwd"], "/proc/self/fd/%d" % fd), args=("pwd",))
    if rc == 0:
        leaks.append("fd %d: created" % fd)
        subprocess.run([bhc, "--root", root, "delete", "--force", name], capture_output=True)
    elif "working directory /proc/self/fd/%d is outside the container" % fd in err:
        reasons[fd] = "outside the container"
    elif "chdir to process.cwd /proc/self/fd/%d" % fd in err:
        reasons[fd] = "chdir fails"
    else:
        leaks.append("fd %d: refused for another reason: %s" % (fd, err.strip()))
t.ok(not leaks, "process.cwd on /proc/self/fd/N never starts a container outside its rootfs, and is refused "
     "as outside the container or as no folder", "\n".join(leaks))
t.diag("refusals by fd: %s" % reasons)

# An image whose /proc is a symlink out of the rootfs: the mount stays inside.
PROC_SYMLINK_REASON = "mount target /proc is not a directory"
evil_target = os.path.join(tmp, "evil-proc")
os.makedirs(evil_target)
evil = os.path.join(tmp, "evil-rootfs")
shutil.copytree(rootfs, evil, symlinks=True)
os.rmdir(os.path.join(evil, "proc"))
os.symlink("../../../../../../../.." + evil_target, os.path.join(evil, "proc"))
before = host_snapshot()
rc, err, name = create(rootfs_dir=evil, args=("true",))
subprocess.run([bhc, "--root", root, "delete", "--force", name], capture_output=True)
t.ok(rc != 0 and os.listdir(evil_target) == [] and " %s " % evil_target not in open("/proc/self/mountinfo").read(),
     "a /proc symlink pointing out of the rootfs cannot make bhc mount on the host", err)
t.ok(PROC_SYMLINK_REASON in err, "... it is refused because /proc is a symlink (%s)" % PROC_SYMLINK_REASON, err)
t.ok(host_snapshot() == before, "  ... and nothing left behind (state, processes, mounts, cgroups)")

# A masked path that is a symlink is refused (the 2025 runc class).
linked = os.path.join(tmp, "linked-rootfs")
shutil.copytree(rootfs, linked, symlinks=True)
os.symlink("/etc/hostname", os.path.join(linked, "masked-link"))
refused("a masked path that is a symlink", ["masked path /masked-link is a symlink"], rootfs_dir=linked,
        edit=lambda c: c["linux"]["maskedPaths"].append("/masked-link"))

# Masks under /proc and /sys are resolved beneath a folder checked to be
# the root of a procfs or sysfs mount (issue 17, item 10; the
# CVE-2025-52881 class): a config that puts a tmpfs or a host folder there
# is refused, not masked through, and so is a mount over a masked file.
fake_proc = os.path.join(tmp, "fake-proc")
os.makedirs(os.path.join(fake_proc, "acpi"))
for f in ("kcore", "interrupts", "keys"):
    with open(os.path.join(fake_proc, f), "w") as fh:
        fh.write("not the kernel's\n")


def put_at(dest, mount):
    return lambda c: c.update(mounts=[m for m in c["mounts"] if m["destination"] != dest] +
                              [dict(mount, destination=dest)])


NOT_PROCFS = "/proc in the container is not the root of a procfs mount"
NOT_SYSFS = "/sys in the container is not the root of a sysfs mount"
refused("a config whose /proc is a tmpfs: no mask through it", [NOT_PROCFS, "refusing to mask paths through it"],
        edit=put_at("/proc", {"type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]}))
refused("a config whose /proc is a bind of a host folder: no mask through it",
        [NOT_PROCFS, "refusing to mask paths through it"],
        edit=put_at("/proc", {"type": "bind", "source": fake_proc, "options": ["rbind", "ro"]}))
refused("a config whose /proc is a bind of a folder inside the host's procfs, not its root",
        [NOT_PROCFS], edit=put_at("/proc", {"type": "bind", "source": "/proc/self", "options": ["rbind", "ro"]}))
# (Without a cgroup mount in it: a tmpfs at /sys is read-only as any
# mount there, so nothing can be made inside it.)
refused("a config whose /sys is a tmpfs: no mask through it", [NOT_SYSFS, "refusing to mask paths through it"],
        edit=lambda c: put_at("/sys", {"type": "tmpfs", "source": "tmpfs", "options": ["nosuid"]})(c) or c.update(
            mounts=[m for m in c["mounts"] if m["destination"] != "/sys/fs/cgroup"]))
refused("a config mount over a masked file in /proc", ["masked path /proc/keys crosses a mount inside /proc"],
        edit=lambda c: c["mounts"].append({"destination": "/proc/keys", "type": "bind",
                                           "source": os.path.join(fake_proc, "keys"), "options": ["bind", "ro"]}))

t.ok(not os.listdir(root), "the state folder is empty at the end", str(os.listdir(root)))
shutil.rmtree(tmp, ignore_errors=True)
t.done()
