#!/usr/bin/python3
"""disk.img boots as a device does: UEFI firmware (OVMF / AAVMF) starts
systemd-boot, which starts slot A's signed unified kernel image, whose
kernel mounts the root through dm-verity; and a root with one changed byte
never runs: each boot of it is counted, and once its tries are used up
the halt entry stops the machine with a clear message.

Checks on the host first (partition table, ESP contents, signatures,
version), then one boot of disk.img to `init: ready` (every profile; the
debug image also answers questions in its shell), then (debug) one boot of
a copy with a byte of slot A flipped, which must end in the kernel refusing
it, before init.

Environment: BH_OUTPUT, the O folder of a configured and built image.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap  # noqa: E402
from qemu import Machine  # noqa: E402
import console  # noqa: E402
import disk_image  # noqa: E402
import image  # noqa: E402

t = Tap()
out = os.environ["BH_OUTPUT"]
cfg = image.config(out)
arch = cfg["BH_ARCH"]
images = os.path.join(out, "images")
disk = os.path.join(images, "disk.img")
version = open(os.path.join(out, "build", "image-version")).read().strip()
keys = os.path.join(os.path.dirname(__file__), "..", "..", "board", "common", "keys")
cert = cfg.get("BH_SECURE_BOOT_CERT", "board/common/keys/TEST-ONLY-secureboot/db.crt")
if not cert.startswith("/"):
    cert = os.path.join(os.path.dirname(__file__), "..", "..", cert)
scratch = tempfile.mkdtemp(prefix="bh-disk-", dir=os.environ.get("BH_TESTS_OUTPUT"))

# --- the image on the host ---------------------------------------------------
t.ok(os.path.exists(disk) and os.path.exists(disk + ".bmap"), "disk.img and disk.img.bmap are built")
try:
    parts, why = disk_image.partitions(disk), ""
except RuntimeError as e:
    parts, why = {}, str(e)
t.ok(sorted(parts) == ["bulkhead-data", "bulkhead-esp", "bulkhead-root-a", "bulkhead-root-b"],
     "GPT has the partitions bulkhead-esp, -root-a, -root-b, -data", "%s %s" % (sorted(parts), why))
esp = disk_image.esp(disk) if parts else disk
boot_name = "BOOTX64.EFI" if arch == "x86_64" else "BOOTAA64.EFI"
try:
    ukis, why = disk_image.esp_ukis(disk), ""
except RuntimeError as e:
    ukis, why = [], str(e)
t.ok(ukis == ["bulkhead-%s-a+3.efi" % version, "bulkhead-halt.efi"],
     "the ESP holds slot A's UKI, named with the image version %s and armed with 3 tries, and the "
     "halt entry" % version, "ESP /EFI/Linux: %s %s" % (ukis, why))
p = subprocess.run(["mtype", "-i", esp, "::/loader/bulkhead/good-a"], capture_output=True, text=True)
t.ok(p.stdout.strip() == version, "slot A is known good from the start (loader/bulkhead/good-a: %s)" % version,
     p.stdout + p.stderr)
for src in ["/EFI/BOOT/" + boot_name] + ["/EFI/Linux/" + u for u in ukis]:
    dst = os.path.join(scratch, os.path.basename(src))
    subprocess.run(["mcopy", "-n", "-i", esp, "::" + src, dst], capture_output=True)
    p = subprocess.run(["sbverify", "--cert", cert, dst], capture_output=True, text=True)
    t.ok(p.returncode == 0, "%s is signed with the configured Secure Boot key" % src, p.stdout + p.stderr)
p = subprocess.run(["mtype", "-i", esp, "::/loader/loader.conf"], capture_output=True, text=True)
t.ok("timeout 0" in p.stdout and "editor no" in p.stdout, "loader.conf: no menu wait, no command line editing",
     p.stdout + p.stderr)
with open(os.path.join(images, "rootfs.squashfs"), "rb") as f:
    squash_head = f.read(4096)
with open(disk, "rb") as f:
    f.seek(parts["bulkhead-root-a"]["start"] * 512 if parts else 0)
    t.ok(f.read(4096) == squash_head, "slot A starts with this build's rootfs.squashfs")
os_release = os.path.join(out, "build", "rootfs", "etc", "os-release")
t.ok("IMAGE_VERSION=%s\n" % version in open(os_release).read(), "os-release names IMAGE_VERSION %s" % version)


# --- boot ------------------------------------------------------------------------
def boot_ready(m):
    m.expect(r"Linux version ", 240)
    m.expect(r"VFS: Mounted root \(squashfs filesystem\) readonly on device 25\d:0", 120)
    m.expect(r"init: bulkhead boot complete: [^\r\n]*root read-only", 120)
    return m.expect(r"init: ready: ", 120)


# Flashed to a disk larger than the image (1 GiB): init grows the blank
# /data partition to the disk's end on first boot.
grown = os.path.join(scratch, "grown.img")
subprocess.run(["cp", "--sparse=always", disk, grown], check=True)
os.truncate(grown, 1 << 30)
# Debug: a second disk whose partitions carry our names (a copy of
# disk.img, as a USB stick could be) is attached too: init and bhd must use
# the disk the system booted from, and never write to the decoy.
decoy_args, decoy_sum = [], None
if cfg["BH_PROFILE"] == "debug":
    decoy = os.path.join(scratch, "decoy.img")
    subprocess.run(["cp", "--sparse=always", disk, decoy], check=True)
    decoy_sum = subprocess.run(["sha256sum", decoy], capture_output=True, text=True, check=True).stdout.split()[0]
    decoy_args = ["-drive", "file=%s,if=none,id=decoy,format=raw" % decoy,
                  "-device", "virtio-blk-pci,drive=decoy,serial=decoy"]
start = time.monotonic()
# An image that enrols its Secure Boot keys (BH_SECURE_BOOT_ENROLL) resets
# once after systemd-boot wrote them: no -no-reboot then.
no_reboot = [] if cfg.get("BH_SECURE_BOOT_ENROLL") == "y" else ["-no-reboot"]
with Machine(images, no_reboot + decoy_args, log_path=os.path.join(out, "e2e-disk.log"),
             script="start-qemu.sh", env=dict(os.environ, BULKHEAD_DISK=grown)) as m:
    booted = t.run("firmware, systemd-boot and the UKI boot the kernel, root on a dm device, init ready",
                   boot_ready, m)
    t.ok(re.search(r"init: boot deadline: slot a must be confirmed healthy within \d+ s", m.text()),
         "init arms the boot deadline for slot A")
    t.ok(re.search(r"init: data: grew \w+ to the end of \w+: \d+ MiB, was %s MiB"
                   % cfg.get("BH_DISK_DATA_MIB", "256"), m.text()),
         "on the 1 GiB disk init grows the blank /data partition to the disk's end",
         "\n".join(l for l in m.text().splitlines() if "data" in l)[-1500:])
    t.diag("disk.img: QEMU start to init ready %.1f s" % (time.monotonic() - start))
    if booted and cfg["BH_PROFILE"] == "debug":
        console.prompt(m)
        st, uuid = m.shell("cat /sys/block/dm-0/dm/uuid")
        t.ok(uuid == "bulkhead-root-a", "the root is dm-0, dm-verity device bulkhead-root-a", uuid)
        st, table = m.shell("cat /proc/cmdline")
        t.ok("root=/dev/dm-0" in table and " verity 1 PARTUUID=" in table and "panic_on_corruption" in table,
             "the UKI's command line sets up dm-verity on slot A by PARTUUID", table)
        st, mnt = m.shell("awk '$2 == \"/\" { print $1, $3, $4 }' /proc/mounts")
        t.ok(mnt.startswith("/dev/root squashfs ro") or mnt.startswith("/dev/dm-0 squashfs ro"),
             "/ is the squashfs, read-only", mnt)
        st, err = m.shell("touch /probe-write")
        t.ok(st != 0, "writing to / fails", err)
        st, efi = m.shell("ls /sys/firmware/efi")
        t.ok(st == 0, "the kernel was started by UEFI firmware (/sys/firmware/efi)", efi)
        st, data = m.shell("awk '$2 == \"/data\" { print $1 }' /proc/mounts; "
                           "cat /sys/class/block/$(basename $(awk '$2 == \"/data\" { print $1 }' /proc/mounts))/uevent")
        t.ok("PARTNAME=bulkhead-data" in data, "/data is the bulkhead-data partition", data)
        st, disks = m.shell("s=$(ls /sys/block/dm-0/slaves); d=$(awk '$2 == \"/data\" { print $1 }' /proc/mounts); "
                            "echo slave=$s data=${d#/dev/}; "
                            "echo boot=$(basename $(dirname $(readlink -f /sys/class/block/$s))) "
                            "datadisk=$(basename $(dirname $(readlink -f /sys/class/block/${d#/dev/})))")
        b = re.search(r"boot=(\S+) datadisk=(\S+)", disks)
        t.ok(b is not None and b.group(1) == b.group(2) and
             re.search(r"init: data: looking for bulkhead-data on the boot disk %s" % b.group(1), m.text()),
             "with a decoy disk carrying the same partition names, /data is on the boot disk "
             "(the disk of the root's dm-verity slot)", disks)
        st, df = m.shell("df -k /data | awk 'NR == 2 { print $2 }'")
        t.ok(st == 0 and df.isdigit() and int(df) > 700 * 1024, "/data has the grown size (%s KiB)" % df, df)
        st, osr = m.shell("grep IMAGE_VERSION /etc/os-release")
        t.ok(osr == "IMAGE_VERSION=%s" % version, "the running image is version %s" % version, osr)
    m.qmp("quit")
    m.wait_exit(30)
if decoy_sum:
    after = subprocess.run(["sha256sum", decoy], capture_output=True, text=True, check=True).stdout.split()[0]
    t.ok(after == decoy_sum, "the decoy disk is left as it was: not grown, formatted, or written to by bhd "
         "(its ESP)")
    os.unlink(decoy)
try:
    q, why = disk_image.partitions(grown).get("bulkhead-data"), ""
except RuntimeError as e:
    q, why = None, str(e)
end = (q["start"] + q["size"]) * 512 if q else 0
t.ok(q and (1 << 30) - end < (2 << 20), "the partition table on the disk: bulkhead-data ends within 2 MiB "
     "of the disk's end", "%s %s" % (q, why))
p = subprocess.run(["sgdisk", "-v", grown], capture_output=True, text=True)
t.ok("No problems found" in p.stdout, "sgdisk -v: the grown GPT is valid, its backup at the disk's end",
     p.stdout + p.stderr)
p = subprocess.run(["sfdisk", "-l", grown], capture_output=True, text=True)
t.ok(p.returncode == 0 and "mismatch" not in p.stdout + p.stderr, "the protective MBR covers the whole disk",
     p.stdout + p.stderr)
os.unlink(grown)

# --- a changed byte in slot A ---------------------------------------------------
if cfg["BH_PROFILE"] != "debug":
    t.skip("a flipped byte in slot A is refused", "the debug image runs it (same disk layout)")
else:
    bad = os.path.join(scratch, "flipped.img")
    subprocess.run(["cp", "--sparse=always", disk, bad], check=True)
    # A byte inside the squashfs superblock's block: the kernel reads it
    # to mount the root.
    disk_image.flip_byte(bad, parts["bulkhead-root-a"]["start"] * 512 + 100)
    env = dict(os.environ, BULKHEAD_DISK=bad)
    start = time.monotonic()
    # Every boot is counted: the kernel refuses the block and resets, three
    # times (slot A's 3 tries); then systemd-boot has no slot left and
    # starts the halt entry, which says so and halts: no fourth reset.
    with Machine(images, [], log_path=os.path.join(out, "e2e-disk-flipped.log"),
                 script="start-qemu.sh", env=env) as m:
        refused = 0
        try:
            for i in range(3):
                m.expect(r"verity: [0-9:]+: data block \d+ is corrupted", 240)
                m.expect(r"Kernel panic", 60)
                refused += 1
        except Exception as e:
            t.diag(str(e)[-1500:])
        t.ok(refused == 3, "dm-verity refuses the changed block on each of slot A's 3 tries, and the "
             "kernel resets the machine (%d seen)" % refused)
        t.run("then systemd-boot starts the halt entry: init says no slot is left",
              m.expect, r"init: halt: no bootable root slot is left", 240)
        t.run("and the machine halts", m.expect, r"reboot: System halted", 60)
        mark = m.mark()
        time.sleep(10)
        m.mark()  # reads what arrived meanwhile
        t.ok(b"Linux version" not in m.console[mark:] and m.proc.poll() is None,
             "it stays halted: no further boot within 10 s", m.tail())
        t.diag("flipped slot A: QEMU start to halt %.1f s" % (time.monotonic() - start))
        text = m.text()
        t.ok("Run /sbin/init" not in text and "init: bulkhead boot complete" not in text,
             "the changed root never runs: init was not started from it", m.tail())
        m.qmp("quit")
        m.wait_exit(30)
shutil.rmtree(scratch, ignore_errors=True)
t.done()
