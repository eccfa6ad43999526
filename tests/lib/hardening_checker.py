"""kernel-hardening-checker for the tests: where its program is, which
failing checks docs/hardening.md accepts (with their reason) for an
architecture, and a run's JSON results. Used by test_kernel_hardening.py
(the built .config and command line) and test_host.py (the booted debug
image's /proc/cmdline and `sysctl -a`)."""
import json
import os
import re
import subprocess
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
# The floor: this share of the checker's Kconfig checks must pass.
FLOOR = 0.90
DOC = os.path.join(TOP, "docs", "hardening.md")
DOC_SECTION = "### Checks that still fail"
ARCH_NAMES = {"x86_64": "x86_64", "aarch64": "ARM64"}


def find_checker():
    """The checker's program: the environment's (BH_KERNEL_HARDENING_CHECKER),
    else the pinned copy in tests/tools/kernel-hardening-checker (CI
    machines have no other)."""
    if os.environ.get("BH_KERNEL_HARDENING_CHECKER"):
        return os.environ["BH_KERNEL_HARDENING_CHECKER"]
    path = os.path.join(TOP, "tests", "tools", "kernel-hardening-checker", "bin", "kernel-hardening-checker")
    return path if os.path.isfile(path) else None


def documented_failures(arch):
    """The checks docs/hardening.md accepts as failing on this architecture:
    the backquoted names in the first column of its table, for rows whose
    second column names the architecture or says `both`."""
    names, in_section = set(), False
    with open(DOC) as f:
        for line in f:
            if line.startswith("#"):
                in_section = line.strip() == DOC_SECTION
                continue
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if not in_section or not line.startswith("|") or len(cells) < 3:
                continue
            if cells[1] in ("both", ARCH_NAMES[arch]):
                names.update(re.findall(r"`([^`]+)`", cells[0]))
    return names


def run_checker(checker, kconfig, cmdline=None, sysctl=None):
    argv = [sys.executable, checker, "-m", "json", "-c", kconfig]
    if cmdline is not None:
        argv += ["-l", cmdline]
    if sysctl is not None:
        argv += ["-s", sysctl]
    p = subprocess.run(argv, capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("%s failed (%d): %s" % (" ".join(argv), p.returncode, p.stderr.strip()))
    return json.loads(p.stdout)


