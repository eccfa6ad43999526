#!/usr/bin/python3
"""bhv against its targets and against QEMU's microvm machine.

Inside the booted x86_64 debug image (QEMU TCG; the build host's PVM KVM
cannot run a Linux guest), bhv boots the image's own kernel with the
end-to-end test's initramfs, 20 times or BH_BENCH_RUNS:

  - time from starting bhv to the guest's init marker, median (the
    helper tests/integration/test_bhv_stamp.c timestamps it in the image);
  - the same for `qemu-system-x86_64 -M microvm` with the same kernel and
    initrd, when the image has QEMU (it does not: then the line says what
    is missing), target: bhv <= 0.5x QEMU;
  - the monitor's RSS beyond guest memory while the guest runs (target
    <= 3 MiB), and the size of /usr/bin/bhv (target <= 1 MiB).

For scale only, QEMU microvm under TCG on the build host boots the same
kernel and initrd too: a different machine and accelerator, so it gets no
ratio.

Environment: BH_OUTPUT, a built qemu_x86_64_debug O folder; without it the
configuration is built (from the shared cache) into BH_BENCH_OUTPUT.
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
from qemu import Machine  # noqa: E402

RUNS = int(os.environ.get("BH_BENCH_RUNS", "20"))
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


def series(m, command):
    times, bad = [], 0
    for _ in range(RUNS):
        ms, st = stamped(m, command)
        if ms is None or st != 0:
            bad += 1
        else:
            times.append(ms)
    return times, bad


def describe(times):
    return "median %.0f ms (min %.0f, max %.0f, n=%d)" % (
        statistics.median(times), min(times), max(times), len(times))


def image_rss(m):
    """VmRSS of the jailed monitor and its outer process while a Linux
    guest runs, in KiB. The image's kernel has no PROC_PAGE_MONITOR (no
    smaps), so guest memory cannot be told apart here: an upper bound."""
    test_vm.sh(m, "bhv --kernel /tmp/p/bzImage --initrd /tmp/p/initrd.gz --cmdline '%s "
               "bhv.end=wait' --mem %d < /dev/null > /tmp/bench.log 2>&1 & echo $! > /tmp/bench.pid"
               % (CMDLINE, MEM_MIB))
    test_vm.sh(m, "for i in $(seq 120); do grep -q BHV-GUEST-INIT /tmp/bench.log && break; "
               "sleep 1; done", timeout=150)
    st, o = test_vm.sh(m, "sup=$(cat /tmp/bench.pid); mon=$(pgrep -P $sup); "
                       "echo MON $(grep VmRSS /proc/$mon/status) SUP $(grep VmRSS /proc/$sup/status)")
    test_vm.sh(m, "kill $(cat /tmp/bench.pid); wait $(cat /tmp/bench.pid)")
    mm = re.search(r"MON VmRSS: (\d+) kB SUP VmRSS: (\d+) kB", o)
    return (int(mm.group(1)), int(mm.group(2))) if mm else (None, None)


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


def main():
    out = output_dir()
    work = tempfile.mkdtemp(prefix="bh-bench-bhv-")
    sqfs = test_vm.build_payload(out, work, helpers=("stamp",))
    status = 0
    env = dict(os.environ, BULKHEAD_DATA=os.path.join(work, "data.img"))
    with Machine(os.path.join(out, "images"), extra_args=test_vm.payload_args(sqfs),
                 log_path=os.path.join(work, "console.log"), env=env) as m:
        m.expect(r"init: ready", 300)
        ok, o = test_vm.mount_payload(m)
        if not ok:
            sys.exit("bench_bhv: the payload does not mount: " + o)
        args = "--kernel /tmp/p/bzImage --initrd /tmp/p/initrd.gz --cmdline '%s' --mem %d" % (
            CMDLINE, MEM_MIB)
        bhv, bad = series(m, "/usr/bin/bhv " + args)
        if not bhv:
            sys.exit("bench_bhv: no bhv run reached the init marker")
        print("bhv (in the TCG-booted image, nested KVM, jailed): start to guest init %s%s"
              % (describe(bhv), ", %d failed runs" % bad if bad else ""))
        st, o = test_vm.sh(m, "command -v qemu-system-x86_64 || echo QEMU-MISSING")
        if "QEMU-MISSING" in o:
            print("qemu-system-x86_64 -M microvm in the image: not measured: the image has no "
                  "qemu-system-x86 (a package of its own would be needed); no ratio")
        else:
            qemu, qbad = series(m, "/usr/bin/qemu-system-x86_64 -M microvm -accel kvm -cpu host "
                                "-m %d -nodefaults -no-user-config -nographic -serial stdio "
                                "-kernel /tmp/p/bzImage -initrd /tmp/p/initrd.gz -append '%s'"
                                % (MEM_MIB, CMDLINE))
            if qemu:
                r = statistics.median(bhv) / statistics.median(qemu)
                print("qemu microvm (same image, same kernel): %s; bhv/qemu = %.2f (target <= 0.5)"
                      % (describe(qemu), r))
                status |= r > 0.5
        mon, sup = image_rss(m)
        if mon is not None:
            print("VmRSS in the image with a %d MiB Linux guest (guest memory included, no smaps "
                  "to subtract it): monitor %.1f MiB, outer process %.2f MiB"
                  % (MEM_MIB, mon / 1024, sup / 1024))
        st, o = test_vm.sh(m, "stat -c %s /usr/bin/bhv")
        size = int(re.search(r"(\d+)", o).group(1))
        print("/usr/bin/bhv: %.2f MiB static (target <= 1 MiB: %.2f of target)"
              % (size / MiB, size / MiB))
        status |= size > MiB
    own = host_overhead(out)
    if own is None:
        print("monitor RSS beyond guest memory: not measured (no usable /dev/kvm here)")
        status = 1
    else:
        total = (own[0] + own[1]) / 1024
        print("monitor RSS beyond guest memory (build host KVM, a guest touching a few pages, "
              "jailed, disk + rng + consoles): monitor %.2f MiB + outer process %.2f MiB = %.2f MiB "
              "(target <= 3 MiB: %.2f of target)" % (own[0] / 1024, own[1] / 1024, total, total / 3))
        status |= total > 3
    if shutil.which("qemu-system-x86_64"):
        sq = os.path.join(work, "sq")
        ref, hung = host_microvm(work, os.path.join(sq, "bzImage"), os.path.join(sq, "initrd.gz"))
        if ref:
            print("for scale only, qemu microvm under TCG on the build host (not comparable: "
                  "another machine and accelerator): start to guest init %s%s"
                  % (describe(ref), ", %d runs hung and were killed" % hung if hung else ""))
    shutil.rmtree(work, ignore_errors=True)
    sys.exit(1 if status else 0)


if __name__ == "__main__":
    main()
