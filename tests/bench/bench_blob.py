#!/usr/bin/python3
"""One 100 MiB blob from a local registry: our client (`bhpack fetch blob`,
the gateway's registry client built for the build host) against `skopeo
copy` of the same artifact, alternating, BH_BLOB_RUNS (5) runs each.

The registry is the one bench_fleet.py uses (Debian's docker-registry on
127.0.0.1 with TLS and htpasswd, tests/lib/registry_servers.py). Besides
the wall time it reports each side's CPU time (user+system of the client
and of the registry over the same fetch), because on a 2-core machine the
registry needs one core while the client uses the other. Prints the
median and the spread (min-max), and the ratio of the medians (goal
>= 0.9x skopeo, docs/fleet.md).

BH_BLOB_PERF=FILE also records one of our fetches with `perf record -g`
into FILE (not counted in the timings).

Uses O/check/qemu_x86_64_debug from `make check` (or BH_BENCH_O) for
bhpack. Exits non-zero when a comparison cannot be made.
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
import fleet_sim  # noqa: E402
import registry_servers as rs  # noqa: E402

o = os.environ.get("BH_BENCH_O", os.path.join(TOP, "output", "check", "qemu_x86_64_debug"))
bhpack = os.path.join(o, "host", "bin", "bhpack")
RUNS = int(os.environ.get("BH_BLOB_RUNS", "5"))
PERF = os.environ.get("BH_BLOB_PERF")
PASSWORD = "bench password"
if not os.path.exists(bhpack):
    print("bench_blob: %s is not built (run make check first or set BH_BENCH_O)" % bhpack)
    sys.exit(1)
for tool in ["docker-registry", "skopeo"] + (["perf"] if PERF else []):
    if not shutil.which(tool):
        print("bench_blob: %s is missing (make host-tools installs it): no comparison" % tool)
        sys.exit(1)


def timed(cmd, env, reg):
    """Runs cmd: (wall s, its CPU s, the registry's CPU s over it)."""
    r0 = reg.cpu_seconds()
    start = time.monotonic()
    p = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - start
    p.returncode = os.waitstatus_to_exitcode(status)
    err = p.stderr.read().decode(errors="replace")
    p.stderr.close()
    if p.returncode != 0:
        raise RuntimeError("%s: exit %d: %s" % (cmd[0], p.returncode, err.strip()))
    return wall, ru.ru_utime + ru.ru_stime, reg.cpu_seconds() - r0


def summary(name, runs, mib):
    walls = sorted(r[0] for r in runs)
    med = statistics.median(walls)
    return med, ("%s: median %.2f s (%.0f MiB/s), spread %.2f-%.2f s; CPU median %.2f s, "
                 "registry CPU median %.2f s" %
                 (name, med, mib / med, walls[0], walls[-1],
                  statistics.median(r[1] for r in runs), statistics.median(r[2] for r in runs)))


tmp = tempfile.mkdtemp(prefix="bh-bench-blob-", dir=os.environ.get("BH_BENCH_OUTPUT"))
status = 0
pki = rs.Pki(os.path.join(tmp, "pki"))
reg = rs.Registry(os.path.join(tmp, "reg"), pki, users={"gw": PASSWORD})
pub = fleet_sim.Publisher(bhpack, tmp, reg, pki, PASSWORD, "bench")
try:
    big = pub.bundle("big", 100 << 20)
    pub.bh("fetch", "manifest", "--ca", pki.ca, "--user", "gw", "-o",
           os.path.join(tmp, "big.manifest"), "%s/fleet@%s" % (reg.host, big))
    with open(os.path.join(tmp, "big.manifest")) as f:
        layer = json.load(f)["layers"][0]
    certs = os.path.join(tmp, "certs")
    os.makedirs(certs)
    shutil.copy(pki.ca, os.path.join(certs, "ca.crt"))
    dest = os.path.join(tmp, "ours.blob")
    ours_cmd = [bhpack, "fetch", "blob", "--ca", pki.ca, "--user", "gw", "--size",
                str(layer["size"]), "-o", dest, "%s/fleet@%s" % (reg.host, layer["digest"])]
    theirs_cmd = ["skopeo", "copy", "--quiet", "--src-cert-dir", certs, "--src-creds",
                  "gw:" + PASSWORD, "docker://%s/fleet@%s" % (reg.host, big),
                  "dir:" + os.path.join(tmp, "skopeo")]

    def clean():
        for f in (dest, dest + ".part"):
            if os.path.exists(f):
                os.unlink(f)
        shutil.rmtree(os.path.join(tmp, "skopeo"), ignore_errors=True)

    def ours_once():
        clean()
        r = timed(ours_cmd, pub.env, reg)
        if rs.sha256_file(dest) != layer["digest"]:
            raise RuntimeError("our copy of the blob does not match its digest")
        return r

    ours, theirs = [], []
    ours_once()  # warms the registry's page cache
    for i in range(RUNS):
        ours.append(ours_once())
        clean()
        theirs.append(timed(theirs_cmd, pub.env, reg))
    mib = layer["size"] / (1 << 20)
    o_med, o_text = summary("bhpack fetch blob (the gateway's client)", ours, mib)
    t_med, t_text = summary("skopeo copy", theirs, mib)
    print("100 MiB blob, %d runs each, alternating" % RUNS)
    print("  " + o_text)
    print("  " + t_text)
    print("  our client: %.2fx skopeo (ratio of the medians; goal >= 0.9)" % (t_med / o_med))
    if PERF:
        clean()
        timed(["perf", "record", "-g", "-o", PERF, "--"] + ours_cmd, pub.env, reg)
        print("  perf data of one of our fetches: %s" % PERF)
except Exception as e:  # the benchmark's own failure is its result
    print("bench_blob: %s" % e)
    status = 1
finally:
    reg.stop()
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(status)
