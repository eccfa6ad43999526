#!/usr/bin/python3
"""bhc's hooks (issue 20 item 9) on the build host, as root, with real
namespaces:

- each of the six kinds runs at its moment of the lifecycle (an order
  file): prestart, createRuntime and createContainer during create,
  startContainer during start before the program, poststart before start
  returns, poststop after delete removed the container;
- where: prestart, createRuntime, poststart and poststop in the runtime's
  mount namespace; createContainer in the container's (it sees the
  container's /data tmpfs, and what it writes there the program sees, the
  host does not); startContainer in the container, its path resolved in
  the rootfs;
- the state JSON on stdin (id, status creating/created/running/stopped,
  pid, bundle, annotations); args as argv (argv[0] included) and env
  exactly as given;
- a hook that sleeps past its timeout is killed with its children and
  fails create with a message naming kind, index, path and timeout;
  failing prestart/createRuntime fail create and leave no container (and
  poststop still runs, as the spec's lifecycle says); a failing
  startContainer fails start and stops the container; failing poststart
  and poststop only warn;
- bad hook configs are refused naming the field; an unknown kind warns;
- defences: a saved hooks.json another user could write (mode or owner)
  is never run (start refused, delete warns); `bhc spec` never writes
  hooks, and bhd's config.json writer has none."""
import json
import os
import re
import shutil
import stat
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
tmp = tempfile.mkdtemp(prefix="bhc-hooks-")
# createContainer runs as the container's root: it must reach the record
# folder and the recorder below this folder, as "others".
os.chmod(tmp, 0o755)
bhc, rootfs, out = bhctest.prepare_or_skip(t, tmp, "bhc hook tests")
root = os.path.join(tmp, "state")
rec_dir = os.path.join(tmp, "rec")
HOST_PATH = "PATH=/usr/sbin:/usr/bin:/sbin:/bin"
HOST_MNT = os.readlink("/proc/self/ns/mnt")

# The recorder hook (host side): state from stdin, mount namespace, order.
RECORDER = os.path.join(tmp, "record.sh")
with open(RECORDER, "w") as f:
    f.write("""#!/bin/sh
cat > "$REC/$1.state"
readlink /proc/self/ns/mnt > "$REC/$1.mnt"
head -n 1 /proc/self/uid_map > "$REC/$1.uidmap"
ls "$STATE_ROOT" > "$REC/$1.ls" 2>&1
[ -n "$MARK" ] && echo "$1" > "$MARK"
echo "$1" >> "$REC/order"
exit "${FAIL:-0}"
""")
os.chmod(RECORDER, 0o755)
SLEEPER = os.path.join(tmp, "sleep.sh")
with open(SLEEPER, "w") as f:
    f.write("#!/bin/sh\nsleep 100 &\necho $! > \"$REC/sleeper\"\necho $$ > \"$REC/sleeper-sh\"\nwait\n")
os.chmod(SLEEPER, 0o755)
# argv and environment, as the kernel passed them.
ARGV_CODE = ("import sys; d = {'argv': open('/proc/self/cmdline').read().split('\\0')[:-1], "
             "'env': open('/proc/self/environ').read().split('\\0')[:-1], 'stdin': sys.stdin.read()}; "
             "open(sys.argv[-1], 'w').write(__import__('json').dumps(d))")


def reset_rec():
    """Empties the record folder (kept: containers bind-mount it at /out)."""
    os.makedirs(rec_dir, exist_ok=True)
    os.chmod(rec_dir, 0o777)
    for n in os.listdir(rec_dir):
        os.unlink(os.path.join(rec_dir, n))
    with open(os.path.join(rec_dir, "order"), "w"):
        pass
    os.chmod(os.path.join(rec_dir, "order"), 0o666)


def host_hook(kind, fail=0, mark=None, timeout=None):
    h = {"path": RECORDER, "args": ["record.sh", kind],
         "env": [HOST_PATH, "REC=" + rec_dir, "STATE_ROOT=" + root, "FAIL=%d" % fail] +
                (["MARK=" + mark] if mark else [])}
    if timeout:
        h["timeout"] = timeout
    return h


def container_hook(kind, fail=0):
    """A startContainer hook: the rootfs's BusyBox sh, /out is rec_dir."""
    return {"path": "/bin/sh", "args": ["sh", "-c",
            "cat > /out/%s.state; readlink /proc/self/ns/mnt > /out/%s.mnt; "
            "id -u > /out/%s.uid; echo %s >> /out/order; exit %d" % (kind, kind, kind, kind, fail)],
            "env": ["PATH=/bin"]}


def all_hooks():
    return {"prestart": [host_hook("prestart")], "createRuntime": [host_hook("createRuntime")],
            "createContainer": [host_hook("createContainer")],
            "startContainer": [container_hook("startContainer")],
            "poststart": [host_hook("poststart")], "poststop": [host_hook("poststop")]}


def bundle(name, hooks, args=("sh", "-c", "ls /data > /out/process.data; echo process >> /out/order; "
                                           "exec sleep 60"), raw_hooks=False):
    def edit(c):
        c["hooks"] = hooks
        c["annotations"] = {"org.test": "hooks"}
        c["mounts"].append({"destination": "/out", "type": "bind", "source": rec_dir,
                            "options": ["rbind", "rw"]})
        c["mounts"].append({"destination": "/data", "type": "tmpfs", "source": "tmpfs",
                            "options": ["nosuid", "nodev", "mode=755"]})
    return bhctest.make_bundle(bhc, os.path.join(tmp, "b-" + name), rootfs, list(args), edit)


def bhc_cmd(*args, timeout=60):
    return bhctest.bhc_files(bhc, root, *args, timeout=timeout)


def rec(name):
    try:
        with open(os.path.join(rec_dir, name)) as f:
            return f.read()
    except OSError:
        return None


def rec_json(name):
    try:
        return json.loads(rec(name) or "")
    except ValueError:
        return None


def order():
    return (rec("order") or "").split()


def exists(name):
    return os.path.isdir(os.path.join(root, name))


def warnings(text):
    return [line for line in text.splitlines() if line.startswith("bhc: warning: ")]


# The whole lifecycle ------------------------------------------------------------------------
reset_rec()
hooks = all_hooks()
argv_out = os.path.join(rec_dir, "argv.json")
hooks["createRuntime"].append({"path": sys.executable, "args": ["argv0-custom", "-c", ARGV_CODE, "a b", "",
                                                                 argv_out],
                               "env": ["A=1", "B=two words", "EMPTY="], "timeout": 30})
b = bundle("life", hooks)
rc, _, e = bhc_cmd("create", "--bundle", b, "life")
t.ok(rc == 0, "a config with all six kinds of hook is created", e)
st = json.loads(bhc_cmd("state", "life")[1] or "{}")
pid = st.get("pid", 0)
t.ok(order() == ["prestart", "createRuntime", "createContainer"],
     "create runs prestart, createRuntime, createContainer, in that order, and nothing else", order())
for kind in ("prestart", "createRuntime", "createContainer"):
    s = rec_json(kind + ".state") or {}
    t.ok(s.get("id") == "life" and s.get("status") == "creating" and s.get("pid") == pid and
         s.get("bundle") == os.path.realpath(b) and s.get("annotations") == {"org.test": "hooks"} and
         s.get("ociVersion", "").startswith("1."),
         "%s gets the state on stdin (id, status creating, pid, bundle, annotations)" % kind, rec(kind + ".state"))
t.ok((rec("prestart.mnt") or "").strip() == HOST_MNT and (rec("createRuntime.mnt") or "").strip() == HOST_MNT,
     "prestart and createRuntime run in the runtime's mount namespace",
     "%s %s host %s" % (rec("prestart.mnt"), rec("createRuntime.mnt"), HOST_MNT))
ct_mnt = os.readlink("/proc/%d/ns/mnt" % pid) if pid else "?"
t.ok((rec("createContainer.mnt") or "").strip() == ct_mnt != HOST_MNT,
     "createContainer runs in the container's mount namespace",
     "%s container %s" % (rec("createContainer.mnt"), ct_mnt))
host_map = open("/proc/self/uid_map").readline().split()
t.ok((rec("createRuntime.uidmap") or "").split() == host_map and
     (rec("createContainer.uidmap") or "").split()[:1] == ["0"] and
     (rec("createContainer.uidmap") or "").split() != host_map,
     "createRuntime runs as host root, createContainer as the container's root (its user namespace)",
     "%s / %s" % (rec("createRuntime.uidmap"), rec("createContainer.uidmap")))
a = rec_json("argv.json") or {}
t.ok(a.get("argv") == ["argv0-custom", "-c", ARGV_CODE, "a b", "", argv_out],
     "args are the hook's argv, argv[0] and empty strings included", a.get("argv"))
t.ok(a.get("env") == ["A=1", "B=two words", "EMPTY="], "env is exactly the hook's, nothing of bhc's", a.get("env"))
t.ok(json.loads(a.get("stdin") or "{}").get("id") == "life", "the python hook read the state too")

# createContainer sees the container's /data tmpfs: what it writes there
# is the program's, not the host's.
reset_rec()
hooks = all_hooks()
hooks["createContainer"] = [{"path": "/bin/sh", "args": ["sh", "-c", "echo x > \"$1/data/from-createContainer\"",
                                                         "sh", os.path.join(tmp, "b-seen", "rootfs")],
                             "env": [HOST_PATH]}]
b2 = bundle("seen", hooks)
rc, _, e = bhc_cmd("create", "--bundle", b2, "seen")
rc2, _, e2 = bhc_cmd("start", "seen")
time.sleep(0.5)
t.ok(rc == 0 and rc2 == 0 and "from-createContainer" in (rec("process.data") or "") and
     not os.path.exists(os.path.join(rootfs, "data", "from-createContainer")),
     "createContainer writes into the container's own mounts (the program sees it, the host does not)",
     "%s %s %s" % (e, e2, rec("process.data")))
bhc_cmd("delete", "--force", "seen")

# start: startContainer in the container before the program, poststart after.
reset_rec()
rc, _, e = bhc_cmd("start", "life")
t.ok(rc == 0, "start runs", e)
o = order()
t.ok(o[:1] == ["startContainer"] and "poststart" in o and "process" in o and
     o.index("startContainer") < o.index("process"),
     "start runs startContainer before the program, and poststart", o)
s = rec_json("startContainer.state") or {}
t.ok(s.get("status") == "created" and s.get("pid") == pid and s.get("id") == "life",
     "startContainer gets the state (status created, the host pid)", rec("startContainer.state"))
t.ok((rec("startContainer.mnt") or "").strip() == ct_mnt and (rec("startContainer.uid") or "").strip() == "0",
     "startContainer runs in the container (its mount namespace, its root, its path /bin/sh)",
     "%s %s" % (rec("startContainer.mnt"), rec("startContainer.uid")))
s = rec_json("poststart.state") or {}
t.ok(s.get("status") == "running" and s.get("pid") == pid and (rec("poststart.mnt") or "").strip() == HOST_MNT,
     "poststart gets status running and runs in the runtime namespace", rec("poststart.state"))
bhc_cmd("kill", "life", "KILL")
for _ in range(50):
    if json.loads(bhc_cmd("state", "life")[1] or "{}").get("status") == "stopped":
        break
    time.sleep(0.1)
reset_rec()
rc, _, e = bhc_cmd("delete", "life")
s = rec_json("poststop.state") or {}
t.ok(rc == 0 and s.get("status") == "stopped" and "pid" not in s and s.get("id") == "life",
     "delete runs poststop with status stopped", "%s %s" % (e, rec("poststop.state")))
t.ok(rec("poststop.ls") is not None and "life" not in (rec("poststop.ls") or "").split() and
     (rec("poststop.mnt") or "").strip() == HOST_MNT,
     "poststop runs after the container's state is gone, in the runtime namespace", rec("poststop.ls"))
t.ok(order() == ["poststop"], "delete runs only poststop", order())

# Timeouts ----------------------------------------------------------------------------------
reset_rec()
b = bundle("slow", {"createRuntime": [{"path": SLEEPER, "env": [HOST_PATH, "REC=" + rec_dir], "timeout": 1}],
                    "poststop": [host_hook("poststop")]})
t0 = time.monotonic()
rc, _, e = bhc_cmd("create", "--bundle", b, "slow")
took = time.monotonic() - t0
t.ok(rc != 0 and "$.hooks.createRuntime[0] (%s): timed out after 1 s" % SLEEPER in e and took < 10,
     "a hook past its timeout fails create, naming kind, index, path and timeout (%.1f s)" % took, e)


def gone(p):
    try:
        with open("/proc/%s/stat" % p) as f:
            return f.read().split(") ")[1][0] in "ZX"
    except OSError:
        return True


time.sleep(0.3)
sl = (rec("sleeper") or "").strip()
t.ok(sl and gone(sl) and gone((rec("sleeper-sh") or "").strip()),
     "the timed-out hook is killed with its children (its process group)", "sleep pid %s" % sl)
t.ok(not exists("slow"), "no container is left after a hook timed out")
t.ok(order() == ["poststop"], "after a failed create, poststop runs (the spec's lifecycle, step 12 to 13)", order())

# Failing hooks ----------------------------------------------------------------------------
for kind in ("prestart", "createRuntime", "createContainer"):
    reset_rec()
    hooks = all_hooks()
    hooks[kind] = [host_hook(kind, fail=3)]
    b = bundle("fail-" + kind, hooks)
    rc, _, e = bhc_cmd("create", "--bundle", b, "f-" + kind)
    nxt = {"prestart": "createRuntime", "createRuntime": "createContainer", "createContainer": None}[kind]
    t.ok(rc != 0 and "$.hooks.%s[0] (%s): exited with status 3" % (kind, RECORDER) in e,
         "a failing %s hook fails create with a message naming it" % kind, e)
    t.ok(not exists("f-" + kind) and (nxt is None or nxt not in order()) and "poststop" in order(),
         "after a failing %s: no container left, later hooks not run, poststop run" % kind, order())

reset_rec()
hooks = all_hooks()
hooks["startContainer"] = [container_hook("startContainer", fail=4)]
b = bundle("fail-sc", hooks)
rc, _, e = bhc_cmd("create", "--bundle", b, "f-sc")
rc2, _, e2 = bhc_cmd("start", "f-sc")
st = json.loads(bhc_cmd("state", "f-sc")[1] or "{}")
t.ok(rc == 0 and rc2 != 0 and "$.hooks.startContainer[0] (/bin/sh): exited with status 4" in e2 and
     "process" not in order() and "poststart" not in order() and st.get("status") == "stopped",
     "a failing startContainer fails start, the program never runs, the container is stopped", e + e2 + str(st))
bhc_cmd("delete", "f-sc")

for kind in ("poststart", "poststop"):
    reset_rec()
    hooks = all_hooks()
    hooks[kind] = [host_hook(kind, fail=5), host_hook(kind + "-second")]
    b = bundle("warn-" + kind, hooks, args=("true",))
    bhc_cmd("create", "--bundle", b, "w-" + kind)
    rc, _, e = bhc_cmd("start", "w-" + kind)
    time.sleep(0.3)
    rc2, _, e2 = bhc_cmd("delete", "--force", "w-" + kind)
    w = [x for x in warnings(e + e2) if "$.hooks.%s[0]" % kind in x]
    t.ok(rc == 0 and rc2 == 0 and len(w) == 1 and "exited with status 5" in w[0] and
         (kind + "-second") in order() and not exists("w-" + kind),
         "a failing %s hook is one warning; the next hook and the lifecycle go on" % kind, e + e2)

# Bad configs ---------------------------------------------------------------------------------
bad = [
    ("a relative hook path", {"prestart": [{"path": "true"}]}, "$.hooks.prestart[0].path: 'true' must be an absolute"),
    ("a hook without a path", {"createRuntime": [{"args": ["x"]}]}, "$.hooks.createRuntime[0].path: missing"),
    ("a timeout of 0", {"poststart": [{"path": "/bin/true", "timeout": 0}]}, "$.hooks.poststart[0].timeout: 0 must be"),
    ("a negative timeout", {"poststop": [{"path": "/bin/true", "timeout": -2}]}, "$.hooks.poststop[0].timeout: -2"),
    ("a timeout as a string", {"poststop": [{"path": "/bin/true", "timeout": "5"}]}, "$.hooks.poststop[0].timeout"),
    ("args not an array", {"createContainer": [{"path": "/bin/true", "args": "x"}]},
     "$.hooks.createContainer[0].args"),
    ("env without =", {"startContainer": [{"path": "/bin/true", "env": ["X"]}]},
     "$.hooks.startContainer[0].env[0]: 'X' is not NAME=value"),
    ("a kind that is not an array", {"prestart": {"path": "/bin/true"}}, "$.hooks.prestart"),
    ("hooks that are not an object", [], "$.hooks"),
]
for what, hooks, want in bad:
    reset_rec()
    b = bundle("bad", hooks)
    rc, _, e = bhc_cmd("create", "--bundle", b, "bad")
    t.ok(rc != 0 and want in e and not exists("bad"), "refused: %s (%s)" % (what, want), e)
    bhc_cmd("delete", "--force", "bad")

reset_rec()
b = bundle("unknown", {"preStart": [host_hook("preStart")], "poststart": [host_hook("poststart")]}, args=("true",))
rc, _, e = bhc_cmd("run", "--bundle", b, "unknown")
w = warnings(e)
t.ok(rc == 0 and len(w) == 1 and "$.hooks.preStart: not a hook kind" in w[0] and "preStart" not in order() and
     "poststart" in order(), "an unknown hook kind is one warning and is not run", e)

# Defences --------------------------------------------------------------------------------------
for how in ("mode", "owner"):
    reset_rec()
    b = bundle("tamper", {"poststart": [host_hook("poststart")], "poststop": [host_hook("poststop")]},
               args=("true",))
    rc, _, e = bhc_cmd("create", "--bundle", b, "tamper")
    saved = os.path.join(root, "tamper", "hooks.json")
    if how == "mode":
        os.chmod(saved, 0o666)
    else:
        os.chown(saved, 1000, 1000)
    rc2, _, e2 = bhc_cmd("start", "tamper")
    rc3, _, e3 = bhc_cmd("delete", "--force", "tamper")
    t.ok(rc == 0 and rc2 != 0 and "hooks.json" in e2 and "not run" in e2 and order() == [],
         "a saved hooks.json another user could write (%s) is never run: start refused" % how, e2)
    t.ok(rc3 == 0 and not exists("tamper") and any("poststop hooks not run" in x for x in warnings(e3)) and
         order() == [], "... and delete deletes with a warning, without running poststop (%s)" % how, e3)
st_mode = os.stat(os.path.join(root)).st_mode
t.ok(not (st_mode & 0o077), "the state root is host root's only (%04o)" % stat.S_IMODE(st_mode))

sp = os.path.join(tmp, "spec")
os.makedirs(sp, exist_ok=True)
subprocess.run([bhc, "spec", "--bundle", sp], check=True)
with open(os.path.join(sp, "config.json")) as f:
    t.ok("hooks" not in json.load(f), "bhc spec writes no hooks")
bhd_src = "".join(open(os.path.join(TOP, "firmware", "bhd", n)).read()
                  for n in os.listdir(os.path.join(TOP, "firmware", "bhd")) if n.endswith(".c"))
t.ok(not re.search(r'"hooks"', bhd_src) and "yyjson_mut_obj_add" in bhd_src,
     "bhd's config.json writer (firmware/bhd/container.c) writes no hooks")

shutil.rmtree(tmp, ignore_errors=True)
t.done()
