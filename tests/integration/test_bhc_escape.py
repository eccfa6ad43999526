#!/usr/bin/python3
"""The escape probes (tests/escape/probes.c) inside a container made with
`bhc spec` defaults on the build host: every probe must print BLOCKED.
The host side is set up so that an escape would be seen: a listening
control socket at /run/bulkhead/bhd.sock and an abstract one, a secret
file in another container's rootfs, the test's own pid. Run outside any
container the same program must report escapes, so a probe that cannot
fail does not pass unnoticed."""
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.path.insert(0, os.path.join(TOP, "tests", "escape"))
from tap import Tap  # noqa: E402
import bhctest  # noqa: E402

MIN_PROBES = 30
t = Tap()
tmp = tempfile.mkdtemp(prefix="bhc-esc-")
ready, why = bhctest.prepare(t, tmp)
if not ready:
    t.skip("escape probes on the build host", why)
    t.done()
bhc, rootfs, out = ready
root = os.path.join(tmp, "state")
probe = os.path.join(rootfs, "bin", "bhc-probes")

# Bait on the host.
secret_dir = os.path.join(tmp, "other-container", "rootfs")
os.makedirs(secret_dir)
secret = os.path.join(secret_dir, "secret")
with open(secret, "w") as f:
    f.write("host secret\n")
made_run = not os.path.exists("/run/bulkhead")
os.makedirs("/run/bulkhead", exist_ok=True)
sock_path = "/run/bulkhead/bhd.sock"
own_sock = not os.path.exists(sock_path)
ctl = socket.socket(socket.AF_UNIX)
if own_sock:
    ctl.bind(sock_path)
    ctl.listen(1)
abstract = "bhc-probe-%d" % os.getpid()
abs_sock = socket.socket(socket.AF_UNIX)
abs_sock.bind("\0" + abstract)
abs_sock.listen(1)
env = dict(os.environ, BHC_PROBE_HOST_PID=str(os.getpid()), BHC_PROBE_SECRET=secret,
           BHC_PROBE_ABSTRACT=abstract)

try:
    # The probes can see an escape: in a container without bhc's hardening
    # (runc's default spec: no user namespace, no seccomp) some must fire.
    # Never run on the bare host: a probe that escapes changes the host.
    runc = shutil.which("runc")
    if runc:
        rb = os.path.join(tmp, "runc-bundle")
        os.makedirs(rb)
        subprocess.run([runc, "spec"], cwd=rb, check=True)
        cfgp = os.path.join(rb, "config.json")
        cfg = json.load(open(cfgp))
        cfg["root"]["path"] = os.path.realpath(rootfs)
        cfg["process"]["terminal"] = False
        cfg["process"]["args"] = ["/bin/bhc-probes"]
        cfg["process"]["env"] += ["BHC_PROBE_HOST_PID=%d" % os.getpid(), "BHC_PROBE_SECRET=" + secret,
                                  "BHC_PROBE_ABSTRACT=" + abstract]
        json.dump(cfg, open(cfgp, "w"))
        p = subprocess.run([runc, "--root", os.path.join(tmp, "runc-state"), "run", "--bundle", rb,
                            "bhc-probe-%d" % os.getpid()], capture_output=True, text=True, timeout=120)
        blocked, escaped, summary = bhctest.parse_probes(p.stdout)
        t.ok(len(escaped) >= 3 and p.returncode != 0,
             "the probes detect escapes: %d fire in runc's unhardened default container" % len(escaped),
             p.stdout + p.stderr)
        t.diag("\n".join(escaped))
    else:
        t.skip("the probes detect escapes in an unhardened container", "runc is not installed")
    p = subprocess.run([probe], capture_output=True, text=True, timeout=10)
    t.ok(p.returncode == 2 and "refusing" in p.stderr, "the probe program refuses to run on the bare host")

    bait = ["BHC_PROBE_HOST_PID=%d" % os.getpid(), "BHC_PROBE_SECRET=" + secret, "BHC_PROBE_ABSTRACT=" + abstract]
    b = bhctest.make_bundle(bhc, os.path.join(tmp, "bundle"), rootfs, ["/bin/bhc-probes"],
                            lambda c: c["process"]["env"].extend(bait))
    p = subprocess.run([bhc, "--root", root, "run", "--bundle", b, "probes"], capture_output=True, text=True,
                       env=env, timeout=120)
    blocked, escaped, summary = bhctest.parse_probes(p.stdout)
    t.diag(summary or "no summary line")
    t.ok(summary is not None and len(blocked) + len(escaped) >= MIN_PROBES,
         "%d probes ran (at least %d)" % (len(blocked) + len(escaped), MIN_PROBES), p.stdout + p.stderr)
    for name in blocked:
        t.ok(True, "BLOCKED %s" % name)
    for line in escaped:
        t.ok(False, line)
    t.ok(p.returncode == 0 and not escaped, "no probe escapes from a bhc spec container", p.stderr)
    t.ok(subprocess.run(["hostname"], capture_output=True, text=True).stdout.strip() != "bhc-escaped",
         "the host's hostname is unchanged")
finally:
    ctl.close()
    abs_sock.close()
    if own_sock:
        os.unlink(sock_path)
    if made_run:
        shutil.rmtree("/run/bulkhead", ignore_errors=True)
    shutil.rmtree(tmp, ignore_errors=True)
t.done()
