#!/usr/bin/python3
"""Every executable on the built root filesystem is a static binary for the
board's architecture: no program interpreter, no shared library, no dynamic
loader anywhere on the image. Nothing is setuid or setgid, nothing is
world-writable but /tmp. A production image has no shell of any kind (no
binary, no BusyBox applet), no package manager, compiler or debugger.
Reads the squashfs the build produced.

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
    special, writable, names = [], [], []
    for d, dirs, files in os.walk(root):
        for name in dirs + files:
            path = os.path.join(d, name)
            rel = "/" + os.path.relpath(path, root)
            st = os.lstat(path)
            names.append(name)
            if st.st_mode & 0o6000:
                special.append(rel)
            if st.st_mode & 0o002 and not os.path.islink(path) and rel != "/tmp":
                writable.append(rel)
    t.ok(not special, "no setuid or setgid file", "\n".join(special))
    t.ok(not writable, "nothing world-writable but /tmp", "\n".join(writable))
    if cfg["BH_PROFILE"] == "production":
        banned = {"sh", "ash", "bash", "dash", "hush", "ksh", "mksh", "zsh", "csh", "tcsh",
                  "login", "getty", "su", "sudo", "opkg", "apk", "dpkg", "apt", "rpm",
                  "gcc", "cc", "tcc", "gdb", "strace", "ltrace", "busybox-shell"}
        found = sorted(set(names) & banned)
        t.ok(not found, "production: no shell, login, package manager, compiler or debugger",
             ", ".join(found))
        bb = image.make_vars(out, "BUSYBOX_PREFIX")["BUSYBOX_PREFIX"]
        with open(os.path.join(bb, "busybox.config")) as f:
            enabled = {l.split("=")[0] for l in f if l.startswith("CONFIG_") and l.strip().endswith("=y")}
        shells = sorted(enabled & {"CONFIG_ASH", "CONFIG_HUSH", "CONFIG_SHELL_ASH", "CONFIG_SHELL_HUSH",
                                   "CONFIG_SH_IS_ASH", "CONFIG_SH_IS_HUSH", "CONFIG_BASH_IS_ASH",
                                   "CONFIG_BASH_IS_HUSH", "CONFIG_CTTYHACK", "CONFIG_LOGIN",
                                   "CONFIG_GETTY", "CONFIG_SU", "CONFIG_VI", "CONFIG_FEATURE_SH_STANDALONE"})
        t.ok(not shells, "production: BusyBox is built without any shell or login applet",
             ", ".join(shells))
        links = []
        for d, _, files in os.walk(root):
            for name in files:
                path = os.path.join(d, name)
                if os.path.islink(path) and os.readlink(path).endswith("busybox"):
                    links.append(name)
        t.ok(sorted(links) == ["ntpd", "udhcpc"],
             "production: BusyBox installs only udhcpc and ntpd", sorted(links))
        e2fs = sorted(os.listdir(os.path.join(root, "sbin")))
        t.ok({"mke2fs", "e2fsck", "tune2fs", "resize2fs"} <= set(e2fs) and not os.path.islink(
             os.path.join(root, "sbin", "mke2fs")) and not {"debugfs", "e2image", "fsck"} & set(e2fs),
             "production: e2fsprogs installs only mke2fs, e2fsck, tune2fs and resize2fs", e2fs)
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
