#!/usr/bin/python3
"""Every executable on the built root filesystem is a static binary for the
board's architecture: no program interpreter, no shared library, no dynamic
loader anywhere on the image. Reads the squashfs the build produced.

Environment: BH_OUTPUT, the O folder of a built image.
"""
import os
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap  # noqa: E402
import image  # noqa: E402

t = Tap()
out = os.environ["BH_OUTPUT"]
cfg = image.config(out)
machine = {"x86_64": "Advanced Micro Devices X86-64", "aarch64": "AArch64"}[cfg["BH_ARCH"]]

with tempfile.TemporaryDirectory() as tmp:
    root = os.path.join(tmp, "root")
    p = subprocess.run(["unsquashfs", "-no-progress", "-d", root,
                        os.path.join(out, "images", "rootfs.squashfs")],
                       capture_output=True, text=True)
    t.ok(p.returncode == 0, "rootfs.squashfs unpacks", p.stderr)
    elves, loaders = [], []
    for d, _, files in os.walk(root):
        for name in files:
            path = os.path.join(d, name)
            rel = "/" + os.path.relpath(path, root)
            if name.startswith("ld-") or ".so" in name:
                loaders.append(rel)
            if os.path.islink(path) or not os.path.isfile(path):
                continue
            with open(path, "rb") as f:
                if f.read(4) == b"\x7fELF":
                    elves.append((rel, path))
    t.ok(not loaders, "no dynamic loader or shared library on the image", "\n".join(loaders))
    t.ok(len(elves) >= 1, "the image holds executables (%d found)" % len(elves))
    for rel, path in sorted(elves):
        hdr = subprocess.run(["readelf", "-h", "-l", "-d", path], capture_output=True, text=True).stdout
        problems = []
        if "Machine:                           %s" % machine not in hdr:
            problems.append("not built for %s" % cfg["BH_ARCH"])
        if "INTERP" in hdr or "program interpreter" in hdr:
            problems.append("has a program interpreter")
        if "(NEEDED)" in hdr:
            problems.append("needs shared libraries")
        t.ok(not problems, "%s is a static %s binary" % (rel, cfg["BH_ARCH"]), "; ".join(problems))
t.done()
