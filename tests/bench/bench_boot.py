#!/usr/bin/python3
"""Boot time, per board: kernel start to init (the kernel's own timestamp of
"Run /sbin/init") and init to `ready` (init's report), median of 3 boots,
and init's share of the time from kernel start to ready (target <= 10%).

Uses the configurations built by `make check` under O/check (or
BH_BENCH_IMAGES=dir1:dir2 for other O folders); one that is not built
fails the benchmark.
"""
import os
import statistics
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "e2e"))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
from qemu import Machine  # noqa: E402
from measure import Verdict  # noqa: E402

dirs = os.environ.get("BH_BENCH_IMAGES")
dirs = dirs.split(":") if dirs else [os.path.join(TOP, "output", "check", d)
                                     for d in ("qemu_x86_64", "qemu_aarch64")]
verdict = Verdict("bench_boot")
for o in dirs:
    if not os.path.exists(os.path.join(o, "images", "start-qemu-kernel.sh")):
        verdict.not_measured(o, "not built (run make check first or set BH_BENCH_IMAGES)")
        continue
    to_init, to_ready, init_ms = [], [], []
    for i in range(3):
        with Machine(os.path.join(o, "images"), env=dict(os.environ, BULKHEAD_DATA="/tmp/bench-boot-data.img")) as m:
            k = m.expect(r"\[\s*([\d.]+)\] Run /sbin/init as init process", 300)
            r = m.expect(r"init: ready: ([\d.]+) s since kernel start \(init (\d+) ms\)", 300)
            to_init.append(float(k.group(1)))
            to_ready.append(float(r.group(1)))
            init_ms.append(int(r.group(2)) / 1000.0)
            m.qmp("quit")
    k, r, i = statistics.median(to_init), statistics.median(to_ready), statistics.median(init_ms)
    print("%s: kernel start -> init %.3f s, init -> ready %.3f s, kernel start -> ready %.3f s"
          % (os.path.basename(o), k, i, r))
    verdict.target("%s: init's share of kernel start -> ready" % os.path.basename(o), 100 * i / r if r else 100,
                   10, "%")
os.path.exists("/tmp/bench-boot-data.img") and os.unlink("/tmp/bench-boot-data.img")
verdict.exit()
