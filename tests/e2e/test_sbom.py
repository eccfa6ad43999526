#!/usr/bin/python3
"""The image's SBOM: valid SPDX 2.3 and CycloneDX 1.6 (the official schemas
in tests/schemas), the NTIA minimum elements for
every component, exactly the files that are on the built root filesystem
with their real hashes, every pinned package with its real version, static
links from the link step, the kernel's .config hash; and, booted (debug
images), `bhsbom verify` passes and `bhsbom list` shows the components.

Environment: BH_OUTPUT, the O folder of a built image.
"""
import glob
import hashlib
import json
import os
import re
import subprocess
import sys
import tempfile

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap  # noqa: E402
from qemu import Machine  # noqa: E402
import image  # noqa: E402
import schemas  # noqa: E402

t = Tap()
out = os.environ["BH_OUTPUT"]
cfg = image.config(out)
sbom_dir = os.path.join(out, "images", "sbom")
spdx = json.load(open(os.path.join(sbom_dir, "image.spdx.json")))
cdx = json.load(open(os.path.join(sbom_dir, "image.cdx.json")))
components = sorted(glob.glob(os.path.join(sbom_dir, "components", "*.spdx.json")))

# Schemas.
err = schemas.validate_spdx(spdx)
t.ok(err is None, "image.spdx.json is valid SPDX 2.3", err)
err = schemas.validate_cyclonedx(cdx)
t.ok(err is None, "image.cdx.json is valid CycloneDX 1.6", err)
bad = []
namespaces = {spdx["documentNamespace"]}
for path in components:
    doc = json.load(open(path))
    e = schemas.validate_spdx(doc)
    if e:
        bad.append("%s: %s" % (os.path.basename(path), e))
    namespaces.add(doc.get("documentNamespace"))
t.ok(not bad and len(components) >= 8, "every component document (%d) is valid SPDX 2.3" % len(components),
     "\n".join(bad))
# The schema does not enforce documentNamespace; the spec makes it mandatory
# and unique.
t.ok(None not in namespaces and len(namespaces) == len(components) + 1 and
     all(re.match(r"^https://[^\s#]+$", n) for n in namespaces),
     "every document has its own documentNamespace URI without '#'", sorted(map(str, namespaces))[:3])

pkgs = {p["SPDXID"]: p for p in spdx["packages"]}
comps = {p["name"]: p for i, p in pkgs.items() if i.startswith("SPDXRef-Package-") and i != "SPDXRef-Package-image"}
rels = [(r["spdxElementId"], r["relationshipType"], r["relatedSpdxElement"]) for r in spdx["relationships"]]

# NTIA minimum elements and the CISA 2025 additions, per component.
missing = []
for name, p in comps.items():
    purl = [r for r in p.get("externalRefs", []) if r["referenceType"] == "purl"]
    need = {"supplier": p.get("supplier"), "version": p.get("versionInfo"), "purl": purl,
            "licence": p.get("licenseConcluded") not in (None, "NOASSERTION"),
            "contained by the image": ("SPDXRef-Package-image", "CONTAINS", p["SPDXID"]) in rels,
            "hash": p.get("packageVerificationCode") or p.get("checksums") or any(
                r[0] == p["SPDXID"] and r[1] == "GENERATED_FROM" and pkgs[r[2]].get("checksums") for r in rels)
        }
    for k, v in need.items():
        if not v:
            missing.append("%s: %s" % (name, k))
ci = spdx["creationInfo"]
t.ok(not [m for m in missing if not m.endswith(": hash")],
     "every component has supplier, name, version, purl, licence and its relationship to the image",
     "\n".join(missing))
t.ok(not [m for m in missing if m.endswith(": hash")], "every component has a hash (files or source archive)",
     "\n".join(missing))
t.ok(any(c.startswith("Tool: bhsbom") for c in ci["creators"]) and
     any(c.startswith("Organization:") for c in ci["creators"]) and ci.get("created") and
     "build" in ci.get("comment", ""),
     "author, tool, timestamp and generation context are recorded", ci)
t.ok(cdx["metadata"].get("lifecycles") == [{"phase": "build"}] and cdx["metadata"].get("timestamp")
     and cdx["metadata"]["tools"]["components"][0]["name"] == "bhsbom",
     "CycloneDX: lifecycle build, timestamp, tool")
t.ok(ci["created"] == __import__("time").strftime("%Y-%m-%dT%H:%M:%SZ", __import__("time").gmtime(
    int(subprocess.run(["git", "-C", TOP, "log", "-1", "--format=%ct"], capture_output=True, text=True).stdout or 0))),
     "the timestamp is SOURCE_DATE_EPOCH (the last commit)", ci["created"])

# Every package of the build, with the version of its recipe.
want = ["musl", "busybox", "libseccomp", "mbedtls", "yyjson", "libfdt", "linux"]
names = ["%s_VERSION" % n.upper() for n in want]
versions = image.make_vars(out, *names)
for n in want:
    v = versions["%s_VERSION" % n.upper()]
    t.ok(n in comps and comps[n]["versionInfo"] == v, "package %s %s is in the SBOM" % (n, v),
         comps.get(n, {}).get("versionInfo"))
for prog in ("init", "bhsbom", "udhcpc-event"):
    t.ok(prog in comps and comps[prog]["licenseConcluded"] == "Apache-2.0",
         "our program %s is its own component" % prog)

# Static links come from the link maps: init uses libc, bhsbom mbedTLS and yyjson.
links = {(a, b) for a, r, b in rels if r == "STATIC_LINK"}
t.ok(("SPDXRef-Package-init", "SPDXRef-Package-musl") in links and
     ("SPDXRef-Package-bhsbom", "SPDXRef-Package-mbedtls") in links and
     ("SPDXRef-Package-bhsbom", "SPDXRef-Package-yyjson") in links and
     ("SPDXRef-Package-init", "SPDXRef-Package-mbedtls") not in links,
     "STATIC_LINK relationships follow what each program really linked", sorted(links))
t.ok(all((p["SPDXID"], "GENERATED_FROM") in {(a, r) for a, r, b in rels} for n, p in comps.items()
         if n in want), "each package is GENERATED_FROM its source archive")
kconf = image.make_vars(out, "LINUX_PREFIX")["LINUX_PREFIX"] + "/config"
ksha = hashlib.sha256(open(kconf, "rb").read()).hexdigest()
t.ok(ksha in comps["linux"].get("comment", ""), "the kernel records the hash of its .config", ksha)

# The files: exactly what the squashfs holds, with the right hashes.
with tempfile.TemporaryDirectory() as tmp:
    root = os.path.join(tmp, "root")
    subprocess.run(["unsquashfs", "-no-progress", "-d", root, os.path.join(out, "images", "rootfs.squashfs")],
                   capture_output=True, check=True)
    listed = {}
    for f in spdx["files"]:
        sha = [c["checksumValue"] for c in f["checksums"] if c["algorithm"] == "SHA256"][0]
        listed[f["fileName"][2:]] = (sha, f.get("comment", ""))
    on_disk = {}
    for d, dirs, files in os.walk(root):
        for name in files:
            path = os.path.join(d, name)
            rel = os.path.relpath(path, root)
            if rel.startswith("usr/share/sbom/"):
                continue
            if os.path.islink(path):
                on_disk[rel] = hashlib.sha256(os.readlink(path).encode()).hexdigest()
            else:
                on_disk[rel] = hashlib.sha256(open(path, "rb").read()).hexdigest()
    outside = {p for p, (s, c) in listed.items() if "outside the root filesystem" in c}
    t.ok(set(on_disk) == set(listed) - outside, "every file on the image is listed, every listed file exists",
         "unlisted: %s\nmissing: %s" % (sorted(set(on_disk) - set(listed)), sorted(set(listed) - outside - set(on_disk))))
    wrong = [p for p in on_disk if p in listed and listed[p][0] != on_disk[p]]
    t.ok(not wrong, "every listed file has its real SHA-256", wrong)
    t.ok(os.path.exists(os.path.join(root, "usr/share/sbom/image.spdx.json")) and
         os.path.exists(os.path.join(root, "usr/share/sbom/image.cdx.json")),
         "the SBOM is stored on the image under /usr/share/sbom")
    kimg = os.path.join(out, "images", image.kernel_name(cfg))
    t.ok(listed.get("boot/" + image.kernel_name(cfg), ("",))[0] ==
         hashlib.sha256(open(kimg, "rb").read()).hexdigest(),
         "the kernel image is listed with its hash (outside the root filesystem)")
    # Each file belongs to exactly one component.
    owners = {}
    for a, r, b in rels:
        if r == "CONTAINS" and b.startswith("SPDXRef-File-"):
            owners.setdefault(b, []).append(a)
    t.ok(len(owners) == len(spdx["files"]) and all(len(v) == 1 for v in owners.values()),
         "each file belongs to exactly one component")

if cfg["BH_PROFILE"] == "debug":
    with Machine(os.path.join(out, "images"), log_path=os.path.join(out, "e2e-sbom.log")) as m:
        m.expect(r"init: ready:", 240)
        m.send("\n")
        m.expect(r"# ", 30)
        st, o = m.shell("bhsbom verify")
        t.ok(st == 0 and re.search(r"\d+ files checked: 0 modified, 0 missing, 0 unlisted", o),
             "bhsbom verify passes on the booted image", o)
        st, o = m.shell("bhsbom list")
        t.ok(st == 0 and all(re.search(r"^%s\s" % n, o, re.M) for n in want), "bhsbom list shows every package", o)
        m.qmp("quit")
t.done()
