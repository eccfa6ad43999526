#!/usr/bin/python3
"""bhsbom on the build host, against the image that was built: verify finds
exactly one modified, one missing and one unlisted file in a copy of the root
filesystem; match reports affected versions, not fixed ones, and gives a
clear error for malformed advisories and SBOMs; generate is deterministic.

Environment: BH_OUTPUT, the O folder of a built image; BH_SANITIZED_BIN,
a sanitizer build of bhsbom to run instead (tests/lib/bhbin.py).
"""
import os
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
from tap import Tap  # noqa: E402
import bhbin  # noqa: E402

t = Tap()
out = os.environ["BH_OUTPUT"]
bhsbom = bhbin.host_programs(t, out, "bhsbom")
sbom = os.path.join(out, "images", "sbom", "image.spdx.json")
fixtures = os.path.join(TOP, "tests", "fixtures", "osv")


def run(*args):
    p = subprocess.run([bhsbom] + list(args), capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


with tempfile.TemporaryDirectory() as tmp:
    root = os.path.join(tmp, "root")
    subprocess.run(["unsquashfs", "-no-progress", "-d", root,
                    os.path.join(out, "images", "rootfs.squashfs")], capture_output=True, check=True)
    rc, o, e = run("verify", root)
    t.ok(rc == 0 and "0 modified, 0 missing, 0 unlisted" in o, "the built root filesystem verifies clean",
         o + e)
    # One of each finding.
    with open(os.path.join(root, "etc", "hostname"), "a") as f:
        f.write("tampered\n")
    os.unlink(os.path.join(root, "sbin", "init"))
    with open(os.path.join(root, "usr", "bin", "implant"), "w") as f:
        f.write("#!/bin/sh\n")
    rc, o, e = run("verify", root)
    lines = sorted(l for l in o.splitlines() if l.split(" ")[0] in ("modified", "missing", "unlisted"))
    t.ok(rc == 1, "findings give exit status 1", "status %d" % rc)
    t.ok(lines == ["missing /sbin/init", "modified /etc/hostname", "unlisted /usr/bin/implant"],
         "exactly one modified, one missing and one unlisted file", o + e)
    # A symlink planted in place of a listed file is a modification.
    os.unlink(os.path.join(root, "usr", "bin", "implant"))
    shutil.copy(os.path.join(out, "images", "rootfs.manifest"), os.path.join(tmp, "manifest"))
    os.unlink(os.path.join(root, "etc", "passwd"))
    os.symlink("/etc/hostname", os.path.join(root, "etc", "passwd"))
    rc, o, e = run("verify", root)
    t.ok("modified /etc/passwd" in o, "a symlink swapped in for a file is reported, not followed", o)

    rc, o, e = run("match", "--sbom", sbom, os.path.join(fixtures, "busybox-affected.json"))
    t.ok(rc == 1 and "AFFECTED busybox 1.37.0 BULKHEAD-TEST-2026-0001" in o,
         "an affected version matches (exit 1)", o + e)
    rc, o, e = run("match", "--sbom", sbom, os.path.join(fixtures, "busybox-fixed.json"))
    t.ok(rc == 0 and "AFFECTED" not in o and "1 advisories, 0 affected" in o,
         "a fixed version does not match (exit 0)", o + e)
    rc, o, e = run("match", "--sbom", sbom, os.path.join(fixtures, "mixed.json"))
    t.ok(rc == 1 and "AFFECTED mbedtls 3.6.6 BULKHEAD-TEST-2026-0003" in o and "openssl" not in o
         and "AFFECTED linux 6.12.117 BULKHEAD-TEST-2026-0005" in o,
         "purl and CPE identification in a list of advisories", o + e)
    rc, o, e = run("match", "--sbom", sbom, os.path.join(fixtures, "malformed-event.json"))
    t.ok(rc == 2 and "malformed-event.json: $.affected[0].ranges[0].events[0]" in e,
         "a malformed advisory: error with the file and JSON path (exit 2)", e)
    rc, o, e = run("match", "--sbom", sbom, os.path.join(fixtures, "truncated.json"))
    t.ok(rc == 2 and "truncated.json: not valid JSON at byte" in e, "a truncated advisory: clear error", e)
    broken = os.path.join(tmp, "broken.spdx.json")
    with open(sbom) as f:
        text = f.read()
    with open(broken, "w") as f:
        f.write(text[:len(text) // 2])
    rc, o, e = run("list", "--sbom", broken)
    t.ok(rc == 2 and "broken.spdx.json: not valid JSON at byte" in e, "a truncated SBOM: clear error", e)
    with open(broken, "w") as f:
        f.write(text.replace('"fileName": "./sbin/init"', '"fileName": "../../etc/shadow"', 1))
    rc, o, e = run("verify", "--sbom", broken, root)
    t.ok(rc == 2 and "fileName '../../etc/shadow' must be a relative path" in e,
         "an SBOM path that leaves the root is refused", e)
    rc, o, e = run("frobnicate")
    t.ok(rc == 2 and "unknown command" in e, "an unknown command is an error")

    # Deterministic generation: the build's inputs give the same bytes twice.
    info = os.path.join(out, "build", "sbom", "info")
    manifest = os.path.join(out, "build", "rootfs.manifest")
    tree = os.path.join(out, "build", "rootfs")
    docs = []
    for n in (1, 2):
        d = os.path.join(tmp, "gen%d" % n)
        rc, o, e = run("generate", "--info-dir", info, "--manifest", manifest, "--root", tree,
                       "--out", d, "--name", "x", "--version", "1", "--board", "b", "--profile", "p",
                       "--arch", "a", "--created", "0")
        docs.append([open(os.path.join(d, f), "rb").read() for f in ("image.spdx.json", "image.cdx.json")])
    t.ok(rc == 0 and docs[0] == docs[1], "two generations from the same inputs are byte-identical", e)
t.done()
