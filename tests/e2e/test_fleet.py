#!/usr/bin/python3
"""Fleet sync end to end (docs/fleet.md): a production image, which has no
shell, provisioned through its ESP, converges to the desired state its
group's tag names in a registry, with no console input.

The test starts Debian's docker-registry on the build host's 127.0.0.1
(TLS from a CA the test makes, whose server certificate also names
10.0.2.2, the host as the gateway sees it through QEMU's user network;
htpasswd auth) and pushes:
  - the image's own demo workloads (demo-web, demo-vm) as bundle artifacts;
  - a good update file (this tree at a newer version);
  - a bad update file (newer still: the good one's parts, a byte of its
    root changed, signed again: dm-verity refuses that root on every try,
    so it never gets healthy);
  - state 1: both demo workloads and the good update, polled every 10 s.
Then a copy of disk.img, provisioned with `bhpack provision`, boots through
the firmware (start-qemu.sh) and:
  1. takes its provisioning from the ESP, polls, confirms its boot,
     downloads the update;
  2. writes it, reboots into slot B on trial, keeps it, and applies state 1
     whole; demo-web answers through a forwarded port;
  3. state 2 drops demo-vm: it is removed;
  4. state 3 names the bad update: written, tried three times, rolled
     back; the gateway says so and runs the good version on;
  5. the power button: a clean poweroff.
  6. /data damaged on the host while it is off: the next boot repairs it
     and reports the repair as an event.

Telemetry (docs/fleet.md, "Telemetry") rides along on the same boots: the
test also starts Debian's mosquitto on 127.0.0.1 (mutual TLS with
require_certificate, use_identity_as_username and the per-device ACL of
tests/lib/mqtt_fixture.py), and the gateway is provisioned with a device
identity (`bhpack provision --device-id --ca-key --ca-cert`, a key and a
certificate signed by the test's device CA) and that broker. An operator
subscribed to the gateway's topics sees its retained status (version,
slot, confirmed), the events of the update kept, the workload removed and
the update rolled back, in order, bhfleet's line for it, and "offline"
published on the status topic when it powers off.

Runs on the QEMU boards' production images (x86_64 and ARM64).
Environment: BH_OUTPUT (a built O folder), BH_TESTS_OUTPUT (scratch).
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap  # noqa: E402
from qemu import Machine, Timeout  # noqa: E402
import image  # noqa: E402
import registry_servers as rs  # noqa: E402
import mqtt_fixture as mf  # noqa: E402
import disk_image  # noqa: E402
from reporter_fixture import Watch, host_programs, retained  # noqa: E402

t = Tap()
out = os.environ["BH_OUTPUT"]
cfg = image.config(out)
if cfg["BH_PROFILE"] != "production" or not os.path.exists(
        os.path.join(TOP, "board", cfg["BH_BOARD_NAME"], "qemu-kernel.args")):
    t.skip("fleet sync end to end", "runs on the QEMU boards' production images")
    t.done()

images = os.path.join(out, "images")
bhpack = os.path.join(out, "host", "bin", "bhpack")
scratch = tempfile.mkdtemp(prefix="bh-fleet-", dir=os.environ.get("BH_TESTS_OUTPUT"))
KEYS = os.path.join(TOP, "board", "common", "keys")
STATE_KEY = os.path.join(KEYS, "bulkhead-TEST-ONLY-state.key.pem")
PASSWORD = "fleet test password"
ENV = dict(os.environ, BHPACK_REGISTRY_PASSWORD=PASSWORD)
GROUP = "lab"
POLL = 10
DEVICE = "gw-0001"
STATUS, EVENTS = "bulkhead/%s/status" % DEVICE, "bulkhead/%s/events" % DEVICE


def p(*x):
    return os.path.join(scratch, *x)


def make(*args, o=out):
    r = subprocess.run(["make", "-C", TOP, "O=" + o] + list(args), capture_output=True, text=True)
    return r.returncode == 0, (r.stdout + r.stderr)[-3000:]


def bh(*args):
    r = subprocess.run([bhpack] + list(args), capture_output=True, text=True, env=ENV, timeout=600)
    if r.returncode != 0:
        raise RuntimeError("bhpack %s: %s" % (args[0], r.stderr.strip()))
    return r.stdout.strip()


def push(path, tag):
    return bh("push", "--ca", pki.ca, "--user", "gw", path, "%s/fleet:%s" % (reg.host, tag))


def publish(serial, workloads, firmware):
    args = ["state", "--key", STATE_KEY, "--group", GROUP, "--serial", str(serial),
            "--valid-days", "2", "--poll-interval", str(POLL), "-o", p("state-%d" % serial)]
    for name, digest in workloads:
        args += ["--workload", "%s=1.0@%s" % (name, digest)]
    args += ["--firmware", "%s@%s" % firmware]
    bh(*args)
    return bh("push", "--ca", pki.ca, "--user", "gw", "--state", p("state-%d" % serial),
              "%s/fleet:group-%s" % (reg.host, GROUP))


def web_answers(port):
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=10)
        s.sendall(b"GET / HTTP/1.0\r\nHost: gw\r\n\r\n")
        s.settimeout(10)
        data = s.recv(200)
        s.close()
        return data.startswith(b"HTTP/1.") and b" 200 " in data.split(b"\r\n")[0]
    except OSError:
        return False


def status_where(watch, pred, timeout, start=0):
    """The first status the operator saw (from line start on) for which
    pred(status) holds, parsed; None after timeout seconds."""
    def match(line):
        topic, _, payload = line.split(" ", 2)
        if topic != STATUS or not payload.startswith("{"):
            return False
        return pred(json.loads(payload))
    line = watch.wait(match, timeout, start)
    return json.loads(line.split(" ", 2)[2]) if line else None


def events_seen(watch):
    """The gateway's events as the operator got them, each seq once (QoS 1
    may deliver one twice), in the order they arrived."""
    seen, evs = set(), []
    for e in watch.events(EVENTS):
        if e.get("seq") not in seen:
            seen.add(e.get("seq"))
            evs.append(e)
    return evs


def event_where(watch, pred, timeout):
    deadline = time.time() + timeout
    while True:
        e = next((e for e in events_seen(watch) if pred(e)), None)
        if e or time.time() >= deadline:
            return e
        time.sleep(1)


def fleet_view():
    r = subprocess.run([bhfleet, "--broker", "localhost:%d" % broker.port, "--ca", mpki.ca,
                        "--cert", mpki.path("operator.pem"), "--key", mpki.path("operator.key"),
                        "--json"], capture_output=True, text=True, timeout=60)
    try:
        return [d for d in json.loads(r.stdout) if d.get("device") == DEVICE], r.stdout + r.stderr
    except ValueError:
        return [], r.stdout + r.stderr


def step(name, m, pattern, timeout):
    """One expected console line: a check, and its match (None on timeout)."""
    try:
        mt = m.expect(pattern, timeout)
        t.ok(True, name)
        return mt
    except Timeout as e:
        t.ok(False, name, str(e)[-2500:])
        return None


# --- the artifacts -----------------------------------------------------------
ok, log = make("all")
t.ok(ok, "the image of this tree", log)
cur = open(os.path.join(out, "build", "image-version")).read().strip()
good_ver, bad_ver = cur + ".1", cur + ".2"
ok, log = make("BH_IMAGE_VERSION=" + good_ver, "update-image")
t.ok(ok, "make update-image BH_IMAGE_VERSION=%s (the good update)" % good_ver, log)
shutil.copy(os.path.join(images, "update-%s.bhu" % good_ver), p("good.bhu"))
# The bad update: the good one's members with a byte of its root changed,
# signed again with the (TEST-ONLY) update key as a vendor's bad build
# would be: every check passes, and dm-verity refuses the root on each try.
members = p("members")
with tarfile.open(p("good.bhu")) as tf:
    for n in ("sbom.spdx.json", "uki-a.efi", "uki-b.efi", "slot.img", "manifest.json"):
        tf.extract(n, members)
with open(os.path.join(members, "manifest.json")) as f:
    um = json.load(f)
with open(os.path.join(members, "slot.img"), "r+b") as f:
    f.seek(1024)
    b = f.read(1)
    f.seek(1024)
    f.write(bytes([b[0] ^ 0xFF]))
r = subprocess.run([bhpack, "update", "--key", os.path.join(TOP, cfg.get(
    "BH_UPDATE_SIGNING_KEY", "board/common/keys/bulkhead-TEST-ONLY-update.key.pem")),
    "--board", um["board"], "--arch", um["arch"], "--version", bad_ver,
    "--sbom", os.path.join(members, "sbom.spdx.json"),
    "--uki-a", os.path.join(members, "uki-a.efi"), "--uki-b", os.path.join(members, "uki-b.efi"),
    "--slot", os.path.join(members, "slot.img"), "-o", p("bad.bhu")],
    capture_output=True, text=True)
t.ok(r.returncode == 0, "a signed update %s whose root dm-verity refuses (the bad update)"
     % bad_ver, r.stderr)
shutil.rmtree(members, ignore_errors=True)
ok, log = make("all")  # disk.img is this tree's own version again
t.ok(ok and open(os.path.join(out, "build", "image-version")).read().strip() == cur,
     "the image is version %s again" % cur, log)

pki = rs.Pki(p("pki"), server_san="DNS:localhost,IP:127.0.0.1,IP:10.0.2.2")
reg = rs.Registry(p("reg"), pki, users={"gw": PASSWORD})
# The broker: its own device CA (the vendor's, which signs each gateway's
# certificate at provisioning), a certificate that names 10.0.2.2 too, and
# an operator's identity for the subscriber and bhfleet.
mpki = mf.Pki(p("mqtt-pki"), server_san="DNS:localhost,IP:127.0.0.1,IP:10.0.2.2")
mpki.issue("operator", "operator")
broker = mf.Mosquitto(p("mqtt"), mpki)
bhfleet = host_programs(out, "bhfleet")[0]
m = watch = None
try:
    watch = Watch(broker, "bulkhead/%s/#" % DEVICE)
    demo = os.path.join(out, "build", "demo")
    web = push(os.path.join(demo, "demo-web.bundle"), "demo-web")
    vm = push(os.path.join(demo, "demo-vm.bundle"), "demo-vm")
    good = push(p("good.bhu"), "firmware-" + good_ver)
    bad = push(p("bad.bhu"), "firmware-" + bad_ver)
    publish(1, [("demo-web", web), ("demo-vm", vm)], (good_ver, good))
    t.ok(True, "pushed the demo bundles, two updates and state 1 to %s" % reg.host)

    disk = p("disk.img")
    subprocess.run(["cp", "--sparse=always", os.path.join(images, "disk.img"), disk], check=True)
    with open(p("password"), "w") as f:
        f.write(PASSWORD + "\n")
    bh("provision", "--disk", disk, "--registry", "10.0.2.2:%d" % reg.port,
       "--repository", "fleet", "--group", GROUP, "--ca", pki.ca, "--user", "gw",
       "--password-file", p("password"), "--poll-interval", str(POLL),
       "--device-id", DEVICE, "--ca-key", mpki.path("ca.key"), "--ca-cert", mpki.ca,
       "--broker", "10.0.2.2:%d" % broker.port, "--broker-ca", mpki.ca)
    t.ok(True, "bhpack provision wrote the provisioning, with a device identity and the broker, "
         "onto the ESP of a copy of disk.img")

    web_port = rs.free_port()
    env = dict(os.environ, BULKHEAD_DISK=disk,
               BULKHEAD_HOSTFWD="tcp:127.0.0.1:%d-:8080" % web_port)
    log = os.path.join(out, "e2e-fleet.log")
    arm = cfg["BH_ARCH"] == "aarch64"
    slow = 2 if arm else 1

    # 1. First boot: provisioning, a poll, the confirmed boot, the update.
    m = Machine(images, log_path=log, env=env, script="start-qemu.sh")
    step("the gateway takes its provisioning from the ESP", m,
         r"bhd: fleet: provisioned from the ESP: registry 10\.0\.2\.2:%d, group %s"
         % (reg.port, GROUP), 240 * slow)
    step("state 1 is verified and applied but for its firmware (the boot is not confirmed "
         "yet)", m, r"fleet: state serial 1 applied but for its firmware", 120 * slow)
    step("the boot is confirmed", m, r"bhd: slot a \(version [^)]*\) boot healthy", 180 * slow)
    st = status_where(watch, lambda s: s.get("image", {}).get("version") == cur
                      and s.get("boot", {}).get("slot") == "a" and s["boot"].get("confirmed"),
                      120 * slow)
    flag, payload = retained(broker, STATUS)
    t.ok(st and st.get("device") == DEVICE and st.get("format") == "bulkhead-status/1"
         and st["image"].get("board") == cfg["BH_BOARD_NAME"] and flag == "1"
         and json.loads(payload or "{}").get("device") == DEVICE,
         "the gateway's status appears on the broker, retained, under its identity: version %s, "
         "slot a, confirmed" % cur, "%s\n%s %s\n%s" % (st, flag, payload, broker.read_log()[-2000:]))
    step("the update is written and the gateway reboots into it", m,
         r"fleet: rebooting into the new slot on trial", 300 * slow)
    step("slot b boots the new version on trial", m,
         r"bhd: slot b, version %s: new \(on trial\)" % re.escape(good_ver), 300 * slow)
    step("the update is kept and state 1 applied whole", m,
         r"bhd: fleet: update %s kept; state serial 1 applied" % re.escape(good_ver),
         300 * slow)
    deadline = time.time() + 120 * slow
    while not web_answers(web_port) and time.time() < deadline:
        time.sleep(3)
    t.ok(web_answers(web_port), "demo-web answers through the forwarded port")
    st = status_where(watch, lambda s: s.get("image", {}).get("version") == good_ver
                      and s.get("boot", {}).get("slot") == "b" and s["boot"].get("confirmed"),
                      60 * slow)
    t.ok(st, "the status says version %s, slot b, confirmed" % good_ver, "\n".join(watch.lines[-5:]))
    applied = event_where(watch, lambda e: e.get("type") == "update applied"
                          and e.get("version") == good_ver, 30)
    kept = event_where(watch, lambda e: e.get("type") == "update kept"
                       and e.get("version") == good_ver, 30)
    t.ok(applied and applied.get("slot") == "b" and kept and applied["seq"] < kept["seq"],
         "the events say the update %s was applied to slot b and then kept" % good_ver,
         json.dumps(events_seen(watch), indent=1)[-3000:])

    # 3. A state without demo-vm.
    publish(2, [("demo-web", web)], (good_ver, good))
    step("state 2: demo-vm is removed", m, r"fleet: workload demo-vm removed \(not in the state\)",
         120 * slow)
    step("state 2 is applied", m, r"bhd: fleet: state serial 2 applied", 60 * slow)
    removed = event_where(watch, lambda e: e.get("type") == "removed"
                          and e.get("workload") == "demo-vm", 30)
    t.ok(removed and kept and removed["seq"] > kept["seq"], "an event says demo-vm was removed",
         json.dumps(events_seen(watch), indent=1)[-3000:])

    # 4. A state naming an update that never gets healthy.
    publish(3, [("demo-web", web)], (bad_ver, bad))
    step("state 3: the bad update is written and booted on trial", m,
         r"fleet: rebooting into the new slot on trial", 180 * slow)
    step("dm-verity refuses the bad update's root", m,
         r"verity: [0-9:]+: data block \d+ is corrupted", 300 * slow)
    step("after its tries the gateway rolls back and says so", m,
         r"bhd: fleet: update %s rolled back \(running %s\)" % (re.escape(bad_ver),
                                                                  re.escape(good_ver)),
         600 * slow)
    deadline = time.time() + 120 * slow
    while not web_answers(web_port) and time.time() < deadline:
        time.sleep(3)
    t.ok(web_answers(web_port), "demo-web answers again after the rollback")
    rolled = event_where(watch, lambda e: e.get("type") == "rolled back", 60 * slow)
    bad_applied = event_where(watch, lambda e: e.get("type") == "update applied"
                              and e.get("version") == bad_ver, 5)
    t.ok(rolled and rolled.get("version") == bad_ver and rolled.get("running") == good_ver
         and bad_applied and bad_applied.get("slot") == "a" and removed
         and removed["seq"] < bad_applied["seq"] < rolled["seq"],
         "the events say the update %s was applied to slot a and rolled back (running %s)"
         % (bad_ver, good_ver), json.dumps(events_seen(watch), indent=1)[-3000:])
    # A poll (every 10 s here) is no news: the status is published on
    # change, and the state of the sync it carries leaves polls out.
    polling = [l for l in watch.payloads(STATUS) if '"state":"polling"' in l]
    t.ok(watch.payloads(STATUS) and not polling,
         "no status is published for a poll alone", "%d of %d statuses say polling"
         % (len(polling), len(watch.payloads(STATUS))))
    seqs = [e["seq"] for e in events_seen(watch)]
    t.ok(seqs == sorted(seqs) and len(seqs) == len(set(seqs)),
         "the events arrived in order of their seq", str(seqs))
    st = status_where(watch, lambda s: bad in s.get("sync", {}).get("rolled_back", [])
                      and s.get("image", {}).get("version") == good_ver, 60 * slow)
    t.ok(st, "the status names the rolled back update and the version running",
         "\n".join(watch.lines[-5:]))
    view, text = fleet_view()
    t.ok(len(view) == 1 and view[0].get("version") == good_ver and view[0].get("slot") == "b"
         and view[0].get("online") is True,
         "bhfleet shows the gateway online, running %s from slot b" % good_ver, text)

    # 5. The power button: bhd stops bhreport first, which publishes
    # "offline" over the retained status and disconnects cleanly.
    mark, log_mark = watch.count(), len(broker.read_log())
    m.qmp("system_powerdown")
    try:
        status = m.wait_exit(120 * slow)
    except Timeout as e:
        status = str(e)
    t.ok(status == 0, "the power button ends in a clean poweroff", str(status))
    line = watch.wait(lambda l: l == STATUS + " 0 offline", 30, start=mark)
    flag, payload = retained(broker, STATUS)
    # The broker's log tells the gateway's own "offline" and DISCONNECT
    # from the last will it would publish for a connection that just broke.
    log = broker.read_log()[log_mark:]
    t.ok(line and [flag, payload] == ["1", "offline"]
         and re.search(r"Received PUBLISH from %s \(d0, q1, r1, m\d+, '%s', \.\.\. \(7 bytes\)\)"
                       % (DEVICE, STATUS), log)
         and "Received DISCONNECT from %s" % DEVICE in log,
         "powered off, the gateway publishes \"offline\" (retained) itself and disconnects cleanly",
         "%s %s\n%s\n%s" % (flag, payload, m.tail(1500), log[-2500:]))
    view, text = fleet_view()
    t.ok(len(view) == 1 and view[0].get("online") is False, "bhfleet shows it offline", text)

    # 6. /data found damaged at the next boot (issue 17), made on the host
    # as test_power_cut.py makes it: an installed manifest's inode cleared
    # while its folder still names it, and the filesystem marked as having
    # errors, as ext4 marks one it met damage in. init's e2fsck -p clears
    # the entry and the installed workloads are reinstalled; the gateway
    # says so in an event once it is back online.
    part = "%s?offset=%d" % (disk, disk_image.partitions(disk)["bulkhead-data"]["start"] * 512)
    sbin = lambda tool: shutil.which(tool) or "/sbin/" + tool  # noqa: E731
    subprocess.run([sbin("e2fsck"), "-fy", part], capture_output=True)
    ls = subprocess.run([sbin("debugfs"), "-R", "ls -l /manifests", part], capture_output=True, text=True)
    files = [l.split()[0] for l in ls.stdout.splitlines() if l.split()[1:2] and l.split()[1].startswith("100")]
    t.ok(bool(files), "the powered-off gateway's /data holds installed manifests", ls.stdout + ls.stderr)
    for cmd in (["debugfs", "-w", "-R", "clri <%s>" % (files or ["0"])[0]], ["tune2fs", "-E", "force_fsck"]):
        subprocess.run([sbin(cmd[0])] + cmd[1:] + [part], capture_output=True)
    m = Machine(images, log_path=os.path.join(out, "e2e-fleet-data.log"), env=env, script="start-qemu.sh")
    step("init finds /data marked as having errors and reinstalls the workloads", m,
         r"init: data: the repair may have lost files: removing the installed workloads", 240 * slow)
    ev = event_where(watch, lambda e: e.get("type") == "data repaired", 240 * slow)
    t.ok(ev and ev.get("reinstall") is True and ev.get("mounted") == "ext4" and ev.get("fsck", 0) > 0,
         "the repair of /data is reported as an event (%s)" % json.dumps(ev),
         "\n".join(json.dumps(e) for e in events_seen(watch)[-5:]) + "\n" + m.tail(1500))
finally:
    if m:
        m.kill()
    reg.stop()
    broker.stop()
shutil.rmtree(scratch, ignore_errors=True)
t.done()
