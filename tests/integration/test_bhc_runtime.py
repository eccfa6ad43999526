#!/usr/bin/python3
"""bhc on the build host, as root, with real namespaces: the hardened
defaults (user namespace with an unprivileged id range, every namespace,
pid 1, no capabilities, no_new_privs, seccomp, read-only rootfs, masked
paths, minimal /dev), the OCI lifecycle and state JSON (create, state,
start, kill, delete, list), exit statuses of `bhc run`, --pid-file,
--console-socket, and bundles made by `runc spec` and `crun spec` running
unchanged."""
import fcntl
import json
import re
import os
import pty
import shutil
import socket
import subprocess
import sys
import tempfile
import termios
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.path.insert(0, os.path.join(TOP, "tests", "escape"))
from tap import Tap  # noqa: E402
import bhctest  # noqa: E402

t = Tap()
tmp = tempfile.mkdtemp(prefix="bhc-rt-")
ready, why = bhctest.prepare(t, tmp)
if not ready:
    t.skip("bhc runtime tests", why)
    t.done()
bhc, rootfs, out = ready
root = os.path.join(tmp, "state")


def cmd(*args, stdin=None, timeout=30):
    """bhc with its output captured. create and run --detach leave the
    container holding bhc's stdio, so their output goes through files."""
    if args[0] in ("create",) or "--detach" in args:
        with tempfile.TemporaryFile("w+") as o, tempfile.TemporaryFile("w+") as e:
            p = subprocess.run([bhc, "--root", root] + list(args), stdin=subprocess.DEVNULL, stdout=o,
                               stderr=e, timeout=timeout)
            o.seek(0)
            e.seek(0)
            return subprocess.CompletedProcess(p.args, p.returncode, o.read(), e.read())
    return subprocess.run([bhc, "--root", root] + list(args), capture_output=True, text=True,
                          input=stdin, timeout=timeout)


def bundle(name, args, edit=None):
    return bhctest.make_bundle(bhc, os.path.join(tmp, name), rootfs, args, edit)


def run(name, script, edit=None, stdin=None):
    b = bundle(name, ["sh", "-c", script], edit)
    return cmd("run", "--bundle", b, name, stdin=stdin)


def gone(pid):
    """True once pid is dead (a zombie waiting for its reaper counts)."""
    for _ in range(100):
        try:
            if open("/proc/%d/stat" % pid).read().rsplit(")", 1)[1].split()[0] in "ZX":
                return True
        except (OSError, IndexError):
            return True
        time.sleep(0.02)
    return False


def state(name):
    p = cmd("state", name)
    return json.loads(p.stdout) if p.returncode == 0 else None


# spec ----------------------------------------------------------------------
d = os.path.join(tmp, "spec")
os.makedirs(d)
p = subprocess.run([bhc, "spec", "--bundle", d], capture_output=True, text=True)
cfg = json.load(open(os.path.join(d, "config.json")))
ns = {n["type"] for n in cfg["linux"]["namespaces"]}
t.ok(p.returncode == 0 and ns == {"pid", "network", "ipc", "uts", "mount", "user", "cgroup"},
     "bhc spec: every namespace, user and cgroup included", p.stderr + str(ns))
t.ok(cfg["root"]["readonly"] is True and cfg["process"]["noNewPrivileges"] is True and
     all(v == [] for v in cfg["process"]["capabilities"].values()),
     "bhc spec: read-only rootfs, no_new_privs, no capabilities")
t.ok("/proc/kcore" in cfg["linux"]["maskedPaths"] and "/proc/sys" in cfg["linux"]["readonlyPaths"],
     "bhc spec: Docker's masked and read-only paths")
p = subprocess.run([bhc, "spec", "--bundle", d], capture_output=True, text=True)
t.ok(p.returncode != 0 and "config.json" in p.stderr, "bhc spec never overwrites a config.json", p.stderr)

# Isolation as the container sees it ------------------------------------------
host_ns = {k: os.readlink("/proc/self/ns/" + k) for k in ("user", "mnt", "pid", "net", "uts", "ipc", "cgroup")}
p = run("iso", "for n in user mnt pid net uts ipc cgroup; do echo ns $n $(readlink /proc/self/ns/$n); done; "
        "echo pid $$; echo host $(hostname); cat /proc/self/uid_map /proc/self/gid_map; "
        "grep -E '^(Cap|NoNewPrivs|Seccomp:)' /proc/self/status; id; ls /dev; "
        "touch /rootfs-write 2>&1; touch /tmp/ok && echo tmp-writable; cat /proc/mounts")
o = p.stdout
t.ok(p.returncode == 0, "bhc run of a bhc spec bundle exits 0", p.stderr)
inner = dict(l.split()[1:3] for l in o.splitlines() if l.startswith("ns "))
for k, v in host_ns.items():
    t.ok(inner.get(k) and inner[k] != v, "%s namespace is the container's own" % k, "%s vs %s" % (inner.get(k), v))
t.ok("pid 1\n" in o, "the process is pid 1 of its pid namespace")
t.ok("host bhc\n" in o, "hostname from the config in the container's UTS namespace")
maps = [l.split() for l in o.splitlines() if len(l.split()) == 3 and l.split()[0] == "0" and l.split()[1].isdigit()]
t.ok(len(maps) == 2 and all(int(m[1]) >= 0x10000000 and m[2] == "65536" for m in maps),
     "container root is an unprivileged host id range (uid and gid)", str(maps))
caps = [l for l in o.splitlines() if l.startswith("Cap")]
t.ok(len(caps) == 5 and all(l.split()[1] == "0000000000000000" for l in caps),
     "no capabilities: effective, permitted, inheritable, bounding, ambient", "\n".join(caps))
t.ok("NoNewPrivs:\t1" in o, "no_new_privs is set")
t.ok("Seccomp:\t2" in o, "a seccomp filter is installed")
m = re.search(r"^uid=0(\(root\))? gid=0.*$", o, re.M)
t.ok(m is not None, "process.user 0:0 inside")
devs = set(o[m.end():].splitlines()[1:16]) if m else set()
t.ok({"null", "zero", "full", "random", "urandom", "tty", "ptmx", "pts", "shm"} <= devs,
     "/dev holds null, zero, full, random, urandom, tty, ptmx, pts, shm", str(devs))
t.ok("Read-only file system" in o and "tmp-writable" in o, "rootfs read-only, tmpfs /tmp writable")
mounts = [l.split() for l in o.splitlines() if len(l.split()) == 6]
t.ok(any(m[1] == "/proc/sys" and "ro" in m[3].split(",") for m in mounts), "/proc/sys is read-only")
t.ok(any(m[1] == "/sys/firmware" and m[0] == "tmpfs" for m in mounts), "/sys/firmware is masked")
# /proc/mounts says "nosuid" when a mount is; it never says "suid".
roots = [m[3].split(",") for m in mounts if m[1] == "/"]
t.ok(roots and all({"nosuid", "nodev"} <= set(r) for r in roots), "the rootfs is mounted nosuid,nodev", str(roots))
t.ok(all("nosuid" in m[3].split(",") for m in mounts if m[1] in ("/proc", "/sys")),
     "/proc and /sys are mounted nosuid", str([m for m in mounts if m[1] in ("/proc", "/sys")]))

# /sys and the cgroups stay read-only whatever the config says (issue 17,
# item 10), and /proc/interrupts is masked.


def rw_sys(c):
    for mnt in c["mounts"]:
        if mnt["destination"] in ("/sys", "/sys/fs/cgroup"):
            mnt["options"] = [o for o in mnt.get("options", []) if o != "ro"] + ["rw"]
    if not any(mnt["destination"] == "/sys/fs/cgroup" for mnt in c["mounts"]):
        c["mounts"].append({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
                            "options": ["nosuid", "noexec", "nodev", "rw"]})


p = run("rwsys", "cat /proc/mounts; echo interrupts=$(cat /proc/interrupts | wc -c)", rw_sys)
ms = [l.split() for l in p.stdout.splitlines() if len(l.split()) == 6]
sysm = [m_ for m_ in ms if m_[1] in ("/sys", "/sys/fs/cgroup")]
t.ok(p.returncode == 0 and sysm and all("ro" in m_[3].split(",") for m_ in sysm)
     and any(m_[1] == "/sys" for m_ in sysm),
     "/sys and /sys/fs/cgroup are read-only though the config asks for rw", p.stderr + str(sysm))
t.ok("interrupts=0" in p.stdout, "/proc/interrupts is masked (reads nothing)", p.stdout[-300:] + p.stderr)

# Masks under /proc and /sys are resolved beneath a checked procfs and
# sysfs (test_bhc_badinput.py has the refusals); a config that mounts
# neither leaves the image's own folders there, which are masked the same
# way and not refused.
p = run("noprocsys", "ls /proc | wc -l; echo listed",
        lambda c: c.update(mounts=[m_ for m_ in c["mounts"] if m_["destination"].split("/")[1] not in ("proc", "sys")]))
t.ok(p.returncode == 0 and "0\nlisted" in p.stdout, "a config without /proc and /sys mounts runs, its /proc the image's "
     "own empty folder", p.stdout + p.stderr)

p = run("sec", "unshare -U true; echo unshare=$?; mount -t tmpfs x /tmp; echo mount=$?; "
        "hostname evil; echo hostname=$?")
t.ok("unshare=1" in p.stdout and "mount=1" in p.stdout and "hostname=1" in p.stdout,
     "seccomp and no capabilities: unshare, mount, sethostname fail", p.stdout + p.stderr)

# The container leads a session of its own, without a controlling terminal,
# even when bhc runs on one: the kernel then refuses TIOCSTI on the
# inherited tty (seccomp refuses it as well, see unit test_bhc_seccomp).
master, slave = pty.openpty()


def on_tty():
    os.setsid()
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


b = bundle("sess", ["awk", "{sub(/.*\\) /, \"\"); print \"session=\" $4 \" tty=\" $5}", "/proc/self/stat"])
p = subprocess.run([bhc, "--root", root, "run", "--bundle", b, "sess"], stdin=slave, stdout=subprocess.PIPE,
                   stderr=subprocess.PIPE, text=True, timeout=30, preexec_fn=on_tty)
os.close(master)
os.close(slave)
t.ok(p.returncode == 0 and p.stdout.strip() == "session=1 tty=0",
     "the container leads its own session, with no controlling tty though bhc has one", p.stdout + p.stderr)

# Exit statuses ----------------------------------------------------------------
t.ok(run("x7", "exit 7").returncode == 7, "bhc run returns the container's exit status")
b = bundle("x9", ["sleep", "100"])
proc = subprocess.Popen([bhc, "--root", root, "run", "--bundle", b, "x9"])
for _ in range(100):
    if (state("x9") or {}).get("status") == "running":
        break
    time.sleep(0.05)
cmd("kill", "x9", "KILL")
t.ok(proc.wait(timeout=20) == 137 and not os.path.exists(os.path.join(root, "x9")),
     "a container killed by SIGKILL: bhc run returns 137 and deletes it")
# The README's promise: a SIGKILLed `bhc run` takes its container with it
# (parent-death signal). Each change of credentials in the init clears that
# signal, so bhc sets it again after the last one.
b = bundle("orphan", ["sleep", "1000"])
proc = subprocess.Popen([bhc, "--root", root, "run", "--bundle", b, "orphan"])
for _ in range(100):
    if (state("orphan") or {}).get("status") == "running":
        break
    time.sleep(0.05)
pid = (state("orphan") or {}).get("pid", 0)
proc.kill()
proc.wait(timeout=20)
t.ok(pid > 0 and gone(pid), "a SIGKILLed bhc run leaves no container running (parent-death signal)",
     "container pid %d still alive" % pid)
cmd("delete", "--force", "orphan")
# A pid 1 only gets the signals it handles, as on any runtime.
b = bundle("x15", ["sh", "-c", "trap 'exit 143' TERM; while :; do sleep 0.1; done"])
proc = subprocess.Popen([bhc, "--root", root, "run", "--bundle", b, "x15"])
for _ in range(100):
    if (state("x15") or {}).get("status") == "running":
        break
    time.sleep(0.05)
time.sleep(0.3)
proc.terminate()
t.ok(proc.wait(timeout=20) == 143, "SIGTERM to bhc run reaches the container (status 143)")
p = run("env", "echo $HOME:$PATH", lambda c: c["process"].__setitem__("env", ["HOME=/h", "PATH=/bin"]))
t.ok(p.stdout.strip() == "/h:/bin", "process.env is the container's environment", p.stdout)
p = run("cwd", "pwd", lambda c: c["process"].__setitem__("cwd", "/tmp"))
t.ok(p.stdout.strip() == "/tmp", "process.cwd", p.stdout + p.stderr)
p = run("user", "id -u; id -g; grep CapEff /proc/self/status",
        lambda c: c["process"].__setitem__("user", {"uid": 1000, "gid": 1000}))
t.ok(p.stdout.split()[:2] == ["1000", "1000"], "process.user uid/gid", p.stdout + p.stderr)

def grant(c):
    c["process"]["capabilities"] = {k: ["CAP_NET_BIND_SERVICE"] for k in ("bounding", "effective", "permitted")}
p = run("caps", "grep -E 'Cap(Eff|Bnd|Amb|Inh)' /proc/self/status", grant)
t.ok("CapEff:\t0000000000000400" in p.stdout and "CapBnd:\t0000000000000400" in p.stdout and
     "CapAmb:\t0000000000000000" in p.stdout, "a granted capability is all there is", p.stdout + p.stderr)
p = run("rl", "ulimit -n", lambda c: c["process"].__setitem__(
    "rlimits", [{"type": "RLIMIT_NOFILE", "soft": 4242, "hard": 5000}]))
t.ok(p.stdout.strip() == "4242", "process.rlimits", p.stdout + p.stderr)

# --preserve-fds N hands fds 3..3+N-1 of the caller to the container, and
# only when all of them are open: otherwise one of bhc's own fds (its state
# folder, the exec fifo) would take a free number in the range and reach
# the workload.
for n in ("one", "two"):
    with open(os.path.join(tmp, "fd-" + n), "w") as f:
        f.write("preserved-%s\n" % n)
b = bundle("pfd", ["sh", "-c", "cat <&3; cat <&4; ls /proc/self/fd"])
wrap = 'exec "$0" --root "$1" run --preserve-fds 2 --bundle "$2" pfd '
p = subprocess.run(["sh", "-c", wrap + '3<"$3" 4<"$4"', bhc, root, b, os.path.join(tmp, "fd-one"),
                    os.path.join(tmp, "fd-two")], capture_output=True, text=True, timeout=30)
t.ok(p.returncode == 0 and p.stdout.startswith("preserved-one\npreserved-two\n"),
     "--preserve-fds 2 hands fds 3 and 4 to the container", p.stdout + p.stderr)
p = subprocess.run(["sh", "-c", wrap + '3<"$3"', bhc, root, b, os.path.join(tmp, "fd-one")],
                   capture_output=True, text=True, timeout=30)
t.ok(p.returncode == 1 and "--preserve-fds 2: fd 4 is not open" in p.stderr and not os.path.exists(
     os.path.join(root, "pfd")), "--preserve-fds 2 with fd 4 closed in the caller is refused", p.stdout + p.stderr)
cmd("delete", "--force", "pfd")

# Lifecycle and state JSON -------------------------------------------------------
b = bundle("life", ["sleep", "1000"])
pidfile = os.path.join(tmp, "life.pid")
p = cmd("create", "--bundle", b, "--pid-file", pidfile, "life")
st = state("life")
t.ok(p.returncode == 0 and st and st["status"] == "created" and st["id"] == "life" and
     st["bundle"] == os.path.realpath(b) and st["ociVersion"].startswith("1."),
     "create: state is created, with id, bundle and ociVersion", p.stderr + str(st))
pid = st["pid"] if st else 0
t.ok(pid > 0 and os.path.exists("/proc/%d" % pid) and open(pidfile).read().strip() == str(pid),
     "create: the init process exists and --pid-file holds its pid")
t.ok(cmd("start", "life").returncode == 0 and state("life")["status"] == "running", "start: state is running")
t.ok(cmd("start", "life").returncode != 0, "start twice is an error")
exe = ""
for _ in range(100):
    exe = os.readlink("/proc/%d/exe" % pid) if pid else ""
    if not exe.endswith("/bhc"):
        break
    time.sleep(0.02)
t.ok(exe.endswith("/busybox"), "the container's process runs the container's binary, not bhc", exe)
p = cmd("list")
t.ok("life" in p.stdout and "running" in p.stdout, "list shows the container", p.stdout)
p = cmd("kill", "life", "NOSUCHSIG")
t.ok(p.returncode != 0 and "not a signal" in p.stderr, "kill with a bad signal is an error", p.stderr)
p = cmd("delete", "life")
t.ok(p.returncode != 0 and "--force" in p.stderr, "delete of a running container needs --force", p.stderr)
# sleep as pid 1 ignores TERM (no handler), as on any runtime: KILL it.
t.ok(cmd("kill", "life", "KILL").returncode == 0, "kill KILL")
for _ in range(50):
    if state("life")["status"] == "stopped":
        break
    time.sleep(0.1)
st = state("life")
t.ok(st["status"] == "stopped" and "pid" not in st, "after kill: state is stopped", str(st))
t.ok(cmd("delete", "life").returncode == 0 and cmd("state", "life").returncode != 0 and
     not os.path.exists(os.path.join(root, "life")), "delete: the state is gone")

b = bundle("force", ["sleep", "1000"])
cmd("run", "--detach", "--bundle", b, "force")
pid = state("force")["pid"]
p = cmd("delete", "--force", "force")
t.ok(p.returncode == 0 and gone(pid) and os.listdir(root) == [],
     "delete --force kills the container and leaves nothing in the state folder", p.stderr + str(os.listdir(root)))
b = bundle("never", ["true"])
cmd("create", "--bundle", b, "never")
pid = state("never")["pid"]
p = cmd("delete", "never")
t.ok(p.returncode != 0 and "created" in p.stderr and "--force" in p.stderr and not gone(pid)
     and state("never")["status"] == "created",
     "delete of a created (never started) container is an error without --force (runtime spec)", p.stderr)
t.ok(cmd("delete", "--force", "never").returncode == 0 and gone(pid),
     "delete --force of a created (never started) container kills its init")

# The init stays non-dumpable after switching to process.user: /proc of a
# non-dumpable process belongs to the container's root, not to its user.
b = bundle("dump", ["true"], lambda c: c["process"].__setitem__("user", {"uid": 1000, "gid": 1000}))
p = cmd("create", "--bundle", b, "dump")
pid = (state("dump") or {}).get("pid", 0)
owner = os.stat("/proc/%d/status" % pid).st_uid if pid else -1
uid_map = open("/proc/%d/uid_map" % pid).read().split() if pid else []
cmd("delete", "--force", "dump")
if open("/proc/sys/fs/suid_dumpable").read().strip() == "0":
    t.skip("the init is non-dumpable after the uid switch",
           "fs.suid_dumpable = 0 on this machine makes every uid switch non-dumpable by itself")
else:
    t.ok(p.returncode == 0 and len(uid_map) == 3 and owner == int(uid_map[1]),
         "the init is non-dumpable after the uid switch (its /proc belongs to the container's root)",
         "owner %d, uid_map %s, %s" % (owner, uid_map, p.stderr))

# Console socket ------------------------------------------------------------------
sock_path = os.path.join(tmp, "console.sock")
srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
srv.bind(sock_path)
srv.listen(1)
b = bundle("tty", ["sh", "-c", "tty; echo console-ok"], lambda c: c["process"].__setitem__("terminal", True))
p = cmd("create", "--bundle", b, "tty")
t.ok(p.returncode != 0 and "--console-socket" in p.stderr, "terminal without --console-socket is refused",
     p.stderr)
p = cmd("create", "--bundle", b, "--console-socket", sock_path, "tty")
got = ""
if p.returncode == 0:
    conn, _ = srv.accept()
    msg, fds, _, _ = socket.recv_fds(conn, 100, 1)
    cmd("start", "tty")
    master = fds[0]
    deadline = time.time() + 10
    while "console-ok" not in got and time.time() < deadline:
        try:
            got += os.read(master, 1000).decode(errors="replace")
        except OSError:
            break
t.ok("console-ok" in got and "/dev/pts/0" in got, "--console-socket receives the pty master", p.stderr + got)
cmd("delete", "--force", "tty")

# Bundles from runc spec and crun spec, unchanged ---------------------------------
for tool in ("runc", "crun"):
    exe = shutil.which(tool)
    if not exe:
        t.skip("a `%s spec` bundle runs unchanged" % tool, "%s is not installed (apt-get install %s)" % (tool, tool))
        continue
    b = os.path.join(tmp, tool)
    os.makedirs(b)
    os.symlink(rootfs, os.path.join(b, "rootfs"))
    subprocess.run([exe, "spec"], cwd=b, check=True)
    p = cmd("run", "--bundle", b, tool, stdin="echo spec-from-%s; exit 5\n" % tool)
    t.ok(p.returncode == 5 and "spec-from-%s" % tool in p.stdout,
         "a `%s spec` bundle runs unchanged (terminal relayed, exit status kept)" % tool,
         "status %d\n%s%s" % (p.returncode, p.stdout, p.stderr))

left = os.listdir(root)
t.ok(left == [], "nothing left in the state folder", str(left))
for name in left:
    cmd("delete", "--force", name)
shutil.rmtree(tmp, ignore_errors=True)
t.done()
