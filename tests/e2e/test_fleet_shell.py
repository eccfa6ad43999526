#!/usr/bin/python3
"""Fleet sync seen from the debug image's shell (docs/fleet.md), on
x86_64 debug: what test_fleet.py cannot look at on a production image.

A provisioned copy of disk.img boots through the firmware; the registry
(Debian's docker-registry on the host's 127.0.0.1, TLS, htpasswd) sits
behind a front that serves one bundle slowly, so the first sync is still
downloading while the test:
  - finds bhsync running as its own user (64001) with no capabilities;
  - installs a bundle of its own with `bhctl install` and lists the
    workloads: bhd answers while the download runs;
then cuts the power (QEMU killed) while the slow bundle still downloads and
boots the disk again: /data is clean (e2fsck -p found it so or replayed its
journal), the provisioning is where it belongs, and the sync converges.
Once the state is applied: the locally installed workload, which the
state does not list, is removed, the slow one is installed and running;
`bhctl fleet` shows the registry, the last poll and the applied serial,
and that telemetry is not provisioned (no broker, no device identity);
the provisioning has left the ESP for /data/fleet (0600); `bhctl sync`
polls again (one request, unchanged). Then a state carries a key
revocation list that revokes the workload key: a bundle it signed is
refused, and the running workload it signed is refused at its next start.

Environment: BH_OUTPUT (a built O folder), BH_TESTS_OUTPUT (scratch).
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap  # noqa: E402
from qemu import Machine  # noqa: E402
import image  # noqa: E402
import registry_servers as rs  # noqa: E402

t = Tap()
out = os.environ["BH_OUTPUT"]
cfg = image.config(out)
if cfg["BH_PROFILE"] != "debug" or cfg["BH_ARCH"] != "x86_64":
    t.skip("fleet sync from the shell", "runs on x86_64 debug (test_fleet.py runs on every "
           "QEMU production image)")
    t.done()

images = os.path.join(out, "images")
bhpack = os.path.join(out, "host", "bin", "bhpack")
scratch = tempfile.mkdtemp(prefix="bh-fleetsh-", dir=os.environ.get("BH_TESTS_OUTPUT"))
KEYS = os.path.join(TOP, "board", "common", "keys")
PASSWORD = "shell test password"
ENV = dict(os.environ, BHPACK_REGISTRY_PASSWORD=PASSWORD)


def p(*x):
    return os.path.join(scratch, *x)


def bh(*args):
    r = subprocess.run([bhpack] + list(args), capture_output=True, text=True, env=ENV, timeout=600)
    if r.returncode != 0:
        raise RuntimeError("bhpack %s: %s" % (args[0], r.stderr.strip()))
    return r.stdout.strip()


def bundle(name, pad):
    """A container that sleeps, with BusyBox from this image, padded so that
    its download takes a while."""
    root = p("root-" + name)
    os.makedirs(os.path.join(root, "bin"))
    shutil.copy(os.path.join(out, "build", "rootfs", "bin", "busybox"), os.path.join(root, "bin"))
    with open(os.path.join(root, "pad"), "wb") as f:
        f.write(os.urandom(pad))
    with open(p(name + ".json"), "w") as f:
        json.dump({"name": name, "version": "1.0", "mode": "container",
                   "container": {"args": ["/bin/busybox", "sleep", "100000"]}}, f)
    bh("build", "--manifest", p(name + ".json"), "--rootfs", root, "--arch", "x86_64",
       "--key", os.path.join(KEYS, "bulkhead-TEST-ONLY-vendor.key.pem"), "-o", p(name + ".bundle"))
    return p(name + ".bundle")


pki = rs.Pki(p("pki"), server_san="DNS:localhost,IP:127.0.0.1,IP:10.0.2.2")
reg = rs.Registry(p("reg"), pki, users={"gw": PASSWORD})
front = rs.Front(pki, reg.port)
slow_digest = []


def slow(front, req):
    """Serves the slow bundle's blob at about 150 KiB/s."""
    if req.method != "GET" or not slow_digest or not req.path.endswith(slow_digest[0]):
        return False
    status, headers, data = front.forward(req.method, req.path, dict(req.headers), req.body)
    h = req.h
    h.send_response(status)
    for k, v in headers:
        h.send_header(k, v)
    h.send_header("Content-Length", str(len(data)))
    h.end_headers()
    try:
        for i in range(0, len(data), 32768):
            h.wfile.write(data[i:i + 32768])
            h.wfile.flush()
            time.sleep(0.2)
    except OSError:
        pass
    return True


front.fault = slow
m = None
try:
    demo = os.path.join(out, "build", "demo")
    push = lambda f, tag: bh("push", "--ca", pki.ca, "--user", "gw", f, "%s/fleet:%s" % (reg.host, tag))  # noqa: E731
    web = push(os.path.join(demo, "demo-web.bundle"), "demo-web")
    vm = push(os.path.join(demo, "demo-vm.bundle"), "demo-vm")
    slow_bundle = bundle("slow-app", 3 << 20)
    slow_m = push(slow_bundle, "slow-app")
    slow_digest.append(rs.sha256_file(slow_bundle))
    local = bundle("local-app", 1024)
    bh("state", "--key", os.path.join(KEYS, "bulkhead-TEST-ONLY-state.key.pem"), "--group", "lab",
       "--serial", "1", "--valid-days", "2", "--poll-interval", "300",
       "--workload", "demo-web=1.0@" + web, "--workload", "demo-vm=1.0@" + vm,
       "--workload", "slow-app=1.0@" + slow_m, "-o", p("s1.state"))
    bh("push", "--ca", pki.ca, "--user", "gw", "--state", p("s1.state"),
       "%s/fleet:group-lab" % reg.host)

    disk = p("disk.img")
    subprocess.run(["cp", "--sparse=always", os.path.join(images, "disk.img"), disk], check=True)
    with open(p("password"), "w") as f:
        f.write(PASSWORD)
    bh("provision", "--disk", disk, "--registry", "10.0.2.2:%d" % front.port, "--repository",
       "fleet", "--group", "lab", "--ca", pki.ca, "--user", "gw", "--password-file", p("password"))
    files = p("files")
    os.makedirs(files)
    shutil.copy(local, files)
    subprocess.run(["mksquashfs", files, p("payload.sqfs"), "-quiet", "-no-progress", "-all-root"],
                   check=True, capture_output=True)
    extra = ["-drive", "file=%s,if=none,id=payload,format=raw,readonly=on" % p("payload.sqfs"),
             "-device", "virtio-blk-pci,drive=payload,serial=payload"]
    m = Machine(images, extra, env=dict(os.environ, BULKHEAD_DISK=disk),
                log_path=os.path.join(out, "e2e-fleet-shell.log"), script="start-qemu.sh")
    m.expect(r"init: ready: ", 300)
    m.send("\n")
    m.expect(r"# ", 60)
    mount_payload = ("mkdir -p /tmp/p && for b in /sys/block/vd*; do [ \"$(cat $b/serial "
                     "2>/dev/null)\" = payload ] && mount -t squashfs -o ro /dev/${b##*/} /tmp/p; done")
    m.shell(mount_payload)

    # While the first sync downloads the slow bundle.
    deadline, seen = time.time() + 120, ""
    while time.time() < deadline:
        st, seen = m.shell("bhctl fleet")
        if "in progress: polling" in seen:
            break
        time.sleep(1)
    t.ok("in progress: polling" in seen, "bhctl fleet shows the first poll in progress", seen)
    st, o = m.shell("pid=$(pidof bhsync); grep -E '^(Uid|Gid|CapEff|CapPrm|NoNewPrivs):' "
                    "/proc/$pid/status")
    t.ok(st == 0 and "Uid:\t64001\t64001\t64001\t64001" in o and
         "CapEff:\t0000000000000000" in o and "CapPrm:\t0000000000000000" in o and
         "NoNewPrivs:\t1" in o,
         "bhsync runs as uid 64001 with no capabilities and no new privileges", o)
    st, o = m.shell("bhctl install /tmp/p/local-app.bundle", timeout=120)
    t.ok(st == 0 and "installed local-app" in o,
         "bhctl install works while the sync downloads", o)
    st, o = m.shell("bhctl list; bhctl fleet | grep 'in progress'")
    t.ok(st == 0 and "local-app" in o and "in progress: polling" in o,
         "bhctl list answers during the download, which is still running", o)

    # A power cut in the middle of the sync: QEMU killed at once, the
    # guest's page cache lost. The same disk boots again and converges.
    got = front.count("GET")
    m.proc.kill()
    m.proc.wait()
    m.kill()
    t.diag("power cut during the slow download (%d GETs served so far)" % got)
    m = Machine(images, extra, env=dict(os.environ, BULKHEAD_DISK=disk),
                log_path=os.path.join(out, "e2e-fleet-shell-after-cut.log"), script="start-qemu.sh")
    m.expect(r"init: ready: ", 300)
    m.send("\n")
    m.expect(r"# ", 60)
    st, o = m.shell("cat /run/bulkhead/data-status")
    status = dict(line.split("=", 1) for line in o.splitlines() if "=" in line)
    t.ok(status.get("mounted") == "ext4" and status.get("fsck") in ("0", "1") and status.get("repair") == "-1",
         "after the power cut /data is clean or its journal replayed (e2fsck -p exit %s), no repair"
         % status.get("fsck"), o)

    # Once the state is applied.
    deadline = time.time() + 240
    while time.time() < deadline:
        st, o = m.shell("bhctl fleet")
        if "applied:     serial 1" in o:
            break
        time.sleep(3)
    t.ok("applied:     serial 1" in o and "registry:    10.0.2.2:%d/fleet, group lab" % front.port
         in o and "last poll:" in o, "bhctl fleet: the registry, the last poll, serial 1 applied",
         o)
    # Provisioned without a broker or a device identity, the gateway
    # syncs and runs its workloads, and says locally that it does not report.
    t.ok("telemetry:   not provisioned (no broker (bhpack provision --broker))"
         in o, "bhctl fleet: telemetry not provisioned (no broker), nothing reported", o)
    st, o = m.shell("bhctl list")
    t.ok("local-app" not in o, "the workload the state does not list is removed", o)
    deadline = time.time() + 120
    while time.time() < deadline and not ("slow-app" in o and "running" in o.split("slow-app")[1]
                                          .split("\n")[0]):
        time.sleep(3)
        st, o = m.shell("bhctl list")
    t.ok("slow-app" in o and "running" in o.split("slow-app")[1].split("\n")[0],
         "the slow bundle is installed and running", o)
    st, o = m.shell("bhsbom verify")
    t.ok(st == 0, "bhsbom verify agrees with every installed workload after the cut and the sync", o[-1500:])
    st, o = m.shell("stat -c '%a %U' /data/fleet/provision.json /data/sync")
    t.ok(o.split("\n") == ["600 root", "700 bhsync"],
         "the provisioning is in /data/fleet (0600); /data/sync is bhsync's (0700)", o)
    before = front.count("HEAD")
    st, o = m.shell("bhctl sync")
    t.ok(st == 0 and "polling now" in o, "bhctl sync polls now", o)
    deadline = time.time() + 60
    while time.time() < deadline and "unchanged" not in m.shell("bhctl fleet")[1]:
        time.sleep(2)
    st, o = m.shell("bhctl fleet")
    t.ok("unchanged, 1 requests" in o and front.count("HEAD") == before + 1,
         "the poll of an unchanged state is one HEAD", o)

    # A key revocation list carried by the next state (issue 18), signed
    # with the update key: it revokes the TEST-ONLY workload key, which
    # signed every bundle here. The state lists the same bundles, so
    # nothing is reinstalled; what runs keeps running until its next start.
    bh("revoke", "--key", os.path.join(KEYS, "bulkhead-TEST-ONLY-update.key.pem"), "--serial", "1",
       "--revoke", os.path.join(KEYS, "bulkhead-TEST-ONLY-vendor.pub.pem"), "--reason",
       "e2e: leaked", "-o", p("revoked.dsse"))
    with open(p("revoked.dsse")) as f:
        envelope = json.load(f)
    vendor_id = json.loads(base64.b64decode(envelope["payload"]))["revoked"][0]["key_id"]
    bh("state", "--key", os.path.join(KEYS, "bulkhead-TEST-ONLY-state.key.pem"), "--group", "lab",
       "--serial", "2", "--valid-days", "2", "--poll-interval", "300",
       "--workload", "demo-web=1.0@" + web, "--workload", "demo-vm=1.0@" + vm,
       "--workload", "slow-app=1.0@" + slow_m, "--revocations", p("revoked.dsse"),
       "-o", p("s2.state"))
    bh("push", "--ca", pki.ca, "--user", "gw", "--state", p("s2.state"),
       "%s/fleet:group-lab" % reg.host)
    m.shell("bhctl sync")
    deadline = time.time() + 120
    while time.time() < deadline and "applied:     serial 2" not in o:
        time.sleep(2)
        st, o = m.shell("bhctl fleet")
    t.ok("applied:     serial 2" in o and "revoked:     1 keys (fleet, serial 1)" in o,
         "a state carrying a revocation list is applied and bhd holds the list", o)
    m.shell(mount_payload)  # mounted before the power cut only
    st, o = m.shell("bhctl install /tmp/p/local-app.bundle", timeout=120)
    t.ok(st != 0 and "signed by key %s, revoked by /data/fleet/revoked.dsse (serial 1: e2e: leaked)"
         % vendor_id in o and "installed" not in o,
         "a bundle signed by the revoked key is refused, naming the key, the list and the reason",
         o)
    st, o = m.shell("bhctl list | grep slow-app; bhctl stop slow-app; bhctl start slow-app")
    t.ok("running" in o.split("\n")[0] and st != 0 and
         "slow-app: signed by key %s, revoked by /data/fleet/revoked.dsse" % vendor_id in o,
         "the installed workload signed by it ran on, and is refused at its next start", o)
    st, o = m.shell("bhctl list | grep slow-app; grep 'bhd: slow-app: not started' "
                    "/run/log/bhd.log; ls /data/fleet/revoked.dsse")
    t.ok("revoked" in o.split("\n")[0] and "not started: slow-app: signed by key %s" % vendor_id
         in o and "/data/fleet/revoked.dsse" in o.split("\n")[-1],
         "bhctl list shows it revoked, bhd's log says why; the list is stored on /data", o)
    m.shell("sync")
    m.qmp("quit")
    m.wait_exit(30)
    m = None
    parts = json.loads(subprocess.run(["sfdisk", "-J", disk], capture_output=True, text=True,
                                      check=True).stdout)["partitiontable"]["partitions"]
    esp = [q for q in parts if q.get("name") == "bulkhead-esp"][0]
    r = subprocess.run(["mdir", "-b", "-i", "%s@@%d" % (disk, esp["start"] * 512), "::/bulkhead"],
                       capture_output=True, text=True, env=dict(os.environ, MTOOLS_SKIP_CHECK="1"))
    t.ok("provision.json" not in r.stdout, "the provisioning is gone from the ESP",
         r.stdout + r.stderr)
finally:
    if m:
        m.kill()
    front.stop()
    reg.stop()
shutil.rmtree(scratch, ignore_errors=True)
t.done()
