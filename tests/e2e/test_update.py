#!/usr/bin/python3
"""Signed A/B updates on disk.img (docs/update.md), debug images.

Builds a newer update file of this tree with `make update-image
BH_IMAGE_VERSION=<newer>` (then the build's own version again, which also
gives an update file that is not newer), and derives bad ones from it: one
signed by an unknown key, one with a changed byte in the slot payload, one
cut short. Boots a kept copy of disk.img through OVMF:

1. every bad file and the not-newer one is refused by `bhctl update`, and
   nothing was written: slot B is still empty and the ESP holds only slot
   A's UKI (checked on the disk image after QEMU stopped); on a second
   disk, QEMU killed while the update is being written (once the first
   block of slot B reaches the disk file, after a random delay) leaves an
   update that the disk shows torn (slot B partly written, or written
   without its UKI; cut again until it is), and a disk that boots slot A
   as before, where a retry works;
2. the good update is written to slot B; after a reboot the firmware boots
   slot B on trial; reset three times before it gets healthy, the firmware
   falls back to slot A; installed again, slot B boots on trial, its agent
   is stopped, and init's boot deadline ends that boot (a try used up);
   the next boot of slot B is kept once healthy (its counter re-armed to
   +3), and it still boots slot B after another reboot;
3. the older update is then refused (downgrade);
4. every boot is counted, not only a trial's: a byte of the kept slot B
   changed on the disk makes each of its boots fail, and after 3 the
   firmware boots slot A again, itself re-armed once healthy.

On ARM64 (AAVMF, the arm64 UKIs) only the good update runs: written,
booted on trial, kept, booted again; the fault cases run on x86_64 with the
same code, which keeps CI's time down.

Environment: BH_OUTPUT (a built O folder), BH_TESTS_OUTPUT (scratch).
"""
import json
import os
import random
import re
import shutil
import struct
import subprocess
import sys
import tarfile
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap  # noqa: E402
from qemu import Machine  # noqa: E402
import console  # noqa: E402
import disk_image  # noqa: E402
import floods  # noqa: E402
import image  # noqa: E402

t = Tap()
out = os.environ["BH_OUTPUT"]
cfg = image.config(out)
if cfg["BH_PROFILE"] != "debug":
    t.skip("signed A/B updates", "run on the debug images (they need a shell)")
    t.done()
    sys.exit(0)

images = os.path.join(out, "images")
bhpack = os.path.join(out, "host", "bin", "bhpack")
version_file = os.path.join(out, "build", "image-version")
scratch = tempfile.mkdtemp(prefix="bh-update-", dir=os.environ.get("BH_TESTS_OUTPUT"))


def make(*args):
    p = subprocess.run(["make", "-C", TOP, "O=" + out] + list(args), capture_output=True, text=True)
    return p.returncode == 0, (p.stdout + p.stderr)[-3000:]


# --- the update files ------------------------------------------------------
make("all")  # the image of this tree, should O hold an older one
cur = open(version_file).read().strip()
newer = cur + ".1"
ok, log = make("BH_IMAGE_VERSION=" + newer, "update-image")
t.ok(ok, "make update-image BH_IMAGE_VERSION=%s" % newer, log)
ok2, log = make("all", "update-image")
t.ok(ok2 and open(version_file).read().strip() == cur,
     "make update-image (the build's own version %s; disk.img is that version again)" % cur, log)
good = os.path.join(images, "update-%s.bhu" % newer)
same = os.path.join(images, "update-%s.bhu" % cur)
if not (ok and ok2 and os.path.exists(good) and os.path.exists(same)):
    t.done()
    sys.exit(1)
shutil.copy(good, os.path.join(scratch, "good.bhu"))
shutil.copy(same, os.path.join(scratch, "same.bhu"))
members = {}
with tarfile.open(good) as tf:
    names = tf.getnames()
    t.ok(names[:2] == ["bundle.json", "bundle.sig"] and set(names[2:]) ==
         {"manifest.json", "sbom.spdx.json", "uki-a.efi", "uki-b.efi", "slot.img"},
         "the update file: signed index first, then manifest, SBOM, both UKIs, slot payload", names)
    index = json.load(tf.extractfile("bundle.json"))
    t.ok(index["format"] == "bulkhead-update/1", "its format is bulkhead-update/1", index["format"])
    manifest = json.load(tf.extractfile("manifest.json"))
    t.ok(manifest["version"] == newer and manifest["board"] == cfg["BH_BOARD_NAME"],
         "its manifest names version %s and the board" % newer, manifest)
    slot_off = tf.getmember("slot.img").offset_data
    for n in names[2:]:
        tf.extract(n, os.path.join(scratch, "members"))
        members[n] = os.path.join(scratch, "members", n)
data = disk_image.flipped(open(good, "rb").read(), slot_off + 5000)
open(os.path.join(scratch, "corrupt.bhu"), "wb").write(data)
open(os.path.join(scratch, "truncated.bhu"), "wb").write(data[:len(data) // 2])
rogue = os.path.join(scratch, "rogue.pem")
subprocess.run([bhpack, "keygen", "--private", rogue, "--public", rogue + ".pub"], check=True,
               capture_output=True)
p = subprocess.run([bhpack, "update", "--key", rogue, "--board", manifest["board"], "--arch",
                    manifest["arch"], "--version", newer, "--sbom", members["sbom.spdx.json"],
                    "--uki-a", members["uki-a.efi"], "--uki-b", members["uki-b.efi"], "--slot",
                    members["slot.img"], "-o", os.path.join(scratch, "rogue.bhu")],
                   capture_output=True, text=True)
t.ok(p.returncode == 0, "an update signed by an unknown key is made", p.stderr)
# The workload key, which the image trusts for workloads only
# (/etc/bulkhead/keys/workloads/): it cannot sign a firmware update.
p = subprocess.run([bhpack, "update", "--key", os.path.join(TOP, cfg["BH_WORKLOAD_SIGNING_KEY"]),
                    "--board", manifest["board"], "--arch", manifest["arch"], "--version", newer,
                    "--sbom", members["sbom.spdx.json"], "--uki-a", members["uki-a.efi"],
                    "--uki-b", members["uki-b.efi"], "--slot", members["slot.img"],
                    "-o", os.path.join(scratch, "workload-key.bhu")], capture_output=True, text=True)
t.ok(p.returncode == 0, "an update signed with the workload key is made", p.stderr)
slot_img = members["slot.img"]  # to see how much of it a power cut left on the disk
payload = os.path.join(scratch, "payload.sqfs")
files = os.path.join(scratch, "files")
os.makedirs(files)
for n in ("good", "same", "corrupt", "truncated", "rogue", "workload-key"):
    os.rename(os.path.join(scratch, n + ".bhu"), os.path.join(files, n + ".bhu"))
if cfg["BH_ARCH"] == "x86_64":  # where the trial boot under a flood runs (2.)
    floods.build(out, cfg, os.path.join(TOP, "board", "common", "keys", "bulkhead-TEST-ONLY-vendor.key.pem"),
                 scratch, files, restart="always")
subprocess.run(["mksquashfs", files, payload, "-quiet", "-no-progress", "-all-root"], check=True,
               capture_output=True)
extra = ["-drive", "file=%s,if=none,id=payload,format=raw,readonly=on" % payload,
         "-device", "virtio-blk-pci,drive=payload,serial=payload"]
disk = os.path.join(scratch, "disk.img")
env = dict(os.environ, BULKHEAD_DISK=disk)
MOUNT = ("mkdir -p /tmp/p && for b in /sys/block/vd*; do [ \"$(cat $b/serial 2>/dev/null)\" = payload ] "
         "&& mount -t squashfs -o ro /dev/${b##*/} /tmp/p; done; ls /tmp/p")


def parts():
    return disk_image.partitions(disk)


def esp_ukis(d=None):
    return disk_image.esp_ukis(d or disk)


def slot_b_empty():
    q = parts()["bulkhead-root-b"]
    with open(disk, "rb") as f:
        f.seek(q["start"] * 512)
        left = q["size"] * 512
        while left:
            chunk = f.read(min(left, 1 << 20))
            if chunk.count(0) != len(chunk):
                return False
            left -= len(chunk)
    return True


def boot(m):
    """Boots to the shell, the update files mounted, and waits until bhd
    has confirmed the boot: before that it refuses updates."""
    m.expect(r"init: ready: ", 300)
    m.expect(r"bhd: slot [ab] \(version [^)]*\) (boot healthy|is healthy: kept)", 600, since=0)
    console.prompt(m)
    st, o = m.shell(MOUNT)
    return st == 0 and "good.bhu" in o


if cfg["BH_ARCH"] != "x86_64":
    with Machine(images, extra, env=env, log_path=os.path.join(out, "e2e-update.log"),
                 script="start-qemu.sh") as m:
        t.run("disk.img boots slot A, the update files are reachable", boot, m)
        st, o = m.shell("bhctl update /tmp/p/good.bhu", timeout=600)
        t.ok(st == 0 and "written to slot b" in o, "bhctl update writes the good update to slot B", o)
        mark = console.restart_to_shell(m)
        st, o = m.shell("cat /sys/block/dm-0/dm/uuid; bhctl update --status")
        t.ok("bulkhead-root-b" in o and "slot b: version %s, trial, 2 tries left, booted" % newer in o,
             "after the reboot AAVMF and systemd-boot boot slot B on trial", o)
        t.run("bhd keeps slot B once healthy",
              lambda: m.expect(r"bhd: slot b \(version [^)]*\) is healthy: kept", 600, since=mark))
        st, o = m.shell("bhctl update --status")
        t.ok("slot b: version %s, good, 3 tries left, booted" % newer in o, "--status: slot B good", o)
        console.restart_to_shell(m)
        st, o = m.shell("cat /sys/block/dm-0/dm/uuid")
        t.ok(o == "bulkhead-root-b", "and slot B boots again after another reboot", o)
        m.shell("sync")
        m.qmp("quit")
        m.wait_exit(30)
    t.skip("refusals, power cut, rollback, boot deadline, a kept slot going bad",
           "they run on x86_64 debug, with the same code")
    shutil.rmtree(scratch, ignore_errors=True)
    t.done()
    sys.exit(0)

# --- 1. refusals, nothing written ------------------------------------------------
with Machine(images, extra, env=env, log_path=os.path.join(out, "e2e-update.log"),
             script="start-qemu.sh") as m:
    t.run("disk.img boots slot A, the update files are reachable", boot, m)
    st, o = m.shell("cat /sys/block/dm-0/dm/uuid; bhctl update --status")
    t.ok("bulkhead-root-a" in o and "slot b: empty" in o and "running: slot a, version %s" % cur in o,
         "bhctl update --status: slot A %s booted, slot B empty" % cur, o)
    # The reasons in the reader's words (a file's name says nothing).
    for name, why in (("rogue", "unknown key|no trusted key|signature"),
                      ("corrupt", "does not match its signed hash"),
                      ("truncated", r"truncated at byte \d+"),
                      ("workload-key", "unknown key.*/etc/bulkhead/keys/updates"),
                      ("same", "not newer")):
        st, o = m.shell("bhctl update /tmp/p/%s.bhu" % name, timeout=180)
        t.ok(st != 0 and re.search(why, o), "a %s update is refused (%s)" % (name, why.split("|")[0]), o)
    # Slot A is known good: its boot is confirmed without waiting for the
    # workloads, and its counter (+2-1 after this boot) re-armed to +3.
    t.run("bhd confirms slot A's boot and re-arms its 3 tries",
          lambda: m.expect(r"bhd: slot a \(version [^)]*\) boot healthy: 3 tries re-armed", 300, since=0))
    st, o = m.shell("ls /run/bulkhead/boot-confirmed; bhctl update --status")
    t.ok(st == 0 and "slot a: version %s, good, 3 tries left, booted" % cur in o,
         "init's deadline is stopped (/run/bulkhead/boot-confirmed), --status: slot A good, 3 tries", o)
    m.shell("sync")
    m.qmp("quit")
    m.wait_exit(30)
t.ok(slot_b_empty(), "after the refusals slot B is still empty (every byte zero)")
t.ok(esp_ukis() == ["bulkhead-%s-a+3.efi" % cur, "bulkhead-halt.efi"],
     "and the ESP holds slot A's UKI and the halt entry only", esp_ukis())

# --- power cut while the update is written ---------------------------------------
# On a second disk: start the update and watch slot B on the disk file from
# the host; once its first block arrives, after a random delay, kill QEMU
# (SIGKILL, no shutdown, the guest's caches lost). The disk must then show
# the update torn: slot B holding only part of slot.img, or all of it but no
# UKI for it on the ESP. A cut that came too late (the update complete) is
# made again with no delay, on a fresh copy. Then the disk boots slot A as
# before, and a retry of the update completes.
disk2 = os.path.join(scratch, "disk2.img")
env2 = dict(os.environ, BULKHEAD_DISK=disk2)
CHUNK = 1 << 16


def written(d):
    """(chunks of slot.img that slot B of disk d holds, chunks in all,
    whether the ESP has a UKI for slot B)."""
    q = disk_image.partitions(d)["bulkhead-root-b"]
    same = total = 0
    with open(slot_img, "rb") as want, open(d, "rb") as f:
        f.seek(q["start"] * 512)
        while True:
            a = want.read(CHUNK)
            if not a:
                break
            total += 1
            same += f.read(len(a)) == a
    return same, total, any("-b+" in u or "-b." in u for u in esp_ukis(d))


def first_block_written(d, q):
    with open(d, "rb") as f:
        f.seek(q["start"] * 512)
        return f.read(4096).count(0) != 4096


torn, outcomes = False, []
for attempt in range(3):
    for f in (disk2, disk2 + ".vars"):  # start-qemu.sh makes both afresh
        if os.path.exists(f):
            os.unlink(f)
    subprocess.run(["cp", "--sparse=always", os.path.join(images, "disk.img"), disk2], check=True)
    qb = disk_image.partitions(disk2)["bulkhead-root-b"]
    delay = random.uniform(0, 1.0) if attempt == 0 else 0
    with Machine(images, extra, env=env2, log_path=os.path.join(out, "e2e-update.log"),
                 script="start-qemu.sh") as m:
        t.run("a fresh second disk boots slot A (power cut, try %d)" % (attempt + 1), boot, m)
        m.send("bhctl update /tmp/p/good.bhu &\n")
        started, seen = time.monotonic(), None
        while time.monotonic() - started < 600 and m.proc.poll() is None:
            m.mark()  # keeps reading the console, so QEMU never waits on it
            if first_block_written(disk2, qb):
                seen = time.monotonic() - started
                break
            time.sleep(0.05)
        if seen is not None:
            time.sleep(delay)
        m.proc.kill()
        m.proc.wait()
    same, total, uki_b = written(disk2)
    state = ("slot B never written" if not same and not uki_b else
             "complete" if uki_b else "torn: %d of %d chunks of slot.img in slot B, no UKI for it" % (same, total))
    outcomes.append(state)
    t.diag("power cut %d: first block of slot B seen %s s after bhctl update started, cut %.2f s later: %s"
           % (attempt + 1, "%.1f" % seen if seen is not None else "never", delay, state))
    if state.startswith("torn"):
        torn = True
        break
t.ok(torn, "the power cut tore the update, as the disk shows (%s)" % "; ".join(outcomes))
if torn:
    with Machine(images, extra, env=env2, log_path=os.path.join(out, "e2e-update.log"),
                 script="start-qemu.sh") as m:
        t.run("after the power cut the disk boots", boot, m)
        st, o = m.shell("cat /sys/block/dm-0/dm/uuid; grep IMAGE_VERSION /etc/os-release")
        t.ok("bulkhead-root-a" in o and "IMAGE_VERSION=%s" % cur in o,
             "the torn update is not booted: slot A boots as before (%s)" % cur, o)
        st, o = m.shell("bhctl update /tmp/p/good.bhu", timeout=300)
        t.ok(st == 0 and "written to slot b" in o, "a retry after the power cut completes", o)
        m.qmp("quit")
        m.wait_exit(30)
for f in (disk2, disk2 + ".vars"):
    os.unlink(f)
shutil.rmtree(os.path.join(scratch, "members"))

# --- 2. the good update ------------------------------------------------------------
with Machine(images, extra, env=env, log_path=os.path.join(out, "e2e-update.log"),
             script="start-qemu.sh") as m:
    t.run("boots slot A again", boot, m)
    st, o = m.shell("bhctl update /tmp/p/good.bhu", timeout=300)
    t.ok(st == 0 and "written to slot b" in o, "bhctl update writes the good update to slot B", o)
    st, o = m.shell("bhctl update --status")
    t.ok("slot b: version %s, trial, 3 tries left" % newer in o, "--status: slot B on trial, 3 tries", o)
    console.restart_to_shell(m)
    st, o = m.shell("cat /sys/block/dm-0/dm/uuid; grep IMAGE_VERSION /etc/os-release")
    t.ok("bulkhead-root-b" in o and "IMAGE_VERSION=%s" % newer in o,
         "after the reboot the firmware boots slot B, version %s" % newer, o)
    st, o = m.shell("bhctl update --status")
    t.ok("slot b: version %s, trial, 2 tries left, booted" % newer in o,
         "--status: slot B booted on trial (systemd-boot counted one try)", o)
    st, o = m.shell(MOUNT + " >/dev/null; bhctl update /tmp/p/good.bhu", timeout=180)
    t.ok(st != 0 and "not confirmed healthy yet" in o and "slot a stays the fallback" in o,
         "an update while slot B is unconfirmed is refused: slot A stays the fallback", o)
    # Never healthy: reset the machine right after each boot of slot B,
    # long before bhd would keep it (a hang or a crash does the same).
    # After its 3 tries the firmware boots slot A again.
    boots = []
    for i in range(3):
        mark = console.restart_to_shell(m, "reset")
        st, o = m.shell("cat /sys/block/dm-0/dm/uuid")
        boots.append(o.strip()[-1:])
    t.ok(boots == ["b", "b", "a"], "a slot B that never gets healthy is left after its 3 tries: "
         "the resets boot slot %s" % ", ".join(boots))
    st, o = m.shell("bhctl update --status")
    t.ok("slot b: version %s, bad (no tries left)" % newer in o and "running: slot a" in o,
         "--status: slot B bad, slot A running", o)
    t.run("slot A, known good, is re-armed once healthy",
          lambda: m.expect(r"bhd: slot a \(version [^)]*\) boot healthy: 3 tries re-armed", 300, since=mark))
    # The outcome a fleet hears of (update_trial.c), for a bhctl update too.
    t.run("bhd reports the update rolled back, once slot A runs again",
          lambda: m.expect(r"bhd: update %s rolled back: slot b did not stay booted \(running %s\)"
                           % (re.escape(newer), re.escape(cur)), 120, since=mark))
    # From here on a container and a VM's guest print as fast as they can
    # (autostarted at every boot): no flood may keep a trial from being
    # confirmed before init's deadline and so force a rollback.
    st, o = m.shell(MOUNT + " >/dev/null; bhctl install /tmp/p/flood.bundle && "
                    "bhctl install /tmp/p/flood-vm.bundle", timeout=300)
    t.ok(st == 0 and "installed flood-vm" in o, "a container and a VM that flood their output are installed", o)
    # The same update again: it replaces slot B's bad entry.
    st, o = m.shell(MOUNT + " >/dev/null; bhctl update /tmp/p/good.bhu", timeout=300)
    t.ok(st == 0 and "written to slot b" in o, "the update can be installed again", o)
    mark = console.restart_to_shell(m)
    st, o = m.shell("cat /sys/block/dm-0/dm/uuid")
    t.ok(o == "bulkhead-root-b", "it boots slot B on trial again", o)
    # A trial that stays up without getting healthy: the agent stopped, so
    # nothing confirms the boot; init's deadline ends it, a try used up.
    deadline = int(cfg.get("BH_BOOT_DEADLINE_SECONDS", "300"))
    m.shell("kill -STOP $(pidof bhd)")
    t.run("a trial boot never confirmed (bhd stopped) is ended by init's boot deadline (%d s)" % deadline,
          lambda: m.expect(r"init: boot deadline: not confirmed healthy within \d+ s: rebooting",
                           deadline + 120, since=mark))
    mark, rebooted = m.mark(), time.monotonic()
    m.expect(r"init: ready: ", 300, since=mark)
    console.prompt(m)
    st, o = m.shell("cat /sys/block/dm-0/dm/uuid; bhctl update --status")
    t.ok("bulkhead-root-b" in o and "slot b: version %s, trial, 1 tries left, booted" % newer in o,
         "the next boot is slot B again, with one try left", o)
    health = int(cfg.get("BH_UPDATE_HEALTH_SECONDS", "60"))
    try:
        m.expect(r"bhd: slot b \(version [^)]*\) is healthy: kept", health + 300, since=mark)
        kept = True
        t.diag("slot B kept %.0f s after the reboot began (TCG, both floods running)" % (time.monotonic() - rebooted))
    except Exception as e:
        kept = False
        t.diag(str(e)[-1500:])
    t.ok(kept, "bhd keeps slot B once healthy for %d s" % health)
    t.run("bhd reports the update kept",
          lambda: m.expect(r"bhd: update %s kept \(slot b, this boot confirmed\)" % re.escape(newer),
                           60, since=mark))
    since = m.console[mark:].decode("utf-8", "replace")
    kept_at = since.find("is healthy: kept")
    started = [n for n in ("flood", "flood-vm") if re.search(r"bhd: started %s \(" % n, since[:kept_at])]
    t.ok(kept and started == ["flood", "flood-vm"] and "boot deadline: not confirmed" not in since[:kept_at],
         "a trial boot is confirmed before init's %d s deadline while a container and a VM flood "
         "their output (started before the confirmation: %s)" % (deadline, ", ".join(started) or "none"),
         "\n".join(l for l in since.splitlines() if "bhd: " in l and "flood: line" not in l)[-1500:])
    st, o = m.shell("bhctl list | grep flood; bhctl remove flood; bhctl remove flood-vm", timeout=300)
    t.ok(re.search(r"(?m)^flood\s+container\s+running", o) and re.search(r"(?m)^flood-vm\s+vm\s+running", o)
         and st == 0 and "removed" in o, "both floods were still running then, and are removed", o)
    st, o = m.shell("bhctl update --status")
    t.ok("slot b: version %s, good, 3 tries left, booted" % newer in o and
         "slot a: version %s, good, 3 tries left" % cur in o,
         "--status: slot B good, re-armed and booted; slot A good (the fallback)", o)
    st, o = m.shell(MOUNT + " >/dev/null; bhctl update /tmp/p/same.bhu", timeout=180)
    t.ok(st != 0 and "not newer" in o, "the older update is refused on slot B", o)
    mark = console.restart_to_shell(m)
    st, o = m.shell("cat /sys/block/dm-0/dm/uuid")
    t.ok(o == "bulkhead-root-b", "and slot B boots again after another reboot: kept", o)
    t.run("and is re-armed once healthy",
          lambda: m.expect(r"bhd: slot b \(version [^)]*\) boot healthy: 3 tries re-armed", 300, since=mark))
    m.shell("sync")
    m.qmp("quit")
    m.wait_exit(30)
t.ok(esp_ukis() == sorted(["bulkhead-%s-a+3.efi" % cur, "bulkhead-%s-b+3.efi" % newer, "bulkhead-halt.efi"]),
     "the ESP: slot A's UKI and slot B's, both armed with 3 tries, and the halt entry", esp_ukis())

# --- 4. every boot counted: the kept slot B goes bad -----------------------------
# A byte of slot B changed on the disk (a bad block, an offline write), in
# a block no boot reads: one that holds only data of the image's SBOM
# (/usr/share/sbom), found on the host by unsquashfs on a changed copy (it
# must fail on an SBOM file, and everything else must still unpack). The
# slot boots and runs; bhd reads every block through dm-verity before it
# confirms the boot, so the kernel resets the machine while the try still
# counts. After B's 3 tries the firmware boots slot A.
q = parts()["bulkhead-root-b"]
with open(disk, "rb") as f:
    f.seek(q["start"] * 512)
    head = f.read(96)
    sq = bytearray(f.read(struct.unpack_from("<Q", head, 40)[0] - 96))
sq[0:0] = head
inode_table = struct.unpack_from("<Q", sq, 64)[0]
probe = os.path.join(scratch, "probe.sqfs")
listing = subprocess.run(["unsquashfs", "-ll", "-d", "", os.path.join(images, "rootfs.squashfs")],
                         capture_output=True, text=True).stdout.splitlines()
# Every regular file outside /usr/share/sbom (a folder named here would
# bring its whole subtree).
others = [l.split()[-1] for l in listing if l.startswith("-") and " /usr/share/sbom/" not in l]
flip = None
for k in range(2, 400):
    off = (inode_table // 4096 - k) * 4096 + 100
    open(probe, "wb").write(disk_image.flipped(sq, off))
    dst = os.path.join(scratch, "unsq")
    p = subprocess.run(["unsquashfs", "-n", "-f", "-d", dst, probe], capture_output=True, text=True)
    bad = re.search(r"failed to read/uncompress file \S*?(/usr/share/sbom/\S+)", p.stdout + p.stderr)
    if bad:
        p2 = subprocess.run(["unsquashfs", "-n", "-f", "-d", dst + "2", probe] + others,
                            capture_output=True, text=True)
        if p2.returncode == 0:
            flip = (off, bad.group(1))
    shutil.rmtree(dst, ignore_errors=True)
    shutil.rmtree(dst + "2", ignore_errors=True)
    if flip:
        break
t.ok(flip is not None, "a block of slot B that holds only SBOM data is found (%s)" % (flip,))
if flip:
    disk_image.flip_byte(disk, q["start"] * 512 + flip[0])
with Machine(images, extra, env=env, log_path=os.path.join(out, "e2e-update.log"),
             script="start-qemu.sh") as m:
    refused = 0
    try:
        for i in range(3):
            m.expect(r"init: ready: ", 300)
            m.expect(r"bhd: slot b: reading every block of the root through dm-verity", 300)
            m.expect(r"verity: [0-9:]+: data block \d+ is corrupted", 120)
            refused += 1
    except Exception as e:
        t.diag(str(e)[-1500:])
    t.ok(refused == 3, "each of the kept slot B's 3 boots runs, then bhd's read of every block before "
         "confirming hits the changed block and dm-verity resets the machine (%d seen)" % refused)
    t.run("then the firmware boots slot A", boot, m)
    st, o = m.shell("cat /sys/block/dm-0/dm/uuid; bhctl update --status")
    t.ok("bulkhead-root-a" in o and "slot b: version %s, bad (no tries left)" % newer in o,
         "slot A runs, --status: slot B bad", o)
    m.qmp("quit")
    m.wait_exit(30)
shutil.rmtree(scratch, ignore_errors=True)
t.done()
