#!/usr/bin/python3
"""bhpack on the build host: keys, bundles from a folder, from an OCI image
layout (layers with whiteouts) and from a `docker save` archive; and every
refusal the device makes, with its reason: a flipped byte, an unknown key,
no signature, no SBOM, an SBOM that does not match, a bad manifest.

Environment: BH_OUTPUT, a built O folder (for O/host/bin/bhpack);
BH_SANITIZED_BIN, a sanitizer build instead (tests/lib/bhbin.py).
"""
import gzip
import hashlib
import io
import json
import os
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
bhpack = bhbin.program("bhpack", lambda: os.path.join(os.environ["BH_OUTPUT"], "host", "bin", "bhpack"))
if not bhpack:
    t.skip("bhpack", bhbin.missing_reason("bhpack"))
    t.done()
tmp = tempfile.mkdtemp(prefix="bh-pack-")


def run(*args):
    p = subprocess.run([bhpack] + list(args), capture_output=True, text=True, cwd=tmp)
    return p.returncode, p.stdout, p.stderr


def path(*p):
    return os.path.join(tmp, *p)


def write(p, text, mode=0o644):
    os.makedirs(os.path.dirname(path(p)), exist_ok=True)
    with open(path(p), "w") as f:
        f.write(text)
    os.chmod(path(p), mode)


def members(bundle):
    with tarfile.open(bundle) as tf:
        return [m.name for m in tf.getmembers()]


os.makedirs(path("keys"))
rc, o, e = run("keygen", "--private", "vendor.pem", "--public", "keys/vendor.pub.pem")
t.ok(rc == 0 and "key id" in o and oct(os.stat(path("vendor.pem")).st_mode & 0o777) == "0o600",
     "keygen writes a key pair, the private key 0600", e)
rc, o, e = run("keygen", "--private", "vendor.pem", "--public", "x.pem")
t.ok(rc == 2 and "vendor.pem" in e, "keygen never overwrites a key", e)
run("keygen", "--private", "other.pem", "--public", "other.pub.pem")

manifest = {"name": "web", "version": "1.0", "mode": "container",
            "container": {"args": ["/usr/bin/app"]},
            "network": {"mode": "isolated", "ports": [{"host": 8080, "workload": 8080}]}}
write("web.json", json.dumps(manifest))
write("root/usr/bin/app", "#!/nothing\n", 0o755)
write("root/etc/motd", "hello\n")
os.symlink("app", path("root/usr/bin/app-link"))

rc, o, e = run("build", "--manifest", "web.json", "--rootfs", "root", "--key", "vendor.pem",
               "--created", "0", "-o", "web.bundle")
t.ok(rc == 0 and members(path("web.bundle")) ==
     ["bundle.json", "bundle.sig", "manifest.json", "sbom.spdx.json", "rootfs.tar"],
     "build: index, signature, manifest, SBOM, root filesystem, in that order", e)
rc, o, e = run("verify", "--keys", "keys", "web.bundle")
t.ok(rc == 0, "verify: signed by a trusted key and the SBOM matches", o + e)
with tarfile.open(path("web.bundle")) as tf:
    sbom = json.load(tf.extractfile("sbom.spdx.json"))
    inner = tarfile.open(fileobj=io.BytesIO(tf.extractfile("rootfs.tar").read()))
    names = sorted(m.name for m in inner.getmembers())
    owners = {(m.uid, m.gid) for m in inner.getmembers()}
files = sorted(f["fileName"] for f in sbom["files"])
t.ok(files == ["./rootfs/etc/motd", "./rootfs/usr/bin/app", "./rootfs/usr/bin/app-link"],
     "the generated SBOM lists every file under the workload's folder", files)
t.ok(owners == {(0, 0)} and "usr/bin/app-link" in names, "the root filesystem tar is owned by 0:0", owners)
rc, o, e = run("build", "--manifest", "web.json", "--rootfs", "root", "--key", "vendor.pem",
               "--created", "0", "-o", "web2.bundle")
t.ok(open(path("web.bundle"), "rb").read() == open(path("web2.bundle"), "rb").read(),
     "the same inputs give a byte-identical bundle (deterministic ECDSA)")
rc, o, e = run("inspect", "web.bundle")
t.ok(rc == 0 and "bundle web" in o and "rootfs.tar" in o and "3 files" in o, "inspect shows the bundle", o + e)

# Refusals.
data = bytearray(open(path("web.bundle"), "rb").read())
pos = data.find(b"hello\n")
data[pos] ^= 0x20
open(path("flipped.bundle"), "wb").write(data)
rc, o, e = run("verify", "--keys", "keys", "flipped.bundle")
t.ok(rc == 1 and "rootfs.tar does not match its signed hash" in e, "a flipped byte is refused", e)
rc, o, e = run("sign", "--key", "other.pem", "web.bundle", "-o", "other.bundle")
rc, o, e = run("verify", "--keys", "keys", "other.bundle")
t.ok(rc == 1 and "unknown key" in e, "a bundle signed by an unknown key is refused", e)
rc, o, e = run("build", "--manifest", "web.json", "--rootfs", "root", "-o", "unsigned.bundle")
t.ok(rc == 0 and "unsigned" in o, "build without a key makes an unsigned bundle", o + e)
rc, o, e = run("verify", "--keys", "keys", "unsigned.bundle")
t.ok(rc == 1 and "not signed" in e, "an unsigned bundle is refused", e)
rc, o, e = run("sign", "--key", "vendor.pem", "unsigned.bundle", "-o", "signed-later.bundle")
rc2, o2, e2 = run("verify", "--keys", "keys", "signed-later.bundle")
t.ok(rc == 0 and rc2 == 0, "sign adds the signature", e + e2)
# A bundle without an SBOM, properly signed: rebuild it without the member.
with tarfile.open(path("web.bundle")) as tf, tarfile.open(path("nosbom.tar"), "w", format=tarfile.USTAR_FORMAT) as out:
    for m in tf.getmembers():
        if m.name != "sbom.spdx.json":
            out.addfile(m, tf.extractfile(m))
rc, o, e = run("sign", "--key", "vendor.pem", "nosbom.tar", "-o", "nosbom.bundle")
rc, o, e = run("verify", "--keys", "keys", "nosbom.bundle")
t.ok(rc == 1 and "has no SBOM" in e, "a signed bundle without an SBOM is refused", e)
write("lying.spdx.json", json.dumps({"spdxVersion": "SPDX-2.3", "name": "web", "dataLicense": "CC0-1.0",
                                     "SPDXID": "SPDXRef-DOCUMENT", "documentNamespace": "https://x/y",
                                     "creationInfo": {"created": "2026-01-01T00:00:00Z", "creators": ["Tool: x"]},
                                     "packages": [], "files": []}))
rc, o, e = run("build", "--manifest", "web.json", "--rootfs", "root", "--sbom", "lying.spdx.json",
               "--key", "vendor.pem", "-o", "lying.bundle")
rc2, o2, e2 = run("verify", "--keys", "keys", "lying.bundle")
t.ok(rc == 0 and rc2 == 1 and "SBOM does not describe its contents" in e2 and "3 unlisted" in e2,
     "a bundle whose SBOM hides files is refused", e + e2)
write("bad.json", json.dumps(dict(manifest, restart={"policy": "sometimes"})))
rc, o, e = run("build", "--manifest", "bad.json", "--rootfs", "root", "-o", "bad.bundle")
t.ok(rc == 2 and "bad.json: $.restart.policy 'sometimes'" in e and not os.path.exists(path("bad.bundle")),
     "a bad manifest stops build with its JSON path, nothing written", e)
rc, o, e = run("verify", "--keys", "keys", "web.json")
t.ok(rc == 1 and "not a bundle" in e, "a file that is not a bundle is refused", e)


def layer(files, whiteouts=()):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as tf:
        for name, content in files.items():
            if content is None:
                ti = tarfile.TarInfo(name)
                ti.type = tarfile.DIRTYPE
                ti.mode = 0o755
                tf.addfile(ti)
            else:
                ti = tarfile.TarInfo(name)
                ti.size = len(content)
                ti.mode = 0o644
                tf.addfile(ti, io.BytesIO(content))
        for w in whiteouts:
            tf.addfile(tarfile.TarInfo(w), io.BytesIO(b""))
    return buf.getvalue()


l1 = layer({"etc": None, "etc/keep": b"keep\n", "etc/gone": b"gone\n", "opt": None, "opt/old": b"old\n"})
l2 = layer({"etc/new": b"new\n", "opt": None}, whiteouts=["etc/.wh.gone", "opt/.wh..wh..opq"])
blobs = os.path.join(tmp, "oci", "blobs", "sha256")
os.makedirs(blobs)


def blob(data):
    digest = hashlib.sha256(data).hexdigest()
    open(os.path.join(blobs, digest), "wb").write(data)
    return {"digest": "sha256:" + digest, "size": len(data)}


layers = [dict(blob(gzip.compress(l1, mtime=0)), mediaType="application/vnd.oci.image.layer.v1.tar+gzip"),
          dict(blob(l2), mediaType="application/vnd.oci.image.layer.v1.tar")]
config = dict(blob(b'{"architecture":"amd64","os":"linux"}'), mediaType="application/vnd.oci.image.config.v1+json")
man = blob(json.dumps({"schemaVersion": 2, "config": config, "layers": layers}).encode())
open(os.path.join(tmp, "oci", "index.json"), "w").write(json.dumps(
    {"schemaVersion": 2, "manifests": [dict(man, mediaType="application/vnd.oci.image.manifest.v1+json")]}))
open(os.path.join(tmp, "oci", "oci-layout"), "w").write('{"imageLayoutVersion":"1.0.0"}')
rc, o, e = run("build", "--manifest", "web.json", "--oci", "oci", "--key", "vendor.pem", "-o", "oci.bundle")


def rootfs_names(bundle):
    with tarfile.open(path(bundle)) as tf:
        inner = tarfile.open(fileobj=io.BytesIO(tf.extractfile("rootfs.tar").read()))
        return sorted(m.name for m in inner.getmembers() if m.isfile())


t.ok(rc == 0 and rootfs_names("oci.bundle") == ["etc/keep", "etc/new"],
     "OCI layout: layers applied in order, .wh. and opaque whiteouts honoured", e + str(rc == 0 and rootfs_names("oci.bundle")))
with tarfile.open(path("image.oci.tar"), "w") as tf:
    tf.add(path("oci"), arcname=".")
rc, o, e = run("build", "--manifest", "web.json", "--oci", "image.oci.tar", "--key", "vendor.pem", "-o", "ocia.bundle")
t.ok(rc == 0 and rootfs_names("ocia.bundle") == ["etc/keep", "etc/new"], "OCI archive (podman save --format oci-archive)", e)
with tarfile.open(path("docker.tar"), "w") as tf:
    for name, data in (("l1/layer.tar", l1), ("l2/layer.tar", l2),
                       ("manifest.json", json.dumps([{"Config": "c.json", "Layers": ["l1/layer.tar", "l2/layer.tar"]}]).encode())):
        ti = tarfile.TarInfo(name)
        ti.size = len(data)
        tf.addfile(ti, io.BytesIO(data))
rc, o, e = run("build", "--manifest", "web.json", "--oci", "docker.tar", "--key", "vendor.pem", "-o", "docker.bundle")
t.ok(rc == 0 and rootfs_names("docker.bundle") == ["etc/keep", "etc/new"], "docker save archive", e)
data = bytearray(open(os.path.join(blobs, layers[1]["digest"][7:]), "rb").read())
data[600] ^= 1
open(os.path.join(blobs, layers[1]["digest"][7:]), "wb").write(data)
rc, o, e = run("build", "--manifest", "web.json", "--oci", "oci", "--key", "vendor.pem", "-o", "tampered.bundle")
t.ok(rc == 2 and "its manifest says" in e and not os.path.exists(path("tampered.bundle")),
     "a layer that does not match its digest is refused", e)

shutil.rmtree(tmp)
t.done()
