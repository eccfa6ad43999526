#!/usr/bin/python3
"""bhv, the microVM monitor, inside the booted debug image.

The image runs under QEMU (TCG, nested virtualization), and inside it
/usr/bin/bhv boots a Linux guest: the image's own kernel with a small
initramfs whose /init (tests/helpers/bhv_guest_init.c) prints what
it finds on the console. The payload (kernel, vmlinux, initramfs and the
tapwrap helper) is built here and attached as a squashfs disk.

Checks: a bzImage guest prints its marker, reads and writes its virtio disk
(the file changes on the host), reads virtio-rng, writes to the virtio
console and powers off (status 0); reboot is status 2; a PVH vmlinux boots;
a read-only disk refuses writes; two vCPUs; virtio-net through a tap handed
in as a fd, and the tap is gone when bhv exits; the jail (uid, capabilities,
no_new_privs, seccomp on every thread, namespaces, empty root, cgroup v2
limits, the outer process's open fds); bad input fails before any VM with
a message naming the input.

Environment: BH_OUTPUT, the O folder of a built image. Production images
have no shell: everything is skipped there.
"""
import gzip
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.join(HERE, "..", "..")
sys.path.insert(0, os.path.join(HERE, "..", "lib"))
sys.path.insert(0, HERE)
from tap import Tap  # noqa: E402
from qemu import Machine, Timeout  # noqa: E402
import image  # noqa: E402

GUEST_INIT = os.path.join(TOP, "tests", "helpers", "bhv_guest_init.c")
DISK_IN = "BHV-DISK-IN hello from the host"
# Every serial character is a nested exit: guests boot quiet.
QUIET = "quiet"


# Payload -------------------------------------------------------------------

def cpio_newc(entries):
    """An initramfs (newc cpio) from (name, mode, data, rdev) tuples."""
    out = bytearray()
    for ino, (name, mode, data, rdev) in enumerate(entries + [("TRAILER!!!", 0, b"", (0, 0))], 1):
        nb = name.encode() + b"\0"
        fields = (ino if name != "TRAILER!!!" else 0, mode, 0, 0, 1, 0, len(data), 0, 0,
                  rdev[0], rdev[1], len(nb), 0)
        out += ("070701" + "%08x" * 13 % fields).encode() + nb
        out += b"\0" * (-len(out) % 4)
        out += data
        out += b"\0" * (-len(out) % 4)
    return bytes(out)


def target_cc(out):
    return image.make_vars(out, "TARGET_CC")["TARGET_CC"].split()


def build_payload(out, work, helpers=("tapwrap",)):
    """Builds the guest's initramfs and the helpers
    (tests/helpers/bhv_<helper>.c) with the target compiler and packs them
    with the kernels into work/payload.sqfs."""
    cfg = image.config(out)
    sq = os.path.join(work, "sq")
    os.makedirs(sq, exist_ok=True)
    cc = target_cc(out)
    init = os.path.join(work, "init")
    subprocess.run(cc + ["-static", "-Os", "-o", init, GUEST_INIT], check=True)
    for h in helpers:
        subprocess.run(cc + ["-static", "-Os", "-o", os.path.join(sq, h),
                             os.path.join(TOP, "tests", "helpers", "bhv_%s.c" % h)],
                       check=True)
    initrd = cpio_newc([
        ("dev", stat.S_IFDIR | 0o755, b"", (0, 0)),
        ("dev/console", stat.S_IFCHR | 0o600, b"", (5, 1)),
        ("init", stat.S_IFREG | 0o755, open(init, "rb").read(), (0, 0)),
    ])
    with open(os.path.join(sq, "initrd.gz"), "wb") as f:
        f.write(gzip.compress(initrd, mtime=0))
    kernel = image.kernel_name(cfg)
    shutil.copy(os.path.join(out, "images", kernel), os.path.join(sq, kernel))
    if cfg["BH_ARCH"] == "x86_64":
        prefix = image.make_vars(out, "LINUX_PREFIX")["LINUX_PREFIX"]
        shutil.copy(os.path.join(prefix, "vmlinux"), os.path.join(sq, "vmlinux"))
    sqfs = os.path.join(work, "payload.sqfs")
    subprocess.run(["mksquashfs", sq, sqfs, "-noappend", "-quiet", "-no-progress", "-all-root"],
                   check=True, stdout=subprocess.DEVNULL)
    return sqfs


def payload_args(sqfs):
    return ["-drive", "file=%s,if=none,id=p,format=raw,readonly=on" % sqfs,
            "-device", "virtio-blk-pci,drive=p,serial=payload"]


def mount_payload(m):
    """Mounts the payload disk (found by its serial) on /tmp/p."""
    st, o = m.shell("for d in /sys/class/block/*; do [ \"$(cat $d/serial 2>/dev/null)\" = payload ]"
                    " && dev=${d##*/}; done; mkdir -p /tmp/p && mount -t squashfs /dev/$dev /tmp/p"
                    " && ls /tmp/p")
    return st == 0, o


# Running bhv in the image ---------------------------------------------------

_seq = [0]


def sh(m, command, timeout=60):
    """m.shell(), with the output cut after a marker the command prints
    first: the marker's text is computed by the shell, so it never matches
    the echo of the typed command, however the terminal wraps it."""
    _seq[0] += 1
    st, o = m.shell("echo BHV-BEGIN-$((%d+1)); %s" % (_seq[0] * 2, command), timeout=timeout)
    mark = "BHV-BEGIN-%d" % (_seq[0] * 2 + 1)
    return st, o.rsplit(mark, 1)[-1].lstrip("\r\n")

class Guest:
    def __init__(self, m, arch):
        self.m = m
        self.arch = arch
        self.kernel = "/tmp/p/bzImage" if arch == "x86_64" else "/tmp/p/Image"
        self.console = "ttyS0" if arch == "x86_64" else "ttyAMA0"

    def run(self, args, cmdline="", timeout=240, bhv="bhv"):
        """Runs bhv in the foreground; returns (status, output, seconds)."""
        start = time.monotonic()
        st, o = sh(self.m, "%s %s; echo BHV-STATUS=$?" % (bhv, args), timeout=timeout)
        took = time.monotonic() - start
        mm = re.search(r"BHV-STATUS=(\d+)", o)
        return (int(mm.group(1)) if mm else -1), o, took

    def boot(self, extra="", cmdline="", initrd=True, **kw):
        cl = "console=%s %s %s" % (self.console, QUIET, cmdline)
        args = "--kernel %s %s --cmdline '%s' --mem 128 %s" % (
            self.kernel, "--initrd /tmp/p/initrd.gz" if initrd else "", cl.strip(), extra)
        return self.run(args, **kw)


def marker(o, name):
    """The rest of the first console line that starts with name."""
    mm = re.search(r"(?m)^%s(?: ([^\r\n]*))?\r*$" % re.escape(name), o)
    return (mm.group(1) or "").strip() if mm else None


def main():
    t = Tap()
    out = os.environ["BH_OUTPUT"]
    cfg = image.config(out)
    arch = cfg["BH_ARCH"]
    if cfg["BH_PROFILE"] != "debug":
        t.skip("bhv in the booted image", "production images have no shell")
        t.done()
    work = tempfile.mkdtemp(prefix="bh-vm-")
    try:
        sqfs = build_payload(out, work)
    except (subprocess.CalledProcessError, OSError) as e:
        t.ok(False, "build the guest payload", str(e))
        t.done()
    env = dict(os.environ, BULKHEAD_DATA=os.path.join(work, "data.img"))
    with Machine(os.path.join(out, "images"), extra_args=payload_args(sqfs),
                 log_path=os.path.join(out, "e2e-vm.log"), env=env) as m:
        try:
            m.expect(r"init: ready", 300)
        except Timeout as e:
            t.ok(False, "the image boots", str(e))
            t.done()
        ok_mount, o = mount_payload(m)
        t.ok(ok_mount, "the payload disk mounts in the image", o)
        st, o = sh(m, "bhv version && ls -l /usr/bin/bhv")
        t.ok(st == 0 and "bhv " in o, "/usr/bin/bhv is installed and runs", o)
        if cfg.get("BH_DEMO_WORKLOADS") == "y":
            st, o = m.stop_demo_workloads()
            t.ok(st == 0 and not re.search(r"(?m)^demo-\S+\s+\S+\s+running", o)
                 and "bhv processes left: 0" in o,
                 "the image's demo workloads are stopped, no bhv left: the test's guests are the only nested ones", o)
        g = Guest(m, arch)
        for group in (run_guest_tests, run_jail_tests, run_net_test, run_bad_input_tests):
            try:
                group(t, m, g)
            except Timeout as e:
                # The console is stuck: later groups would only time out too.
                t.ok(False, "%s: the image's shell answers" % group.__name__, str(e))
                t.done()
    shutil.rmtree(work, ignore_errors=True)
    t.done()


def run_guest_tests(t, m, g):
    sh(m, "printf '%s\\n' > /tmp/disk.img && truncate -s 4M /tmp/disk.img" % DISK_IN)
    st, o, took = g.boot("--disk /tmp/disk.img --console both")
    t.ok(st == 0, "a Linux guest (%s) powers off: bhv exits 0 (%.1f s)"
         % (os.path.basename(g.kernel), took), o[-2000:])
    t.ok(marker(o, "BHV-GUEST-INIT") is not None, "the guest's init prints its marker", o[-2000:])
    t.ok(marker(o, "BHV-GUEST-DISK-READ") == DISK_IN, "the guest reads the virtio disk",
         marker(o, "BHV-GUEST-DISK-READ"))
    t.ok(marker(o, "BHV-GUEST-DISK-WROTE") is not None, "the guest writes and flushes the disk")
    st2, o2 = sh(m, "dd if=/tmp/disk.img bs=512 skip=1 count=1 2>/dev/null | head -c 40")
    t.ok("BHV-DISK-OUT written by the guest" in o2, "the guest's write reached the disk file", o2)
    t.ok(marker(o, "BHV-GUEST-RNG") == "16", "the guest reads 16 bytes from virtio-rng",
         marker(o, "BHV-GUEST-RNG"))
    t.ok(marker(o, "BHV-GUEST-HVC") == "hello through virtio-console",
         "the guest writes to the virtio console (hvc0) and bhv prints it")

    st, o, took = g.boot("--disk /tmp/disk.img,ro", cmdline="bhv.end=reboot")
    t.ok(st == 2, "a guest that reboots ends bhv with status 2 (%.1f s)" % took, o[-1500:])
    t.ok(marker(o, "BHV-GUEST-DISK-WRITE-FAILED") is not None,
         "a read-only disk refuses the guest's write", o[-1500:])

    st, o, took = g.boot("--cpus 2 --console virtio", cmdline="console=hvc0")
    t.ok(st == 0 and marker(o, "BHV-GUEST-CPUS") == "2",
         "a guest with 2 vCPUs sees 2 CPUs (virtio console only)", o[-1500:])

    st, o, took = g.boot("", cmdline="bhv.end=exit")
    # Without pvpanic in the guest kernel a panic reboots (panic=-1).
    t.ok(st in (2, 3) and "Kernel panic" in o,
         "a guest whose init dies panics and bhv ends with status %d" % st, o[-1500:])

    if g.arch != "x86_64":
        t.skip("an uncompressed vmlinux boots through its PVH entry", "PVH is x86_64 only")
        return
    st, o, took = g.run("--kernel /tmp/p/vmlinux --initrd /tmp/p/initrd.gz --cmdline "
                        "'console=ttyS0 %s' --mem 128" % QUIET)
    t.ok(st == 0 and marker(o, "BHV-GUEST-INIT") is not None,
         "an uncompressed vmlinux boots through its PVH entry (%.1f s)" % took, o[-1500:])


def run_jail_tests(t, m, g):
    """Inspect a running, jailed monitor from outside."""
    # The agent may set limits of its own first: bhv keeps them (pids.max
    # here) and sets only those left at "max" (memory.max).
    sh(m, "mkdir -p /sys/fs/cgroup/workloads/bhvtest && echo 7 > /sys/fs/cgroup/workloads/bhvtest/pids.max")
    sup, o = background_vm(m, g, "--cgroup /sys/fs/cgroup/workloads/bhvtest")
    if not sup:
        t.ok(False, "a jailed guest starts in the background", o)
        return
    st, mon = sh(m, "pgrep -P %s" % sup)
    mon = mon.strip().splitlines()[-1] if mon.strip() else ""
    t.ok(mon.isdigit(), "the jailed monitor is a child of the outer process", mon)
    if not mon.isdigit():
        return
    st, status = sh(m, "cat /proc/%s/status" % mon)
    # Each VM has a uid of its own from bhv's range (0x20000000 + slot),
    # the first free slot while no other VM runs; the gid follows.
    t.ok(re.search(r"Uid:\s+536870912\s+536870912\s+536870912\s+536870912\nGid:\s+536870912\s", status)
         is not None, "the monitor runs as the first uid (and gid) of bhv's range", status)
    st, o = sh(m, "grep -E 'open files|processes|file size|core file' /proc/%s/limits" % mon)
    want = [r"Max core file size\s+0\s+0", r"Max file size\s+67108864\s+67108864",
            r"Max processes\s+5\s+5", r"Max open files\s+64\s+64"]
    t.ok(all(re.search(w, o) for w in want),
         "the monitor's rlimits: NOFILE 64, NPROC 5 (1 vCPU), FSIZE 64 MiB, CORE 0", o)
    st, o = sh(m, "ls /proc/%s/fd | wc -l" % mon)
    t.ok(o.strip().isdigit() and int(o.strip()) <= 32,
         "the monitor holds %s fds, well under its limit" % o.strip(), o)
    t.ok(all(re.search(r"%s:\s+0+\s" % c, status) for c in ("CapEff", "CapPrm", "CapBnd", "CapAmb")),
         "the monitor has no capabilities (effective, permitted, bounding)", status)
    t.ok(re.search(r"NoNewPrivs:\s+1", status) is not None, "no_new_privs is set", status)
    st, o = sh(m, "for d in /proc/%s/task/*; do echo $(cat $d/comm) "
                    "$(grep Seccomp: $d/status); done" % mon)
    lines = [x for x in o.splitlines() if "Seccomp" in x]
    t.ok(len(lines) >= 2 and all(x.rstrip().endswith("2") for x in lines),
         "every thread of the monitor is under a seccomp filter (%d threads)" % len(lines), o)
    st, o = sh(m, "for n in mnt pid net ipc uts; do [ $(readlink /proc/%s/ns/$n) != "
                    "$(readlink /proc/1/ns/$n) ] && echo $n-new; done" % mon)
    t.ok(all("%s-new" % n in o for n in ("mnt", "pid", "net", "ipc", "uts")),
         "the monitor has its own mount, pid, net, ipc and uts namespaces", o)
    st, o = sh(m, "ls -A /proc/%s/root/ | wc -l; grep -c ' / ' /proc/%s/mountinfo" % (mon, mon))
    t.ok(o.split()[:2] == ["0", "1"], "the monitor's root is empty and its only mount", o)
    st, o = sh(m, "ls /proc/%s/fd | wc -l" % sup)
    t.ok(o.strip() == "2", "the outer process holds only stderr and its signalfd", o)
    st, o = sh(m, "cat /proc/%s/cgroup; cat /sys/fs/cgroup/workloads/bhvtest/memory.max "
                    "/sys/fs/cgroup/workloads/bhvtest/pids.max" % mon)
    t.ok("/workloads/bhvtest" in o and str((128 + 64) * 1024 * 1024) in o and re.search(r"\n7\r?$", o),
         "the monitor is in its cgroup: memory.max set by bhv, the caller's pids.max kept", o)
    o = stop_vm(m, sup, "TERM")
    t.ok("EXIT=0" in o and "BHV-GUEST-POWER-BUTTON" in o and "pressing the guest's power button" in o,
         "SIGTERM presses the guest's power button: the guest powers off, bhv exits 0", o)
    st, o = sh(m, "pgrep -f bhvtest | wc -l")
    t.ok(o.strip() == "0", "no monitor process is left after it stopped", o)
    sup, o = background_vm(m, g, "")
    o = stop_vm(m, sup, "INT") if sup else o
    t.ok("EXIT=1" in o and "stopped by signal 2" in o,
         "SIGINT stops the VM at once: status 1 and the reason on stderr", o)


def background_vm(m, g, extra):
    """Starts a guest that waits for its power button; returns the pid of
    bhv (or None) once the guest's init runs. A subshell waits for bhv and
    records its status: the test needs no job control from the console."""
    st, o = sh(m, "rm -f /tmp/vm.status; ( bhv --kernel %s --initrd /tmp/p/initrd.gz --cmdline "
                  "'console=%s %s bhv.end=wait' --mem 128 %s < /dev/null > /tmp/vm.log 2>&1 & "
                  "echo $! > /tmp/vm.pid; wait $!; echo EXIT=$? > /tmp/vm.status ) > /dev/null 2>&1 & "
                  "sleep 1; echo SUP=$(cat /tmp/vm.pid)" % (g.kernel, g.console, QUIET, extra))
    sup = re.search(r"SUP=(\d+)", o)
    st, o2 = sh(m, "for i in $(seq 120); do grep -q BHV-GUEST-INIT /tmp/vm.log && break; "
                   "sleep 1; done; grep -c BHV-GUEST-INIT /tmp/vm.log", timeout=150)
    return (sup.group(1) if sup and st == 0 else None), o + o2


def stop_vm(m, sup, sig):
    """Sends bhv a signal; returns its exit line and what it printed."""
    st, o = sh(m, "kill -%s %s; for i in $(seq 60); do [ -e /tmp/vm.status ] && break; sleep 1; done; "
                  "cat /tmp/vm.status; grep -E 'POWER-BUTTON|bhv:' /tmp/vm.log" % (sig, sup), timeout=90)
    return o


def run_net_test(t, m, g):
    sh(m, "nc -u -l -p 9000 > /tmp/net.out 2>&1 & echo $! > /tmp/nc.pid")
    st, o, took = g.run("/tmp/p/tapwrap tapbhv 192.168.77.1 /usr/bin/bhv --kernel %s --initrd "
                        "/tmp/p/initrd.gz --cmdline 'console=%s %s bhv.net=192.168.77.2,192.168.77.1' "
                        "--mem 128 --net TAPFD" % (g.kernel, g.console, QUIET), bhv="")
    st2, got = sh(m, "sleep 1; kill $(cat /tmp/nc.pid); cat /tmp/net.out")
    t.ok(st == 0 and marker(o, "BHV-GUEST-NET-SENT") is not None and "BHV-NET-HELLO" in got,
         "virtio-net: the guest resolves the host by ARP and its UDP datagram arrives", o[-1500:] + got)
    st, o = sh(m, "ls /sys/class/net/")
    t.ok("tapbhv" not in o, "the tap is gone after bhv exits: no fd to it was left open", o)


def run_bad_input_tests(t, m, g):
    cases = [
        ("--kernel /tmp/p/nothere", "open kernel /tmp/p/nothere", "a missing kernel"),
        ("--kernel /tmp/p/initrd.gz", "is gzip-compressed", "a file that is not a kernel"),
        ("--kernel %s --initrd /tmp/p/nothere" % g.kernel, "open initrd /tmp/p/nothere",
         "a missing initrd"),
        ("--kernel %s --initrd /tmp/big.img --mem 32" % g.kernel, "memory too small",
         "memory too small for the kernel and initrd"),
        ("--kernel %s --disk /tmp/nodisk.img" % g.kernel, "open disk /tmp/nodisk.img",
         "a missing disk"),
        ("--kernel %s --net 7" % g.kernel, "net: fd 7", "a tap fd that is not open"),
    ]
    sh(m, "head -c 33554432 /dev/zero > /tmp/big.img")
    if g.arch == "x86_64":
        sh(m, "head -c 700 %s > /tmp/trunc.img" % g.kernel)
        cases.append(("--kernel /tmp/trunc.img", "is truncated", "a truncated kernel"))
    else:
        # An Image header says nothing of the file's length (image_size
        # includes the bss), so a cut Image is only found when it fails.
        t.skip("bhv refuses a truncated kernel", "an arm64 Image header has no file size")
    for args, want, what in cases:
        st, o, took = g.run(args + " 2>&1")
        t.ok(st == 1 and want in o and took < 10,
             "bhv refuses %s before starting a VM: %s" % (what, marker(o, "bhv:")), o)


if __name__ == "__main__":
    main()
