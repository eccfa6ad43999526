#!/usr/bin/python3
"""Fleet telemetry at scale (docs/fleet.md, "Telemetry"), against Debian's
mosquitto on 127.0.0.1 (mutual TLS, require_certificate,
use_identity_as_username, a per-device ACL), started and stopped here:

- 200 simulated gateways (BH_TELEMETRY_DEVICES changes the count), each
  with its own identity from `bhpack provision` and its own bhreport (the
  device's reporting code built for the build host, fed as bhd feeds it),
  all started at once: the time until every one is online.
- Idle traffic per gateway per hour: the bytes each reporter's connection
  moves (TLS records, as the kernel counts them: ss -ti) over an idle
  window, against the same count for idle mosquitto_sub clients with the
  same keepalive (the peer: the floor an MQTT client over TLS can reach
  without publishing anything), and what one status publication costs,
  for the default period of 15 minutes.
- The broker's resident memory before and with every gateway connected.
- The time from a change of state on one gateway to `bhfleet --watch`
  showing it, over several trials.

Uses O/check/qemu_x86_64_debug from `make check` (or BH_BENCH_O) for the
host tools (made there when missing). Exits non-zero when a measurement
cannot be made.
"""
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
from mqtt_fixture import MOSQUITTO  # noqa: E402
from reporter_fixture import host_programs, status  # noqa: E402
from telemetry_sim import Fleet, rss_kib  # noqa: E402

o = os.environ.get("BH_BENCH_O", os.path.join(TOP, "output", "check", "qemu_x86_64_debug"))
N = int(os.environ.get("BH_TELEMETRY_DEVICES", "200"))
IDLE_S = int(os.environ.get("BH_TELEMETRY_IDLE", "130"))
KEEPALIVE = 60
PEERS = 10
if not os.path.exists(os.path.join(o, ".config")):
    print("bench_telemetry: %s is not configured (run make check first or set BH_BENCH_O)" % o)
    sys.exit(1)
bhreport, bhfleet, bhpack = host_programs(o, "bhreport", "bhfleet", "bhpack")
for exe in (bhreport, bhfleet, bhpack, MOSQUITTO, shutil.which("mosquitto_sub"), shutil.which("ss")):
    if not exe or not os.path.exists(exe):
        print("bench_telemetry: %s is missing" % exe)
        sys.exit(1)
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(soft, 8 * N + 256)), hard))


def bytes_by_program(port):
    """Bytes moved by the client side of each established connection to
    port (sent and received), summed per program name (ss -tinp)."""
    o = subprocess.run(["ss", "-tinpH", "state", "established", "( dport = :%d )" % port],
                       capture_output=True, text=True).stdout
    totals, name = {}, None
    for line in o.splitlines():
        if "users:((" in line:
            name = line.split('users:(("', 1)[1].split('"', 1)[0]
            continue
        for tok in line.split():
            for key in ("bytes_acked:", "bytes_received:"):
                if tok.startswith(key) and name:
                    totals[name] = totals.get(name, 0) + int(tok[len(key):])
    return totals


tmp = tempfile.mkdtemp(prefix="bh-bench-telemetry-", dir=os.environ.get("BH_BENCH_OUTPUT"))
fleet = None
peers = []
status_code = 0
try:
    t0 = time.time()
    fleet = Fleet(tmp, bhreport, bhpack, N, prefix="bench", keepalive_s=KEEPALIVE)
    print("identities: %d device keys and certificates from bhpack provision in %.1f s"
          % (N, time.time() - t0))
    broker_before = rss_kib(fleet.broker.proc.pid)
    took = fleet.start()
    if took is None:
        raise RuntimeError("not every gateway came online within 120 s")
    broker_after = rss_kib(fleet.broker.proc.pid)
    print("connect: %d gateways started at once, all online in %.2f s (%.1f ms per gateway, "
          "TLS 1.3 mutual authentication with P-256 keys, on %d cores)"
          % (N, took, 1000 * took / N, os.cpu_count()))
    print("broker memory: %d KiB resident before, %d KiB with %d gateways connected "
          "(%.1f KiB per gateway)" % (broker_before, broker_after, N,
                                      (broker_after - broker_before) / N))
    print("reporter memory: %d KiB resident (one bhreport, host build)"
          % rss_kib(fleet.reporters[0].proc.pid))

    # Idle: every gateway connected, nothing changing; the peers are
    # mosquitto_sub clients with the same keepalive, subscribed to nothing
    # that is published.
    for i in range(PEERS):
        peers.append(fleet.broker.client("mosquitto_sub", "operator", "-t", "bench/none/%d" % i,
                                         "-k", str(KEEPALIVE)))
    time.sleep(3)
    before = bytes_by_program(fleet.broker.port)
    time.sleep(IDLE_S)
    after = bytes_by_program(fleet.broker.port)
    ours = (after.get("bhreport", 0) - before.get("bhreport", 0)) / N * 3600 / IDLE_S
    peer = (after.get("mosquitto_sub", 0) - before.get("mosquitto_sub", 0)) / PEERS * 3600 / IDLE_S
    # One status publication, changed on every gateway at once.
    before = bytes_by_program(fleet.broker.port)
    for i, r in enumerate(fleet.reporters):
        r.send_status(status(version="1.%d" % (i % 3), workloads=(("web", "running", 1),)))
    time.sleep(5)
    after = bytes_by_program(fleet.broker.port)
    per_status = (after.get("bhreport", 0) - before.get("bhreport", 0)) / N
    print("idle: %.0f bytes per gateway per hour with keepalive %d s and no status due "
          "(mosquitto_sub, same keepalive: %.0f bytes; ratio %.2f)"
          % (ours, KEEPALIVE, peer, ours / peer if peer else float("nan")))
    print("status: %.0f bytes per publication (TLS, with its PUBACK); at the default period "
          "of 15 min: %.0f bytes per gateway per hour when idle" % (per_status, ours + 4 * per_status))

    # A change on one gateway until bhfleet --watch shows it.
    fleet.watch(bhfleet)
    fleet.wait_watch(lambda d: False, 3)
    delays = []
    for trial in range(7):
        k = random.randrange(N)
        r = fleet.reporters[k]
        mark = len(fleet.watcher["lines"])
        sent = time.time()
        r.send_status(status(version="9.%d" % trial))
        when, d = fleet.wait_watch(lambda d, k=k, v="9.%d" % trial: d.get("device") == fleet.names[k]
                                   and d.get("version") == v, 30, start=mark)
        if when is None:
            raise RuntimeError("bhfleet --watch never showed %s's change" % fleet.names[k])
        delays.append(1000 * (when - sent))
        time.sleep(1.2)
    print("change to view: a state change on a gateway shows in bhfleet --watch after %.0f ms "
          "(median of %d, max %.0f ms; the reporter publishes at most once a second)"
          % (statistics.median(delays), len(delays), max(delays)))
except (RuntimeError, OSError, subprocess.SubprocessError) as e:
    print("bench_telemetry: %s" % e)
    status_code = 1
finally:
    for p in peers:
        if p.poll() is None:
            p.terminate()
            p.wait(10)
    if fleet:
        fleet.stop()
    shutil.rmtree(tmp, ignore_errors=True)
sys.exit(status_code)
