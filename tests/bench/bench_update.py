#!/usr/bin/python3
"""Verified boot and updates, per board (docs/update.md):

- boot time from QEMU start to init's `ready` through UEFI firmware,
  systemd-boot, the UKI and dm-verity (start-qemu.sh), against the
  direct kernel boot of the same image (start-qemu-kernel.sh) as the peer: median
  of 3 boots each, and the ratio;
- (debug images) the time `bhctl update` takes to check and write the
  image's own update file into slot B, against the time to read the same
  file once (`cat FILE >/dev/null`) as the peer.

Uses the configurations built by `make check` under O/check (or
BH_BENCH_IMAGES=dir1:dir2 for other O folders). A configuration that is not
built, or a comparison that cannot be made, fails the benchmark.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
from qemu import Machine  # noqa: E402
from measure import Verdict, timed  # noqa: E402
import console  # noqa: E402
import image  # noqa: E402

dirs = os.environ.get("BH_BENCH_IMAGES")
dirs = dirs.split(":") if dirs else [os.path.join(TOP, "output", "check", d) for d in
                                     ("qemu_x86_64", "qemu_aarch64", "qemu_x86_64_debug")]
tmp = tempfile.mkdtemp(prefix="bh-bench-update-")
verdict = Verdict("bench_update")


def boot(images, script, env):
    """Seconds from QEMU start to init's ready."""
    with Machine(images, env=env, script=script) as m:
        _, took = timed(m.expect, r"init: ready: ", 300)
        m.qmp("quit")
    return took


for o in dirs:
    images = os.path.join(o, "images")
    if not os.path.exists(os.path.join(images, "disk.img")):
        verdict.not_measured(o, "not built (run make check first or set BH_BENCH_IMAGES)")
        continue
    name = os.path.basename(o)
    env = dict(os.environ, BULKHEAD_DATA=os.path.join(tmp, "data.img"))
    direct = statistics.median(boot(images, "start-qemu-kernel.sh", env) for _ in range(3))
    disk = statistics.median(boot(images, "start-qemu.sh", env) for _ in range(3))
    print("%s: QEMU start -> init ready: disk.img (UEFI, systemd-boot, UKI, dm-verity) %.1f s, "
          "direct kernel boot (peer) %.1f s, ratio %.2f" % (name, disk, direct, disk / direct))
    if image.config(o)["BH_PROFILE"] != "debug":
        continue
    p = subprocess.run(["make", "-C", TOP, "O=" + o, "update-image"], capture_output=True, text=True)
    version = open(os.path.join(o, "build", "image-version")).read().strip()
    bhu = os.path.join(images, "update-%s.bhu" % version)
    if p.returncode != 0 or not os.path.exists(bhu):
        verdict.not_measured("%s: bhctl update" % name, "make update-image failed: %s" % p.stderr[-500:])
        continue
    sq = os.path.join(tmp, "payload.sqfs")
    subprocess.run(["mksquashfs", bhu, sq, "-noappend", "-quiet", "-no-progress", "-all-root"],
                   check=True, capture_output=True)
    extra = ["-drive", "file=%s,if=none,id=payload,format=raw,readonly=on" % sq,
             "-device", "virtio-blk-pci,drive=payload,serial=payload"]
    with Machine(images, extra, env=env, script="start-qemu.sh") as m:
        m.expect(r"init: ready: ", 300)
        # bhd takes updates once it has confirmed this boot healthy.
        m.expect(r"bhd: slot a \(version [^)]*\) boot healthy", 600)
        console.prompt(m)
        f = "/tmp/p/" + os.path.basename(bhu)
        m.shell("mkdir -p /tmp/p && for b in /sys/block/vd*; do [ \"$(cat $b/serial)\" = payload ] && "
                "mount -t squashfs /dev/${b##*/} /tmp/p; done")
        up = "cut -d' ' -f1 /proc/uptime"
        st, out = m.shell("%s; cat %s >/dev/null; %s" % (up, f, up))
        a, b = (float(x) for x in out.split()[-2:]) if st == 0 else (0, 0)
        read_ms = (b - a) * 1000
        st, out = m.shell("%s; bhctl update --allow-downgrade %s >/dev/null; echo rc=$?; %s" % (up, f, up),
                          timeout=600)
        words = out.split()
        ok = st == 0 and "rc=0" in words
        apply_ms = (float(words[-1]) - float(words[0])) * 1000 if ok else 0
        m.qmp("quit")
    if not ok or not read_ms:
        verdict.not_measured("%s: bhctl update" % name, "it failed (%s)" % out[-300:])
        continue
    size = os.path.getsize(bhu) / 1e6
    print("%s: bhctl update of a %.1f MB update file (check + write slot B + read back + UKI) %.1f s, "
          "reading the file once (peer) %.1f s, ratio %.1f" % (name, size, apply_ms / 1000, read_ms / 1000,
                                                                apply_ms / read_ms))
shutil.rmtree(tmp, ignore_errors=True)
verdict.exit()
