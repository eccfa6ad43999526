#!/usr/bin/python3
"""bhc against crun and runc (Debian's): create + start + delete of a
/bin/true container, median of N runs each (BHC_BENCH_RUNS, default 50), on
the same kernel and the same bundle (a `runc spec` bundle, unchanged but
for terminal=false and args=/bin/true), in the same run. Also bhc's stripped
size (target <= 512 KiB) and the peak RSS of each runtime's processes.

Two places:
- the build host: its hybrid cgroups stop crun (it refuses to start), so
  there bhc is compared with runc only;
- the booted debug image (cgroup v2, our 6.12 kernel under QEMU), when
  BH_OUTPUT is a debug image: crun and runc come in on a payload disk with
  their shared libraries and the dynamic loader from the host's Debian
  packages, their ELF interpreter and rpath pointed at the disk by
  patchelf (runc re-executes /proc/self/exe, so a loader wrapper would not
  do). QEMU runs under TCG there: absolute times are slow, ratios hold.

Target: bhc <= 0.6 x crun's median. Prints medians and ratios; exits 1 when
a target is missed, and when a comparison it promises cannot be made (bhc
against runc on the build host; against crun and runc in the image).
"""
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "escape"))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
import bhctest  # noqa: E402
from measure import Verdict  # noqa: E402

RUNS = int(os.environ.get("BHC_BENCH_RUNS", "50"))
OUT = os.environ.get("BH_BENCH_OUTPUT", "/tmp/bulkhead-bench")
KiB = 1024

# Times create, start, delete of one container N times; prints one line per
# run: microseconds and the peak RSS (KiB) of the runtime's processes.
TIMER_C = r"""
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long run(char **argv, long *rss)
{
	struct rusage ru;
	int st;
	pid_t pid = fork();

	if (pid == 0) {
		int fd = open("/dev/null", O_RDWR);
		dup2(fd, 0); dup2(fd, 1);
		if (!getenv("TIMER_STDERR")) dup2(fd, 2);
		execv(argv[0], argv);
		_exit(127);
	}
	wait4(pid, &st, 0, &ru);
	if (ru.ru_maxrss > *rss) *rss = ru.ru_maxrss;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

int main(int argc, char **argv)
{
	int n = atoi(argv[1]), ncmd = 0;
	char **cmds[8];

	cmds[ncmd++] = argv + 2;
	for (int i = 2; i < argc; i++)
		if (!strcmp(argv[i], "--")) { argv[i] = NULL; cmds[ncmd++] = argv + i + 1; }
	for (int it = 0; it < n; it++) {
		struct timespec a, b;
		long rss = 0;
		int bad = 0;

		clock_gettime(CLOCK_MONOTONIC, &a);
		for (int c = 0; c < ncmd; c++)
			bad |= run(cmds[c], &rss) != 0;
		clock_gettime(CLOCK_MONOTONIC, &b);
		printf("%s %ld %ld\n", bad ? "fail" : "run",
		       (b.tv_sec - a.tv_sec) * 1000000L + (b.tv_nsec - a.tv_nsec) / 1000, rss);
		fflush(stdout);
	}
	return 0;
}
"""


def cycle(rt, root, bundle, name, kind):
    """The argv list for the timer: create, start, delete (forced: the
    container may or may not have exited yet)."""
    if kind == "bhc":
        pre = [rt, "--root", root]
        return pre + ["create", "--bundle", bundle, name, "--"] + pre + ["start", name, "--"] + \
            pre + ["delete", "--force", name]
    pre = [rt, "--root", root]
    return pre + ["create", "--bundle", bundle, name, "--"] + pre + ["start", name, "--"] + \
        pre + ["delete", "-f", name]


def summarize(lines):
    ok = [l.split() for l in lines if l.startswith("run ")]
    failed = sum(1 for l in lines if l.startswith("fail "))
    if not ok:
        return None
    times = [int(x[1]) / 1000.0 for x in ok]
    return {"median_ms": statistics.median(times), "runs": len(ok), "failed": failed,
            "rss_kib": max(int(x[2]) for x in ok)}


def report(verdict, where, results, peers):
    """Prints each runtime's numbers and bhc's ratio to each promised peer
    (crun's with its target)."""
    print("== %s" % where)
    for rt in ("bhc", "crun", "runc"):
        r = results.get(rt)
        if isinstance(r, str):
            print("  %-5s not measured: %s" % (rt, r))
        elif r:
            print("  %-5s median %.2f ms over %d runs (%d failed), peak RSS %d KiB" % (
                rt, r["median_ms"], r["runs"], r["failed"], r["rss_kib"]))
    b = results.get("bhc")
    for peer in peers:
        p = results.get(peer)
        what = "bhc / %s (%s)" % (peer, where)
        if not isinstance(b, dict) or not isinstance(p, dict):
            verdict.not_measured(what, "no median of %s" % ("bhc" if not isinstance(b, dict) else peer))
        elif peer == "crun":
            verdict.target(what, b["median_ms"] / p["median_ms"], 0.6)
        else:
            print("  %s = %.2f" % (what, b["median_ms"] / p["median_ms"]))
    sys.stdout.flush()


def host_bench(out, tmp):
    bhc = bhctest.build_bhc(out)
    subprocess.run(["make", "-s", "-C", TOP, "O=" + out, "busybox"], check=True, capture_output=True)
    timer = os.path.join(tmp, "timer")
    subprocess.run(["gcc", "-O2", "-o", timer, "-x", "c", "-"], input=TIMER_C, text=True, check=True)
    bundle = make_runc_bundle(os.path.join(tmp, "bundle"), bhctest.busybox(out))
    results = {}
    for rt in ("bhc", "crun", "runc"):
        exe = bhc if rt == "bhc" else shutil.which(rt)
        if not exe:
            results[rt] = "not installed (apt-get install %s)" % rt
            continue
        root = os.path.join(tmp, rt + "-state")
        argv = [timer, str(RUNS)] + cycle(exe, root, bundle, "bench", rt)
        p = subprocess.run(argv, capture_output=True, text=True)
        s = summarize(p.stdout.splitlines())
        if not s or s["runs"] < RUNS // 2:
            err = subprocess.run([exe, "--root", root, "create", "--bundle", bundle, "probe"],
                                 capture_output=True, text=True, stdin=subprocess.DEVNULL).stderr.strip()
            subprocess.run([exe, "--root", root, "delete", "-f" if rt != "bhc" else "--force", "probe"],
                           capture_output=True)
            results[rt] = "fails here: %s" % (err.splitlines()[-1] if err else "unknown error")
        else:
            results[rt] = s
    return results


def make_runc_bundle(path, busybox, cgroups_path=None, rootfs=None):
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    if not rootfs:
        bhctest.make_rootfs(os.path.join(path, "rootfs"), busybox)
    runc = shutil.which("runc") or shutil.which("crun")
    if runc:
        subprocess.run([runc, "spec"], cwd=path, check=True)
        cfg = json.load(open(os.path.join(path, "config.json")))
    else:
        subprocess.run([bhctest.build_bhc(os.environ["BH_OUTPUT"]), "spec", "--bundle", path], check=True)
        cfg = json.load(open(os.path.join(path, "config.json")))
    cfg["process"]["terminal"] = False
    cfg["process"]["args"] = ["/bin/true"]
    if rootfs:
        # runc wants the real path, not a symlink to it.
        cfg["root"]["path"] = rootfs
    if cgroups_path:
        # Our kernel has no BPF: cgroup v2 device rules would need it.
        cfg["linux"]["resources"].pop("devices", None)
    json.dump(cfg, open(os.path.join(path, "config.json"), "w"), indent=1)
    return path


def payload_runtime(exe, dest_bin, libdir, mount):
    """Copies a Debian runtime and its libraries; points it at the disk."""
    shutil.copy(exe, dest_bin)
    ldd = subprocess.run(["ldd", exe], capture_output=True, text=True, check=True).stdout
    for line in ldd.splitlines():
        parts = line.split()
        path = parts[2] if "=>" in parts and len(parts) > 2 else (parts[0] if parts and parts[0].startswith("/") else None)
        if path and os.path.exists(path):
            shutil.copy(path, os.path.join(libdir, os.path.basename(path)))
            if "ld-linux" in path:
                interp = os.path.basename(path)
    subprocess.run(["patchelf", "--set-interpreter", "%s/lib/%s" % (mount, interp), "--force-rpath",
                    "--set-rpath", mount + "/lib",
                    dest_bin], check=True)


def image_bench(out, tmp, bhc_size):
    from qemu import Machine
    import console
    import image
    cfg = image.config(out)
    if cfg.get("BH_PROFILE") != "debug" or cfg.get("BH_ARCH") != os.uname().machine:
        return "needs a debug image of this machine's architecture (BH_OUTPUT)"
    for tool in ("patchelf", "mksquashfs"):
        if not shutil.which(tool):
            return "%s is not installed (apt-get install %s)" % (tool, tool)
    mount = "/tmp/payload"
    pay = os.path.join(tmp, "payload")
    os.makedirs(os.path.join(pay, "bin"))
    os.makedirs(os.path.join(pay, "lib"))
    subprocess.run(["make", "-s", "-C", TOP, "O=" + out, "busybox"], check=True, capture_output=True)
    bhctest.make_rootfs(os.path.join(pay, "rootfs"), bhctest.busybox(out))
    cc = bhctest.target_cc(out)
    subprocess.run(cc + ["-static", "-O2", "-o", os.path.join(pay, "bin", "timer"), "-x", "c", "-"],
                   input=TIMER_C, text=True, check=True)
    have = []
    for rt in ("crun", "runc"):
        exe = shutil.which(rt)
        if exe:
            payload_runtime(exe, os.path.join(pay, "bin", rt), os.path.join(pay, "lib"), mount)
            have.append(rt)
    for rt in ["bhc"] + have:
        make_runc_bundle(os.path.join(pay, "bundle-" + rt), None, "/workloads/bench-" + rt,
                         rootfs=mount + "/rootfs")
        c = json.load(open(os.path.join(pay, "bundle-" + rt, "config.json")))
        c["linux"]["cgroupsPath"] = "/workloads/bench-" + rt
        json.dump(c, open(os.path.join(pay, "bundle-" + rt, "config.json"), "w"))
    sq = os.path.join(tmp, "payload.sqfs")
    subprocess.run(["mksquashfs", pay, sq, "-all-root", "-noappend", "-quiet"], check=True, capture_output=True)
    extra = ["-drive", "file=%s,if=none,id=payload,format=raw,readonly=on" % sq,
             "-device", "virtio-blk-pci,drive=payload,serial=bhcpayload"]
    results = {}
    with Machine(os.path.join(out, "images"), extra_args=extra,
                 log_path=os.path.join(OUT, "bench-bhc-qemu.log")) as m:
        m.expect(r"init: ready", 300)
        console.prompt(m, 30)
        st, o = m.shell("for b in /sys/class/block/*; do [ \"$(cat $b/serial 2>/dev/null)\" = bhcpayload ] && "
                        "echo /dev/${b##*/}; done")
        dev = o.strip().splitlines()[-1]
        m.shell("mkdir -p %s && mount -t squashfs -o ro %s %s" % (mount, dev, mount))
        for rt in ["bhc"] + have:
            exe = "/usr/bin/bhc" if rt == "bhc" else "%s/bin/%s" % (mount, rt)
            argv = ["%s/bin/timer" % mount, str(RUNS)] + cycle(exe, "/run/bench-" + rt, "%s/bundle-%s" % (mount, rt),
                                                               "bench", rt)
            st, o = m.shell(" ".join(argv), timeout=60 + RUNS * 20)
            s = summarize(o.splitlines())
            if not s or s["runs"] < RUNS // 2:
                st, e = m.shell("%s --root /run/bench-%s create --bundle %s/bundle-%s probe </dev/null 2>&1 | tail -2; "
                                "%s --root /run/bench-%s delete -f probe >/dev/null 2>&1"
                                % (exe, rt, mount, rt, exe, rt))
                results[rt] = "fails in the image: %s" % (e.strip().splitlines()[-1] if e.strip() else "?")
            else:
                results[rt] = s
    return results


def main():
    os.makedirs(OUT, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="bhc-bench-", dir=OUT)
    out = bhctest.host_output() if os.geteuid() == 0 else None
    verdict = Verdict("bench_bhc")
    if not out:
        verdict.not_measured("bhc", "needs root and a built configuration for this machine (BH_OUTPUT)")
        verdict.exit()
    bhc = bhctest.build_bhc(out)
    stripped = os.path.join(tmp, "bhc.stripped")
    subprocess.run(["strip", "--strip-all", "-o", stripped, bhc], check=True)
    size = os.path.getsize(stripped)
    verdict.target("bhc: static binary, stripped", size / KiB, 512, " KiB")
    # The build host's hybrid cgroups stop crun: there bhc is compared with runc.
    report(verdict, "build host (%s, hybrid cgroups)" % os.uname().release, host_bench(out, tmp), ["runc"])
    r = image_bench(os.environ.get("BH_OUTPUT", out), tmp, size)
    if isinstance(r, str):
        verdict.not_measured("booted image", r)
    else:
        report(verdict, "booted image (cgroup v2, QEMU TCG)", r, ["crun", "runc"])
    shutil.rmtree(tmp, ignore_errors=True)
    verdict.exit()


if __name__ == "__main__":
    main()
