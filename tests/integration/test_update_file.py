#!/usr/bin/python3
"""Update files on the build host (bhpack update; docs/update.md): what one
holds, and every refusal the device makes before it writes anything, with
its reason: an unknown key, the workload key (trusted for workloads only:
the image's own trust roots), a changed byte, a file cut short, an older
or equal version (unless allowed), another board or arch, a workload
bundle passed as an update. `bhpack update --check` runs the device's own checks
(firmware/lib/update_check.c, the code bhd runs).

Environment: BH_OUTPUT, a built O folder (O/host/bin/bhpack, the image's
SBOM and its base files, which hold its trust roots).
"""
import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
from tap import Tap  # noqa: E402
import bhbin  # noqa: E402

t = Tap()
out = os.environ["BH_OUTPUT"]
bhpack = bhbin.host_programs(t, out, "bhpack")
tmp = tempfile.mkdtemp(prefix="bh-update-file-")
KEYS = os.path.join(TOP, "board", "common", "keys")
key = os.path.join(KEYS, "bulkhead-TEST-ONLY-update.key.pem")
workload_key = os.path.join(KEYS, "bulkhead-TEST-ONLY-vendor.key.pem")
trusted = os.path.join(tmp, "trusted")
os.makedirs(trusted)
shutil.copy(os.path.join(KEYS, "bulkhead-TEST-ONLY-update.pub.pem"), trusted)


def p(*x):
    return os.path.join(tmp, *x)


def run(*args):
    r = subprocess.run([bhpack] + list(args), capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


sbom = os.path.join(out, "images", "sbom", "image.spdx.json")
for name, size in (("uki-a.efi", 10000), ("uki-b.efi", 10001), ("slot.img", 3 * 4096)):
    with open(p(name), "wb") as f:
        f.write(os.urandom(size))


def build(out_name, version="1.2.0", board="qemu-x86_64", arch="x86_64", k=key, slot="slot.img"):
    return run("update", "--key", k, "--board", board, "--arch", arch, "--version", version,
               "--sbom", sbom, "--uki-a", p("uki-a.efi"), "--uki-b", p("uki-b.efi"),
               "--slot", p(slot), "-o", p(out_name))


def check(f, running="1.1.0", board="qemu-x86_64", arch="x86_64", *more):
    args = ["update", "--check", p(f), "--keys", trusted, "--board", board, "--arch", arch]
    if running:
        args += ["--running", running]
    return run(*(args + list(more)))


rc, o = build("good.bhu")
t.ok(rc == 0, "bhpack update builds an update file", o)
with tarfile.open(p("good.bhu")) as tf:
    names = tf.getnames()
    index = json.load(tf.extractfile("bundle.json"))
    manifest = json.load(tf.extractfile("manifest.json"))
    slot_off = tf.getmember("slot.img").offset_data
t.ok(names == ["bundle.json", "bundle.sig", "manifest.json", "sbom.spdx.json", "uki-a.efi",
               "uki-b.efi", "slot.img"], "members: index, signature, manifest, SBOM, UKIs, slot", names)
t.ok(index["format"] == "bulkhead-update/1", "format bulkhead-update/1", index)
t.ok(manifest == {"board": "qemu-x86_64", "arch": "x86_64", "version": "1.2.0", "slot_bytes": 12288},
     "manifest: board, arch, version, slot size", manifest)
rc, o = check("good.bhu")
t.ok(rc == 0 and "accepted" in o, "a good, newer update is accepted", o)

# Refusals, each with its reason.
subprocess.run([bhpack, "keygen", "--private", p("rogue.pem"), "--public", p("rogue.pub.pem")],
               check=True, capture_output=True)
build("rogue.bhu", k=p("rogue.pem"))
rc, o = check("rogue.bhu")
t.ok(rc == 1 and "unknown key" in o, "signed by an unknown key: refused", o)
# A workload key cannot sign a firmware update: checked against the trust
# roots of the built image (its base files), at the path bhd uses
# (--root joins include/bulkhead/trust.h's TRUST_UPDATE_KEYS).
image_root = os.path.join(out, "build", "parts", "bulkhead-base-files")
if os.path.isdir(os.path.join(image_root, "etc", "bulkhead", "keys", "updates")):
    build("workload-signed.bhu", k=workload_key)
    args = ["update", "--root", image_root, "--board", "qemu-x86_64", "--arch", "x86_64", "--check"]
    rc, o = run(*(args + [p("good.bhu")]))
    t.ok(rc == 0 and "accepted" in o, "the image's update trust root accepts the update key's file", o)
    rc, o = run(*(args + [p("workload-signed.bhu")]))
    t.ok(rc == 1 and "unknown key" in o and image_root + "/etc/bulkhead/keys/updates" in o,
         "an update signed with the workload key: refused by the image's update trust root, naming it", o)
else:
    for n in ("accepts", "workload key refused"):
        t.skip("image trust roots: " + n, "no base files with /etc/bulkhead/keys/updates in %s "
               "(a build of an older tree?)" % out)
data = bytearray(open(p("good.bhu"), "rb").read())
data[slot_off + 100] ^= 1
open(p("corrupt.bhu"), "wb").write(data)
rc, o = check("corrupt.bhu")
t.ok(rc == 1 and "slot.img does not match its signed hash" in o, "a changed byte in the slot: refused", o)
data[slot_off + 100] ^= 1
open(p("truncated.bhu"), "wb").write(data[:slot_off + 4096])
rc, o = check("truncated.bhu")
# The reader's own words, not the file's name ("truncated.bhu").
t.ok(rc == 1 and re.search(r": truncated at byte \d+", o), "a file cut short: refused, the reader says where", o)
rc, o = check("good.bhu", "1.2.0")
t.ok(rc == 1 and "not newer" in o, "the running version again: refused", o)
rc, o = check("good.bhu", "1.10.0")
t.ok(rc == 1 and "not newer" in o, "an older version (1.2.0 < 1.10.0): refused", o)
rc, o = check("good.bhu", "1.10.0", "qemu-x86_64", "x86_64", "--allow-downgrade")
t.ok(rc == 0, "... accepted with --allow-downgrade", o)
rc, o = check("good.bhu", "1.1.0", "qemu-aarch64")
t.ok(rc == 1 and "for board qemu-x86_64" in o, "another board: refused", o)
rc, o = check("good.bhu", "1.1.0", "qemu-x86_64", "aarch64")
t.ok(rc == 1 and "is for x86_64" in o, "another architecture: refused", o)
# A workload bundle is not an update, and the other way round.
os.makedirs(p("wl", "bin"))
open(p("wl", "bin", "x"), "w").write("x")
open(p("wl.json"), "w").write(json.dumps({"name": "wl", "mode": "container",
                                          "container": {"args": ["/bin/x"]}}))
rc, o = run("build", "--key", workload_key, "--arch", "x86_64", "--rootfs", p("wl"), "--manifest", p("wl.json"),
            "-o", p("wl.bundle"))
t.ok(rc == 0, "bhpack build makes a workload bundle", o)
if os.path.isdir(os.path.join(image_root, "etc", "bulkhead", "keys", "workloads")):
    rc, o = run("verify", "--keys", os.path.join(image_root, "etc", "bulkhead", "keys", "workloads"),
                p("wl.bundle"))
    t.ok(rc == 0, "... the same key's workload bundle is valid for the image's workload trust root", o)
else:
    t.skip("image trust roots: workload key trusted for workloads", "no base files in %s" % out)
rc, o = check("wl.bundle")
t.ok(rc == 1 and "is not \"bulkhead-update/1\" (this is a workload bundle)" in o,
     "a workload bundle passed as an update: refused", o)
rc, o = run("verify", "--keys", trusted, p("good.bhu"))
t.ok(rc == 1 and "this is a firmware update" in o, "bhpack verify refuses an update as a bundle", o)
# The slot payload must be whole 4 KiB blocks (dm-verity's data blocks).
with open(p("odd.img"), "wb") as f:
    f.write(b"x" * 5000)
rc, o = build("odd.bhu", slot="odd.img")
t.ok(rc != 0 and "multiple of 4096" in o, "bhpack update refuses a slot that is not whole 4 KiB blocks", o)
rc, o = build("bad.bhu", version="1.2/../x")
t.ok(rc != 0 and "not a valid image version" in o, "... and a version that is not a plain name", o)
shutil.rmtree(tmp)
t.done()
