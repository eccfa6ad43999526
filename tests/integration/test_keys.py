#!/usr/bin/python3
"""A vendor's key set (bhpack keys, make keys; docs/vendor.md), on the build
host: every file is there with its mode, the README says what each is for,
each signing key signs what its trust root accepts and nothing else (a
workload key cannot sign an update, nor an update key a workload or a
state), the Secure Boot .auth files verify with the key above them, and a
second run into the same folder is refused without touching it.

Environment: BH_OUTPUT, a built O folder (O/host/bin/bhpack).
"""
import json
import os
import shutil
import stat
import struct
import subprocess
import sys
import tarfile
import tempfile
import uuid

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
from tap import Tap  # noqa: E402
import bhbin  # noqa: E402

t = Tap()
out = os.environ["BH_OUTPUT"]
bhpack = bhbin.host_programs(t, out, "bhpack")
tmp = tempfile.mkdtemp(prefix="bh-keys-")
keys = os.path.join(tmp, "vendor-keys")


def p(*x):
    return os.path.join(tmp, *x)


def k(*x):
    return os.path.join(keys, *x)


def run(*args):
    r = subprocess.run(list(args), capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


# 1. The set.
rc, o = run(bhpack, "keys", "--dir", keys, "--name", "ACME Gateways")
t.ok(rc == 0, "bhpack keys makes a key set in a new folder", o)
PRIVATE = ["workload.key.pem", "update.key.pem", "state.key.pem",
           "secureboot/PK.key", "secureboot/KEK.key", "secureboot/db.key"]
PUBLIC = ["workload.pub.pem", "update.pub.pem", "state.pub.pem", "README.md"] + \
    ["secureboot/%s.%s" % (n, e) for n in ("PK", "KEK", "db") for e in ("crt", "esl", "auth")]
found = sorted(os.path.relpath(os.path.join(d, f), keys) for d, _, fs in os.walk(keys) for f in fs)
t.ok(found == sorted(PRIVATE + PUBLIC), "the set: three signing key pairs, PK/KEK/db with .crt/.esl/.auth, "
     "a README", found)
modes = {f: stat.S_IMODE(os.stat(k(f)).st_mode) for f in found}
t.ok(all(modes[f] == 0o600 for f in PRIVATE), "every private key is 0600", modes)
t.ok(all(modes[f] == 0o644 for f in PUBLIC), "public halves and the README are 0644", modes)
t.ok(stat.S_IMODE(os.stat(keys).st_mode) == 0o700, "the folder is 0700", oct(os.stat(keys).st_mode))
t.ok(not [n for n in os.listdir(tmp) if "partial" in n], "no temporary folder is left beside it",
     os.listdir(tmp))
readme = open(k("README.md")).read()
t.ok(all(f.split("/")[-1].split(".")[0] in readme for f in PRIVATE)
     and all(s in readme for s in ("BH_TRUSTED_KEYS", "BH_UPDATE_TRUSTED_KEYS", "BH_STATE_TRUSTED_KEYS",
                                   "BH_UPDATE_SIGNING_KEY", "BH_SECURE_BOOT_KEY", "offline", "HSM",
                                   "/etc/bulkhead/keys/updates/")),
     "the README names each key, its Kconfig symbol and trust root, and says to keep them offline "
     "(HSM)", readme[:400])
rc, o = run(bhpack, "keys", "--dir", p("other-set"))
t.ok(rc == 0 and "workload: `" in o and open(k("workload.pub.pem")).read() != open(p("other-set", "workload.pub.pem")).read(),
     "a second set is another set (new keys), with its key ids printed", o)

# 2. Each signing key signs what its trust root accepts, and only that.
roots = {n: p("root", n) for n in ("workloads", "updates", "state")}
for n, f in (("workloads", "workload"), ("updates", "update"), ("state", "state")):
    os.makedirs(roots[n])
    shutil.copy(k(f + ".pub.pem"), roots[n])
os.makedirs(p("wl", "bin"))
open(p("wl", "bin", "x"), "w").write("x")
open(p("wl.json"), "w").write(json.dumps({"name": "wl", "mode": "container",
                                          "container": {"args": ["/bin/x"]}}))
for f in ("workload", "update"):
    rc, o = run(bhpack, "build", "--key", k(f + ".key.pem"), "--arch", "x86_64", "--rootfs", p("wl"),
                "--manifest", p("wl.json"), "-o", p(f + ".bundle"))
    t.ok(rc == 0, "a bundle signed with the %s key is made" % f, o)
rc, o = run(bhpack, "verify", "--keys", roots["workloads"], p("workload.bundle"))
t.ok(rc == 0 and "valid" in o, "the workload key's bundle verifies against workloads/", o)
rc, o = run(bhpack, "verify", "--keys", roots["workloads"], p("update.bundle"))
t.ok(rc == 1 and "unknown key" in o and roots["workloads"] in o,
     "a bundle signed with the update key is refused by workloads/, naming it", o)

# An update's SBOM must be SPDX: the workload bundle's will do.
with tarfile.open(p("workload.bundle")) as tf:
    open(p("sbom.json"), "wb").write(tf.extractfile("sbom.spdx.json").read())
for name, size in (("uki-a.efi", 1000), ("uki-b.efi", 1001), ("slot.img", 4096)):
    with open(p(name), "wb") as f:
        f.write(os.urandom(size))
for f in ("update", "workload"):
    rc, o = run(bhpack, "update", "--key", k(f + ".key.pem"), "--board", "b", "--arch", "x86_64",
                "--version", "2.0", "--sbom", p("sbom.json"), "--uki-a", p("uki-a.efi"),
                "--uki-b", p("uki-b.efi"), "--slot", p("slot.img"), "-o", p(f + ".bhu"))
    t.ok(rc == 0, "an update file signed with the %s key is made" % f, o)
check = ["update", "--check", None, "--keys", roots["updates"], "--board", "b", "--arch", "x86_64"]
check[2] = p("update.bhu")
rc, o = run(bhpack, *check)
t.ok(rc == 0 and "accepted" in o, "the update key's update file is accepted by updates/", o)
check[2] = p("workload.bhu")
rc, o = run(bhpack, *check)
t.ok(rc == 1 and "unknown key" in o and roots["updates"] in o,
     "an update file signed with the workload key is refused by updates/, naming it", o)

for f in ("state", "workload"):
    rc, o = run(bhpack, "state", "--key", k(f + ".key.pem"), "--group", "lab", "--serial", "1",
                "--valid-days", "30", "-o", p(f + ".state"))
    t.ok(rc == 0, "a desired state signed with the %s key is made" % f, o)
rc, o = run(bhpack, "state", "--check", p("state.state"), "--keys", roots["state"], "--group", "lab")
t.ok(rc == 0, "the state key's desired state is accepted by state/", o)
rc, o = run(bhpack, "state", "--check", p("workload.state"), "--keys", roots["state"], "--group", "lab")
t.ok(rc == 1 and "unknown" in o, "a desired state signed with the workload key is refused by state/", o)

# 3. Secure Boot: each .auth is the .esl of its certificate, signed (an
# EFI_VARIABLE_AUTHENTICATION_2 over name, GUID, attributes, time and
# list) by the level above: PK by itself, KEK by PK, db by KEK.
GLOBAL = "8be4df61-93ca-11d2-aa0d-00e098032b8c"  # EFI_GLOBAL_VARIABLE: PK, KEK
IMAGE_DB = "d719b2cb-3d3a-4596-a3bc-dad00e67656f"  # EFI_IMAGE_SECURITY_DATABASE: db


def der_len(n):
    if n < 128:
        return bytes([n])
    b = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([0x80 | len(b)]) + b


def auth_verifies(name, signer, guid):
    """openssl's verdict on name.auth signed by signer.crt."""
    d = open(k("secureboot", name + ".auth"), "rb").read()
    length = struct.unpack("<I", d[16:20])[0]
    signed_data, esl = d[40:16 + length], d[16 + length:]
    # sign-efi-sig-list writes a bare SignedData: openssl wants it in a ContentInfo.
    oid = bytes.fromhex("06092a864886f70d010702")
    inner = b"\xa0" + der_len(len(signed_data)) + signed_data
    open(p("p7.der"), "wb").write(b"\x30" + der_len(len(oid) + len(inner)) + oid + inner)
    open(p("signed.bin"), "wb").write(name.encode("utf-16-le") + uuid.UUID(guid).bytes_le
                                      + struct.pack("<I", 0x27) + d[:16] + esl)
    rc, o = run("openssl", "smime", "-verify", "-inform", "DER", "-binary", "-in", p("p7.der"),
                "-content", p("signed.bin"), "-CAfile", k("secureboot", signer + ".crt"),
                "-purpose", "any", "-out", "/dev/null")
    return rc == 0 and esl == open(k("secureboot", name + ".esl"), "rb").read(), o


for name, signer, guid in (("PK", "PK", GLOBAL), ("KEK", "PK", GLOBAL), ("db", "KEK", IMAGE_DB)):
    good, o = auth_verifies(name, signer, guid)
    t.ok(good, "%s.auth holds %s.esl, signed by %s" % (name, name, signer), o)
    cert = subprocess.run(["openssl", "x509", "-in", k("secureboot", name + ".crt"), "-outform", "DER"],
                          capture_output=True).stdout
    t.ok(cert and cert in open(k("secureboot", name + ".esl"), "rb").read(),
         "%s.esl lists %s.crt" % (name, name))
good, o = auth_verifies("db", "PK", IMAGE_DB)
t.ok(not good, "db.auth does not verify with the PK (the check can fail)", o)
rc, o = run("openssl", "x509", "-in", k("secureboot", "db.crt"), "-noout", "-subject")
t.ok(rc == 0 and "ACME Gateways Secure Boot db" in o, "the certificates carry --name", o)
open(p("blob"), "wb").write(b"a UKI, say")
rc1, o1 = run("openssl", "dgst", "-sha256", "-sign", k("secureboot", "db.key"), "-out", p("blob.sig"), p("blob"))
subprocess.run(["openssl", "x509", "-in", k("secureboot", "db.crt"), "-noout", "-pubkey", "-out",
                p("db.pub")], check=True)
rc2, o2 = run("openssl", "dgst", "-sha256", "-verify", p("db.pub"), "-signature", p("blob.sig"), p("blob"))
t.ok(rc1 == 0 and rc2 == 0, "db.key signs what db.crt verifies", o1 + o2)

# 4. Never over an existing set, nor into a folder with anything in it.
before = {f: open(k(f), "rb").read() for f in found}
rc, o = run(bhpack, "keys", "--dir", keys)
t.ok(rc == 2 and "never over keys" in o and keys in o, "a second run into the same folder is refused", o)
t.ok(before == {f: open(k(f), "rb").read() for f in found}, "... and leaves the set as it was")
os.makedirs(p("other"))
open(p("other", "notes.txt"), "w").write("x")
rc, o = run(bhpack, "keys", "--dir", p("other"))
t.ok(rc == 2 and "not empty" in o and os.listdir(p("other")) == ["notes.txt"],
     "a folder holding anything is refused and left alone", o)
os.makedirs(p("empty"))
rc, o = run(bhpack, "keys", "--dir", p("empty"))
t.ok(rc == 0 and os.path.exists(p("empty", "update.key.pem")), "an existing empty folder is used", o)

# 5. make keys DIR=... runs it, never into the source tree.
r = subprocess.run(["make", "-C", TOP, "--no-print-directory", "O=" + out, "keys",
                    "DIR=" + os.path.join(TOP, "my-keys")], capture_output=True, text=True)
t.ok(r.returncode != 0 and "inside the source tree" in r.stderr
     and not os.path.exists(os.path.join(TOP, "my-keys")),
     "make keys refuses a folder inside the source tree", r.stderr)
shutil.rmtree(tmp)
t.done()
