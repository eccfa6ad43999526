#!/usr/bin/python3
"""bhd, the workload agent, on a booted x86_64 debug image (QEMU TCG: absolute
times are slow, differences between two ways of doing the same work hold).

Built on the build host with O/host/bin/bhpack and the TEST-ONLY key in
board/common/keys, and attached as a squashfs payload disk:

  - bench-ct: a signed container bundle of 10 MiB: a static /bin/ready that
    prints BENCH-CT-READY and waits for SIGTERM, and 10 MiB of random
    (incompressible) files in its rootfs;
  - bench-vm: a signed VM bundle: the image's own kernel with the
    initramfs of the bhv tests (tests/helpers/bhv_guest_init.c,
    which prints BHV-GUEST-INIT), 128 MiB, `console=ttyS0 quiet
    bhv.end=wait`;
  - the helper tests/helpers/bhd_firstline.c, which times a
    command and the first line of a workload's output (bhd's log,
    /run/bulkhead/logs/NAME.log, looked at every millisecond, or a pipe).

The image's demo workloads are stopped first. Measured, medians:

  - `bhctl install bench-ct.bundle` (check the signature and every
    member's hash, unpack, store the SBOM, start the container: bhctl
    returns once bhd has forked it), BHD_BENCH_RUNS times (default 20),
    `bhctl remove` between (once the container has printed its line);
  - `bhctl start bench-ct` to the container's first output line in bhd's
    log, BHD_BENCH_RUNS times, `bhctl stop` between, alternating with
  - the peer: `bhc run` alone on the same OCI bundle bhd wrote for the
    container (its config.json, another cgroup) to the first line on its
    output. Target: bhd's container start <= 50 ms above `bhc run` itself
    (the difference of the medians);
  - `bhctl start bench-vm` to the guest's first line and to its
    BHV-GUEST-INIT in bhd's log, BHD_BENCH_VM_RUNS times (default 5);
  - bhd's VmRSS and VmHWM (/proc/PID/status) after all of that.

Exits 1 when a target is missed, and when a measurement or comparison it
promises cannot be made.

Environment: BH_OUTPUT, a built qemu_x86_64_debug O folder; without it the
configuration is built (from the shared cache) into BH_BENCH_OUTPUT,
where the image's console log goes too (bench-bhd-console.log).
"""
import gzip
import json
import os
import re
import shutil
import stat
import statistics
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.abspath(os.path.join(HERE, "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
import image  # noqa: E402
import test_vm  # noqa: E402
from measure import Verdict, describe  # noqa: E402
import console  # noqa: E402
from qemu import Machine, Timeout  # noqa: E402

RUNS = int(os.environ.get("BHD_BENCH_RUNS", "20"))
VM_RUNS = int(os.environ.get("BHD_BENCH_VM_RUNS", "5"))
MiB = 1024 * 1024
PAYLOAD_BYTES = 10 * MiB
TARGET_MS = 50.0
KEY = os.path.join(TOP, "board", "common", "keys", "bulkhead-TEST-ONLY-vendor.key.pem")
FIRSTLINE = os.path.join(TOP, "tests", "helpers", "bhd_firstline.c")
LOGS = "/run/bulkhead/logs"
P = "/tmp/p"

READY_C = r"""
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
static void bye(int sig) { (void)sig; _exit(0); }
int main(void)
{
	/* PID 1 of its namespace: SIGTERM needs a handler to end it. */
	signal(SIGTERM, bye);
	signal(SIGINT, bye);
	printf("BENCH-CT-READY\n");
	fflush(stdout);
	for (;;)
		pause();
}
"""


def output_dir():
    o = os.environ.get("BH_OUTPUT")
    if o:
        cfg = image.config(o)
        if cfg["BH_ARCH"] != "x86_64" or cfg["BH_PROFILE"] != "debug":
            sys.exit("bench_bhd: BH_OUTPUT must be an x86_64 debug build")
        return o
    o = os.path.join(os.environ.get("BH_BENCH_OUTPUT", "/tmp/bulkhead-bench"), "bhd-x86_64-debug")
    for args in (["qemu_x86_64_debug_defconfig"], ["-j%d" % os.cpu_count()]):
        if subprocess.run(["make", "-C", TOP, "O=" + o] + args, stdout=subprocess.DEVNULL).returncode:
            sys.exit("bench_bhd: building %s failed" % o)
    return o


def build_payload(out, work):
    v = image.make_vars(out, "TARGET_CC", "TARGET_CFLAGS", "TARGET_LDFLAGS")
    cc = v["TARGET_CC"].split()
    flags = v["TARGET_CFLAGS"].split() + v["TARGET_LDFLAGS"].split()
    bhpack = os.path.join(out, "host", "bin", "bhpack")
    d = os.path.join(work, "payload")
    os.makedirs(d)
    subprocess.run(cc + ["-static", "-O2", "-o", os.path.join(d, "firstline"), FIRSTLINE], check=True)

    def pack(name, manifest, extra):
        mpath = os.path.join(work, name + ".json")
        json.dump(manifest, open(mpath, "w"))
        subprocess.run([bhpack, "build", "--manifest", mpath, "--key", KEY, "--arch", "x86_64",
                        "-o", os.path.join(d, name + ".bundle")] + extra, check=True,
                       capture_output=True)

    root = os.path.join(work, "ct-root")
    os.makedirs(os.path.join(root, "bin"))
    os.makedirs(os.path.join(root, "data"))
    subprocess.run(cc + flags + ["-o", os.path.join(root, "bin", "ready"), "-x", "c", "-"],
                   input=READY_C, text=True, check=True)
    for i in range(10):
        with open(os.path.join(root, "data", "blob-%d" % i), "wb") as f:
            f.write(os.urandom(PAYLOAD_BYTES // 10))
    pack("bench-ct", {"name": "bench-ct", "version": "1", "mode": "container",
                      "container": {"args": ["/bin/ready"]},
                      "resources": {"memory": "32M", "pids": 16},
                      "restart": {"policy": "never"}, "network": {"mode": "none"}},
         ["--rootfs", root])

    init = os.path.join(work, "init")
    subprocess.run(cc + ["-static", "-Os", "-o", init, test_vm.GUEST_INIT], check=True)
    initrd = os.path.join(work, "initrd.gz")
    with open(initrd, "wb") as f:
        f.write(gzip.compress(test_vm.cpio_newc([
            ("dev", stat.S_IFDIR | 0o755, b"", (0, 0)),
            ("dev/console", stat.S_IFCHR | 0o600, b"", (5, 1)),
            ("init", stat.S_IFREG | 0o755, open(init, "rb").read(), (0, 0)),
        ]), mtime=0))
    pack("bench-vm", {"name": "bench-vm", "version": "1", "mode": "vm",
                      "vm": {"cmdline": "console=ttyS0 quiet bhv.end=wait", "vcpus": 1},
                      "resources": {"memory": "128M"},
                      "restart": {"policy": "never"}, "network": {"mode": "none"}},
         ["--kernel", os.path.join(out, "images", "bzImage"), "--initrd", initrd])
    sq = os.path.join(work, "payload.sqfs")
    subprocess.run(["mksquashfs", d, sq, "-noappend", "-quiet", "-no-progress", "-all-root"],
                   check=True, capture_output=True)
    return sq, os.path.getsize(os.path.join(d, "bench-ct.bundle"))


def fl(m, marker, timeout, log, command):
    """Runs the firstline helper; returns {"cmd": (ms, status), "first": ms,
    "mark": ms} with what it saw, and its whole output."""
    st, o = test_vm.sh(m, "%s/firstline %s %d %s %s" % (P, marker, timeout, log, command),
                       timeout=timeout + 120)
    r = {}
    c = re.search(r"FL-CMD ([\d.]+) (\d+)", o)
    if c:
        r["cmd"] = (float(c.group(1)), int(c.group(2)))
    for k in ("first", "mark"):
        x = re.search(r"FL-%s ([\d.]+)" % k.upper(), o)
        if x:
            r[k] = float(x.group(1))
    return r, o


verdict = Verdict("bench_bhd")


def last_lines(o, n=3):
    return " | ".join(l.strip() for l in o.strip().splitlines()[-n:])


def bench(m, bundle_size):
    # Quiet machine: the demo workloads (a container and a Linux guest) off.
    for name in ("demo-web", "demo-vm"):
        test_vm.sh(m, "bhctl stop %s" % name, timeout=60)

    # Install: bhctl install, bhctl remove between.
    # The container is removed once it has printed its line: a workload
    # stopped while bhc is still setting it up is another test.
    installs, bad = [], []
    for _ in range(RUNS):
        test_vm.sh(m, "rm -f %s/bench-ct.log*" % LOGS)
        r, o = fl(m, "-", 0, "none", "/usr/bin/bhctl install %s/bench-ct.bundle" % P)
        if r.get("cmd", (0, 1))[1] == 0:
            installs.append(r["cmd"][0])
        else:
            bad.append(last_lines(o))
        test_vm.sh(m, "for i in $(seq 300); do grep -q BENCH-CT-READY %s/bench-ct.log 2>/dev/null && "
                   "break; sleep 0.1; done; bhctl remove bench-ct" % LOGS, timeout=90)
    if installs:
        print("bhctl install of a %.1f MiB signed container bundle (10 MiB random payload; "
              "signature, hashes, unpack to /data, SBOM, and the container forked): %s%s"
              % (bundle_size / MiB, describe(installs), ", %d failed: %s" % (len(bad), bad[0]) if bad else ""))
    else:
        verdict.not_measured("bhctl install", "every install failed: %s" % (bad[0] if bad else "?"))

    st, o = test_vm.sh(m, "bhctl install %s/bench-ct.bundle && sleep 1 && bhctl stop bench-ct" % P, timeout=120)
    if st != 0:
        verdict.not_measured("container start", "bench-ct does not install: %s" % last_lines(o))
    else:
        containers(m)
    vm(m)
    st, o = test_vm.sh(m, "grep -E 'VmRSS|VmHWM' /proc/$(pidof bhd)/status | tr -s ' \\t' ' ' | tr '\\n' ' '")
    rss = re.search(r"VmHWM: (\d+) kB VmRSS: (\d+) kB", o)
    if rss:
        print("bhd after the installs and starts: VmRSS %.2f MiB, VmHWM (peak) %.2f MiB"
              % (int(rss.group(2)) / 1024, int(rss.group(1)) / 1024))
    else:
        verdict.not_measured("bhd RSS", o.strip())


def containers(m):
    """bhctl start of the installed, stopped bench-ct against bhc run of the
    OCI bundle bhd wrote for it, alternating, so that a change of load on
    the shared build host falls on both alike."""
    st, o = test_vm.sh(m, "rm -rf /tmp/peer && mkdir -p /tmp/peer && "
                       "sed 's#\"/workloads/bench-ct\"#\"/workloads/bench-peer\"#' "
                       "/run/bulkhead/workloads/bench-ct/config.json > /tmp/peer/config.json && "
                       "grep -c bench-peer /tmp/peer/config.json")
    peer_ok = st == 0
    if not peer_ok:
        verdict.not_measured("bhc run", "no OCI bundle from bhd to copy: %s" % last_lines(o))
    ct, bad, peer, pbad = [], [], [], []
    for _ in range(RUNS):
        test_vm.sh(m, "rm -f %s/bench-ct.log*" % LOGS)
        r, o = fl(m, "BENCH-CT-READY", 30, LOGS + "/bench-ct.log", "/usr/bin/bhctl start bench-ct")
        if "mark" in r and r.get("cmd", (0, 1))[1] == 0:
            ct.append(r["mark"])
        else:
            bad.append(last_lines(o))
        test_vm.sh(m, "bhctl stop bench-ct", timeout=60)
        if peer_ok:
            r, o = fl(m, "BENCH-CT-READY", 30, "-",
                      "/usr/bin/bhc run --bundle /tmp/peer --root /run/bench-bhc bench-peer")
            if "mark" in r:
                peer.append(r["mark"])
            else:
                pbad.append(last_lines(o))
            test_vm.sh(m, "bhc --root /run/bench-bhc delete --force bench-peer >/dev/null 2>&1")
    if ct:
        print("bhctl start bench-ct to the container's first output line in bhd's log: %s%s"
              % (describe(ct), ", %d failed: %s" % (len(bad), bad[0]) if bad else ""))
    else:
        verdict.not_measured("container start through bhd", bad[0] if bad else "?")
    if peer:
        print("bhc run (the same OCI bundle, alone) to the container's first output line: %s%s"
              % (describe(peer), ", %d failed: %s" % (len(pbad), pbad[0]) if pbad else ""))
    elif peer_ok:
        verdict.not_measured("bhc run", pbad[0] if pbad else "?")
    if ct and peer:
        verdict.target("container start through bhd - bhc run alone",
                       statistics.median(ct) - statistics.median(peer), TARGET_MS, " ms")


def vm(m):
    """bhctl start of a VM to its first line and its init marker."""
    st, o = test_vm.sh(m, "rm -f %s/bench-vm.log*; bhctl install %s/bench-vm.bundle && "
                       "for i in $(seq 240); do grep -q BHV-GUEST-INIT %s/bench-vm.log 2>/dev/null && break; "
                       "sleep 1; done; bhctl stop bench-vm" % (LOGS, P, LOGS), timeout=400)
    if st != 0:
        verdict.not_measured("VM start", "bench-vm does not install: %s" % last_lines(o))
    else:
        first, init, bad = [], [], []
        for _ in range(VM_RUNS):
            test_vm.sh(m, "rm -f %s/bench-vm.log*" % LOGS)
            r, o = fl(m, "BHV-GUEST-INIT", 300, LOGS + "/bench-vm.log", "/usr/bin/bhctl start bench-vm")
            if "mark" in r:
                init.append(r["mark"])
                first.append(r["first"])
            else:
                bad.append(last_lines(o))
            test_vm.sh(m, "bhctl stop bench-vm", timeout=90)
        if init:
            st, o = test_vm.sh(m, "head -1 %s/bench-vm.log" % LOGS)
            print("bhctl start bench-vm (nested KVM in TCG, 128 MiB, quiet) to the workload's first "
                  "output line: %s (that line: %r)" % (describe(first), o.strip()[:80]))
            print("bhctl start bench-vm to the guest's init marker BHV-GUEST-INIT: %s%s"
                  % (describe(init), ", %d failed: %s" % (len(bad), bad[0]) if bad else ""))
        else:
            verdict.not_measured("VM start", bad[0] if bad else "?")


def main():
    out = output_dir()
    work = tempfile.mkdtemp(prefix="bh-bench-bhd-")
    sq, size = build_payload(out, work)
    env = dict(os.environ, BULKHEAD_DATA=os.path.join(work, "data.img"))
    logs = os.environ.get("BH_BENCH_OUTPUT", "/tmp/bulkhead-bench")
    os.makedirs(logs, exist_ok=True)
    log = os.path.join(logs, "bench-bhd-console.log")
    if os.path.exists(log):
        os.unlink(log)
    with Machine(os.path.join(out, "images"), extra_args=test_vm.payload_args(sq),
                 log_path=log, env=env) as m:
        try:
            m.expect(r"bhd: ready", 300)
            m.expect(r"bhd: installed demo-vm", 120, since=0)
        except Timeout as e:
            sys.exit("bench_bhd: the image does not come up: %s" % e)
        console.prompt(m, 30)
        ok, o = test_vm.mount_payload(m)
        if not ok:
            sys.exit("bench_bhd: the payload does not mount: " + o)
        bench(m, size)
    shutil.rmtree(work, ignore_errors=True)
    verdict.exit()


if __name__ == "__main__":
    main()
