#!/usr/bin/python3
"""The BH_PACKAGE_* symbols decide what is built: a package whose symbol is
not set is not built, listed in the SBOM or in legal-info, and a program
that links it, or an image that needs it, stops the build at once with the
symbol's name. The symbols have no prompt, so the test sets one on make's
command line, where it overrides the configuration.

It configures its own O folder with qemu_x86_64_debug_defconfig, whatever
BH_OUTPUT is: libfdt is the package it leaves out, which only ARM64's bhv
links. Nothing is built.

Environment: BH_TESTS_OUTPUT (scratch), else a temporary folder.
"""
import os
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
from tap import Tap  # noqa: E402

t = Tap()
out = tempfile.mkdtemp(prefix="bh-packages-", dir=os.environ.get("BH_TESTS_OUTPUT"))


def make(*args):
    return subprocess.run(["make", "-s", "-C", TOP, "--no-print-directory", "O=" + out] + list(args),
                          capture_output=True, text=True)


def printvars(*args):
    p = make(*args, "printvars", "VARS=PACKAGES SBOM_INFO_FILES")
    found = dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)
    return p, found.get("PACKAGES", "").split(), found.get("SBOM_INFO_FILES", "")


p = make("qemu_x86_64_debug_defconfig")
if p.returncode != 0:
    t.ok(False, "make qemu_x86_64_debug_defconfig in a scratch O folder", p.stdout + p.stderr)
    sys.exit(t.done())
p, packages, sbom = printvars()
t.ok(p.returncode == 0 and {"musl", "linux", "systemd-boot", "busybox", "e2fsprogs", "libseccomp", "mbedtls",
                            "yyjson", "libfdt"} <= set(packages),
     "the configuration selects every package", p.stdout + p.stderr)

p, packages, sbom = printvars("BH_PACKAGE_LIBFDT=")
t.ok(p.returncode == 0 and "libfdt" not in packages and "musl" in packages,
     "a package whose symbol is not set is not built", p.stdout + p.stderr)
t.ok(p.returncode == 0 and "/libfdt.info" not in sbom and "/musl.info" in sbom,
     "nor is it a component of the SBOM", sbom)

p = make("BH_PACKAGE_LIBSECCOMP=", "printvars", "VARS=PACKAGES")
t.ok(p.returncode != 0 and "firmware/bhc links libseccomp" in p.stderr
     and "BH_PACKAGE_LIBSECCOMP is not set" in p.stderr,
     "a program linking a package that is not selected stops the build, naming both",
     p.stderr)

p = make("BH_PACKAGE_BUSYBOX=", "printvars", "VARS=PACKAGES")
t.ok(p.returncode != 0 and "every image needs busybox" in p.stderr,
     "so does leaving out a package every image needs", p.stderr)

p = make("BH_PACKAGE_E2FSPROGS=", "printvars", "VARS=PACKAGES")
t.ok(p.returncode != 0 and "every image needs e2fsprogs" in p.stderr,
     "e2fsprogs too: init formats and checks /data with it", p.stderr)

shutil.rmtree(out, ignore_errors=True)
sys.exit(t.done())
