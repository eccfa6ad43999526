#!/usr/bin/python3
"""The generic x86_64 UEFI PC gateway (board pc-x86_64-efi) on the PC that
CI emulates: q35 with OVMF and only devices a real PC has (an NVMe SSD, an
Intel 82574L NIC, the ICH9 TCO watchdog; no virtio device at all), so that
one boot of disk.img proves the real-hardware drivers of the shared x86_64
kernel and the board's command line.

On the host: the board has no direct kernel boot (no start-qemu-kernel.sh)
and its start-qemu.sh attaches exactly those devices. Then one boot of
disk.img with start-qemu.sh, checked on the serial console (the production
image has no shell):
- UEFI firmware loads from the NVMe disk and starts the kernel (efi: line);
- nvme drives the disk and finds its GPT as nvme0n1 p1-p4, the only disk;
- dm-init waits for slot A's PARTUUID (read from disk.img's GPT, where it is
  partition 2, so nvme0n1p2), sets up the dm-verity device and the kernel
  mounts the root from it;
- e1000e drives eth0, its link comes up and udhcpc gets a lease on it;
- iTCO_wdt finds the ICH9 TCO timer and init arms it;
- init formats and mounts /data from the bulkhead-data partition of the
  NVMe disk, and reaches ready with no warning.
Then the same disk.img attached as a SATA disk (q35's AHCI) and as a USB
stick (xHCI, usb-storage), the other ways a gateway PC boots: each boots to
ready with the root slot and /data found on sda.
test_disk.py checks the boot chain files (signed BOOTX64.EFI and UKI) of
every configuration; test_host.py the power button.

Other configurations: one skip.

Environment: BH_OUTPUT, the O folder of a configured and built image.
"""
import os
import re
import shutil
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap  # noqa: E402
from qemu import Machine, Timeout  # noqa: E402
import disk_image  # noqa: E402
import image  # noqa: E402

BOARD = "pc-x86_64-efi"
t = Tap()
out = os.environ["BH_OUTPUT"]
cfg = image.config(out)
if cfg["BH_BOARD_NAME"] != BOARD:
    t.skip("the %s board boots from NVMe with e1000e and iTCO_wdt" % BOARD,
           "this is board %s; the test boots the %s board's emulated PC" % (cfg["BH_BOARD_NAME"], BOARD))
    t.done()
images = os.path.join(out, "images")
disk = os.path.join(images, "disk.img")

# --- the host side ----------------------------------------------------------
t.ok(not os.path.exists(os.path.join(images, "start-qemu-kernel.sh")),
     "no start-qemu-kernel.sh: the board boots disk.img only")
with open(os.path.join(images, "start-qemu.sh")) as f:
    qemu_line = [l for l in f.read().splitlines() if l.startswith("exec ")]
qemu_line = qemu_line[0] if qemu_line else ""
t.ok("-device nvme," in qemu_line and "-device e1000e," in qemu_line and "ICH9-LPC.noreboot=off" in qemu_line
     and "virtio" not in qemu_line,
     "start-qemu.sh emulates a PC: NVMe disk, e1000e NIC, ICH9 TCO watchdog, no virtio device", qemu_line)

# Issue 17: a gateway on real hardware ships no demo workloads (no HTTP
# server on 8080, no microVM on 8081 that nobody asked for).
with open(os.path.join(images, "rootfs.manifest")) as f:
    demos = [l.split("\t")[0] for l in f if l.split("\t")[1:2] == ["demo-workloads"]
             or "/demo-" in l.split("\t")[0]]
t.ok(cfg.get("BH_DEMO_WORKLOADS") != "y" and not demos,
     "the PC board's image has no demo workloads (BH_DEMO_WORKLOADS off by default)",
     "BH_DEMO_WORKLOADS=%s; in the rootfs: %s" % (cfg.get("BH_DEMO_WORKLOADS"), demos))

# Slot A and /data as the GPT of disk.img has them: the partition number
# gives the kernel's name on the NVMe disk (nvme0n1p<n>).
try:
    parts = {name: (int(re.search(r"(\d+)$", q["node"]).group(1)), q["uuid"].upper())
             for name, q in disk_image.partitions(disk).items()}
    why = ""
except RuntimeError as e:
    parts, why = {}, str(e)
t.ok("bulkhead-root-a" in parts and "bulkhead-data" in parts,
     "disk.img's GPT has bulkhead-root-a and bulkhead-data", "%s %s" % (sorted(parts), why))
slot_n, slot_uuid = parts.get("bulkhead-root-a", (0, "?"))
data_n, _ = parts.get("bulkhead-data", (0, "?"))


# --- one boot ------------------------------------------------------------------
def find(pattern):
    return re.search(pattern.encode(), m.console)


start = time.monotonic()
with Machine(images, ["-no-reboot"], log_path=os.path.join(out, "e2e-pc.log"), script="start-qemu.sh") as m:
    try:
        m.expect(r"init: ready: ", 420)
        booted = True
        t.ok(True, "disk.img boots on the emulated PC to init ready (%.0f s after QEMU start)"
             % (time.monotonic() - start))
    except Timeout as e:
        booted = False
        t.ok(False, "disk.img boots on the emulated PC to init ready", str(e))
    if booted:
        # DHCP may finish after ready (the link comes up in the background).
        try:
            m.expect(r"dhcp: eth0: [\d.]+/\d+", 120)
        except Timeout:
            pass
    text = m.text()
    m.qmp("quit")
    m.wait_exit(30)

if booted:
    t.ok(find(r"BdsDxe: starting Boot\d+ \"UEFI QEMU NVMe Ctrl[^\r\n]*\" from [^\r\n]*NVMe\(") is not None,
         "the UEFI firmware boots from the NVMe disk",
         "\n".join(l for l in text.splitlines() if "BdsDxe" in l))
    t.ok(find(r"efi: EFI v[\d.]+ by ") is not None, "the kernel was started by UEFI firmware (efi: line)")
    t.ok(find(r"printk: (legacy )?console \[ttyS0\] enabled") is not None,
         "the kernel console is the serial port ttyS0 (where init logs)")
    t.ok(find(r"nvme nvme0: \d+/\d+/\d+ default/read/poll queues") is not None,
         "nvme drives the NVMe controller (nvme0)")
    scans = re.findall(r"\] +(\w+): (p\d+(?: p\d+)*)\r?\n", text)
    t.ok(scans == [("nvme0n1", "p1 p2 p3 p4")],
         "the only disk is nvme0n1, with disk.img's four GPT partitions", "partition scans: %s" % scans)
    t.ok(find(r"device-mapper: init: waiting for device PARTUUID=%s \.\.\.\r?\n"
              r"(?:[^\r\n]*\r?\n)*?[^\r\n]*device-mapper: init: all devices available" % re.escape(slot_uuid))
         is not None and slot_n == 2,
         "dm-init finds slot A (PARTUUID %s, partition %d: nvme0n1p%d)" % (slot_uuid, slot_n, slot_n),
         "\n".join(l for l in text.splitlines() if "device-mapper" in l))
    t.ok(find(r"device-mapper: ioctl: dm-0 \(bulkhead-root\) is ready") is not None
         and find(r"VFS: Mounted root \(squashfs filesystem\) readonly on device 253:0") is not None,
         "the root is the dm-verity device dm-0 on it, mounted read-only",
         "\n".join(l for l in text.splitlines() if "device-mapper" in l or "VFS" in l))
    nic = find(r"e1000e [0-9a-f:.]+ eth0: Intel\(R\) PRO/1000 Network Connection")
    t.ok(nic is not None, "e1000e drives the uplink eth0",
         "\n".join(l for l in text.splitlines() if "e1000e" in l))
    t.ok(find(r"e1000e [0-9a-f:.]+ eth0: NIC Link is Up") is not None, "eth0's link comes up")
    lease = find(r"dhcp: eth0: ([\d.]+/\d+) via ([\d.]+)")
    t.ok(lease is not None, "udhcpc gets a DHCP lease on eth0 and the lease handler configures it%s"
         % (" (%s via %s)" % (lease.group(1).decode(), lease.group(2).decode()) if lease else ""),
         "\n".join(l for l in text.splitlines() if l.startswith("dhcp:")))
    t.ok(find(r"iTCO_wdt [\w.]+: Found a ICH9 TCO device") is not None
         and find(r"iTCO_wdt [\w.]+: initialized\. heartbeat=\d+ sec") is not None,
         "iTCO_wdt drives the ICH9 TCO watchdog",
         "\n".join(l for l in text.splitlines() if "iTCO" in l or "TCO" in l))
    t.ok(find(r"init: watchdog: armed, \d+ s timeout") is not None, "init arms the watchdog",
         "\n".join(l for l in text.splitlines() if "watchdog" in l))
    dev = "/dev/nvme0n1p%d" % data_n
    t.ok(find(r"init: data: %s is blank: formatting it \(first boot\)" % dev) is not None
         and find(r"init: data: %s mounted on /data" % dev) is not None,
         "/data is the bulkhead-data partition of the NVMe disk (%s), formatted on first boot" % dev,
         "\n".join(l for l in text.splitlines() if "data:" in l))
    t.ok("WARNING" not in text, "no warning at boot",
         "\n".join(l for l in text.splitlines() if "WARNING" in l))
else:
    t.skip("the boot's console lines", "the boot failed (above)")

# --- the same disk.img on SATA and on a USB stick --------------------------------
# A copy of start-qemu.sh with the NVMe drive swapped for q35's AHCI port
# or a USB stick on an xHCI controller: the firmware must find the disk
# there, and the kernel must wait for the slot's PARTUUID until the
# (asynchronous) USB storage scan has found it.
OTHER = (("SATA disk (AHCI)", "-device ide-hd,bus=ide.0,drive=disk,serial=BULKHEAD-SATA0", r"UEFI QEMU HARDDISK"),
         ("USB stick (xHCI)", "-device qemu-xhci,id=xhci -device usb-storage,bus=xhci.0,drive=disk,serial=BULKHEADUSB0",
          r"UEFI QEMU QEMU USB HARDDRIVE"))
scratch = tempfile.mkdtemp(prefix="bh-pc-", dir=os.environ.get("BH_TESTS_OUTPUT"))
nvme = re.compile(r"-device nvme,\S*drive=disk\S*")
script = open(os.path.join(images, "start-qemu.sh")).read()
for what, device, fw_name in OTHER:
    if not nvme.search(script):
        t.ok(False, "disk.img boots from a %s" % what, "start-qemu.sh has no NVMe drive to replace")
        continue
    d = os.path.join(scratch, what.split()[0].lower())
    os.makedirs(d)
    os.symlink(disk, os.path.join(d, "disk.img"))
    with open(os.path.join(d, "start-qemu.sh"), "w") as f:
        f.write(nvme.sub(device, script))
    os.chmod(os.path.join(d, "start-qemu.sh"), 0o755)
    start = time.monotonic()
    with Machine(d, ["-no-reboot"], log_path=os.path.join(out, "e2e-pc.log"), script="start-qemu.sh") as m:
        try:
            m.expect(r"init: ready: ", 420)
            ready = time.monotonic() - start
        except Timeout as e:
            ready = None
            t.ok(False, "disk.img boots from a %s to init ready" % what, str(e))
        m.qmp("quit")
        m.wait_exit(30)
    if ready is None:
        continue
    text = m.text()
    data = "/dev/sda%d" % data_n
    problems = [name for name, rx in (
        ("the firmware boots from it", r"BdsDxe: starting Boot\d+ \"%s" % fw_name),
        ("the kernel finds it as sda with four partitions", r"\] +sda: sda1 sda2 sda3 sda4\r?\n"),
        ("dm-init finds slot A on it", r"device-mapper: init: waiting for device PARTUUID=%s" % re.escape(slot_uuid)),
        ("the verity root dm-0 is ready", r"device-mapper: ioctl: dm-0 \(bulkhead-root\) is ready"),
        ("/data is %s" % data, r"init: data: %s mounted on /data" % data)) if not re.search(rx, text)]
    t.ok(not problems, "disk.img boots from a %s to init ready (%.0f s after QEMU start)" % (what, ready),
         "missing: %s\n%s" % ("; ".join(problems), m.tail()))
shutil.rmtree(scratch, ignore_errors=True)
t.done()
