#!/usr/bin/python3
"""bhc's capabilities and no_new_privs as the container sees them
(/proc/self/status), on the build host (issue 20 item 8).

- the five sets of process.capabilities are honoured as written: for a
  non-root process.user the bounding, inheritable and ambient sets are the
  config's, and its permitted and effective sets after execve are the
  ambient set; for root they are the bounding set within the permitted one
  (root's rule at execve, held to the permitted set by no_new_privs);
- a non-root process.user keeps its ambient capabilities across execve:
  uid 1000 with CAP_NET_BIND_SERVICE ambient binds port 80, and without
  it in the ambient set cannot;
- a capability of the deny list is in no set, with one warning per set
  that names it; a config asking for every capability gets all but the
  deny list;
- ambient capabilities that are not inheritable (as `runc spec` writes
  them) are not raised, with one warning; effective outside permitted and
  inheritable outside bounding are left out with a warning each;
- noNewPrivileges false prints a warning and NoNewPrivs stays 1; absent
  or true, no warning;
- an unknown capability name is a warning, not an error;
- `bhc spec` keeps its hardened defaults (no capability in any set,
  noNewPrivileges true) and its container has none and no warning;
- `bhc features` lists no denied capability."""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.path.insert(0, os.path.join(TOP, "tests", "escape"))
from tap import Tap  # noqa: E402
import bhctest  # noqa: E402

CAPS = bhctest.CAPS
# The deny list of firmware/bhc/config_caps.c, as the README gives it.
DENIED = ["CAP_SYS_MODULE", "CAP_SYS_RAWIO", "CAP_SYS_TIME", "CAP_SYS_BOOT", "CAP_MAC_ADMIN", "CAP_MAC_OVERRIDE",
          "CAP_SYSLOG", "CAP_WAKE_ALARM", "CAP_BLOCK_SUSPEND", "CAP_AUDIT_CONTROL", "CAP_BPF", "CAP_PERFMON",
          "CAP_CHECKPOINT_RESTORE", "CAP_SYS_ADMIN", "CAP_NET_ADMIN"]
SETS = ("bounding", "effective", "inheritable", "permitted", "ambient")
STATUS = "grep -E '^(Cap(Inh|Prm|Eff|Bnd|Amb)|NoNewPrivs):' /proc/self/status"
# Port 80 as the container's user: "bound-80" once nc listens on it.
BIND80 = "nc -l -p 80 & p=$!; sleep 0.5; kill $p 2>/dev/null && echo bound-80; exit 0"

t = Tap()
tmp = tempfile.mkdtemp(prefix="bhc-caps-")
bhc, rootfs, out = bhctest.prepare_or_skip(t, tmp, "bhc capability tests")
root = os.path.join(tmp, "state")
last_cap = int(open("/proc/sys/kernel/cap_last_cap").read())


def mask(names):
    return sum(1 << CAPS.index(n) for n in names)


def names(m):
    return [c for i, c in enumerate(CAPS) if m >> i & 1]


def run(name, script, edit=None):
    """bhc run of a `bhc spec` bundle with edit applied: (status, the
    container's /proc/self/status fields as ints, stdout, warnings)."""
    b = bhctest.make_bundle(bhc, os.path.join(tmp, name), rootfs, ["sh", "-c", STATUS + "; " + script], edit)
    p = subprocess.run([bhc, "--root", root, "run", "--bundle", b, name], capture_output=True, text=True,
                       stdin=subprocess.DEVNULL, timeout=60)
    st = {k: int(v, 16) for k, v in re.findall(r"^(Cap\w+|NoNewPrivs):\s*([0-9a-f]+)$", p.stdout, re.M)}
    return p.returncode, st, p.stdout + p.stderr, [l for l in p.stderr.splitlines() if "bhc: warning: " in l]


def caps(uid=0, **sets):
    """An edit: process.user uid (gid the same) and the given sets (lists
    of names); a set not given is absent."""
    def edit(c):
        c["process"]["user"] = {"uid": uid, "gid": uid}
        c["process"]["capabilities"] = {k: v for k, v in sets.items()}
    return edit


def shown(st):
    return ", ".join("%s %s" % (k, names(v) if k.startswith("Cap") else v) for k, v in sorted(st.items()))


# Each set as written ----------------------------------------------------------
B = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE", "CAP_NET_RAW"]
P = ["CAP_CHOWN", "CAP_KILL", "CAP_NET_BIND_SERVICE"]
E = ["CAP_CHOWN", "CAP_KILL"]
I = ["CAP_KILL", "CAP_NET_BIND_SERVICE"]
A = ["CAP_NET_BIND_SERVICE"]
rc, st, o, w = run("sets-1000", BIND80, caps(1000, bounding=B, permitted=P, effective=E, inheritable=I, ambient=A))
t.ok(rc == 0 and st.get("CapBnd") == mask(B) and st.get("CapInh") == mask(I) and st.get("CapAmb") == mask(A)
     and st.get("CapPrm") == mask(A) and st.get("CapEff") == mask(A) and not w,
     "uid 1000: bounding, inheritable and ambient as written; permitted and effective after execve are the "
     "ambient set; no warning", shown(st) + "\n" + o)
t.ok("bound-80" in o, "uid 1000 with CAP_NET_BIND_SERVICE ambient binds port 80", o)
rc, st, o, w = run("sets-0", "true", caps(0, bounding=B, permitted=P, effective=E, inheritable=I, ambient=A))
t.ok(rc == 0 and st.get("CapBnd") == mask(B) and st.get("CapInh") == mask(I) and st.get("CapAmb") == mask(A)
     and st.get("CapPrm") == mask(P) and st.get("CapEff") == mask(P) and not w,
     "root: bounding, inheritable and ambient as written; permitted and effective the bounding set within "
     "the permitted one (CAP_NET_RAW, bounding only, is not gained under no_new_privs)", shown(st) + "\n" + o)

# A non-root user without ambient capabilities has none after execve.
rc, st, o, w = run("noamb-1000", BIND80, caps(1000, bounding=A, permitted=A, effective=A))
t.ok(rc == 0 and st.get("CapAmb") == 0 and st.get("CapEff") == 0 and st.get("CapPrm") == 0
     and "bound-80" not in o and "ermission denied" in o,
     "uid 1000 with CAP_NET_BIND_SERVICE bounding, permitted, effective but not ambient: none left after "
     "execve, port 80 refused", shown(st) + "\n" + o)

# The deny list ----------------------------------------------------------------
rc, st, o, w = run("denied", "true", caps(0, bounding=["CAP_KILL", "CAP_SYS_ADMIN"],
                                           permitted=["CAP_KILL", "CAP_SYS_ADMIN"],
                                           effective=["CAP_KILL", "CAP_SYS_ADMIN"]))
t.ok(rc == 0 and st.get("CapBnd") == mask(["CAP_KILL"]) and st.get("CapEff") == mask(["CAP_KILL"]),
     "CAP_SYS_ADMIN asked for: in no set, CAP_KILL is", shown(st) + "\n" + o)
t.ok(len(w) == 3 and all(any("$.process.capabilities.%s: CAP_SYS_ADMIN: not granted: bhc never grants it" % s
                             in l for l in w) for s in ("bounding", "effective", "permitted")),
     "... one warning per set that names it", "\n".join(w))
everything = CAPS[:last_cap + 1]
rc, st, o, w = run("all", "true", caps(0, **{s: everything for s in SETS}))
allowed = [c for c in everything if c not in DENIED]
t.ok(rc == 0 and st.get("CapBnd") == mask(allowed) and st.get("CapEff") == mask(allowed)
     and st.get("CapAmb") == mask(allowed),
     "every capability asked for in every set: all of them but the %d denied" % len(DENIED),
     shown(st) + "\n" + o)
per_set = {s: [l for l in w if "$.process.capabilities.%s: " % s in l] for s in SETS}
t.ok(all(len(per_set[s]) == len([d for d in DENIED if d in everything]) for s in SETS) and
     all(any(" %s: not granted" % d in l for l in per_set[s]) for s in SETS for d in DENIED if d in everything)
     and len(w) == sum(len(v) for v in per_set.values()),
     "... one warning for each denied capability in each set, no other", "\n".join(w))

# What the kernel refuses: warned at create, not a failure ---------------------
runc = bhctest.oci_fixture("runc-spec.json")["process"]["capabilities"]
rc, st, o, w = run("runc-caps", "true", caps(1000, **runc))
t.ok(rc == 0 and st.get("CapAmb") == 0 and len(w) == 1 and
     "$.process.capabilities.ambient: CAP_KILL, CAP_NET_BIND_SERVICE, CAP_AUDIT_WRITE: not raised" in w[0],
     "runc spec's ambient capabilities (not inheritable): not raised, one warning naming them",
     shown(st) + "\n" + o)
rc, st, o, w = run("eff-inh", "true", caps(0, bounding=["CAP_KILL"], permitted=["CAP_KILL"],
                                            effective=["CAP_KILL", "CAP_CHOWN"],
                                            inheritable=["CAP_KILL", "CAP_NET_RAW"]))
t.ok(rc == 0 and st.get("CapInh") == mask(["CAP_KILL"]) and len(w) == 2 and
     any("effective: CAP_CHOWN: not granted: not in the permitted set" in l for l in w) and
     any("inheritable: CAP_NET_RAW: not granted: not in the bounding set" in l for l in w),
     "effective outside permitted, inheritable outside bounding: left out, one warning each",
     shown(st) + "\n" + o)

# noNewPrivileges --------------------------------------------------------------
rc, st, o, w = run("nnp-false", "true", lambda c: c["process"].__setitem__("noNewPrivileges", False))
t.ok(rc == 0 and st.get("NoNewPrivs") == 1 and len(w) == 1 and
     "$.process.noNewPrivileges: false ignored: bhc always sets no_new_privs" in w[0],
     "noNewPrivileges false: a warning, and NoNewPrivs stays 1", shown(st) + "\n" + o)
rc, st, o, w = run("nnp-absent", "true", lambda c: c["process"].pop("noNewPrivileges"))
t.ok(rc == 0 and st.get("NoNewPrivs") == 1 and not w, "noNewPrivileges absent: no_new_privs, no warning",
     shown(st) + "\n" + o)

# Unknown names ----------------------------------------------------------------
rc, st, o, w = run("unknown", "true", caps(0, bounding=["CAP_KILL", "CAP_FLY"], permitted=["CAP_KILL"],
                                            effective=["CAP_KILL"]))
t.ok(rc == 0 and st.get("CapBnd") == mask(["CAP_KILL"]) and len(w) == 1 and
     "$.process.capabilities.bounding[1]: 'CAP_FLY' is not a capability bhc knows: ignored" in w[0],
     "an unknown capability name: a warning, the container runs with the others", shown(st) + "\n" + o)

# bhc spec and bhc features ------------------------------------------------------
d = os.path.join(tmp, "spec")
os.makedirs(d)
subprocess.run([bhc, "spec", "--bundle", d], check=True)
with open(os.path.join(d, "config.json")) as f:
    proc = json.load(f)["process"]
t.ok(proc["capabilities"] == {s: [] for s in SETS} and proc["noNewPrivileges"] is True,
     "bhc spec: every capability set empty, noNewPrivileges true", json.dumps(proc))
rc, st, o, w = run("spec", "true")
t.ok(rc == 0 and all(st.get(k) == 0 for k in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"))
     and st.get("NoNewPrivs") == 1 and not w,
     "a bhc spec container: no capability in any set, no_new_privs, no warning", shown(st) + "\n" + o)
p = subprocess.run([bhc, "features"], capture_output=True, text=True)
listed = json.loads(p.stdout)["linux"]["capabilities"] if p.returncode == 0 else []
t.ok(listed and not set(listed) & set(DENIED) and set(listed) | set(DENIED) == set(CAPS),
     "bhc features lists every capability but the denied ones", str(listed))

left = os.listdir(root) if os.path.isdir(root) else []
t.ok(left == [], "nothing left in the state folder", str(left))
shutil.rmtree(tmp, ignore_errors=True)
t.done()
