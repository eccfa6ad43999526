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
3. The SDK (make sdk, docs/vendor.md "The SDK"), unpacked in a folder
   with a space in its name and moved from there: no file names the
   build's folders or where it was unpacked; its gcc
   builds tests/helpers/sdk_hello.c (mbedTLS and yyjson) into a static PIE
   for the board's architecture (its readelf says so); its bhpack makes a
   second key set, packs the program as workload sdk-hello signed with the
   board's vendor key set (tests/run makes it and the image trusts it) and
   as sdk-rogue signed with the second set; `bhpack verify` takes the first and
   refuses the second; two builds of the SDK are the same bytes.
4. One boot (production profile, no shell) of a copy of disk.img through
   its firmware, provisioned (bhpack provision) for a registry the test
   runs (Debian's docker-registry on 127.0.0.1) whose group state, signed
   with the vendor's state key, names the baked bundle and sdk-hello:
   the tree's service prints the overlay file's greeting on the console;
   bhd installs the baked bundle, whose container answers on its
   forwarded port with the greeting in the bundle; bhd installs sdk-hello
   from the registry, which answers with its SHA-256 line; a state that
   adds sdk-rogue is refused, naming the rogue key, and sdk-hello still
   answers.
"""
import glob
import hashlib
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap  # noqa: E402
from qemu import Machine, Timeout  # noqa: E402
from ports import free_port  # noqa: E402
import image  # noqa: E402
import registry_servers as rs  # noqa: E402

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

# 3. The SDK.
cfg = image.config(out)
arch = cfg["BH_ARCH"]
triplet = arch + "-linux-musl"
keys = os.path.dirname(cfg.get("BH_TRUSTED_KEYS", ""))
if not all(os.path.exists(os.path.join(keys, k)) for k in ("workload.key.pem", "state.key.pem")):
    t.ok(False, "the image trusts a vendor key set of its own (tests/run makes one: BH_TRUSTED_KEYS "
         "names workload.pub.pem of a `bhpack keys` folder)", cfg.get("BH_TRUSTED_KEYS"))
    t.done()
scratch = tempfile.mkdtemp(prefix="bh-vendor-", dir=os.environ.get("BH_TESTS_OUTPUT"))
PASSWORD = "vendor test password"
ENV = dict(os.environ, BHPACK_REGISTRY_PASSWORD=PASSWORD)
HELLO_PORT = 8091
build_paths = sorted({os.path.realpath(x) for x in (
    out, TOP, os.environ.get("BULKHEAD_CACHE", os.path.expanduser("~/.cache/bulkhead")))})


def p(*x):
    return os.path.join(scratch, *x)


def run(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, timeout=600, **kw)


def make_sdk():
    r = run(["make", "-C", TOP, "O=" + out, "sdk"])
    found = glob.glob(os.path.join(images, "bulkhead-sdk-%s-%s-*.tar.gz" % (cfg["BH_BOARD_NAME"], arch)))
    return (r.returncode == 0 and len(found) == 1), found, (r.stdout + r.stderr)[-3000:]


def bundle_member(path, name):
    with tarfile.open(path) as tf:
        return json.load(tf.extractfile(name))


ok, found, log = make_sdk()
t.ok(ok, "make sdk writes O/images/bulkhead-sdk-<board>-<arch>-<version>.tar.gz", log)
if not ok:
    t.done()
tarball = found[0]
first = sha256(tarball)
ok, found, log = make_sdk()
t.ok(ok and sha256(found[0]) == first, "make sdk again gives the same bytes", log)

unpacked = p("unpacked here")
os.makedirs(unpacked)
with tarfile.open(tarball) as tf:
    tf.extractall(unpacked)
    top_names = {m.name.split("/")[0] for m in tf.getmembers()}
    owners = {(m.uid, m.gid) for m in tf.getmembers()}
    mtimes = {m.mtime for m in tf.getmembers()}
t.ok(len(top_names) == 1 and owners == {(0, 0)} and len(mtimes) == 1,
     "the tarball holds one folder, owned by 0:0, with one mtime", "%s %s %s" % (top_names, owners, mtimes))
# Used from another place than where it was unpacked: nothing in it may
# point back at the build or at the unpacking.
sdk = p("moved sdk")
os.rename(os.path.join(unpacked, top_names.pop()), sdk)
named = []
for root, _, files in os.walk(sdk):
    for n in files:
        data = open(os.path.join(root, n), "rb").read()
        named += ["%s names %s" % (os.path.relpath(os.path.join(root, n), sdk), b)
                  for b in build_paths + [unpacked] if b.encode() in data]
t.ok(not named, "no file of the SDK names the build's folders (%s) or where it was unpacked"
     % " ".join(build_paths), "\n".join(named[:20]))
readme = open(os.path.join(sdk, "README.md")).read()
t.ok(all(w in readme for w in ("bhpack keys", "bhpack build", "bhpack sign", "BH_TRUSTED_KEYS",
                                "%s-gcc" % triplet, "-lmbedcrypto", "-lyyjson", "-lseccomp")),
     "its README says how to build, link, pack, sign and install")
spdx = json.load(open(os.path.join(sdk, "sbom", "image.spdx.json")))
sdk_pkgs = {q["name"] for q in spdx["packages"]}
libc = [f for f in spdx.get("files", []) if f["fileName"] == "./sysroot/lib/libc.a"]
t.ok({"musl", "linux-headers", "mbedtls", "libseccomp", "yyjson", "bulkhead-sdk"} <= sdk_pkgs
     and libc and {"algorithm": "SHA256", "checksumValue": sha256(os.path.join(sdk, "sysroot/lib/libc.a"))}
     in libc[0]["checksums"],
     "its SBOM lists musl, the kernel headers, mbedTLS, libseccomp, yyjson and its own files, "
     "with each file's SHA-256", " ".join(sorted(sdk_pkgs)))

work = p("workload")
os.makedirs(os.path.join(work, "rootfs", "usr", "bin"))
hello_bin = os.path.join(work, "rootfs", "usr", "bin", "sdk-hello")
r = run([os.path.join(sdk, "bin", triplet + "-gcc"), "-std=c11", "-D_GNU_SOURCE", "-O2", "-Wall",
         "-Wextra", "-Werror", "-o", hello_bin, os.path.join(TOP, "tests", "helpers", "sdk_hello.c"),
         "-lmbedcrypto", "-lyyjson"], cwd=work)
t.ok(r.returncode == 0, "the SDK's %s-gcc builds a workload using mbedTLS and yyjson" % triplet,
     r.stdout + r.stderr)
# What file(1) calls "static-pie linked": a position-independent
# executable with neither an interpreter nor a shared library to load.
headers = run([os.path.join(sdk, "bin", triplet + "-readelf"), "-hldW", hello_bin]).stdout
machine = {"x86_64": "Advanced Micro Devices X86-64", "aarch64": "AArch64"}[arch]
t.ok(re.search(r"Type:\s+DYN \(Position-Independent Executable", headers)
     and re.search(r"Machine:\s+%s\n" % machine, headers) and re.search(r"\(FLAGS_1\).*\bPIE\b", headers)
     and "INTERP" not in headers and "(NEEDED)" not in headers,
     "it is a static PIE for %s: no interpreter, no shared library" % arch, headers[:3000])

bhpack = os.path.join(sdk, "bin", "bhpack")
rogue_keys = p("rogue-keys")
r = run([bhpack, "keys", "--dir", rogue_keys, "--name", "rogue"])
t.ok(r.returncode == 0 and os.path.exists(os.path.join(rogue_keys, "workload.key.pem")),
     "the SDK's bhpack keys makes a second key set, which the image does not trust", r.stderr)


def pack(name, port, key):
    with open(p(name + ".json"), "w") as f:
        json.dump({"name": name, "version": "1.0", "mode": "container",
                   "container": {"args": ["/usr/bin/sdk-hello", name, str(port)]},
                   "resources": {"memory": "16M", "pids": 8},
                   "restart": {"policy": "always", "max_restarts": 0, "delay_ms": 500},
                   "network": {"mode": "isolated", "ports": [{"host": port, "workload": port}]}}, f)
    return run([bhpack, "build", "--manifest", p(name + ".json"), "--rootfs", os.path.join(work, "rootfs"),
                "--key", key, "-o", p(name + ".bundle")])


r = pack("sdk-hello", HELLO_PORT, os.path.join(keys, "workload.key.pem"))
packed = t.ok(r.returncode == 0, "the SDK's bhpack packs it as sdk-hello, signed with the vendor's "
              "workload key", r.stderr)
r = pack("sdk-rogue", 8092, os.path.join(rogue_keys, "workload.key.pem"))
packed = t.ok(r.returncode == 0, "and as sdk-rogue, signed with the second set's workload key",
              r.stderr) and packed
if not packed:
    t.done()
rogue_id = bundle_member(p("sdk-rogue.bundle"), "bundle.json")["key_id"]
trusted = p("trusted")
os.makedirs(trusted)
shutil.copy(os.path.join(keys, "workload.pub.pem"), trusted)
good = run([bhpack, "verify", "--keys", trusted, p("sdk-hello.bundle")])
bad = run([bhpack, "verify", "--keys", trusted, p("sdk-rogue.bundle")])
t.ok(good.returncode == 0 and bad.returncode != 0 and rogue_id in bad.stderr,
     "bhpack verify against the vendor's workload key takes sdk-hello and refuses sdk-rogue, "
     "naming its key", good.stderr + bad.stderr)

# The registry, its state for the group, and a disk provisioned for it.
pki = rs.Pki(p("pki"), server_san="DNS:localhost,IP:127.0.0.1,IP:10.0.2.2")
reg = rs.Registry(p("reg"), pki, users={"gw": PASSWORD})


def bh(*args):
    r = run([bhpack] + list(args), env=ENV)
    if r.returncode != 0:
        raise RuntimeError("bhpack %s: %s" % (args[0], r.stderr.strip()))
    return r.stdout.strip()


def push(path, tag):
    return bh("push", "--ca", pki.ca, "--user", "gw", path, "%s/fleet:%s" % (reg.host, tag))


def publish(serial, workloads):
    args = ["state", "--key", os.path.join(keys, "state.key.pem"), "--group", "lab",
            "--serial", str(serial), "--valid-days", "2", "--poll-interval", "10",
            "-o", p("state-%d" % serial)]
    for name, digest in workloads:
        args += ["--workload", "%s=1.0@%s" % (name, digest)]
    bh(*args)
    bh("push", "--ca", pki.ca, "--user", "gw", "--state", p("state-%d" % serial),
       "%s/fleet:group-lab" % reg.host)


m = None
try:
    web = push(os.path.join(out, "build", "workloads", "acme-web.bundle"), "acme-web")
    hello = push(p("sdk-hello.bundle"), "sdk-hello")
    rogue = push(p("sdk-rogue.bundle"), "sdk-rogue")
    publish(1, [("acme-web", web), ("sdk-hello", hello)])
    disk = p("disk.img")
    subprocess.run(["cp", "--sparse=always", os.path.join(images, "disk.img"), disk], check=True)
    with open(p("password"), "w") as f:
        f.write(PASSWORD + "\n")
    bh("provision", "--disk", disk, "--registry", "10.0.2.2:%d" % reg.port, "--repository", "fleet",
       "--group", "lab", "--ca", pki.ca, "--user", "gw", "--password-file", p("password"),
       "--poll-interval", "10")
    t.ok(True, "the SDK's bhpack pushed the bundles and state 1 (the baked bundle and sdk-hello, "
         "signed with the vendor's state key) and provisioned a copy of disk.img")
except Exception as e:  # the diagnostics are the point
    t.ok(False, "the SDK's bhpack pushed the bundles and state 1 and provisioned a copy of disk.img",
         str(e))
    reg.stop()
    t.done()

# 4. One boot.
greeting = open(hello_conf).read().splitlines()[0]
web_greeting = open(web_txt).read().splitlines()[0]
port, hello_port = free_port(), free_port()
env = dict(os.environ, BULKHEAD_DISK=disk, BULKHEAD_HOSTFWD="tcp:127.0.0.1:%d-:8090,tcp:127.0.0.1:%d-:%d"
           % (port, hello_port, HELLO_PORT))
hello_line = json.dumps({"name": "sdk-hello", "sha256": hashlib.sha256(b"sdk-hello").hexdigest()},
                        separators=(",", ":"))


def answer(port, timeout):
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


try:
    m = Machine(images, env=env, log_path=os.path.join(out, "e2e-vendor.log"), script="start-qemu.sh")
    t.run("the tree's service prints its overlay file's greeting on the console",
          m.expect, r"acme-hello: acme-hello: " + re.escape(greeting), 420)
    t.run("init gets ready with the tree's service among its services", m.expect, r"init: ready", 300, 0)
    t.run("bhd installs the tree's baked bundle on first boot", m.expect, r"bhd: installed acme-web", 240, 0)
    t.run("its container answers on the forwarded port with the bundle's greeting",
          lambda: answer(port, 180).strip() == web_greeting)
    t.run("bhd installs the SDK's workload from the registry (signed with the vendor's key)",
          m.expect, r"bhd: fleet: workload sdk-hello 1\.0 installed", 300, 0)
    t.run("state 1 is applied", m.expect, r"bhd: fleet: state serial 1 applied", 120, 0)
    t.run("the SDK's workload answers with its SHA-256 line (mbedTLS, yyjson)",
          lambda: answer(hello_port, 120).strip() == hello_line)
    publish(2, [("acme-web", web), ("sdk-hello", hello), ("sdk-rogue", rogue)])
    t.run("state 2 adds sdk-rogue, signed by a key the image does not trust: refused, naming the key",
          m.expect, r"bhd: fleet: poll failed: workload sdk-rogue: .*signed by an unknown key: %s "
          r"is not among the trusted keys" % rogue_id, 180)
    t.run("the SDK's workload still answers after the refusal",
          lambda: answer(hello_port, 60).strip() == hello_line)
    m.qmp("system_powerdown")
    t.run("the vendor image powers off cleanly", lambda: m.wait_exit(120) == 0)
finally:
    if m:
        m.kill()
    reg.stop()
shutil.rmtree(scratch, ignore_errors=True)
t.done()
