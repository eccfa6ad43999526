#!/usr/bin/python3
"""The kernel's hardening, measured by kernel-hardening-checker: the built
kernel's .config passes at least 90% of the checker's Kconfig checks (the
floor of issue 17), and every check it fails, on the .config or on the
image's kernel command line, is one that docs/hardening.md lists with its
reason for this architecture, and nothing it lists passes. Prints the pass counts and ratios. Boots
nothing: it reads the .config the kernel was built with and the command line
the build gave it.

Environment: BH_OUTPUT, the O folder of a built image.
BH_KERNEL_HARDENING_CHECKER: the checker's program (default: on PATH, or
shared/tools/kernel-hardening-checker beside the checkout or its main
checkout). BH_KERNEL_CONFIG: check this .config instead of the build's (to
measure a configuration before building it).
"""
import math
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap  # noqa: E402
import image  # noqa: E402
from hardening_checker import (FLOOR, DOC, DOC_SECTION, ARCH_NAMES, find_checker,  # noqa: E402
                               documented_failures, run_checker)

t = Tap()
out = os.environ["BH_OUTPUT"]
cfg = image.config(out)
arch = cfg["BH_ARCH"]
checker = find_checker()
if not checker:
    t.ok(False, "kernel-hardening-checker is available",
         "not on PATH nor in ../shared/tools/kernel-hardening-checker; "
         "set BH_KERNEL_HARDENING_CHECKER to its bin/kernel-hardening-checker")
    t.done()
names = image.make_vars(out, "LINUX_PREFIX", "KERNEL_CMDLINE")
kconfig = os.environ.get("BH_KERNEL_CONFIG") or os.path.join(names["LINUX_PREFIX"], "config")
t.ok(os.path.isfile(kconfig), "the kernel's .config exists (%s)" % kconfig)
accepted = documented_failures(arch)
t.ok(len(accepted) > 0, "docs/hardening.md lists the checks that still fail (%s)" % DOC_SECTION)

with tempfile.TemporaryDirectory() as tmp:
    cmdline = os.path.join(tmp, "cmdline")
    with open(cmdline, "w") as f:
        f.write(names["KERNEL_CMDLINE"].strip() + "\n")
    try:
        kresults = run_checker(checker, kconfig)
        lresults = run_checker(checker, kconfig, cmdline)
    except (RuntimeError, ValueError) as e:
        t.ok(False, "kernel-hardening-checker runs on %s" % kconfig, str(e))
        t.done()

kchecks = [r for r in kresults if r["type"] == "kconfig"]
passed = sum(1 for r in kchecks if r["check_result_bool"])
need = math.floor(FLOOR * len(kchecks) + 0.5)
t.diag("%s kernel: %d of %d Kconfig checks pass (%.1f%%); the floor is %d (%d%%)"
       % (ARCH_NAMES[arch], passed, len(kchecks), 100.0 * passed / len(kchecks), need, FLOOR * 100))
t.ok(passed >= need, "the kernel passes at least %d%% of the checker's Kconfig checks: %d of %d"
     % (FLOOR * 100, passed, len(kchecks)),
     "failing:\n" + "\n".join("%s: %s" % (r["option_name"], r["check_result"])
                              for r in kchecks if not r["check_result_bool"]))

lpassed = sum(1 for r in lresults if r["check_result_bool"])
t.diag("with the command line %r: %d of %d checks pass (%.1f%%)"
       % (names["KERNEL_CMDLINE"], lpassed, len(lresults), 100.0 * lpassed / len(lresults)))
failing = [r for r in lresults if not r["check_result_bool"]]
undocumented = [r for r in failing if r["option_name"] not in accepted]
t.ok(not undocumented, "every failing check (%d) is in docs/hardening.md with its reason"
     % len(failing),
     "\n".join("%s (%s): %s" % (r["option_name"], r["type"], r["check_result"]) for r in undocumented))
# Rows for checks this run does not make (sysctls need a booted image) are
# left alone.
evaluated = {r["option_name"] for r in lresults}
stale = sorted((accepted & evaluated) - {r["option_name"] for r in failing})
t.ok(not stale, "docs/hardening.md lists no check as failing on %s that passes" % ARCH_NAMES[arch],
     ", ".join(stale))
t.done()
