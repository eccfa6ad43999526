"""Shared helpers for bhc's tests: find the built bhc, build the static
escape-probe program and payloads with the target's musl compiler, and
make container bundles from the image's own static BusyBox.

Used by tests/integration/test_bhc_* (build host) and tests/e2e/
test_container.py (payload disk for the booted image)."""
import json
import os
import shutil
import subprocess
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
import bhbin  # noqa: E402


def make_vars(out, *names):
    p = subprocess.run(["make", "-s", "--no-print-directory", "-C", TOP, "O=" + out, "printvars",
                        "VARS=" + " ".join(names)], capture_output=True, text=True, check=True)
    return dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)


def build_bhc(out):
    """Builds bhc (the target build: a static musl binary that also runs on
    an x86_64 build host) and returns its path."""
    subprocess.run(["make", "-s", "-C", TOP, "O=" + out, "bhc"], check=True, capture_output=True)
    return os.path.join(out, "build", "programs", "bhc", "bhc")


def target_cc(out):
    return make_vars(out, "TARGET_CC")["TARGET_CC"].split()


def busybox(out):
    return os.path.join(make_vars(out, "BUSYBOX_PREFIX")["BUSYBOX_PREFIX"], "target", "bin", "busybox")


def build_static(out, source, dest, extra=()):
    """Compiles one C file of tests/escape into a static binary."""
    cmd = target_cc(out) + ["-static", "-O2", "-Wall", "-Wextra", "-Werror", "-o", dest,
                            os.path.join(HERE, source)] + list(extra)
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return dest


def make_rootfs(path, bb, binaries=()):
    """A minimal rootfs: BusyBox with every applet, the mount points bhc
    needs, and the given static binaries in /bin."""
    shutil.rmtree(path, ignore_errors=True)
    for d in ("bin", "proc", "sys", "dev", "tmp", "etc", "run"):
        os.makedirs(os.path.join(path, d), exist_ok=True)
    shutil.copy(bb, os.path.join(path, "bin", "busybox"))
    # The applet names come from BusyBox's own install tree (symlinks next
    # to the binary), not from running it: the target may be another arch.
    target = os.path.dirname(os.path.dirname(os.path.abspath(bb)))
    applets = sorted({n for d in ("bin", "sbin", "usr/bin", "usr/sbin")
                      if os.path.isdir(os.path.join(target, d))
                      for n in os.listdir(os.path.join(target, d)) if n != "busybox"})
    if not applets:
        raise RuntimeError("no BusyBox applet links next to %s" % bb)
    for a in applets:
        link = os.path.join(path, "bin", a)
        if not os.path.lexists(link):
            os.symlink("busybox", link)
    for b in binaries:
        shutil.copy(b, os.path.join(path, "bin", os.path.basename(b)))
    with open(os.path.join(path, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n")
    return path


def make_bundle(bhc, path, rootfs, args, edit=None):
    """A bundle whose config.json is `bhc spec`'s, with args and an optional
    edit(config) applied; rootfs is linked in."""
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    os.symlink(rootfs, os.path.join(path, "rootfs"))
    subprocess.run([bhc, "spec", "--bundle", path, "--"] + list(args), check=True)
    if edit:
        with open(os.path.join(path, "config.json")) as f:
            cfg = json.load(f)
        edit(cfg)
        write_config(path, cfg)
    return path


def write_config(bundle, cfg):
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)


def parse_probes(text):
    """(blocked names, escaped lines, summary line or None)."""
    blocked, escaped, summary = [], [], None
    for line in text.splitlines():
        if line.startswith("BLOCKED "):
            blocked.append(line.split()[1])
        elif line.startswith("ESCAPED "):
            escaped.append(line)
        elif line.startswith("probes: "):
            summary = line
    return blocked, escaped, summary


def arch_of(out):
    try:
        with open(os.path.join(out, ".config")) as f:
            for line in f:
                if line.startswith("BH_ARCH="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return None


def host_output():
    """A built O folder whose target is the build host's architecture, so
    that its static bhc and BusyBox run here: BH_OUTPUT if it fits, else
    another configuration that tests/run built, or None."""
    import platform
    machine = platform.machine()
    cands = [os.environ.get("BH_OUTPUT", "")]
    tests_out = os.environ.get("BH_TESTS_OUTPUT")
    if tests_out:
        cands += [os.path.join(tests_out, n) for n in ("qemu_x86_64_debug", "qemu_x86_64", "qemu_aarch64_debug",
                                                        "qemu_aarch64")]
    for c in cands:
        if c and arch_of(c) == machine:
            return c
    return None


def prepare(tap, tmp):
    """Everything a host test needs, or a skip reason: (bhc, rootfs, out)."""
    if os.geteuid() != 0:
        return None, "needs root (namespaces, id maps)"
    out = host_output()
    if not out:
        return None, "no built configuration for this machine's architecture"
    bhc = bhbin.program("bhc", lambda: build_bhc(out))
    if not bhc:
        return None, bhbin.missing_reason("bhc")
    subprocess.run(["make", "-s", "-C", TOP, "O=" + out, "busybox"], check=True, capture_output=True)
    probe = build_static(out, "probes.c", os.path.join(tmp, "bhc-probes"))
    rootfs = make_rootfs(os.path.join(tmp, "rootfs"), busybox(out), [probe])
    return (bhc, rootfs, out), None
