#!/usr/bin/python3
"""Build benchmarks, per board: cold build time, no-op rebuild time, kernel
and root filesystem sizes, against the targets of the build issue (cold
build <= 20 min, no-op rebuild <= 10 s, x86_64 kernel + rootfs <= 12 MiB).

"Cold" means an empty package cache and ccache switched off; only the
download cache is reused, so the time is the build's, not the network's.
Set BH_BENCH_BOARDS to a space-separated list of defconfigs to limit it.
"""
import os
import shutil
import subprocess
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
from measure import Verdict, timed  # noqa: E402

OUT = os.environ.get("BH_BENCH_OUTPUT", "/tmp/bulkhead-bench")
CACHE = os.path.abspath(os.path.expanduser(os.environ.get("BULKHEAD_CACHE", "~/.cache/bulkhead")))
MiB = 1024 * 1024
boards = os.environ.get("BH_BENCH_BOARDS", "qemu_x86_64_defconfig qemu_aarch64_defconfig").split()


def make(o, env, *args):
    p, took = timed(subprocess.run, ["make", "-C", TOP, "O=" + o] + list(args), env=env,
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if p.returncode:
        sys.exit("bench_build: make %s failed:\n%s" % (" ".join(args), p.stderr[-3000:]))
    return took


verdict = Verdict("bench_build")
for d in boards:
    cold_cache = os.path.join(OUT, "cold-cache")
    shutil.rmtree(cold_cache, ignore_errors=True)
    os.makedirs(cold_cache)
    os.symlink(os.path.join(CACHE, "dl"), os.path.join(cold_cache, "dl"))
    os.symlink(os.path.join(CACHE, "apt"), os.path.join(cold_cache, "apt"))
    env = dict(os.environ, BULKHEAD_CACHE=cold_cache, CCACHE_DISABLE="1")
    o = os.path.join(OUT, d)
    shutil.rmtree(o, ignore_errors=True)
    make(o, env, d)
    cold = make(o, env, "-j%d" % os.cpu_count())
    noop = make(o, env)
    images = os.path.join(o, "images")
    kernel = os.path.join(images, "bzImage" if "x86_64" in d else "Image")
    ksize = os.path.getsize(kernel)
    rsize = os.path.getsize(os.path.join(images, "rootfs.squashfs"))
    verdict.target("%s: cold build" % d, cold, 1200, " s")
    verdict.target("%s: no-op rebuild" % d, noop, 10, " s")
    together = (ksize + rsize) / MiB
    print("%s: kernel %.2f MiB, rootfs %.2f MiB, together %.2f MiB" % (d, ksize / MiB, rsize / MiB, together))
    if "x86_64" in d:
        verdict.target("%s: kernel + rootfs" % d, together, 12, " MiB")
    shutil.rmtree(cold_cache, ignore_errors=True)
verdict.exit()
