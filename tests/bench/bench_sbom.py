#!/usr/bin/python3
"""SBOM generation time per build (target <= 5 s), median of 5 runs of the
build's own `bhsbom generate` on its inputs, and `bhsbom verify` over the
whole root filesystem of the booted debug image (reported; the time comes
from the guest's own clock).

Uses O/check/qemu_x86_64_debug from `make check` (or BH_BENCH_O); without
it, or when the image's measurement cannot be made, the benchmark fails.
"""
import os
import re
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

verdict = Verdict("bench_sbom")
o = os.environ.get("BH_BENCH_O", os.path.join(TOP, "output", "check", "qemu_x86_64_debug"))
bhsbom = os.path.join(o, "host", "bin", "bhsbom")
if not os.path.exists(bhsbom):
    verdict.not_measured("sbom generate", "%s is not built (run make check first or set BH_BENCH_O)" % o)
    verdict.exit()
times = []
tmp = tempfile.mkdtemp()
for i in range(5):
    _, took = timed(subprocess.run, [bhsbom, "generate", "--info-dir", os.path.join(o, "build/sbom/info"),
                                     "--manifest", os.path.join(o, "build/rootfs.manifest"), "--root",
                                     os.path.join(o, "build/rootfs"), "--out", os.path.join(tmp, str(i)),
                                     "--name", "x", "--version", "1", "--board", "b", "--profile", "p",
                                     "--arch", "a"], check=True)
    times.append(took)
shutil.rmtree(tmp)
verdict.target("sbom generate, median of 5", statistics.median(times), 5, " s")
with Machine(os.path.join(o, "images"), env=dict(os.environ, BULKHEAD_DATA="/tmp/bench-sbom-data.img")) as m:
    m.expect(r"init: ready:", 300)
    console.prompt(m, 30)
    st, out = m.shell("s=$(cut -d' ' -f1 /proc/uptime); bhsbom verify >/dev/null; "
                      "e=$(cut -d' ' -f1 /proc/uptime); echo VERIFY $s $e")
    mm = re.search(r"VERIFY ([\d.]+) ([\d.]+)", out)
    files = m.shell("bhsbom verify | tail -1")[1]
    m.qmp("quit")
if mm:
    print("bhsbom verify on the booted image (QEMU TCG): %.2f s (%s)"
          % (float(mm.group(2)) - float(mm.group(1)), files.strip()))
else:
    verdict.not_measured("bhsbom verify on the booted image", out.strip()[-300:])
os.path.exists("/tmp/bench-sbom-data.img") and os.unlink("/tmp/bench-sbom-data.img")
verdict.exit()
