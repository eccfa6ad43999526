#!/usr/bin/python3
"""A small fleet simulation (the full one is tests/bench/bench_fleet.py):
a few gateways, each `bhsync agent` (the device's poll code built for the
build host, its own state folder), against one docker-registry that this
test starts on 127.0.0.1 and stops.

Checks: every agent converges to state 1, then to state 2 once it is
published; an unchanged poll costs one request and under 2 KiB (HTTP,
as the client counts it); no agent reports an error.

Environment: BH_OUTPUT, a built O folder (O/host/bin/bhsync, bhpack).
"""
import os
import shutil
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
from tap import Tap  # noqa: E402
import bhbin  # noqa: E402
import fleet_sim  # noqa: E402
import registry_servers as rs  # noqa: E402

AGENTS = 5
t = Tap()
out = os.environ["BH_OUTPUT"]
bhpack, bhsync = bhbin.host_programs(t, out, "bhpack", "bhsync")
tmp = tempfile.mkdtemp(prefix="bh-fleetsim-")
KEYS = os.path.join(TOP, "board", "common", "keys")
PASSWORD = "sim password"
keys = os.path.join(tmp, "keys")
os.makedirs(keys)
shutil.copy(os.path.join(KEYS, "bulkhead-TEST-ONLY-state.pub.pem"), keys)


pki = rs.Pki(os.path.join(tmp, "pki"))
reg = rs.Registry(os.path.join(tmp, "reg"), pki, users={"gw": PASSWORD})
pub = fleet_sim.Publisher(bhpack, tmp, reg, pki, PASSWORD, "sim")
fleet = None
try:
    a, b = pub.bundle("app-a", 256 << 10), pub.bundle("app-b", 256 << 10)
    pub.state(1, [("app-a", a)])
    start = time.time()
    fleet = fleet_sim.Fleet(bhsync, os.path.join(tmp, "fleet"), reg.host, "fleet", "sim", pki.ca,
                            "gw", PASSWORD, keys, AGENTS, interval=10)
    ok = fleet.wait_serial(1, 90)
    t.ok(ok, "%d agents converge to state 1 (%.1f s)" % (AGENTS, time.time() - start),
         "\n".join("%s: %s" % (x.dir, x.polls[-3:]) for x in fleet.agents))
    published = time.time()
    pub.state(2, [("app-a", a), ("app-b", b)])
    ok = fleet.wait_serial(2, 60)
    took = max((x.converged_at(2) or time.time()) for x in fleet.agents) - published
    t.ok(ok, "every agent converges to state 2 once it is published (%.1f s)" % took)
    time.sleep(12)  # a round of unchanged polls
    polls = [p for x in fleet.agents for p in x.unchanged_since(published)]
    t.ok(polls and all(p[3] == 1 for p in polls),
         "an unchanged poll is one request (%d polls)" % len(polls),
         "requests per poll: %s" % sorted(set(p[3] for p in polls)))
    t.ok(polls and all(p[4] < 2048 for p in polls),
         "an unchanged poll receives under 2 KiB (at most %d bytes)"
         % max([p[4] for p in polls] or [0]))
    errors = [e for x in fleet.agents for e in x.errors()]
    t.ok(not errors, "no agent reported an error", "\n".join(errors[:5]))
finally:
    if fleet:
        fleet.stop()
    reg.stop()
    shutil.rmtree(tmp, ignore_errors=True)
t.done()
