#!/usr/bin/python3
"""A small telemetry simulation (the full one is
tests/bench/bench_telemetry.py): a few gateways, each with an identity from
`bhpack provision` and its own bhreport (the device's reporting code built
for the build host, fed as bhd feeds it), against one mosquitto that this
test starts on 127.0.0.1 and stops (mutual TLS, the certificate's CN as
user name, a per-device ACL).

Checks: every gateway comes online; bhfleet lists each once, online, with
its version; a state change on one gateway reaches `bhfleet --watch`;
after a clean stop bhfleet shows every gateway offline.

Environment: BH_OUTPUT, a configured O folder (the host builds of
bhreport, bhfleet and bhpack are made when missing).
"""
import os
import shutil
import sys
import tempfile

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
from tap import Tap  # noqa: E402
import bhbin  # noqa: E402,F401 (tests/run: this test starts our programs)
from mqtt_fixture import MOSQUITTO  # noqa: E402
from reporter_fixture import host_programs, status  # noqa: E402
from telemetry_sim import Fleet  # noqa: E402

DEVICES = 5
t = Tap()
out = os.environ["BH_OUTPUT"]
bhreport, bhfleet, bhpack = host_programs(out, "bhreport", "bhfleet", "bhpack")
if not all(p and os.path.exists(p) for p in (bhreport, bhfleet, bhpack)) or not os.path.exists(MOSQUITTO):
    t.ok(False, "bhreport, bhfleet and bhpack are built for the build host; mosquitto is installed")
    t.done()
tmp = tempfile.mkdtemp(prefix="bh-telemetry-sim-")
fleet = None
try:
    fleet = Fleet(tmp, bhreport, bhpack, DEVICES)
    took = fleet.start()
    t.ok(took is not None, "%d gateways with identities from bhpack provision come online" % DEVICES,
         "\n".join(r.text() for r in fleet.reporters if not r.online(0)))
    rc, o, e = fleet.fleet(bhfleet)
    lines = o.splitlines()[1:]
    t.ok(rc == 0 and [l.split()[0] for l in lines] == fleet.names
         and all(l.endswith("online") for l in lines)
         and [l.split()[1] for l in lines] == ["1.%d" % (i % 3) for i in range(DEVICES)],
         "bhfleet lists each gateway once, online, with its version", o + e)
    fleet.watch(bhfleet)
    when, d = fleet.wait_watch(lambda d: False, 2)  # the snapshot
    mark = len(fleet.watcher["lines"])
    fleet.reporters[2].send_status(status(version="1.2", workloads=(("web", "failed", 5),)))
    when, d = fleet.wait_watch(lambda d: d.get("device") == fleet.names[2] and d.get("workloads_running") == 0,
                               30, start=mark)
    t.ok(d is not None, "a workload that fails on one gateway shows in bhfleet --watch",
         "".join(l for _, l in fleet.watcher["lines"]))
    for r in fleet.reporters:
        r.stop()
    rc, o, e = fleet.fleet(bhfleet)
    lines = o.splitlines()[1:]
    t.ok(rc == 0 and len(lines) == DEVICES and all(l.endswith("offline") for l in lines),
         "after a clean stop bhfleet shows every gateway offline", o + e)
finally:
    if fleet:
        fleet.stop()
    shutil.rmtree(tmp, ignore_errors=True)
t.done()
