#!/usr/bin/python3
"""bhreport, the fleet reporter (firmware/bhreport, docs/fleet.md
"Telemetry"), built for the build host and driven as bhd drives it
(tests/lib/reporter_fixture.py), against Debian's mosquitto on loopback
with mutual TLS, require_certificate, use_identity_as_username, a
per-device ACL and a CRL (tests/lib/mqtt_fixture.py); bhfleet reads the
fleet as an operator.

Checks: the retained status and its fields (the SBOM's digest and the
advisories an OSV file matches), republished on change but not for uptime
alone, and every status period; events in order at QoS 1; the commands
sync and report, and anything else ignored and logged; "offline" at a
clean stop and as the last will; bhfleet's lines, JSON and cache.
Faults (docs/fleet.md): the broker down at boot, a broker certificate from
another CA, a revoked and an expired device certificate (the device says
why), an oversized packet from a fake broker, a network cut with events
queued and the reporter killed during it (they arrive in order, at least
once, none lost), a full queue (the oldest dropped, counted and reported),
a device id that is not the certificate's (the broker refuses its topics),
a bad configuration.

Environment: BH_OUTPUT, a configured O folder (the test makes its
host/bin/bhreport and host/bin/bhfleet when they are missing).
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
from tap import Tap  # noqa: E402
import bhbin  # noqa: E402,F401 (tests/run: this test starts our programs)
from mqtt_fixture import FakeBroker, Mosquitto, Pki, free_port, read_packet, MOSQUITTO  # noqa: E402
from reporter_fixture import Proxy, Reporter, Watch, config, host_programs, retained, status  # noqa: E402

t = Tap()
out = os.environ["BH_OUTPUT"]
bhreport, bhfleet = host_programs(out, "bhreport", "bhfleet")
for tool in (MOSQUITTO, shutil.which("mosquitto_sub"), shutil.which("openssl")):
    if not tool or not os.path.exists(tool):
        t.ok(False, "mosquitto, mosquitto-clients and openssl are installed (make host-tools)")
        t.done()
if not bhreport or not bhfleet or not os.path.exists(bhreport) or not os.path.exists(bhfleet):
    t.ok(False, "bhreport and bhfleet are built for the build host (make host-bhreport host-bhfleet)")
    t.done()

tmp = tempfile.mkdtemp(prefix="bh-report-")
pki = Pki(os.path.join(tmp, "pki"))
for name in ("devA", "devB", "devC", "devD", "devE", "devF", "operator", "devR"):
    pki.issue(name, name)
pki.issue("devX", "devX", start="20200101000000Z", end="20200102000000Z")
pki.revoke("devR")
crl = pki.crl()

# A small SBOM (BusyBox 1.36.1) and an OSV file with one advisory for it.
SBOM = os.path.join(tmp, "image.spdx.json")
with open(SBOM, "w") as f:
    json.dump({"spdxVersion": "SPDX-2.3", "dataLicense": "CC0-1.0", "SPDXID": "SPDXRef-DOCUMENT",
               "name": "test-image", "documentNamespace": "https://example.invalid/test",
               "creationInfo": {"created": "2026-01-01T00:00:00Z", "creators": ["Tool: test"]},
               "packages": [{"SPDXID": "SPDXRef-busybox", "name": "busybox", "versionInfo": "1.36.1",
                             "downloadLocation": "NOASSERTION",
                             "externalRefs": [{"referenceCategory": "PACKAGE-MANAGER",
                                               "referenceType": "purl",
                                               "referenceLocator": "pkg:generic/busybox@1.36.1"}]}],
               "files": [], "relationships": []}, f)
OSV = os.path.join(TOP, "tests", "fixtures", "osv", "busybox-affected.json")


def q(name):
    return os.path.join(tmp, "queue-" + name)


def cfg(port, name, **kw):
    return config(pki, port, name, q(kw.pop("queue", name)), **kw)


def fleet(broker, *args):
    r = subprocess.run([bhfleet, "--broker", "localhost:%d" % broker.port, "--ca", pki.ca,
                        "--cert", pki.path("operator.pem"), "--key", pki.path("operator.key")]
                       + list(args), capture_output=True, text=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def events_of(lines):
    return [json.loads(p) for p in lines if p.startswith("{")]


brokers = []
try:
    broker = Mosquitto(tmp, pki, crl=crl)
    brokers.append(broker)

    # --- Status -------------------------------------------------------------
    watch = Watch(broker, "bulkhead/devA/#")
    ra = Reporter(bhreport, cfg(broker.port, "devA", sbom=SBOM, advisories=OSV, status_period_s=4))
    t.ok(ra.online(), "the reporter connects over mutual TLS and tells bhd it is online", ra.text())
    line = watch.wait(lambda l: l.startswith("bulkhead/devA/status"))
    st = json.loads(line.split(" ", 2)[2]) if line else {}
    t.ok(st.get("format") == "bulkhead-status/1" and st.get("device") == "devA"
         and st.get("image", {}).get("version") == "1.0" and st["image"].get("board")
         and st["image"].get("arch") == "x86_64" and st.get("boot") == {"slot": "a", "confirmed": True,
                                                                          "watchdog_reset": False}
         and st.get("workloads", [{}])[0].get("state") == "running"
         and st.get("sync", {}).get("serial") == 1 and st.get("uptime_s") == 10
         and st.get("data_free_bytes") == 1 << 30 and st.get("time", "").endswith("Z"),
         "the status carries the image, the boot, the workloads, the sync, uptime and free space",
         line)
    digest = "sha256:" + subprocess.run(["sha256sum", SBOM], capture_output=True,
                                        text=True).stdout.split()[0]
    sb = st.get("sbom", {})
    t.ok(sb.get("digest") == digest and sb.get("advisories") == 1 and sb.get("advisories_checked") == 1
         and sb.get("affected") == 1 and sb.get("advisory_feed", "").startswith("sha256:"),
         "... the SBOM's digest and what bhsbom match finds against the OSV file (1 advisory)",
         json.dumps(sb))
    r, v = retained(broker, "bulkhead/devA/status")
    t.ok(r == "1" and json.loads(v).get("device") == "devA",
         "a later subscriber gets the status retained", "%s %s" % (r, v))

    mark = watch.count()
    stable, vol = status()
    ra.send_status((stable, {"uptime_s": 11, "data_free_bytes": 1 << 29}))
    time.sleep(2.5)
    t.ok(not watch.wait(lambda l: l.startswith("bulkhead/devA/status"), 0.1, start=mark),
         "uptime and free space alone do not republish the status", watch.lines[mark:])
    ra.send_status(status(workloads=(("web", "restarting", 1),)))
    line = watch.wait(lambda l: l.startswith("bulkhead/devA/status") and '"restarting"' in l, start=mark)
    t.ok(line, "a workload's state change is published", watch.lines[mark:])
    mark = watch.count()
    t.ok(watch.wait(lambda l: l.startswith("bulkhead/devA/status"), 10, start=mark),
         "with nothing changed, the status is published again after its period (4 s)",
         watch.lines[mark:])

    # --- Events -------------------------------------------------------------
    mark, rmark = watch.count(), ra.count()
    ids = [ra.event(type="installed", workload="web", version="1.%d" % i) for i in range(5)]
    t.ok(all(ra.wait(lambda m, i=i: m.get("queued_id") == i) for i in ids),
         "each event is acknowledged to bhd once it is on /data", ra.text())
    watch.wait(lambda l: '"version":"1.4"' in l, start=mark)
    evs = events_of(watch.payloads("bulkhead/devA/events"))
    t.ok([e["version"] for e in evs] == ["1.%d" % i for i in range(5)]
         and [e["seq"] for e in evs] == list(range(1, 6))
         and all(e["format"] == "bulkhead-event/1" and e["device"] == "devA" and e["type"] == "installed"
                 for e in evs), "events arrive at QoS 1, in order, with seq 1 to 5", evs)
    t.ok(ra.wait(lambda m: m.get("connection") == "online" and m.get("queued") == 0, 5, start=rmark)
         and sorted(os.listdir(q("devA"))) == ["queue.json"],
         "acknowledged events leave /data (only queue.json stays)", os.listdir(q("devA")))

    # --- Commands -----------------------------------------------------------
    def command(payload, *extra):
        p = broker.client("mosquitto_pub", "operator", "-t", "bulkhead/devA/cmd", "-q", "1", "-m", payload,
                          *extra)
        p.communicate(timeout=10)

    mark, lmark = ra.count(), ra.count("log")
    command("sync")
    t.ok(ra.wait(lambda m: m.get("cmd") == "sync", start=mark), "the broker's sync reaches bhd", ra.text())
    wmark = watch.count()
    command("report")
    t.ok(ra.wait(lambda m: m.get("cmd") == "report", start=mark)
         and watch.wait(lambda l: l.startswith("bulkhead/devA/status"), 5, start=wmark),
         "report reaches bhd and publishes the status now", ra.text())
    mark = ra.count()
    for bad in ("reboot", "sync now", "SYNC", '{"cmd":"install","bundle":"x"}', "x" * 300):
        command(bad)
    ok = ra.wait_log("... (300 bytes)", 10, start=lmark)
    log = "\n".join(ra.log[lmark:])
    t.ok(ok and 'ignored a message on "bulkhead/devA/cmd": "reboot"' in log
         and '"sync now"' in log and '"SYNC"' in log and '\\x22cmd\\x22:\\x22install' in log
         and "... (300 bytes)" in log and not ra.wait(lambda m: "cmd" in m, 1, start=mark),
         "anything but sync and report (other words, JSON, 300 bytes) is ignored and logged; "
         "nothing reaches bhd", log)

    # A retained command would act again at every new subscription: ignored.
    broker.client("mosquitto_pub", "operator", "-t", "bulkhead/devB/cmd", "-q", "1", "-r",
                  "-m", "sync").communicate(timeout=10)
    # --- bhfleet ------------------------------------------------------------
    rb = Reporter(bhreport, cfg(broker.port, "devB"), stat=status(version="2.0", slot="b", confirmed=False,
                                                                  workloads=(("web", "running", 0),
                                                                             ("vm", "failed", 5))))
    rb.online()
    t.ok(rb.wait_log('ignored a message on "bulkhead/devB/cmd" (retained): "sync"')
         and not rb.wait(lambda m: "cmd" in m, 1), "a retained sync is ignored and logged", rb.text())
    broker.client("mosquitto_pub", "operator", "-t", "bulkhead/devB/cmd", "-r", "-n").communicate(timeout=10)
    time.sleep(1)
    rc, o, e = fleet(broker)
    lines = o.splitlines()
    t.ok(rc == 0 and len(lines) == 3 and lines[0].split()[:3] == ["DEVICE", "VERSION", "SLOT"]
         and lines[1].split()[:6] == ["devA", "1.0", "a", "yes", "0/1", "1"] and lines[1].endswith("online")
         and lines[2].split()[:6] == ["devB", "2.0", "b", "no", "1/2", "-"] and lines[2].endswith("online"),
         "bhfleet: one line per device: version, slot, confirmed, workloads running/total, "
         "advisories, last seen, online", o + e)
    rc, o, e = fleet(broker, "--json")
    js = json.loads(o) if rc == 0 else []
    t.ok([d["device"] for d in js] == ["devA", "devB"] and js[1]["workloads_total"] == 2
         and js[1]["confirmed"] is False and js[0]["advisories"] == 1 and js[0]["status"]["device"] == "devA",
         "bhfleet --json", o + e)
    cache = os.path.join(tmp, "fleet-cache.json")
    fleet(broker, "--cache", cache)

    # A clean stop: "offline" over the retained status, no will needed.
    mark = watch.count()
    t.ok(ra.stop() == 0 and watch.wait(lambda l: l == "bulkhead/devA/status 0 offline", 5, start=mark)
         and "Received DISCONNECT from devA" in broker.read_log(),
         "a clean stop publishes \"offline\" and disconnects", "%s\n%s" % (watch.lines[mark:], ra.text()))
    # The end of bhd's pipe, or a crash: the broker publishes the will.
    wb = Watch(broker, "bulkhead/devB/status")
    rb.kill()
    t.ok(wb.wait(lambda l: l == "bulkhead/devB/status 0 offline", 10),
         "a reporter that dies leaves its last will, \"offline\"", wb.lines)
    rc, o, e = fleet(broker, "--cache", cache)
    lines = o.splitlines()
    t.ok(rc == 0 and lines[1].split()[:3] == ["devA", "1.0", "a"] and lines[1].endswith("offline")
         and lines[2].split()[:3] == ["devB", "2.0", "b"] and lines[2].endswith("offline"),
         "bhfleet shows offline devices, with their last status from its cache", o + e)
    rc, o, e = fleet(broker)
    t.ok(rc == 0 and o.splitlines()[1].split()[1] == "-" and o.splitlines()[1].endswith("offline"),
         "... and without a cache only that they are offline", o)

    # --- Faults: the broker down at boot -------------------------------------
    port = free_port()
    rc_ = Reporter(bhreport, cfg(port, "devC"))
    m = rc_.wait(lambda m: m.get("connection") == "offline" and "Connection refused" in m.get("error", ""))
    ids = [rc_.event(type="sync error", error="e%d" % i) for i in range(3)]
    t.ok(m and all(rc_.wait(lambda x, i=i: x.get("queued_id") == i) for i in ids),
         "the broker down at boot: bhd is told why; events are queued meanwhile", rc_.text())
    late = Mosquitto(tmp, pki, port=port, crl=crl)
    brokers.append(late)
    wc = Watch(late, "bulkhead/devC/#")
    t.ok(rc_.online(20) and wc.wait(lambda l: '"error":"e2"' in l, 20),
         "once the broker is up the reporter connects and sends what was queued", rc_.text())
    t.ok([e["error"] for e in events_of(wc.payloads("bulkhead/devC/events"))] == ["e0", "e1", "e2"],
         "... in order", wc.lines)
    rc_.stop()

    # --- Faults: certificates -------------------------------------------------
    other = Mosquitto(tmp, pki, cert=pki.other_broker)
    brokers.append(other)
    rx = Reporter(bhreport, cfg(other.port, "devD"))
    m = rx.wait(lambda m: "not correctly signed by the trusted CA" in m.get("error", ""))
    t.ok(m and not rx.online(1) and "the broker's certificate is not trusted" in m["error"],
         "a broker certificate from another CA is refused, and bhd is told why", rx.text())
    rx.stop()
    rr = Reporter(bhreport, cfg(broker.port, "devR"))
    m = rr.wait(lambda m: "certificate revoked" in m.get("error", ""))
    t.ok(m and rr.wait_log("certificate revoked", 5) and not rr.online(1),
         "a revoked device certificate: refused by the broker; the device logs and reports why", rr.text())
    rr.stop()
    rx = Reporter(bhreport, cfg(broker.port, "devX"))
    m = rx.wait(lambda m: "certificate expired" in m.get("error", ""))
    t.ok(m and "this device's certificate expired on 2020-01-02" in m["error"],
         "an expired device certificate: refused, and the device names the date", rx.text())
    rx.stop()

    # --- Faults: another device's topics --------------------------------------
    # devE's certificate, configured as device devF: everything it
    # publishes is under bulkhead/devF/, which the ACL refuses devE.
    rf = Reporter(bhreport, cfg(broker.port, "devE", device="devF"))
    rf.online()
    rf.event(type="installed", workload="forged")
    time.sleep(2)
    log = broker.read_log()
    rc, o, e = fleet(broker)
    t.ok(rf.wait_log('the certificate\'s CN "devE" is not the device id "devF"', 5)
         and "as devF (p2, c0, k60, u'devE')" in log
         and "Denied PUBLISH from devF" in log and "'bulkhead/devF/status'" in log
         and "'bulkhead/devF/events'" in log and "devF" not in o,
         "a device writing under another device's topics is refused by the broker (and warned at start)",
         rf.text() + log[-1500:] + o)
    rf.stop()

    # --- Faults: a network cut with events queued, and a power cut in it -----
    proxy = Proxy(broker.port)
    wd = Watch(broker, "bulkhead/devD/events")
    dcfg = cfg(proxy.port, "devD")
    rd = Reporter(bhreport, dcfg)
    rd.online()
    for i in range(3):
        rd.event(type="installed", workload="w%d" % i)
    wd.wait(lambda l: '"w2"' in l)
    proxy.cut()
    rd.wait(lambda m: m.get("connection") == "offline")
    ids = [rd.event(type="installed", workload="w%d" % i) for i in range(3, 8)]
    all(rd.wait(lambda m, i=i: m.get("queued_id") == i) for i in ids)
    rd.kill()  # the power goes during the cut
    queued = sorted(f for f in os.listdir(q("devD")) if f.startswith("e"))
    rd = Reporter(bhreport, dcfg)
    ids = [rd.event(type="installed", workload="w%d" % i) for i in range(8, 10)]
    all(rd.wait(lambda m, i=i: m.get("queued_id") == i) for i in ids)
    proxy.restore()
    t.ok(len(queued) >= 5 and rd.online(30) and wd.wait(lambda l: '"w9"' in l, 30),
         "a network cut: the 5 events of the cut (and any not yet acknowledged) stay on /data across "
         "a power cut, and are sent once the link is back",
         "%s\n%s" % (queued, rd.text()))
    time.sleep(1)
    evs = events_of(wd.payloads("bulkhead/devD/events"))
    names = [e["workload"] for e in evs]
    firsts = [names.index("w%d" % i) if "w%d" % i in names else -1 for i in range(10)]
    t.ok(all(f >= 0 for f in firsts) and firsts == sorted(firsts)
         and sorted(set(e["seq"] for e in evs)) == list(range(1, 11)),
         "... every event arrived, at least once, in order of seq 1 to 10 (%d deliveries)" % len(evs), names)
    rd.stop()
    proxy.stop()

    # --- Faults: a full queue ------------------------------------------------
    port = free_port()
    rq = Reporter(bhreport, cfg(port, "devB", queue="devB-full", queue_max=5))
    rq.wait(lambda m: m.get("connection") == "offline")
    ids = [rq.event(type="crash loop", workload="w%d" % i) for i in range(8)]
    all(rq.wait(lambda m, i=i: m.get("queued_id") == i) for i in ids)
    m = rq.wait(lambda m: m.get("dropped") == 3 and m.get("queued") == 5)
    late2 = Mosquitto(tmp, pki, port=port, crl=crl)
    brokers.append(late2)
    wq = Watch(late2, "bulkhead/devB/#")
    rq.online(20)
    wq.wait(lambda l: '"w7"' in l, 20)
    st = wq.wait(lambda l: l.startswith("bulkhead/devB/status") and '"dropped":3' in l, 10)
    evs = events_of(wq.payloads("bulkhead/devB/events"))
    t.ok(m and [e["workload"] for e in evs] == ["w3", "w4", "w5", "w6", "w7"]
         and [e["seq"] for e in evs] == [4, 5, 6, 7, 8] and st,
         "a full queue (5) drops the 3 oldest of 8 events, counts them for bhd and in the status; "
         "the seq gap shows it", "%s\n%s\n%s" % (m, [e["workload"] for e in evs], rq.text()))
    rq.stop()

    # --- Faults: an oversized packet from a broker ----------------------------
    def oversized(conn, n):
        read_packet(conn)
        conn.sendall(bytes([0x20, 2, 0, 0]))  # CONNACK
        read_packet(conn)                     # SUBSCRIBE
        conn.sendall(bytes([0x30, 0xff, 0xff, 0xff, 0x7f]))  # a 256 MiB PUBLISH
        time.sleep(1)
    fb = FakeBroker(pki, oversized)
    ro = Reporter(bhreport, cfg(fb.port, "devA", queue="devA-fake"))
    m = ro.wait(lambda m: "exceeds the limit" in m.get("error", ""))
    t.ok(m and "PUBLISH: packet of 268435460 bytes exceeds the limit of 65536 bytes" in m["error"]
         and ro.proc.poll() is None,
         "a broker announcing a 256 MiB packet: the connection is dropped, the reporter goes on",
         ro.text())
    ro.stop()
    fb.stop()

    # --- A bad configuration ------------------------------------------------
    bad = cfg(broker.port, "devA", device="dev/A")
    p = subprocess.run([bhreport], input=json.dumps({"config": bad}) + "\n", capture_output=True,
                       text=True, timeout=10)
    t.ok(p.returncode == 2 and "$.config.device: \"dev/A\" is not a device id" in p.stderr,
         "a device id that cannot be a topic level is refused, naming the field", p.stderr)
    p = subprocess.run([bhreport], input='{"config": {"host": 1}}\n', capture_output=True, text=True,
                       timeout=10)
    t.ok(p.returncode == 2 and "$.config.host: expected a string" in p.stderr,
         "a malformed configuration names the field", p.stderr)
finally:
    Reporter.stop_all()
    for b in brokers:
        b.stop()
    shutil.rmtree(tmp, ignore_errors=True)
t.done()
