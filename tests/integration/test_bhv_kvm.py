#!/usr/bin/python3
"""bhv on the build host's /dev/kvm, with tiny guests of our own.

The build host's KVM (PVM here) runs small hand-made guests but no Linux,
so these guests are built on the spot with the host's gcc:
tests/helpers/bhv_guest_real.c (real mode: COM1 output, ACPI power-off) and
tests/helpers/bhv_guest_long.c (long mode: MMIO exits, virtio-blk and virtio-rng
round trips, hostile descriptor chains and registers, then the end its
SCENARIO says). The real bhv binary of an x86_64 build runs them, jailed
when we are root:

  - each guest's checks pass and the exit status says how it ended:
    0 powered off, 2 rebooted, 3 crashed (triple fault, pvpanic);
  - the disk file holds what the guest wrote;
  - a hostile guest only breaks its device (the monitor logs the rule it
    broke, keeps running and powers off normally);
  - the jail, inspected from outside while a guest spins: uid, no
    capabilities, no_new_privs, seccomp on every thread, new namespaces,
    an empty root, the outer process's fds; SIGTERM ends it with status 1;
  - the seccomp allow-lists stay under 60 system calls, vCPU threads
    narrower than the device thread;
  - bad input is refused before any VM, with a message naming the input.

Environment: BH_OUTPUT (a built O folder); an x86_64 build is looked for
there and beside it (BH_TESTS_OUTPUT), since the first configuration
`make check` builds may be ARM64. BH_SANITIZED_BIN: a sanitizer build of
bhv to run instead (tests/lib/bhbin.py).
"""
import glob
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
HELPERS = os.path.join(HERE, "..", "helpers")
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
from tap import Tap  # noqa: E402
import bhbin  # noqa: E402

LONG_LD = """SECTIONS {
	. = 0x100000;
	.text : { *(.text.start) *(.text*) }
	.rodata : { *(.rodata*) }
	.data : { *(.data*) }
	.bss : { *(.bss*) *(COMMON) }
	/DISCARD/ : { *(.comment) *(.note*) *(.eh_frame*) }
}
"""
DISK_IN = b"LONG-DISK-IN from the test\n"


def find_bhv():
    """The bhv of an x86_64 build: BH_OUTPUT, or a sibling configuration."""
    cands = [os.environ.get("BH_OUTPUT", "")]
    if os.environ.get("BH_TESTS_OUTPUT"):
        cands += sorted(glob.glob(os.path.join(os.environ["BH_TESTS_OUTPUT"], "*")))
    for o in cands:
        try:
            conf = open(os.path.join(o, ".config")).read()
        except OSError:
            continue
        exe = os.path.join(o, "build", "programs", "bhv", "bhv")
        if "BH_ARCH_X86_64=y" in conf and os.access(exe, os.X_OK):
            return exe
    return None


def build_guests(work):
    run = lambda *a: subprocess.run(a, check=True, capture_output=True)  # noqa: E731
    run("gcc", "-m32", "-c", "-o", os.path.join(work, "real.o"),
        os.path.join(HELPERS, "bhv_guest_real.c"))
    run("ld", "-m", "elf_i386", "-Ttext", "0x8000", "--oformat", "binary", "-o",
        os.path.join(work, "real.bin"), os.path.join(work, "real.o"))
    with open(os.path.join(work, "long.ld"), "w") as f:
        f.write(LONG_LD)
    for sc in ("poweroff", "reboot", "triple", "panic", "spin"):
        elf = os.path.join(work, "long-%s.elf" % sc)
        run("gcc", "-O2", "-ffreestanding", "-fno-pic", "-no-pie", "-nostdlib", "-mno-red-zone",
            "-fno-stack-protector", "-fcf-protection=none", "-mgeneral-regs-only", "-static",
            "-DSCENARIO=" + sc, "-T", os.path.join(work, "long.ld"), "-Wl,--build-id=none",
            "-Wl,--no-warn-rwx-segments", "-o", elf, os.path.join(HELPERS, "bhv_guest_long.c"))
        run("objcopy", "-O", "binary", elf, os.path.join(work, "long-%s.bin" % sc))


def new_disk(work):
    path = os.path.join(work, "disk.img")
    with open(path, "wb") as f:
        f.write(DISK_IN.ljust(1 << 20, b"\0"))
    return path


def run_bhv(bhv, args, timeout=60):
    start = time.monotonic()
    p = subprocess.run([bhv] + args, capture_output=True, text=True, timeout=timeout,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout, p.stderr, time.monotonic() - start


def check_guest_lines(t, out, prefix):
    """One TAP line per PASS/FAIL line the guest printed."""
    lines = re.findall(r"^(PASS|FAIL) (.*)$", out, re.M)
    for verdict, what in lines:
        t.ok(verdict == "PASS", "%s: %s" % (prefix, what))
    return len(lines)


def proc_status(pid):
    with open("/proc/%d/status" % pid) as f:
        return f.read()


def start_spin(bhv, work, args):
    """A spinning guest; returns the process once it runs, or None."""
    p = subprocess.Popen([bhv, "--kernel", os.path.join(work, "long-spin.bin"),
                          "--kernel-format", "raw64"] + args,
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True)
    out = ""
    deadline = time.monotonic() + 30
    while "scenario spin" not in out and time.monotonic() < deadline and p.poll() is None:
        out += p.stdout.readline()
    if "scenario spin" not in out:
        p.kill()
        p.communicate()
        return None
    return p


def monitor_of(p):
    kids = open("/proc/%d/task/%d/children" % (p.pid, p.pid)).read().split()
    return int(kids[0]) if kids else p.pid


def limits_of(pid):
    """/proc/<pid>/limits as {name: (soft, hard)}."""
    lim = {}
    for line in open("/proc/%d/limits" % pid).read().splitlines()[1:]:
        m = re.match(r"(.+?)\s{2,}(\S+)\s+(\S+)", line)
        if m:
            lim[m.group(1).strip()] = (m.group(2), m.group(3))
    return lim


UID_BASE, UID_SLOTS = 0x20000000, 1024


def jail_checks(t, bhv, work, jail):
    """A spinning guest, jailed; the monitor inspected from outside."""
    p = start_spin(bhv, work, ["--disk", new_disk(work)] + ([] if jail else ["--no-jail"]))
    if p is None:
        t.ok(False, "a spinning guest starts")
        return
    try:
        mon = monitor_of(p)
        st = proc_status(mon)
        ids = re.search(r"Uid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\nGid:\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)", st)
        uid = int(ids.group(1)) if ids else -1
        t.ok(ids is not None and len(set(ids.groups())) == 1 and
             UID_BASE <= uid < UID_BASE + UID_SLOTS,
             "jail: the monitor runs as a uid (and gid) of bhv's range: %d" % uid,
             ids.group(0) if ids else st)
        # Limits: the largest VM's fds fit in 64; threads: 1 vCPU, the
        # device thread and the outer process, plus pids.max's spare; files
        # grow to the largest disk or 64 MiB of console file.
        lim = limits_of(mon)
        want = {"Max open files": ("64", "64"), "Max processes": ("5", "5"),
                "Max file size": (str(64 << 20), str(64 << 20)), "Max core file size": ("0", "0")}
        t.ok(all(lim.get(k) == v for k, v in want.items()),
             "jail: RLIMIT_NOFILE 64, NPROC 5, FSIZE 64 MiB, CORE 0",
             "\n".join("%s: %s" % (k, lim.get(k)) for k in want))
        fds = len(os.listdir("/proc/%d/fd" % mon))
        t.ok(fds <= 32, "jail: the monitor holds %d fds, well under its limit" % fds)
        # A second VM at the same time gets a uid of its own.
        q = start_spin(bhv, work, [])
        if q is None:
            t.ok(False, "a second spinning guest starts beside the first")
        else:
            st2 = proc_status(monitor_of(q))
            m2 = re.search(r"Uid:\s+(\d+)", st2)
            t.ok(m2 is not None and int(m2.group(1)) != uid and
                 UID_BASE <= int(m2.group(1)) < UID_BASE + UID_SLOTS,
                 "jail: a second VM runs as another uid (%s, the first %d)"
                 % (m2.group(1) if m2 else "?", uid))
            q.send_signal(signal.SIGINT)
            try:
                q.communicate(timeout=20)
            except subprocess.TimeoutExpired:
                q.kill()
                q.communicate()
        t.ok(all(re.search(r"%s:\s+0+\n" % c, st) for c in ("CapInh", "CapPrm", "CapEff",
                                                             "CapBnd", "CapAmb")),
             "jail: the monitor has no capabilities in any set")
        t.ok(re.search(r"NoNewPrivs:\s+1", st) is not None, "jail: no_new_privs is set")
        t.ok(re.search(r"Seccomp:\s+2", st) is not None and
             all(re.search(r"Seccomp:\s+2", open(os.path.join(d, "status")).read())
                 for d in glob.glob("/proc/%d/task/*" % mon)),
             "jail: every thread has a seccomp filter (%d threads)"
             % len(glob.glob("/proc/%d/task/*" % mon)))
        new_ns = [n for n in ("mnt", "pid", "net", "ipc", "uts")
                  if os.readlink("/proc/%d/ns/%s" % (mon, n)) != os.readlink("/proc/self/ns/" + n)]
        t.ok(len(new_ns) == 5, "jail: new mount, pid, net, ipc and uts namespaces: %s" % new_ns)
        t.ok(os.listdir("/proc/%d/root/" % mon) == [], "jail: the monitor's root is empty")
        t.ok(len(os.listdir("/proc/%d/fd" % p.pid)) == 2,
             "jail: the outer process keeps only stderr and its signalfd")
        t.ok(re.search(r"Seccomp:\s+2", proc_status(p.pid)) is not None,
             "jail: the outer process is under its own seccomp filter")
    except (OSError, IndexError, ValueError) as e:
        t.ok(False, "jail: inspect the monitor", str(e))
    # This guest has no driver for its power button: SIGTERM presses it and
    # nothing happens; SIGINT then stops the VM at once.
    p.send_signal(signal.SIGTERM)
    time.sleep(1)
    running = p.poll() is None
    p.send_signal(signal.SIGINT)
    try:
        _, err = p.communicate(timeout=20)
    except subprocess.TimeoutExpired:
        p.kill()
        _, err = p.communicate()
    t.ok(running and "pressing the guest's power button" in err,
         "SIGTERM presses the power button; a guest that ignores it keeps running", err)
    t.ok(p.returncode == 1 and "stopped by signal 2" in err,
         "SIGINT ends the VM at once with status 1 and says why", err)


def main():
    t = Tap()
    bhv = bhbin.program("bhv", find_bhv)
    if not bhv:
        t.skip("bhv on /dev/kvm", bhbin.missing_reason("bhv") if bhbin.sanitized()
               else "no x86_64 build of bhv in BH_OUTPUT or BH_TESTS_OUTPUT")
        t.done()
    if not os.path.exists("/dev/kvm"):
        # Some machines of a CI kind have no KVM at all; .ci/run then says
        # so and allows this one skip (test_vm.py runs bhv on nested KVM
        # inside the image either way).
        t.skip("bhv on /dev/kvm", "this machine has no /dev/kvm")
        t.done()
    if not os.access("/dev/kvm", os.R_OK | os.W_OK):
        t.skip("bhv on /dev/kvm", "/dev/kvm is not readable and writable by this user")
        t.done()
    jail = os.geteuid() == 0
    bhbin.skip_leak_check(t, "bhv: LeakSanitizer at exit", "its exit scan stops the world with clone and "
                          "ptrace, which bhv's seccomp filters forbid (ASan and UBSan stay on)")
    jail_args = [] if jail else ["--no-jail"]
    work = tempfile.mkdtemp(prefix="bh-bhv-")
    try:
        build_guests(work)
    except subprocess.CalledProcessError as e:
        t.ok(False, "build the test guests", e.stderr.decode(errors="replace"))
        t.done()

    # Real mode: serial output, ACPI power-off.
    st, out, err, took = run_bhv(bhv, ["--kernel", os.path.join(work, "real.bin"),
                                       "--kernel-format", "raw16"] + jail_args)
    t.ok(st == 0 and "real mode guest says hello" in out,
         "a real-mode guest prints on COM1 and powers off (status %d, %.2f s)" % (st, took),
         out + err)

    # Long mode: devices, hostile driver, power-off.
    disk = new_disk(work)
    st, out, err, took = run_bhv(bhv, ["--kernel", os.path.join(work, "long-poweroff.bin"),
                                       "--kernel-format", "raw64", "--disk", disk] + jail_args)
    n = check_guest_lines(t, out, "long-mode guest")
    t.ok(n >= 15, "the long-mode guest ran all its checks (%d)" % n, out + err)
    t.ok(st == 0 and "scenario poweroff" in out,
         "the long-mode guest powers off: status 0 (%.2f s)" % took, out + err)
    with open(disk, "rb") as f:
        f.seek(512)
        t.ok(f.read(16) == b"LONG-GUEST-WROTE", "the guest's virtio-blk write reached the file")
    for rule in ("descriptor chain loops", "buffer is outside guest memory",
                 "available index moved by more than the queue size",
                 "queue size is not a power of two"):
        t.ok("disk0: guest driver error: " + rule in err,
             "the monitor logs the broken rule and carries on: %s" % rule, err)

    # How a guest ends is the exit status.
    # PVM cannot deliver the triple fault: it reports the int3 through a
    # zero-limit IDT as an emulation failure. Both are a crash.
    for sc, want, why in (("reboot", 2, ("rebooted (i8042 reset)",)),
                          ("triple", 3, ("triple fault", "KVM internal error")),
                          ("panic", 3, ("kernel panic (pvpanic)",))):
        st, out, err, took = run_bhv(bhv, ["--kernel", os.path.join(work, "long-%s.bin" % sc),
                                           "--kernel-format", "raw64", "--disk",
                                           new_disk(work)] + jail_args)
        said = [w for w in why if w in err]
        t.ok(st == want and said and "still running" not in out,
             "a guest that ends by %s: status %d, '%s' on stderr" % (sc, st, said[0] if said else "?"),
             out + err)

    # The jail, from outside.
    if jail:
        jail_checks(t, bhv, work, jail)
    else:
        t.skip("the jail", "not root")

    # Seccomp allow-lists.
    p = subprocess.run([bhv, "syscalls"], capture_output=True, text=True)
    counts = dict(re.findall(r"^(\w+):.*\((\d+)\)$", p.stdout, re.M))
    total = re.search(r"total: (\d+)", p.stdout)
    t.ok(total and int(total.group(1)) <= 60 and int(counts["vCPU"]) < int(counts["device"]),
         "seccomp: %s system calls in all, vCPU %s < device %s" %
         (total.group(1) if total else "?", counts.get("vCPU"), counts.get("device")), p.stdout)

    # bhv check: the same checks, a summary, no VM.
    p = subprocess.run([bhv, "check", "--kernel", os.path.join(work, "long-poweroff.bin"),
                        "--kernel-format", "raw64", "--disk", new_disk(work), "--cpus", "2"],
                       capture_output=True, text=True)
    t.ok(p.returncode == 0 and "raw long-mode test guest" in p.stdout and "vCPUs: 2, disks: 1" in p.stdout,
         "bhv check summarises a valid configuration", p.stdout + p.stderr)
    p = subprocess.run([bhv, "check", "--kernel", os.path.join(work, "nothere")],
                       capture_output=True, text=True)
    t.ok(p.returncode == 1 and "open kernel" in p.stderr, "bhv check reports a bad one", p.stderr)

    # Bad input, refused before any VM exists.
    trunc = os.path.join(work, "trunc.bin")
    with open(trunc, "wb") as f:
        f.write(b"\0" * 0x1fe + b"\x55\xaa" + b"\0\0HdrS" + b"\0" * 50)
    arm = os.path.join(work, "Image")
    with open(arm, "wb") as f:
        f.write(b"\0" * 56 + b"ARM\x64" + b"\0" * 4096)
    notk = os.path.join(work, "notk")
    with open(notk, "w") as f:
        f.write("just text\n" * 100)
    cases = [
        (["--kernel", notk], "is not a kernel", "a file that is not a kernel"),
        (["--kernel", trunc], "is truncated", "a truncated bzImage"),
        (["--kernel", arm], "is an arm64 Image, but this bhv boots x86_64", "an arm64 Image"),
        (["--kernel", os.path.join(work, "nothere")], "open kernel", "a missing kernel"),
        (["--kernel", os.path.join(work, "real.bin"), "--kernel-format", "raw16", "--initrd",
          os.path.join(work, "nothere")], "open initrd", "a missing initrd"),
        (["--kernel", os.path.join(work, "real.bin"), "--kernel-format", "raw16", "--disk",
          os.path.join(work, "nodisk")], "open disk", "a missing disk"),
        (["--kernel", os.path.join(work, "long-poweroff.bin"), "--kernel-format", "raw64",
          "--mem", "1"], "mem: 1 MiB is out of range", "too little memory"),
        (["--kernel", os.path.join(work, "real.bin"), "--cpus", "99"], "--cpus", "99 vCPUs"),
        (["--kernel", os.path.join(work, "real.bin"), "--console", "tty"], "--console",
         "an unknown console"),
        (["--kernel", os.path.join(work, "real.bin"), "--net", "0"], "net: fd 0",
         "stdin as the tap"),
        (["--kernel", os.path.join(work, "real.bin"), "--kernel-format", "raw16",
          "--cgroup", "/proc/bhvtest"], "cgroup /proc/bhvtest", "a cgroup that is not cgroup v2"),
    ]
    for args, want, what in cases:
        st, out, err, took = run_bhv(bhv, args + jail_args)
        t.ok(st == 1 and want in err and took < 5,
             "bad input is refused before the VM: %s: %s" % (what, err.strip()), err)
    shutil.rmtree(work, ignore_errors=True)
    t.done()


if __name__ == "__main__":
    main()
