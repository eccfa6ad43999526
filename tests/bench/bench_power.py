#!/usr/bin/python3
"""Power cuts, many of them: tests/e2e/test_power_cut.py with 30 cuts
(BH_BENCH_POWER_CUTS) instead of make check's 6, half during bhd's
first-boot install and half during `bhctl install`, at random points
(the seed is printed). Reports how many checks passed and the time per
cut; any failed check fails the benchmark.

Uses O/check/qemu_x86_64_debug from `make check` (or BH_BENCH_O); without
it the benchmark fails.
"""
import os
import re
import subprocess
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
from measure import Verdict, timed  # noqa: E402

verdict = Verdict("bench_power")
o = os.environ.get("BH_BENCH_O", os.path.join(TOP, "output", "check", "qemu_x86_64_debug"))
cuts = int(os.environ.get("BH_BENCH_POWER_CUTS", "30"))
if not os.path.exists(os.path.join(o, "images", "start-qemu-kernel.sh")):
    verdict.not_measured("power cuts", "%s is not built (run make check first or set BH_BENCH_O)" % o)
    verdict.exit()
p, secs = timed(subprocess.run, [os.path.join(TOP, "tests", "e2e", "test_power_cut.py")],
                env=dict(os.environ, BH_OUTPUT=o, BH_POWER_CUTS=str(cuts)), capture_output=True, text=True)
passed = len(re.findall(r"^ok ", p.stdout, re.M))
failed = re.findall(r"^not ok .*", p.stdout, re.M)
seed = re.search(r"seed (\d+)", p.stdout)
print("power cuts: %d cuts (seed %s), %d checks passed, %d failed, %.0f s (%.0f s a cut)"
      % (cuts, seed.group(1) if seed else "?", passed, len(failed), secs, secs / cuts))
for line in failed:
    print("  " + line)
if p.returncode != 0 or failed or not passed:
    verdict.missed("power cuts: %d checks failed (exit %d)" % (len(failed), p.returncode))
verdict.exit()
