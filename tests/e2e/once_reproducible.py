#!/usr/bin/python3
"""Two clean builds of the same commit give byte-identical images.

Builds the configuration of BH_OUTPUT again in a fresh O folder, with
ccache off so that every program is really compiled again, and compares the
root filesystem and its manifest, and disk.img (GPT, ESP, signed UKIs,
dm-verity tree) with its bmap: everything from our programs to the
squashfs and the disk is built again.

Not tested here: the kernel and the other third-party packages. Both
builds take them from the shared cache, so comparing them would compare a
file with itself; rebuilding the kernel would add most of a kernel build
to every `make check`.

Environment: BH_OUTPUT (a built O folder), BH_TESTS_OUTPUT (scratch space).
"""
import filecmp
import os
import shutil
import subprocess
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap  # noqa: E402
import image  # noqa: E402

t = Tap()
first = os.environ["BH_OUTPUT"]
cfg = image.config(first)
second = os.path.join(os.environ.get("BH_TESTS_OUTPUT", "/tmp"), "reproducible")
shutil.rmtree(second, ignore_errors=True)
os.makedirs(second)
shutil.copy(os.path.join(first, ".config"), os.path.join(second, ".config"))

env = dict(os.environ, CCACHE_DISABLE="1")
p = subprocess.run(["make", "-C", TOP, "O=" + second], capture_output=True, text=True, env=env)
t.ok(p.returncode == 0, "second clean build succeeds", p.stdout[-2000:] + p.stderr[-2000:])
rebuilt = os.path.exists(os.path.join(second, "build", "programs", "init", "init"))
t.ok(rebuilt, "the second build compiled the programs itself")
for name in ("rootfs.squashfs", "rootfs.manifest", "disk.img", "disk.img.bmap"):
    a, b = os.path.join(first, "images", name), os.path.join(second, "images", name)
    same = os.path.exists(b) and filecmp.cmp(a, b, shallow=False)
    t.ok(same, "%s is byte-identical in both builds" % name,
         "differs: cmp %s %s" % (a, b))
if not t.failed:
    shutil.rmtree(second, ignore_errors=True)
t.done()
