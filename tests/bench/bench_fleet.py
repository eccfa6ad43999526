#!/usr/bin/python3
"""Fleet sync at scale (docs/fleet.md), against Debian's docker-registry on
127.0.0.1, started and stopped here:

- 50 simulated gateways (`bhsync agent`: the device's poll code built for
  the build host, each with its own state folder; BH_FLEET_AGENTS
  changes the count), polling every 10 s with jitter. A new state is
  published: the time until every one has converged.
- An unchanged poll: requests and bytes per gateway, as the client counts
  them (HTTP) and on the wire (TCP through a counting relay: TLS
  handshakes included, since each poll is a process of its own; it
  resumes the TLS session the last poll was given). Goal: 1 request,
  under 2 KiB.
- The registry's CPU time over the whole run.
- Download throughput of one 100 MiB blob with our client (`bhpack fetch
  blob`, the registry client the gateway uses) against `skopeo copy` of
  the same artifact, in the same run. Goal: >= 0.9x skopeo.

Uses O/check/qemu_x86_64_debug from `make check` (or BH_BENCH_O) for the
host tools. Exits non-zero when a comparison cannot be made.
"""
import json
import os
import shutil
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
bhsync = os.path.join(o, "host", "bin", "bhsync")
N = int(os.environ.get("BH_FLEET_AGENTS", "50"))
for exe in (bhpack, bhsync):
    if not os.path.exists(exe):
        print("bench_fleet: %s is not built (run make check first or set BH_BENCH_O)" % exe)
        sys.exit(1)
for tool in ("docker-registry", "skopeo"):
    if not shutil.which(tool):
        print("bench_fleet: %s is missing (make host-tools installs it): no comparison" % tool)
        sys.exit(1)

tmp = tempfile.mkdtemp(prefix="bh-bench-fleet-", dir=os.environ.get("BH_BENCH_OUTPUT"))
KEYS = os.path.join(TOP, "board", "common", "keys")
PASSWORD = "bench password"
keys = os.path.join(tmp, "keys")
os.makedirs(keys)
shutil.copy(os.path.join(KEYS, "bulkhead-TEST-ONLY-state.pub.pem"), keys)


status = 0
pki = rs.Pki(os.path.join(tmp, "pki"))
reg = rs.Registry(os.path.join(tmp, "reg"), pki, users={"gw": PASSWORD})
relay = rs.TcpCounter(reg.port)
pub = fleet_sim.Publisher(bhpack, tmp, reg, pki, PASSWORD, "bench")
fleet = None
try:
    a, b = pub.bundle("app-a", 1 << 20), pub.bundle("app-b", 1 << 20)
    pub.state(1, [("app-a", a)])
    fleet = fleet_sim.Fleet(bhsync, os.path.join(tmp, "fleet"), relay.host, "fleet", "bench",
                            pki.ca, "gw", PASSWORD, keys, N, interval=10, seconds=1800)
    if not fleet.wait_serial(1, 300):
        raise RuntimeError("the fleet did not converge to state 1")
    time.sleep(15)  # everyone settled, polling unchanged
    published = time.time()
    pub.state(2, [("app-a", a), ("app-b", b)])
    if not fleet.wait_serial(2, 300):
        raise RuntimeError("the fleet did not converge to state 2")
    last = max(x.converged_at(2) for x in fleet.agents)
    print("fleet: %d gateways converged to a new state in %.1f s after it was published "
          "(poll interval 10 s +-20%%)" % (N, last - published))
    time.sleep(5)
    c0, up0, down0 = relay.snapshot()
    since = time.time()
    time.sleep(25)
    c1, up1, down1 = relay.snapshot()
    polls = [p for x in fleet.agents for p in x.unchanged_since(since)]
    if not polls:
        raise RuntimeError("no unchanged polls were seen")
    req = sum(p[3] for p in polls) / len(polls)
    http = sum(p[4] for p in polls) / len(polls)
    wire = (up1 - up0 + down1 - down0) / len(polls)
    print("unchanged poll: %.2f requests, %.0f bytes received over HTTP, %.0f bytes on the wire "
          "(TLS handshake included, %d connections for %d polls); goal 1 request, 2048 bytes: "
          "%.2fx of the byte goal on the wire" % (req, http, wire, c1 - c0, len(polls),
                                                   wire / 2048))
    errors = [e for x in fleet.agents for e in x.errors()]
    if errors:
        print("agents reported %d errors, e.g. %s" % (len(errors), errors[0]))
        status = 1
    fleet.stop()
    fleet = None
    print("registry CPU time over the run: %.2f s" % reg.cpu_seconds())

    # One 100 MiB blob: our client against skopeo, the same artifact.
    big = pub.bundle("big", 100 << 20)
    pub.bh("fetch", "manifest", "--ca", pki.ca, "--user", "gw", "-o",
           os.path.join(tmp, "big.manifest"), "%s/fleet@%s" % (reg.host, big))
    with open(os.path.join(tmp, "big.manifest")) as f:
        layer = json.load(f)["layers"][0]
    certs = os.path.join(tmp, "certs")
    os.makedirs(certs)
    shutil.copy(pki.ca, os.path.join(certs, "ca.crt"))
    ours, theirs = [], []
    for i in range(3):
        dest = os.path.join(tmp, "ours.blob")
        for f in (dest, dest + ".part"):
            os.path.exists(f) and os.unlink(f)
        start = time.monotonic()
        pub.bh("fetch", "blob", "--ca", pki.ca, "--user", "gw", "--size", str(layer["size"]),
           "-o", dest, "%s/fleet@%s" % (reg.host, layer["digest"]))
        ours.append(time.monotonic() - start)
        shutil.rmtree(os.path.join(tmp, "skopeo"), ignore_errors=True)
        start = time.monotonic()
        subprocess.run(["skopeo", "copy", "--quiet", "--src-cert-dir", certs, "--src-creds",
                        "gw:" + PASSWORD, "docker://%s/fleet@%s" % (reg.host, big),
                        "dir:" + os.path.join(tmp, "skopeo")], check=True, capture_output=True,
                       timeout=1800)
        theirs.append(time.monotonic() - start)
    mib = layer["size"] / (1 << 20)
    o_rate, t_rate = mib / min(ours), mib / min(theirs)
    print("100 MiB blob: bhpack fetch (the gateway's client) %.0f MiB/s, skopeo copy %.0f MiB/s "
          "(best of 3): %.2fx skopeo (goal >= 0.9)" % (o_rate, t_rate, o_rate / t_rate))
except Exception as e:  # the benchmark's own failure is its result
    print("bench_fleet: %s" % e)
    status = 1
finally:
    if fleet:
        fleet.stop()
    relay.stop()
    reg.stop()
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(status)
