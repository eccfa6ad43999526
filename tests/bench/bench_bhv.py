#!/usr/bin/python3
"""bhv against its targets and against QEMU's microvm machine.

Inside the booted x86_64 debug image (QEMU TCG with `-cpu max`, which
exposes SVM; the build host's PVM KVM cannot run a Linux guest), bhv and
QEMU each boot the image's own kernel with the end-to-end test's initramfs
(tests/helpers/bhv_guest_init.c), 128 MiB, 1 vCPU, command line
`console=ttyS0 quiet`, BH_BENCH_RUNS times each (default 20; lower it for
a quick run), alternating, after one unrecorded warm-up run of each, with
the image's demo workloads stopped:

  - time from starting the monitor to the guest's init marker, median (the
    helper tests/helpers/bhv_stamp.c timestamps it in the image);
  - bhv: /usr/bin/bhv, jailed;
  - QEMU: Debian's qemu-system-x86_64 from the build host (package
    qemu-system-x86), brought in on a squashfs payload disk of its own the
    way bench_bhc.py brings crun and runc: the binary with its ELF
    interpreter and rpath pointed at the disk by patchelf, its shared
    libraries, the dynamic loader, and the firmware -M microvm loads
    (bios-microvm.bin = qboot, the linuxboot option ROMs) given with -L.
    Run as `-M microvm -accel kvm -cpu host -m 128 -smp 1 -nodefaults
    -no-user-config -nographic -serial stdio -no-reboot -kernel -initrd
    -append`. When it cannot run or boot, the line says why, with its error;
  - the ratio bhv/QEMU of the medians, target <= 0.5;
  - RSS while the guest waits at its init: bhv's monitor and outer process
    (VmRSS, RssAnon, RssFile: bhv's guest memory is anonymous, and the
    image's kernel has no smaps to tell it apart), QEMU's with its guest
    memory in a memfd backend (RssShmem), so that RssAnon + RssFile is
    QEMU's own beyond guest memory; bhv's beyond guest memory is estimated
    from that (its VmRSS less the guest memory the same guest touched
    under QEMU);
  - the size of /usr/bin/bhv, static (target <= 1 MiB).

On the build host: the monitor's RSS beyond guest memory with a tiny guest
on the host's KVM (target <= 3 MiB), and, for scale only, QEMU microvm
under TCG booting the same kernel and initrd (a different machine and
accelerator, so it gets no ratio).

Exits 1 when a target is missed, and when a measurement or comparison it
promises cannot be made: bhv against QEMU in the image (time and RSS), and
the host's RSS beyond guest memory (the one exact measurement of that
target). The TCG run on the build host is for scale only: not promised.

Environment: BH_OUTPUT, a built qemu_x86_64_debug O folder; without it the
configuration is built (from the shared cache) into BH_BENCH_OUTPUT, where
the image's console log goes too (bench-bhv-console.log).
"""
import os
import re
import select
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
import image  # noqa: E402
import test_vm  # noqa: E402
from measure import Verdict, describe  # noqa: E402
from qemu import Machine  # noqa: E402
sys.path.insert(0, HERE)
import bench_bhc  # noqa: E402  (payload_runtime: a Debian program onto a payload disk)

RUNS = int(os.environ.get("BH_BENCH_RUNS", "20"))
RUN_TIMEOUT = 120
MEM_MIB = 128
CMDLINE = "console=ttyS0 quiet"
MiB = 1024 * 1024


def output_dir():
    o = os.environ.get("BH_OUTPUT")
    if o:
        cfg = image.config(o)
        if cfg["BH_ARCH"] != "x86_64" or cfg["BH_PROFILE"] != "debug":
            sys.exit("bench_bhv: BH_OUTPUT must be an x86_64 debug build")
        return o
    o = os.path.join(os.environ.get("BH_BENCH_OUTPUT", "/tmp/bulkhead-bench"), "bhv-x86_64-debug")
    for args in (["qemu_x86_64_debug_defconfig"], ["-j%d" % os.cpu_count()]):
        if subprocess.run(["make", "-C", TOP, "O=" + o] + args, stdout=subprocess.DEVNULL).returncode:
            sys.exit("bench_bhv: building %s failed" % o)
    return o


def stamped(m, command, timeout=300):
    """Runs command under stamp; returns (ms to marker or None, exit status)."""
    st, o = test_vm.sh(m, "/tmp/p/stamp BHV-GUEST-INIT %s" % command, timeout=timeout)
    mark = re.search(r"STAMP-MARKER ([\d.]+)", o)
    end = re.search(r"STAMP-EXIT ([\d.]+) (\d+)", o)
    return (float(mark.group(1)) if mark else None), (int(end.group(2)) if end else -1)


def image_rss(m):
    """/proc/PID/status of the jailed monitor and of its outer process while
    a Linux guest waits at its init, in KiB. The image's kernel has no
    PROC_PAGE_MONITOR (no smaps), and bhv's guest memory is anonymous: its
    RssAnon holds the guest's touched pages too."""
    test_vm.sh(m, "bhv --kernel /tmp/p/bzImage --initrd /tmp/p/initrd.gz --cmdline '%s "
               "bhv.end=wait' --mem %d < /dev/null > /tmp/bench.log 2>&1 & echo $! > /tmp/bench.pid"
               % (CMDLINE, MEM_MIB))
    test_vm.sh(m, "for i in $(seq 120); do grep -q BHV-GUEST-INIT /tmp/bench.log && break; "
               "sleep 1; done", timeout=150)
    st, o = test_vm.sh(m, "sup=$(cat /tmp/bench.pid); echo MON=$(pgrep -P $sup) SUP=$sup")
    mm = re.search(r"MON=(\d+) SUP=(\d+)", o)
    mon, sup = (status_kib(m, mm.group(1)), status_kib(m, mm.group(2))) if mm else (None, None)
    test_vm.sh(m, "kill $(cat /tmp/bench.pid); wait $(cat /tmp/bench.pid)")
    return mon, sup


def host_overhead(out):
    """The monitor's own RSS on the build host's KVM, with a tiny guest that
    touches a few dozen pages: jailed, with a disk, rng and both consoles.
    Returns (monitor KiB, outer process KiB) or None."""
    sys.path.insert(0, os.path.join(TOP, "tests", "integration"))
    import test_bhv_kvm  # noqa: E402
    bhv = os.path.join(out, "build", "programs", "bhv", "bhv")
    if not os.access("/dev/kvm", os.R_OK | os.W_OK) or not os.access(bhv, os.X_OK):
        return None
    work = tempfile.mkdtemp(prefix="bh-bench-rss-")
    test_bhv_kvm.build_guests(work)
    p = subprocess.Popen([bhv, "--kernel", os.path.join(work, "long-spin.bin"), "--kernel-format",
                          "raw64", "--mem", str(MEM_MIB), "--disk", test_bhv_kvm.new_disk(work),
                          "--console", "both"] + ([] if os.geteuid() == 0 else ["--no-jail"]),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                         stdin=subprocess.DEVNULL, text=True)
    while "scenario spin" not in p.stdout.readline():
        if p.poll() is not None:
            return None
    time.sleep(0.5)
    kids = open("/proc/%d/task/%d/children" % (p.pid, p.pid)).read().split()
    rss = lambda pid: int(re.search(r"VmRSS:\s+(\d+)", open("/proc/%d/status" % pid).read()).group(1))  # noqa: E731
    mon = rss(int(kids[0])) if kids else rss(p.pid)
    sup = rss(p.pid) if kids else 0
    # SIGTERM would only press the power button, which this guest ignores.
    p.send_signal(signal.SIGINT)
    p.wait()
    shutil.rmtree(work, ignore_errors=True)
    return mon, sup


def host_microvm(work, kernel, initrd):
    """QEMU microvm under TCG on the build host: time to the marker."""
    times, hung = [], 0
    for _ in range(RUNS):
        start = time.monotonic()
        p = subprocess.Popen(["qemu-system-x86_64", "-M", "microvm", "-accel", "tcg", "-m",
                              str(MEM_MIB), "-nodefaults", "-no-user-config", "-nographic",
                              "-serial", "stdio", "-kernel", kernel, "-initrd", initrd,
                              "-append", CMDLINE + " bhv.end=poweroff", "-no-reboot"],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             stdin=subprocess.DEVNULL)
        got, buf, deadline = None, b"", start + 60
        while p.poll() is None and time.monotonic() < deadline:
            r, _, _ = select.select([p.stdout], [], [], 1)
            if r:
                buf += os.read(p.stdout.fileno(), 65536)
                if got is None and b"BHV-GUEST-INIT" in buf:
                    got = (time.monotonic() - start) * 1000
        if p.poll() is None:
            p.kill()
            hung += 1
        p.wait()
        if got is not None:
            times.append(got)
    return times, hung


QEMU_MOUNT = "/tmp/q"
QEMU_VERSION = ["?"]
# What -M microvm loads from its data directory (-L): qboot, the option
# ROMs x86_load_linux() adds for -kernel, and pvh.bin for an ELF kernel.
QEMU_FIRMWARE = ("bios-microvm.bin", "qboot.rom", "linuxboot_dma.bin", "linuxboot.bin",
                 "pvh.bin", "kvmvapic.bin", "multiboot_dma.bin")


def qemu_payload(work):
    """Debian's qemu-system-x86_64 (the build host's, package qemu-system-x86)
    on a squashfs of its own: the binary with its ELF interpreter and rpath
    pointed at the disk (patchelf), its shared libraries and the dynamic
    loader, and the firmware microvm needs. Returns (path, None) or
    (None, why not)."""
    exe = shutil.which("qemu-system-x86_64")
    if not exe:
        return None, "the build host has no qemu-system-x86_64 (apt-get install qemu-system-x86)"
    for tool in ("patchelf", "mksquashfs", "ldd"):
        if not shutil.which(tool):
            return None, "%s is not installed on the build host" % tool
    q = os.path.join(work, "qemu")
    for d in ("bin", "lib", "share"):
        os.makedirs(os.path.join(q, d), exist_ok=True)
    bench_bhc.payload_runtime(os.path.realpath(exe), os.path.join(q, "bin", "qemu-system-x86_64"),
                              os.path.join(q, "lib"), QEMU_MOUNT)
    # glibc loads libgcc_s itself when a thread is cancelled or exits.
    for extra in ("/lib/x86_64-linux-gnu/libgcc_s.so.1",):
        if os.path.exists(extra) and not os.path.exists(os.path.join(q, "lib", os.path.basename(extra))):
            shutil.copy(extra, os.path.join(q, "lib"))
    missing = []
    for f in QEMU_FIRMWARE:
        src = os.path.join("/usr/share/qemu", f)
        if os.path.exists(src):
            shutil.copy(src, os.path.join(q, "share", f))  # follows bios-microvm.bin -> qboot.rom
        else:
            missing.append(f)
    if "bios-microvm.bin" in missing:
        return None, "the build host's /usr/share/qemu has no bios-microvm.bin (qboot)"
    sqfs = os.path.join(work, "qemu.sqfs")
    subprocess.run(["mksquashfs", q, sqfs, "-noappend", "-quiet", "-no-progress", "-all-root"],
                   check=True, stdout=subprocess.DEVNULL)
    return sqfs, None


def qemu_command(extra_machine="", extra=""):
    return ("%s/bin/qemu-system-x86_64 -L %s/share -M microvm%s -accel kvm -cpu host -m %d -smp 1 "
            "-nodefaults -no-user-config -nographic -serial stdio -no-reboot "
            "-kernel /tmp/p/bzImage -initrd /tmp/p/initrd.gz -append '%s' %s"
            % (QEMU_MOUNT, QEMU_MOUNT, extra_machine, MEM_MIB, CMDLINE, extra)).strip()


def mount_qemu(m):
    st, o = test_vm.sh(m, "for d in /sys/class/block/*; do [ \"$(cat $d/serial 2>/dev/null)\" = qemu ]"
                       " && dev=${d##*/}; done; mkdir -p %s && mount -t squashfs -o ro /dev/$dev %s"
                       " && %s/bin/qemu-system-x86_64 -version 2>&1 | head -1"
                       % (QEMU_MOUNT, QEMU_MOUNT, QEMU_MOUNT))
    return st == 0 and "QEMU emulator" in o, o.strip()


def qemu_probe(m):
    """One QEMU boot with its errors: (True, "") when it reaches the marker,
    else (False, what it printed)."""
    st, o = test_vm.sh(m, "/tmp/p/stamp BHV-GUEST-INIT /usr/bin/timeout %d %s < /dev/null 2>&1 | "
                       "tail -15" % (RUN_TIMEOUT, qemu_command()), timeout=RUN_TIMEOUT + 60)
    if re.search(r"STAMP-MARKER [\d.]+", o):
        return True, ""
    return False, " | ".join(l.strip() for l in o.strip().splitlines()[-6:] if l.strip())


def status_kib(m, pid):
    st, o = test_vm.sh(m, "grep -E '^(VmRSS|RssAnon|RssFile|RssShmem):' /proc/%s/status | "
                       "tr -s ' \\t' ' ' | tr '\\n' ' '" % pid)
    return {k: int(v) for k, v in re.findall(r"(\w+): (\d+) kB", o)}


def qemu_rss(m):
    """QEMU's RSS while the same guest waits at its init, guest memory in a
    memfd backend: it counts as RssShmem, so RssAnon + RssFile is QEMU's
    own. Returns the status dict in KiB, or (None, why)."""
    cmd = qemu_command(",memory-backend=mem", "-object memory-backend-memfd,id=mem,size=%dM" % MEM_MIB)
    cmd = cmd.replace("-append '%s'" % CMDLINE, "-append '%s bhv.end=wait'" % CMDLINE)
    test_vm.sh(m, "%s < /dev/null > /tmp/qbench.log 2>&1 & echo $! > /tmp/qbench.pid" % cmd)
    st, o = test_vm.sh(m, "for i in $(seq 240); do grep -q BHV-GUEST-INIT /tmp/qbench.log && break; "
                       "sleep 1; done; grep -c BHV-GUEST-INIT /tmp/qbench.log", timeout=270)
    pid = test_vm.sh(m, "cat /tmp/qbench.pid")[1].strip()
    if not o.strip().endswith("1"):
        test_vm.sh(m, "kill -9 %s" % pid)
        return None, test_vm.sh(m, "tail -3 /tmp/qbench.log")[1].strip()
    r = status_kib(m, pid)
    test_vm.sh(m, "kill %s; sleep 1; kill -9 %s 2>/dev/null" % (pid, pid))
    return r, None


def main():
    out = output_dir()
    work = tempfile.mkdtemp(prefix="bh-bench-bhv-")
    sqfs = test_vm.build_payload(out, work, helpers=("stamp",))
    qsqfs, qwhy = qemu_payload(work)
    verdict = Verdict("bench_bhv")
    env = dict(os.environ, BULKHEAD_DATA=os.path.join(work, "data.img"))
    extra = test_vm.payload_args(sqfs)
    if qsqfs:
        extra += ["-drive", "file=%s,if=none,id=q,format=raw,readonly=on" % qsqfs,
                  "-device", "virtio-blk-pci,drive=q,serial=qemu"]
    logs = os.environ.get("BH_BENCH_OUTPUT", "/tmp/bulkhead-bench")
    os.makedirs(logs, exist_ok=True)
    log = os.path.join(logs, "bench-bhv-console.log")
    if os.path.exists(log):
        os.unlink(log)
    with Machine(os.path.join(out, "images"), extra_args=extra, log_path=log, env=env) as m:
        m.expect(r"init: ready", 300)
        ok, o = test_vm.mount_payload(m)
        if not ok:
            sys.exit("bench_bhv: the payload does not mount: " + o)
        # A quiet machine: the image's demo workloads (a container and a
        # Linux guest, installed by bhd on first boot) are stopped.
        test_vm.sh(m, "for i in $(seq 120); do bhctl list 2>/dev/null | grep -q '^demo-vm ' && break; "
                   "sleep 1; done; for w in $(bhctl list | awk 'NR > 1 && $3 == \"running\" {print $1}'); "
                   "do bhctl stop $w; done", timeout=300)
        if qsqfs:
            ok, o = mount_qemu(m)
            if not ok:
                qwhy = "Debian's QEMU does not run in the image: %s" % o
            QEMU_VERSION[0] = o.split("version")[-1].split()[0] if "version" in o else "?"
        if not qwhy:
            ok, o = qemu_probe(m)
            if not ok:
                qwhy = "Debian's QEMU (-M microvm -accel kvm) does not boot the guest in the image: %s" % o
        args = "--kernel /tmp/p/bzImage --initrd /tmp/p/initrd.gz --cmdline '%s' --mem %d" % (
            CMDLINE, MEM_MIB)
        # One unrecorded run each warms the page cache (the image's squashfs,
        # the payload disks); then the two alternate, so that a change of
        # load on the shared build host falls on both alike.
        # Both under timeout(1), alike: a guest that does not power off
        # costs a minute, not the run. A run counts when the marker came;
        # one that did not end by itself (status != 0) is counted apart.
        bhv_cmd = "/usr/bin/timeout %d /usr/bin/bhv %s" % (RUN_TIMEOUT, args)
        qemu_cmd = "/usr/bin/timeout %d %s < /dev/null" % (RUN_TIMEOUT, qemu_command())
        stamped(m, bhv_cmd)
        if not qwhy:
            stamped(m, qemu_cmd)
        bhv, bad, bend, qemu, qbad, qend = [], 0, 0, [], 0, 0
        for _ in range(RUNS):
            ms, st = stamped(m, bhv_cmd)
            if ms is None:
                bad += 1
            else:
                bhv.append(ms)
                bend += st != 0
            if not qwhy:
                ms, st = stamped(m, qemu_cmd)
                if ms is None:
                    qbad += 1
                else:
                    qemu.append(ms)
                    qend += st != 0
        if not bhv:
            sys.exit("bench_bhv: no bhv run reached the init marker")
        print("bhv (in the TCG-booted image, nested KVM, jailed): start to guest init %s%s%s"
              % (describe(bhv, digits=0), ", %d runs without the marker" % bad if bad else "",
                 ", %d did not exit 0 within %d s" % (bend, RUN_TIMEOUT) if bend else ""))
        if qwhy:
            verdict.not_measured("qemu-system-x86_64 -M microvm in the image", "%s; no ratio" % qwhy)
        elif not qemu:
            verdict.not_measured("qemu-system-x86_64 -M microvm in the image",
                                 "no run of %d reached the init marker and exited 0; no ratio" % RUNS)
        else:
            r = statistics.median(bhv) / statistics.median(qemu)
            print("qemu-system-x86_64 %s (Debian's, -M microvm -accel kvm -cpu host, same image, "
                  "kernel, initrd, cmdline, %d MiB, 1 vCPU): start to guest init %s%s"
                  % (QEMU_VERSION[0], MEM_MIB, describe(qemu, digits=0),
                     (", %d runs without the marker" % qbad if qbad else "") +
                     (", %d did not exit 0 within %d s" % (qend, RUN_TIMEOUT) if qend else "")))
            verdict.target("bhv/qemu, medians %.0f / %.0f ms" % (statistics.median(bhv), statistics.median(qemu)),
                           r, 0.5)
        mon, sup = image_rss(m)
        q, qerr = (None, qwhy) if qwhy else qemu_rss(m)
        if mon and "VmRSS" in mon:
            print("bhv in the image, %d MiB Linux guest waiting at its init: monitor VmRSS %.1f MiB "
                  "(RssAnon %.1f, RssFile %.2f; guest memory is anonymous, so included), outer "
                  "process VmRSS %.2f MiB" % (MEM_MIB, mon["VmRSS"] / 1024, mon.get("RssAnon", 0) / 1024,
                                              mon.get("RssFile", 0) / 1024, sup.get("VmRSS", 0) / 1024))
        if q:
            own = q.get("RssAnon", 0) + q.get("RssFile", 0)
            print("qemu microvm in the image, same guest waiting, guest memory in a memfd: VmRSS "
                  "%.1f MiB = guest memory touched (RssShmem) %.1f MiB + QEMU's own (RssAnon %.1f + "
                  "RssFile %.1f) %.1f MiB beyond guest memory"
                  % (q["VmRSS"] / 1024, q.get("RssShmem", 0) / 1024, q.get("RssAnon", 0) / 1024,
                     q.get("RssFile", 0) / 1024, own / 1024))
            if mon and "VmRSS" in mon:
                est = mon["VmRSS"] + sup.get("VmRSS", 0) - q.get("RssShmem", 0)
                print("bhv beyond guest memory in the image, estimated as monitor + outer process "
                      "VmRSS minus the guest memory the same guest touched under QEMU: %.2f MiB "
                      "(QEMU: %.1f MiB; bhv/qemu = %.2f)" % (est / 1024, own / 1024, est / own))
        else:
            verdict.not_measured("qemu microvm RSS in the image", qerr)
        if not (mon and "VmRSS" in mon):
            verdict.not_measured("bhv RSS in the image", "no /proc status of the monitor: %s" % mon)
        st, o = test_vm.sh(m, "stat -c %s /usr/bin/bhv")
        size = int(re.search(r"(\d+)", o).group(1))
        verdict.target("/usr/bin/bhv, static", size / MiB, 1, " MiB")
    own = host_overhead(out)
    if own is None:
        verdict.not_measured("monitor RSS beyond guest memory",
                             "no usable /dev/kvm here, or no built bhv in O/build/programs/bhv")
    else:
        print("monitor RSS beyond guest memory (build host KVM, a guest touching a few pages, "
              "jailed, disk + rng + consoles): monitor %.2f MiB + outer process %.2f MiB"
              % (own[0] / 1024, own[1] / 1024))
        verdict.target("monitor RSS beyond guest memory, both processes", (own[0] + own[1]) / 1024, 3, " MiB")
    if shutil.which("qemu-system-x86_64"):
        sq = os.path.join(work, "sq")
        ref, hung = host_microvm(work, os.path.join(sq, "bzImage"), os.path.join(sq, "initrd.gz"))
        if ref:
            print("for scale only, qemu microvm under TCG on the build host (not comparable: "
                  "another machine and accelerator): start to guest init %s%s"
                  % (describe(ref, digits=0), ", %d runs hung and were killed" % hung if hung else ""))
    shutil.rmtree(work, ignore_errors=True)
    verdict.exit()


if __name__ == "__main__":
    main()
