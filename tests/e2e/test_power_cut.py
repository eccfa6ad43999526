#!/usr/bin/python3
"""Power cuts and /data (docs/hardening.md, "Power cuts and /data").

/data is journaled ext4, checked by e2fsck -p at every boot. The power is
cut (QEMU killed, SIGKILL: the guest's page cache is lost, as in a power
cut) at random points while bhd installs the image's own bundles on first
boot, and while `bhctl install` installs a bundle of a few hundred files.
After each cut:
  - on the host, on a copy of the disk: e2fsck -p replays the journal and
    then e2fsck -fn finds the filesystem clean; every workload that has a
    manifest (the commit point) is complete: every file its stored SBOM
    lists is there with its SHA-256. One without a manifest is absent;
  - booted again: init's e2fsck said the filesystem was clean or only
    replayed its journal (/run/bulkhead/data-status), the image's bundles
    are installed, the cut bundle is absent or complete, `bhsbom verify`
    passes.
Then two kinds of damage made from the host between boots, each marked as
the kernel marks a filesystem it found damaged: a zeroed directory block
(e2fsck -p must not repair it alone: init runs e2fsck -fy) and a cleared
inode that a directory still names (-p clears the entry, and a file is
gone). Both times init says so on the console and reinstalls the installed
workloads, the workloads' volumes are kept, and bhsbom verify passes.

x86_64 debug images only (a shell, and one architecture is enough for a
filesystem). BH_POWER_CUTS (default 6, at least 5: half during the
first-boot install, half during bhctl install) sets how many cuts;
BH_POWER_SEED makes the cut points repeatable (the seed is printed).

Environment: BH_OUTPUT, the O folder of a built image.
"""
import json
import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap  # noqa: E402
from qemu import Machine, Timeout  # noqa: E402
import console  # noqa: E402
import image  # noqa: E402

t = Tap()
out = os.environ["BH_OUTPUT"]
cfg = image.config(out)
if cfg["BH_ARCH"] != "x86_64" or cfg["BH_PROFILE"] != "debug":
    t.skip("power cuts during installs, and a damaged /data repaired",
           "x86_64 debug images only (needs the shell; the filesystem is the same on ARM64)")
    sys.exit(t.done())
for tool in ("e2fsck", "debugfs", "tune2fs", "mksquashfs"):
    if not shutil.which(tool) and not os.path.exists("/sbin/" + tool):
        t.ok(False, "the build host has %s (e2fsprogs, squashfs-tools)" % tool)
        sys.exit(t.done())

CUTS = max(5, int(os.environ.get("BH_POWER_CUTS", "6")))
SEED = int(os.environ.get("BH_POWER_SEED", str(int(time.time()))))
rng = random.Random(SEED)
t.diag("power cuts: %d, seed %d (BH_POWER_SEED=%d repeats them)" % (CUTS, SEED, SEED))
EMBEDDED = ("demo-web", "demo-vm")
images = os.path.join(out, "images")
tmp = tempfile.mkdtemp(prefix="bh-power-", dir=os.environ.get("BH_TESTS_OUTPUT"))
bhpack = os.path.join(out, "host", "bin", "bhpack")
key = os.path.join(TOP, "board", "common", "keys", "bulkhead-TEST-ONLY-vendor.key.pem")
log = os.path.join(out, "e2e-power-cut.log")
sbin = lambda tool: shutil.which(tool) or "/sbin/" + tool  # noqa: E731


def payload():
    """A squashfs holding many.bundle: a container of 300 files (~6 MiB),
    so that its install takes long enough to be cut in the middle."""
    v = image.make_vars(out, "TARGET_CC", "TARGET_CFLAGS", "TARGET_LDFLAGS")
    root = os.path.join(tmp, "many-root")
    os.makedirs(os.path.join(root, "bin"))
    src = os.path.join(tmp, "idle.c")
    open(src, "w").write("#include <unistd.h>\nint main(void) { for (;;) pause(); }\n")
    subprocess.run(v["TARGET_CC"].split() + v["TARGET_CFLAGS"].split() + v["TARGET_LDFLAGS"].split() +
                   ["-o", os.path.join(root, "bin", "idle"), src], check=True, capture_output=True)
    data = random.Random(1)
    for d in range(10):
        os.makedirs(os.path.join(root, "data", "d%d" % d))
        for f in range(30):
            open(os.path.join(root, "data", "d%d" % d, "f%d" % f), "wb").write(
                data.randbytes(data.randrange(4096, 40960)))
    manifest = os.path.join(tmp, "many.json")
    json.dump({"name": "many", "mode": "container", "container": {"args": ["/bin/idle"]}},
              open(manifest, "w"))
    d = os.path.join(tmp, "payload")
    os.makedirs(d)
    subprocess.run([bhpack, "build", "--manifest", manifest, "--key", key, "--arch", cfg["BH_ARCH"],
                    "--rootfs", root, "-o", os.path.join(d, "many.bundle")], check=True, capture_output=True)
    sq = os.path.join(tmp, "payload.sqfs")
    subprocess.run(["mksquashfs", d, sq, "-quiet", "-no-progress", "-all-root"], check=True,
                   capture_output=True)
    return sq


PAYLOAD_ARGS = ["-drive", "file=%s,if=none,id=payload,format=raw,readonly=on" % payload(),
                "-device", "virtio-blk-pci,drive=payload,serial=payload"]
MOUNT_PAYLOAD = ("mkdir -p /tmp/payload && for d in /sys/class/block/*; do "
                 "[ \"$(cat $d/serial 2>/dev/null)\" = payload ] && "
                 "mount -t squashfs -o ro /dev/${d##*/} /tmp/payload; done; ls /tmp/payload")


def boot(data):
    return Machine(images, extra_args=PAYLOAD_ARGS, env=dict(os.environ, BULKHEAD_DATA=data),
                   log_path=log)


def blank_disk(name):
    path = os.path.join(tmp, name)
    with open(path, "wb") as f:
        f.truncate(256 << 20)
    return path


def wait(m, secs):
    """secs of the machine running, its console read meanwhile (a full
    pipe would stall it)."""
    deadline = time.monotonic() + secs
    while time.monotonic() < deadline:
        m._read(max(0.0, min(0.2, deadline - time.monotonic())))


def cut(m):
    """The power cut: QEMU killed at once, nothing flushed on the way."""
    m.proc.kill()
    m.proc.wait()


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def host_check(data, what):
    """On a copy of the cut disk: the journal replays and the filesystem is
    then clean; every committed workload is complete. Returns the names
    of the committed workloads."""
    copy = os.path.join(tmp, "copy.img")
    subprocess.run(["cp", "--sparse=always", data, copy], check=True)
    p = subprocess.run([sbin("e2fsck"), "-p", copy], capture_output=True, text=True)
    q = subprocess.run([sbin("e2fsck"), "-fn", copy], capture_output=True, text=True)
    t.ok(p.returncode in (0, 1) and q.returncode == 0,
         "%s: on the host, e2fsck -p replays the journal (exit %d) and e2fsck -fn then finds /data "
         "clean (exit %d)" % (what, p.returncode, q.returncode),
         (p.stdout + p.stderr + q.stdout + q.stderr)[-2000:])
    dump = os.path.join(tmp, "dump")
    shutil.rmtree(dump, ignore_errors=True)
    os.makedirs(dump)
    for d in ("manifests", "workloads", "sbom"):
        subprocess.run([sbin("debugfs"), "-R", "rdump /%s %s" % (d, dump), copy], capture_output=True)
    committed, problems = [], []
    mdir = os.path.join(dump, "manifests")
    for f in sorted(os.listdir(mdir)) if os.path.isdir(mdir) else []:
        if f.startswith(".") or not f.endswith(".json"):
            continue
        name = f[:-5]
        committed.append(name)
        try:
            json.load(open(os.path.join(mdir, f)))
            doc = json.load(open(os.path.join(dump, "sbom", name + ".spdx.json")))
        except (OSError, ValueError) as e:
            problems.append("%s: manifest or SBOM unreadable: %s" % (name, e))
            continue
        files = doc.get("files", [])
        if not files:
            problems.append("%s: its SBOM lists no files" % name)
        for entry in files:
            want = [c["checksumValue"] for c in entry.get("checksums", []) if c["algorithm"] == "SHA256"]
            path = os.path.join(dump, "workloads", name, entry["fileName"])
            if not os.path.isfile(path):
                problems.append("%s: %s is missing" % (name, entry["fileName"]))
            elif want and sha256(path) != want[0]:
                problems.append("%s: %s has the wrong content (%d bytes)" %
                                (name, entry["fileName"], os.path.getsize(path)))
    t.ok(not problems, "%s: every workload with a manifest is complete (committed: %s)"
         % (what, ", ".join(committed) or "none"), "\n".join(problems[:20]))
    os.unlink(copy)
    return committed


def data_status(m):
    st, text = m.shell("cat /run/bulkhead/data-status")
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def guest_check(m, what, since):
    """After a reboot: init checked /data, bhd installed the image's
    bundles, and bhsbom verify agrees."""
    m.expect(r"bhd: ready", 300, since=since)
    console.prompt(m)
    text = m.text()[since:]
    s = data_status(m)
    t.ok(s.get("mounted") == "ext4" and s.get("fsck") in ("0", "1") and s.get("repair") == "-1" and
         s.get("reinstall") == "0" and re.search(r"init: data: e2fsck: bulkhead-data: ", text),
         "%s: rebooted, init's e2fsck -p found /data clean or replayed its journal, and mounted it "
         "(fsck exit %s)" % (what, s.get("fsck")),
         "%s\n%s" % (s, "\n".join(l for l in text.splitlines() if "data" in l)[-1500:]))
    st, o = m.shell("bhctl list")
    t.ok(all(re.search(r"^%s\s" % n, o, re.M) for n in EMBEDDED),
         "%s: the image's bundles are installed" % what, o)
    st, v = m.shell("bhsbom verify")
    t.ok(st == 0, "%s: bhsbom verify passes" % what, v[-1500:])
    return o


def first_boot_window():
    """One uncut first boot: how long bhd's install of the image's bundles
    takes after /data is mounted, and how long bhctl install of
    many.bundle takes; both windows the cuts fall in."""
    data = blank_disk("calibrate.img")
    with boot(data) as m:
        m.expect(r"init: data: \S+ mounted on /data", 300)
        start = time.monotonic()
        m.expect(r"bhd: ready", 300)
        first = time.monotonic() - start
        text = m.text()
        t.ok(re.search(r"init: data: \S+ is blank: formatting it \(first boot\) as journaled ext4", text) and
             all(re.search(r"bhd: installed %s " % n, text) for n in EMBEDDED),
             "first boot: init formats the blank /data, bhd installs the image's bundles (%.1f s after "
             "the mount)" % first, "\n".join(l for l in text.splitlines() if "data" in l or "bhd" in l)[-2000:])
        console.prompt(m)
        st, mnt = m.shell("awk '$2 == \"/data\" { print $1, $3, $4 }' /proc/mounts")
        dev = mnt.split()[0] if mnt else "?"
        st, feat = m.shell("tune2fs -l %s | grep -i 'features'" % dev)
        t.ok(" ext4 rw," in " " + mnt and "has_journal" in feat and "extent" in feat,
             "/data is journaled ext4, mounted read-write", mnt + "\n" + feat)
        t.ok(re.search(r"init: data: e2fsck: bulkhead-data: clean", text),
             "e2fsck -p checked the new filesystem before its first mount",
             "\n".join(l for l in text.splitlines() if "data" in l)[-1500:])
        m.shell(MOUNT_PAYLOAD)
        start = time.monotonic()
        st, o = m.shell("bhctl install /tmp/payload/many.bundle", 300)
        install = time.monotonic() - start
        t.ok(st == 0 and "installed many" in o, "bhctl install installs many.bundle (%.1f s)" % install, o)
        cut(m)
    os.unlink(data)
    return first, install


first_window, install_window = first_boot_window()
t.diag("cut windows: first-boot install %.1f s after the mount, bhctl install %.1f s" %
       (first_window, install_window))

def cut_first_boot(n):
    """A cut during bhd's first-boot install, on a blank disk; then the
    checks. Returns the disk and the machine booted after the cut."""
    data = blank_disk("data.img")
    delay = rng.uniform(0, first_window)
    what = "cut %d (first-boot install, %.2f s after the mount)" % (n, delay)
    with boot(data) as m:
        m.expect(r"init: data: \S+ mounted on /data", 300)
        wait(m, delay)
        cut(m)
        t.diag("%s: the install had %s" % (what, "finished" if "bhd: ready" in m.text() else "not finished"))
    host_check(data, what)
    return data, what


def cut_bhctl_install(m, n):
    """A cut during bhctl install of many.bundle on the booted m."""
    delay = rng.uniform(0, install_window * 1.2)
    m.shell(MOUNT_PAYLOAD)
    m.send("bhctl install /tmp/payload/many.bundle\n")
    wait(m, delay)
    cut(m)
    return "cut %d (bhctl install, %.2f s into it)" % (n, delay)


n = 0
while n < CUTS:
    n += 1
    try:
        data, what = cut_first_boot(n)
        with boot(data) as m:
            guest_check(m, what, 0)
            if n >= CUTS:
                cut(m)
                break
            n += 1
            what = cut_bhctl_install(m, n)
        committed = host_check(data, what)
        with boot(data) as m:
            o = guest_check(m, what, 0)
            there = bool(re.search(r"^many\s", o, re.M))
            t.ok(there == ("many" in committed), "%s: after the reboot many is %s, as its manifest on disk "
                 "said" % (what, "installed" if there else "absent"), o)
            if not there:
                m.shell(MOUNT_PAYLOAD)
                st, o = m.shell("bhctl install /tmp/payload/many.bundle; ls -A /data/workloads", 300)
                t.ok(st == 0 and "installed many" in o and ".tmp-" not in o,
                     "%s: nothing of the cut install is in the way: it installs again" % what, o)
            cut(m)
    except Timeout as e:
        t.ok(False, "cut %d: the boots around it" % n, str(e))
        break

# --- damage made from the host ------------------------------------------------
DAMAGE = (
    ("a zeroed directory block", "zero", r"e2fsck -p found damage on \S+ it must not repair unattended"),
    ("a cleared inode its directory still names", "clri", r"e2fsck repaired \S+ \(exit status 1\)"),
)
for label, how, said in DAMAGE:
    data = blank_disk("damaged.img")
    with boot(data) as m:
        try:
            m.expect(r"bhd: ready", 300)
        except Timeout as e:
            t.ok(False, "%s: first boot" % label, str(e))
            continue
        console.prompt(m)
        m.shell("mkdir -p /data/volumes/keep && echo kept > /data/volumes/keep/file && sync")
        cut(m)
    # Between boots, on the host: settle the journal, then break one
    # thing in demo-web's tree and mark the filesystem as having errors, as
    # ext4 does when it meets the damage at run time.
    subprocess.run([sbin("e2fsck"), "-fy", data], capture_output=True)
    target = "/workloads/demo-web/rootfs/usr/bin"
    if how == "zero":
        p = subprocess.run([sbin("debugfs"), "-R", "bmap %s 0" % target, data], capture_output=True, text=True)
        block = int(p.stdout.split()[0])
        with open(data, "r+b") as f:
            f.seek(block * 4096)
            f.write(bytes(4096))
    else:
        p = subprocess.run([sbin("debugfs"), "-R", "ls -l %s" % target, data], capture_output=True, text=True)
        inode = [line.split()[0] for line in p.stdout.splitlines() if line.split()[-1:] == ["demo-httpd"]]
        subprocess.run([sbin("debugfs"), "-w", "-R", "clri <%s>" % inode[0], data], capture_output=True)
    subprocess.run([sbin("tune2fs"), "-E", "force_fsck", data], capture_output=True)
    p = subprocess.run([sbin("e2fsck"), "-fn", data], capture_output=True, text=True)
    t.ok(p.returncode & 4, "%s: the host's e2fsck -fn sees the damage (exit %d)" % (label, p.returncode),
         p.stdout[-800:])
    with boot(data) as m:
        try:
            m.expect(r"bhd: ready", 300)
        except Timeout as e:
            t.ok(False, "%s: the boot after it" % label, str(e))
            continue
        console.prompt(m)
        text = m.text()
        lines = "\n".join(l for l in text.splitlines() if "data" in l or "bhd: installed" in l)[-2500:]
        t.ok(re.search(r"init: data: \S+ is marked as having errors", text) and re.search(said, text),
             "%s: init's e2fsck finds it and says so on the console" % label, lines)
        t.ok(re.search(r"init: data: the repair may have lost files: removing the installed workloads", text)
             and re.search(r"bhd: installed demo-web ", text),
             "%s: the installed workloads are removed and bhd installs the image's bundles again" % label,
             lines)
        s = data_status(m)
        t.ok(s.get("mounted") == "ext4" and s.get("reinstall") == "1",
             "%s: /data is mounted, data-status records the repair" % label, str(s))
        st, o = m.shell("cat /data/volumes/keep/file")
        t.ok(o == "kept", "%s: the workloads' volumes are kept" % label, o)
        st, o = m.shell("bhctl list")
        t.ok(all(re.search(r"^%s\s" % n, o, re.M) for n in EMBEDDED), "%s: both demo workloads are back" % label, o)
        st, v = m.shell("bhsbom verify")
        t.ok(st == 0, "%s: bhsbom verify passes" % label, v[-1500:])
        cut(m)
    host_check(data, "%s, repaired" % label)

shutil.rmtree(tmp, ignore_errors=True)
sys.exit(t.done())
