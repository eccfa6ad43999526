#!/usr/bin/python3
"""Workloads cannot take the gateway down (issue 17, items 1 and 2), on one
boot of the x86_64 debug image:

- init caps /sys/fs/cgroup/workloads as a whole: memory.max below MemTotal
  (a reserve for the host) and pids.max below the kernel's pid_max;
- bundles whose manifests name no "resources" get bhd's default limits: a
  fork bomb stops at the default pids.max, a memory hog is killed at the
  default memory.max, and bhd says which defaults it applied;
- a container and a microVM's guest printing as fast as they can for three
  minutes: bhd keeps answering (`bhctl list`, timed and printed, while the
  bomb, the hog and both floods run), their logs stay bounded, the
  container's says how many lines it dropped over the rate limit, the
  debug image's copy of them to the console keeps to bhd's console budget,
  and neither bhd nor init restarts.

(test_update.py checks that a trial boot is still confirmed in time while
the same two floods run.)

Environment: BH_OUTPUT, the O folder of a built image.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.path.insert(0, os.path.join(TOP, "tests", "escape"))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap  # noqa: E402
from qemu import Machine, Timeout  # noqa: E402
import bhctest  # noqa: E402
import floods  # noqa: E402
import image  # noqa: E402

t = Tap()
out = os.environ["BH_OUTPUT"]
cfg = image.config(out)
if cfg["BH_PROFILE"] != "debug" or cfg["BH_ARCH"] != "x86_64":
    t.skip("default limits and output floods",
           "runs on the x86_64 debug image (a shell to drive it; the limits are the same C on every board)")
    t.done()

images = os.path.join(out, "images")
bhpack = os.path.join(out, "host", "bin", "bhpack")
key = os.path.join(TOP, "board", "common", "keys", "bulkhead-TEST-ONLY-vendor.key.pem")
tmp = tempfile.mkdtemp(prefix="bh-limits-", dir=os.environ.get("BH_TESTS_OUTPUT"))
MiB = 1 << 20

# Payload: two container bundles without "resources", and the floods (a
# container and a microVM).
root = os.path.join(tmp, "root")
os.makedirs(os.path.join(root, "bin"))
for src, name in (("forkbomb.c", "bomb"), ("memhog.c", "hog")):
    bhctest.build_static(out, src, os.path.join(root, "bin", name))
payload = os.path.join(tmp, "payload")
os.makedirs(payload)
# The VM flood restarts on failure: its nested guest (KVM inside TCG's
# emulated SVM) triple-faulted once after two minutes of flooding in five
# runs here, which says nothing of bhd; the restarts are printed.
floods.build(out, cfg, key, tmp, payload, restart="on-failure")
ARGS = {"bomb": ["/bin/bomb", "100000"], "hog": ["/bin/hog", "100000"]}
for name, args in ARGS.items():
    mpath = os.path.join(tmp, name + ".json")
    with open(mpath, "w") as f:
        json.dump({"name": name, "version": "1.0", "mode": "container", "container": {"args": args},
                   "restart": {"policy": "never"}}, f)
    subprocess.run([bhpack, "build", "--manifest", mpath, "--key", key, "--arch", cfg["BH_ARCH"],
                    "--rootfs", root, "-o", os.path.join(payload, name + ".bundle")],
                   check=True, capture_output=True)
sq = os.path.join(tmp, "payload.sqfs")
subprocess.run(["mksquashfs", payload, sq, "-quiet", "-no-progress", "-all-root"], check=True,
               capture_output=True)
# The gateway's KVM without nested paging (-npt: it shadows the guest's
# page tables itself). With QEMU 7.2's emulated nested paging under TCG,
# the gateway kernel panicked ("corrupted stack end detected inside
# scheduler", in bhv's vCPU thread) in 3 of 5 three-minute VM floods here
# on 2026-12-07, and in CI's last two runs, and the nested guest itself
# triple-faulted 7 times; with -npt in none of 4 floods, and no triple
# fault. bhd's answers, the subject here, do not depend on how the
# gateway pages its guest. QEMU takes the last -cpu: this one replaces
# the start script's.
extra = ["-cpu", "max,-npt",
         "-drive", "file=%s,if=none,id=payload,format=raw,readonly=on" % sq,
         "-device", "virtio-blk-pci,drive=payload,serial=payload"]
env = dict(os.environ, BULKHEAD_DATA=os.path.join(tmp, "data.img"))


SPAWNS = []  # /bin/true's time next to each timed bhctl list


def console_events(text):
    """The console's lines other than the floods' copies: the kernel's,
    init's and bhd's own, for a failure's details."""
    return "\n".join(l for l in text.splitlines()
                     if l.strip() and not re.search(r"flood(-vm)?: (flood: )?line \d+|^BHQ\d+Z: ", l))[-1000:]


def panicked_in_emulated_svm(m, rebooted):
    """Whether the reboot that m.reboots() described was a kernel panic in
    bhv (the monitor of the nested guest) on a gateway under TCG."""
    return "accelerator tcg" in m.text() and "Kernel panic" in rebooted and "Comm: bhv " in rebooted \
        and rebooted.count("THE GATEWAY REBOOTED") == 1


def timed_list(m):
    """`bhctl list` in the image, timed there: (status, ms, output).

    The result also goes to a file in the image. When the shell's end
    marker does not come back within 120 s, a second command reads that
    file: if it holds the timing, bhd answered and only the console lost
    the marker (said in a diagnostic); if the second command gets no
    answer either, or the file has no timing, bhctl list got no answer."""
    pos = m.mark()
    try:
        # /bin/true timed the same way: what starting any program costs
        # on the machine at that moment, bhd not involved.
        st, o = m.shell("ms() { awk -v a=\"${1%% *}\" -v b=\"${2%% *}\" 'BEGIN { printf \"%d\", (b - a) * 1000 }'; }; "
                        "{ a=$(cat /proc/uptime); /bin/true; b=$(cat /proc/uptime); echo spawn=$(ms \"$a\" \"$b\"); "
                        "a=$(cat /proc/uptime); bhctl list; s=$?; b=$(cat /proc/uptime); echo took=$(ms \"$a\" \"$b\"); "
                        "echo status=$s; } >/tmp/limits-list.txt 2>&1; cat /tmp/limits-list.txt; exit $s", timeout=120)
    except Timeout as e:
        first = str(e)
        try:
            _, o = m.shell("cat /tmp/limits-list.txt", timeout=120)
        except Timeout:
            o = None
        events = console_events(m.console[pos:].decode("utf-8", "replace"))
        if o is None:
            # Without the output limit the flood drowns the console and the
            # shell with it (seen on an image without it).
            return 1, -1, "no answer in 240 s: %s\nthe console's other lines since the command:\n%s%s" \
                % (first[-300:], events, m.reboots(pos))
        status = re.search(r"status=(\d+)", o)
        if not status or not re.search(r"took=\d+", o):
            return 1, -1, "no answer: bhctl list had not returned after 120 s:\n%s\n" \
                "the console's other lines since the command:\n%s%s" % (o, events, m.reboots(pos))
        t.diag("the console lost the shell's end marker for one bhctl list (read back from the image); "
               "its other lines then:\n%s" % events)
        st = int(status.group(1))
    took, spawn = re.search(r"took=(\d+)", o), re.search(r"spawn=(\d+)", o)
    SPAWNS.append(int(spawn.group(1)) if spawn else -1)
    return st, int(took.group(1)) if took else -1, o


with Machine(images, extra_args=extra, env=env, log_path=os.path.join(out, "e2e-limits.log")) as m:
    try:
        m.expect(r"bhd: ready", 300)
        m.send("\n")
        m.expect(r"# ", 30)
    except Timeout as e:
        t.ok(False, "the image boots to bhd ready and a shell", str(e))
        t.done()
    if cfg.get("BH_DEMO_WORKLOADS") == "y":
        # The floods' own microVMs are the only nested guests (see
        # Machine.stop_demo_workloads).
        st, o = m.stop_demo_workloads()
        t.ok(st == 0 and not re.search(r"(?m)^demo-\S+\s+\S+\s+running", o)
             and "bhv processes left: 0" in o,
             "the image's demo workloads are stopped, no bhv left: the floods' guests are the only nested ones", o)

    # init's cap on the workloads as a whole.
    st, o = m.shell("grep MemTotal /proc/meminfo; cat /proc/sys/kernel/pid_max "
                    "/sys/fs/cgroup/workloads/memory.max /sys/fs/cgroup/workloads/pids.max")
    nums = [int(x) for x in re.findall(r"(?m)^(?:MemTotal:\s+)?(\d+)(?: kB)?\s*$", o)]
    if len(nums) == 4:
        total, pid_max, wl_mem, wl_pids = nums[0] * 1024, nums[1], nums[2], nums[3]
        t.ok(wl_mem <= total - 128 * MiB,
             "init caps the workloads' memory.max below MemTotal less the host's reserve (%d of %d MiB)"
             % (wl_mem // MiB, total // MiB), o)
        t.ok(wl_pids < pid_max, "init caps the workloads' pids.max below pid_max (%d of %d)"
             % (wl_pids, pid_max), o)
    else:
        t.ok(False, "init caps the workloads' memory.max and pids.max (numbers, not max)", o)

    m.shell("mkdir -p /tmp/payload && for d in /sys/class/block/*; do "
            "[ \"$(cat $d/serial 2>/dev/null)\" = payload ] && mount -t squashfs -o ro /dev/${d##*/} /tmp/payload; "
            "done")
    limits = {}
    for name in ("bomb", "hog"):
        pos = m.mark()
        st, o = m.shell("bhctl install /tmp/payload/%s.bundle" % name, timeout=120)
        t.ok(st == 0 and "installed " + name in o, "bhctl install %s (a manifest without resources)" % name, o)
        try:
            d = m.expect(r"bhd: %s: its manifest names no limits: pids\.max (\d+), memory\.max (\d+)M" % name,
                         60, pos)
            limits[name] = int(d.group(1))
            limits[name + "_mem"] = int(d.group(2))
            t.ok(True, "bhd applies default limits to %s and says so (pids.max %s, memory.max %sM)"
                 % (name, d.group(1).decode(), d.group(2).decode()))
        except Timeout as e:
            t.ok(False, "bhd applies default limits to %s and says so" % name, str(e))

    # The fork bomb stops at the default pids.max.
    end, o = time.monotonic() + 180, ""
    while time.monotonic() < end:
        st, o = m.shell("bhctl logs bomb")
        if "forkbomb:" in o:
            break
        time.sleep(5)
    b = re.search(r"forkbomb: (\d+) children, stopped by (.*)", o)
    limit = limits.get("bomb")
    t.ok(b is not None and limit is not None and int(b.group(1)) < limit
         and "Resource temporarily unavailable" in b.group(2),
         "a fork bomb without limits in its manifest stops at the default pids.max (%s)"
         % (b.group(0) if b else "no report"), o[-1500:])

    # The memory hog is OOM-killed at the default memory.max.
    try:
        m.expect(r"bhd: hog (ended by signal 9|exited with status 137)", 300, 0)
        st, o = m.shell("bhctl logs hog | tail -2")
        mib = re.findall(r"memhog: (\d+) MiB", o)
        cap = limits.get("hog_mem")
        # Killed by its own cgroup's default memory.max, not by the
        # machine running out (which a hog without limits reaches too).
        t.ok(bool(mib) and cap is not None and int(mib[-1]) <= cap,
             "a memory hog without limits is OOM-killed at the default memory.max (last report: %s MiB, "
             "memory.max %sM)" % (mib[-1] if mib else "?", cap), o)
    except Timeout as e:
        t.ok(False, "a memory hog without limits is OOM-killed", str(e))

    # For scale: the same command before the floods, on the same machine
    # (under TCG every process start is slow, bhd's answer a small part).
    calm = [timed_list(m)[1] for i in range(3)]
    t.diag("bhctl list before the floods: %s ms (TCG; /bin/true %s ms)"
           % (", ".join(str(x) for x in calm), ", ".join(str(x) for x in SPAWNS)))
    # The floods, while the bomb's children still hold their pids.
    for name in ("flood", "flood-vm"):
        st, o = m.shell("bhctl install /tmp/payload/%s.bundle" % name, timeout=120)
        t.ok(st == 0 and "installed " + name in o, "bhctl install %s (prints as fast as it can)" % name, o)
    flood_start = m.mark()
    for attempt in (1, 2):
        times, bad = [], []
        for i in range(18):
            time.sleep(10)
            m.mark()
            rebooted = m.reboots(flood_start)
            if rebooted:
                bad.append("no answer: the gateway rebooted" + rebooted)
                break
            st, ms, o = timed_list(m)
            times.append(ms)
            if st != 0 or not re.search(r"(?m)^flood\s+container\s+running", o) \
                    or not re.search(r"(?m)^flood-vm\s+vm\s+(running|restarting)", o):
                bad.append(o)
            if o.startswith("no answer"):
                break
        rebooted = m.reboots(flood_start)
        if attempt == 2 or not panicked_in_emulated_svm(m, rebooted):
            break
        # Once, and only under TCG: should the gateway kernel still panic
        # in the VM flood's monitor (QEMU's emulated SVM, see -npt above),
        # the floods run again on the rebooted gateway, where bhd starts
        # the installed workloads again; a second panic fails.
        t.diag("the gateway rebooted during the floods, under TCG's emulated SVM; they run again on the "
               "new boot:%s" % rebooted)
        try:
            m.expect(r"bhd: started flood-vm", 300, m.last_boot())
            m.send("\n")
            m.expect(r"# ", 30)
        except Timeout as e:
            t.ok(False, "the gateway comes back after the panic with bhd and a shell", str(e))
            t.done()
        flood_start = m.mark()
    t.diag("bhctl list during the floods: %s ms (TCG)" % ", ".join(str(x) for x in times))
    t.diag("/bin/true at the same moments: %s ms" % ", ".join(str(x) for x in SPAWNS[-len(times):]))
    faults = re.findall(r"bhd: flood-vm: bhv: (triple fault[^\r\n]*)", m.text())
    if faults:
        t.diag("the VM flood's nested guest stopped %d time(s) and bhd restarted it: %s"
               % (len(faults), "; ".join(faults)))
    t.ok(not bad, "bhd answers bhctl list 18 times over three minutes of a container's and a VM's flood, "
         "both running", "\n---\n".join(bad)[-4000:])
    if bad and bad[-1].startswith("no answer"):
        m.qmp("quit")
        t.done()
    # The rest is read once the floods stopped: the debug image copies
    # workload output to the console, where the shell's answers are read.
    for name in ("flood", "flood-vm"):
        pos = m.mark()
        m.shell("bhctl stop " + name, timeout=120)
        try:
            m.expect(r"bhd: stopped " + name, 60, pos)
        except Timeout:
            pass
    time.sleep(2)
    st, o = m.shell("bhctl logs flood | grep -c '^flood: line'; cat /run/bulkhead/logs/flood.log* | wc -c")
    # bhd notes each run of drops in the workload's log and in its own,
    # with the total; the workload's log keeps only its last 512 KiB.
    total = re.findall(r"bhd: flood: dropped \d+ lines of output over the rate limit \((\d+) in all\)", m.text())
    t.ok(bool(total) and int(total[-1]) > 0,
         "the container flood's excess lines are dropped and counted (%s in all, in %d notes)"
         % (total[-1] if total else "none", len(total)), o)
    size = re.findall(r"(?m)^(\d+)\s*$", o)
    t.ok(size and int(size[-1]) <= 2 * 256 * 1024 + 4096, "the container flood's log stays bounded (%s bytes)"
         % (size[-1] if size else "?"), o)
    # The debug image copies workload output to the console, within a
    # budget for all workloads that a serial console can carry: the rest is
    # counted, not queued behind bhd's own lines (init's console queue
    # would then drop those).
    skipped = re.findall(r"bhd: \d+ lines of workload output not copied to the console, over \d+ KiB/s "
                         r"for all \((\d+) in all", m.text())
    t.ok(bool(skipped) and int(skipped[-1]) > 0 and len(skipped) <= 60,
         "the floods' copy to the console is held to bhd's budget (%s lines not copied, in %d notes "
         "at most every 10 s)" % (skipped[-1] if skipped else "none", len(skipped)))
    st, o = m.shell("bhctl logs flood-vm | grep -c 'flood: line'; bhctl logs flood-vm | grep 'dropped' | tail -1; "
                    "cat /run/bulkhead/logs/flood-vm.log* | wc -c")
    nums = re.findall(r"(?m)^(\d+)\s*$", o)
    t.diag("the VM's flood: %s" % o.replace("\n", "; "))
    t.ok(len(nums) >= 2 and int(nums[0]) > 1000,
         "the VM's guest flooded its console (%s lines of it in its log)" % (nums[0] if nums else "?"), o)
    t.ok(len(nums) >= 2 and int(nums[-1]) <= 2 * 256 * 1024 + 4096,
         "the VM flood's log stays bounded (%s bytes)" % (nums[-1] if nums else "?"), o)
    # On this boot (the floods may have run again after a reboot, above).
    boot = m.console[m.last_boot():].decode("utf-8", "replace")
    starts = re.findall(r"init: service bhd started \(pid (\d+)\)", boot)
    t.ok(len(starts) == 1 and "service bhd (pid" not in boot,
         "bhd ran through all of it without a restart (pid %s)" % ", ".join(starts),
         "\n".join(l for l in boot.splitlines() if "service bhd" in l))
    m.shell("bhctl remove flood; bhctl remove flood-vm; bhctl remove bomb; bhctl remove hog", timeout=180)
    m.qmp("quit")
    m.wait_exit(30)
shutil.rmtree(tmp, ignore_errors=True)
t.done()
