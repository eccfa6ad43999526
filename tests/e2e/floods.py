"""Workloads that print as fast as they can (tests/escape/flood.c), signed
with bhpack like a vendor's: a container, and a microVM whose init is the
same program writing to the guest's console. Used by test_limits (bhd keeps
answering) and test_update (a trial boot is still confirmed in time)."""
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "escape"))
import bhctest  # noqa: E402
import image  # noqa: E402

CONSOLE = {"x86_64": "ttyS0", "aarch64": "ttyAMA0"}


def build(out, cfg, key, tmp, dest, restart="never"):
    """Writes flood.bundle (a container) and flood-vm.bundle (a microVM)
    into dest; returns their paths by workload name."""
    bhpack = os.path.join(out, "host", "bin", "bhpack")
    work = os.path.join(tmp, "flood-src")
    binary = bhctest.build_static(out, "flood.c", os.path.join(tmp, "flood"))
    root = os.path.join(work, "root")
    initramfs = os.path.join(work, "initramfs")
    for d in (os.path.join(root, "bin"), os.path.join(initramfs, "dev"), os.path.join(initramfs, "proc")):
        os.makedirs(d, exist_ok=True)
    subprocess.run(["cp", binary, os.path.join(root, "bin", "flood")], check=True)
    subprocess.run(["cp", binary, os.path.join(initramfs, "init")], check=True)
    initrd = os.path.join(work, "initrd.gz")
    with open(initrd, "wb") as f:
        files = subprocess.run("find . | LC_ALL=C sort", shell=True, cwd=initramfs, check=True,
                               capture_output=True).stdout
        cpio = subprocess.run(["cpio", "--quiet", "-o", "-H", "newc", "-R", "0:0"], cwd=initramfs,
                              input=files, check=True, capture_output=True).stdout
        f.write(subprocess.run(["gzip", "-9n"], input=cpio, check=True, capture_output=True).stdout)
    policy = {"policy": restart}
    manifests = {
        "flood": ({"name": "flood", "version": "1.0", "mode": "container",
                   "container": {"args": ["/bin/flood"]}, "restart": policy},
                  ["--rootfs", root]),
        "flood-vm": ({"name": "flood-vm", "version": "1.0", "mode": "vm",
                      "vm": {"cmdline": "console=%s quiet panic=-1" % CONSOLE[cfg["BH_ARCH"]], "vcpus": 1},
                      "resources": {"memory": "64M", "pids": 64}, "restart": policy,
                      "network": {"mode": "none"}},
                     ["--kernel", os.path.join(out, "images", image.kernel_name(cfg)), "--initrd", initrd]),
    }
    paths = {}
    for name, (manifest, extra) in manifests.items():
        mpath = os.path.join(work, name + ".json")
        with open(mpath, "w") as f:
            json.dump(manifest, f)
        paths[name] = os.path.join(dest, name + ".bundle")
        subprocess.run([bhpack, "build", "--manifest", mpath, "--key", key, "--arch", cfg["BH_ARCH"],
                        "-o", paths[name]] + extra, check=True, capture_output=True)
    return paths
