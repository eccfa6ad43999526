#!/usr/bin/python3
"""The example vendor tree (examples/vendor-acme, docs/vendor.md) built
with BH_EXTERNAL: what it adds is in the image, its manifest and its SBOM,
and one boot shows it working.

tests/run runs it (and every tests/e2e/vendor_* test) against each board
configuration of the example trees, and only there: BH_OUTPUT is such an O.

1. The image's manifest has each addition, in its own component: the
   Debian package (lz4), the tree's program (acme-hello), its overlay file
   and service file (acme-files), the baked bundle (acme-web-bundle); the
   overlay file is byte for byte the tree's.
2. The SBOM (SPDX 2.3 and CycloneDX 1.6, O/images/sbom/) lists the package
   with its licence, the SHA-256 of its pinned source (its .hash file) and
   the SHA-256 of its installed file (the manifest's); the tree's program
   with the supplier and licence of the tree's descriptor.
3. One boot (production profile, no shell): the tree's service runs and
   prints the overlay file's greeting on the console, and bhd installs the
   baked bundle, whose container answers on its forwarded port with the
   greeting in the bundle.
"""
import hashlib
import json
import os
import re
import socket
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap  # noqa: E402
from qemu import Machine, Timeout  # noqa: E402
from ports import free_port  # noqa: E402

t = Tap()
out = os.environ["BH_OUTPUT"]
images = os.path.join(out, "images")
with open(os.path.join(out, ".bh-external.mk")) as f:
    ext = dict(l.rstrip("\n").split(" := ", 1) for l in f if " := " in l)
tree = ext.get("BH_EXTERNAL_ACME_PATH")
if not tree:
    t.ok(False, "%s was built with the ACME example tree (BH_EXTERNAL)" % out, str(ext))
    t.done()
hello_conf = os.path.join(tree, "rootfs", "overlay", "etc", "acme", "hello.conf")
web_txt = os.path.join(tree, "rootfs", "workloads", "acme-web", "rootfs", "etc", "acme", "web.txt")
lz4_hash = os.path.join(tree, "firmware", "packages", "lz4", "lz4.hash")


def sha256(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


# 1. The manifest: path -> (component, type, mode, size, sha256).
manifest = {}
with open(os.path.join(images, "rootfs.manifest")) as f:
    for line in f:
        w = line.rstrip("\n").split("\t")
        manifest[w[0].lstrip("./").lstrip("/")] = w[1:]


def installed(path, component):
    e = manifest.get(path)
    return e is not None and e[0] == component


for path, component in (("usr/bin/lz4", "lz4"), ("usr/bin/acme-hello", "acme-hello"),
                        ("etc/acme/hello.conf", "acme-files"),
                        ("etc/bulkhead/services.d/acme-hello.service", "acme-files"),
                        ("usr/share/bulkhead/workloads/acme-web.bundle", "acme-web-bundle")):
    t.ok(installed(path, component), "/%s is on the image, in component %s" % (path, component),
         str(manifest.get(path)))
t.ok(manifest.get("etc/acme/hello.conf", [""] * 5)[4] == sha256(hello_conf),
     "the overlay file is the tree's, byte for byte", str(manifest.get("etc/acme/hello.conf")))

# 2. The SBOM.
spdx = json.load(open(os.path.join(images, "sbom", "image.spdx.json")))
cdx = json.load(open(os.path.join(images, "sbom", "image.cdx.json")))
want_source = next(l.split()[1] for l in open(lz4_hash) if l.startswith("sha256") and "orig.tar" in l)
want_file = manifest.get("usr/bin/lz4", [""] * 5)[4]
LICENSE = "BSD-2-Clause AND GPL-2.0-or-later"

pkg = {p["name"]: p for p in spdx["packages"]}
lz4 = pkg.get("lz4", {})
src = pkg.get("lz4-source", {})
rels = spdx["relationships"]
files = {f["SPDXID"]: f for f in spdx.get("files", [])}
lz4_files = [files[r["relatedSpdxElement"]] for r in rels
             if r["spdxElementId"] == lz4.get("SPDXID") and r["relationshipType"] == "CONTAINS"
             and r["relatedSpdxElement"] in files]
t.ok(lz4.get("versionInfo") == "1.10.0" and lz4.get("licenseDeclared") == LICENSE
     and lz4.get("licenseConcluded") == LICENSE,
     "SPDX: the vendor package lz4 1.10.0 with its licence", json.dumps(lz4)[:600])
t.ok({"algorithm": "SHA256", "checksumValue": want_source} in src.get("checksums", [])
     and {"spdxElementId": lz4.get("SPDXID"), "relationshipType": "GENERATED_FROM",
          "relatedSpdxElement": src.get("SPDXID")} in rels,
     "SPDX: generated from its pinned source, with the source's SHA-256 of its .hash file",
     json.dumps(src)[:600])
t.ok([f["fileName"] for f in lz4_files] == ["./usr/bin/lz4"]
     and {"algorithm": "SHA256", "checksumValue": want_file} in lz4_files[0]["checksums"],
     "SPDX: it contains /usr/bin/lz4 with the SHA-256 of the installed file", json.dumps(lz4_files)[:600])

comp = {c["name"]: c for c in cdx["components"]}
c = comp.get("lz4", {})
hashes = [h for r in c.get("externalReferences", []) for h in r.get("hashes", [])]
t.ok(c.get("version") == "1.10.0" and c.get("licenses") == [{"expression": LICENSE}]
     and {"alg": "SHA-256", "content": want_source} in hashes
     and [(f["name"], f["hashes"]) for f in c.get("components", [])] ==
     [("/usr/bin/lz4", [{"alg": "SHA-256", "content": want_file}])],
     "CycloneDX: lz4 with its licence, its source's SHA-256 and its file's", json.dumps(c)[:800])
hello = pkg.get("acme-hello", {})
t.ok(hello.get("supplier") == "Organization: ACME Gateways (example)"
     and hello.get("licenseDeclared") == "Apache-2.0"
     and comp.get("acme-hello", {}).get("supplier", {}).get("name") == "ACME Gateways (example)",
     "SPDX and CycloneDX: the tree's program has the supplier and licence of its descriptor",
     json.dumps(hello)[:600])
t.ok(all(n in pkg and n in comp for n in ("acme-files", "acme-web-bundle")),
     "SPDX and CycloneDX: the tree's files and its baked bundle are components",
     " ".join(sorted(pkg)))

# 3. One boot.
greeting = open(hello_conf).read().splitlines()[0]
web_greeting = open(web_txt).read().splitlines()[0]
port = free_port()
tmp = tempfile.mkdtemp(prefix="bh-vendor-")
env = dict(os.environ, BULKHEAD_DATA=os.path.join(tmp, "data.img"),
           BULKHEAD_HOSTFWD="tcp:127.0.0.1:%d-:8090" % port)


def answer(timeout):
    deadline, last = time.monotonic() + timeout, None
    while time.monotonic() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
                data = s.recv(4096).decode(errors="replace")
                if data:
                    return data
        except OSError as e:  # not up yet
            last = e
        time.sleep(2)
    raise Timeout("nothing on port %d within %ds: %s" % (port, timeout, last))


with Machine(images, env=env, log_path=os.path.join(out, "e2e-vendor.log")) as m:
    t.run("the tree's service prints its overlay file's greeting on the console",
          m.expect, r"acme-hello: acme-hello: " + re.escape(greeting), 300)
    t.run("init gets ready with the tree's service among its services", m.expect, r"init: ready", 300, 0)
    t.run("bhd installs the tree's baked bundle on first boot", m.expect, r"bhd: installed acme-web", 240, 0)
    t.run("its container answers on the forwarded port with the bundle's greeting",
          lambda: answer(180).strip() == web_greeting)
    m.qmp("system_powerdown")
    t.run("the vendor image powers off cleanly", lambda: m.wait_exit(120) == 0)
t.done()
