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

The throughput of one large blob against skopeo is bench_blob.py's.

Uses O/check/qemu_x86_64_debug from `make check` (or BH_BENCH_O) for the
host tools. Exits non-zero when a comparison cannot be made.
"""
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
if not shutil.which("docker-registry"):
    print("bench_fleet: docker-registry is missing (make host-tools installs it)")
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
