#!/usr/bin/python3
"""Bad input to the build gets a clear error and leaves nothing behind:
an unknown board, a broken .config, a missing host tool, a TEST-ONLY key
in a configuration that does not allow them (Secure Boot .auth files to
enrol among them), Secure Boot enrolment files missing or not matching the
image's signing certificate, a revocation list not signed
by an update key, a download that fails or has
the wrong hash, a corrupted file in the download cache.

Runs on the build host in temporary folders; never touches the real cache.
"""
import hashlib
import http.server
import os
import shutil
import subprocess
import sys
import tempfile
import threading

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
from tap import Tap  # noqa: E402

t = Tap()
tmp = tempfile.mkdtemp(prefix="bh-errors-")


def make(*args, env=None):
    return subprocess.run(["make", "-C", TOP, "--no-print-directory"] + list(args),
                          capture_output=True, text=True, env=env)


# Unknown board: the error lists the boards.
p = make("O=%s/o1" % tmp, "nosuchboard_defconfig")
t.ok(p.returncode != 0 and "unknown board configuration 'nosuchboard_defconfig'" in p.stderr
     and "qemu_x86_64_defconfig" in p.stderr and "qemu_aarch64_defconfig" in p.stderr,
     "unknown board: error lists the boards", p.stderr)

# Building with nothing configured says what to do.
p = make("O=%s/empty" % tmp)
t.ok(p.returncode != 0 and "nothing is configured" in p.stderr and "_defconfig" in p.stderr,
     "no configuration: error says to run a defconfig target", p.stderr)

# A broken .config: Kconfig's own message, with the file and line.
o = "%s/o2" % tmp
p = make("O=" + o, "qemu_x86_64_defconfig")
t.ok(p.returncode == 0, "a valid defconfig configures", p.stderr)
with open(o + "/.config", "a") as f:
    f.write("BH_PROFILE_DEBUG=maybe\nBH_NO_SUCH_SYMBOL=y\n")
p = make("O=" + o, "images")
t.ok(p.returncode != 0 and ".config:" in p.stderr and "BH_PROFILE_DEBUG" in p.stderr
     and "BH_NO_SUCH_SYMBOL" in p.stderr,
     "broken .config: Kconfig's error names the file, line and symbol", p.stderr)
t.ok(not os.path.exists(o + "/images"), "broken .config: nothing is built")

# A board name that names no board folder.
p = make("O=" + o, "qemu_x86_64_defconfig")
with open(o + "/.config") as f:
    text = f.read().replace('BH_BOARD_NAME="qemu-x86_64"', 'BH_BOARD_NAME="nowhere"')
with open(o + "/.config", "w") as f:
    f.write(text)
p = make("O=" + o, "images")
t.ok(p.returncode != 0 and "'nowhere'" in p.stderr and "board/" in p.stderr,
     "unknown board folder in .config: error names it", p.stderr)

# Missing host tools: the Debian package that provides each one.
p = subprocess.run(["/bin/sh", TOP + "/support/host-tools.sh", "--check"],
                   capture_output=True, text=True, env={"PATH": "/nonexistent"})
t.ok(p.returncode != 0 and "qemu-system-x86" in p.stderr and "squashfs-tools" in p.stderr
     and "gcc-aarch64-linux-gnu" in p.stderr,
     "missing host tools: error names the Debian packages", p.stderr)

# ... and a build stops before it starts, naming them: a PATH without
# mksquashfs (the build's own tools stay reachable through a folder of links).
bindir = os.path.join(tmp, "bin")
os.makedirs(bindir)
for d in os.environ["PATH"].split(":"):
    for name in os.listdir(d) if os.path.isdir(d) else ():
        if name != "mksquashfs" and not os.path.exists(os.path.join(bindir, name)):
            os.symlink(os.path.join(d, name), os.path.join(bindir, name))
p = make("O=" + o, "qemu_x86_64_defconfig")
p = make("O=" + o, "images", env=dict(os.environ, PATH=bindir))
t.ok(p.returncode != 0 and "missing Debian packages: squashfs-tools" in p.stderr
     and "make host-tools" in p.stderr and ">>>" not in p.stdout,
     "a build with a host tool missing stops before building, naming the package",
     p.stdout[-2000:] + p.stderr)

# TEST-ONLY keys (rootfs/keys.mk, support/test-keys.py): a real-hardware
# board's defconfig takes the committed keys by default and is refused
# before anything is built, with the way to make keys and where to point
# them; the refusal goes by the public key, not the file name.
KEYS = os.path.join(TOP, "board", "common", "keys")
o = "%s/pc" % tmp
p = make("O=" + o, "pc_x86_64_efi_defconfig")
p = make("O=" + o, "images")
t.ok(p.returncode != 0 and "TEST-ONLY keys" in p.stderr and "make keys DIR=" in p.stderr
     and all('%s="' % s in p.stderr for s in ("BH_TRUSTED_KEYS", "BH_UPDATE_TRUSTED_KEYS",
                                            "BH_STATE_TRUSTED_KEYS", "BH_UPDATE_SIGNING_KEY",
                                            "BH_SECURE_BOOT_KEY", "BH_SECURE_BOOT_CERT"))
     and "BH_ALLOW_TEST_KEYS=y" in p.stderr and "bulkhead-TEST-ONLY-vendor (key id fa53376e" in p.stderr,
     "pc_x86_64_efi with the committed keys: refused, saying how to make keys and which symbols "
     "to set", p.stderr)
t.ok(">>>" not in p.stdout and not os.path.exists(o + "/images") and not os.path.exists(o + "/build"),
     "... before anything is built", p.stdout[-2000:])

# A vendor's own keys (made here with openssl, as bhpack keys would), and
# one of them swapped for a renamed copy of a TEST-ONLY key.
vk = os.path.join(tmp, "vendor-keys")
os.makedirs(vk)
for n in ("workload", "update", "state"):
    subprocess.run(["openssl", "genpkey", "-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-out", os.path.join(vk, n + ".key.pem")], check=True, capture_output=True)
    subprocess.run(["openssl", "pkey", "-in", os.path.join(vk, n + ".key.pem"), "-pubout", "-out",
                    os.path.join(vk, n + ".pub.pem")], check=True, capture_output=True)
subprocess.run(["openssl", "req", "-new", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                "-subj", "/CN=test db/", "-keyout", os.path.join(vk, "db.key"), "-out",
                os.path.join(vk, "db.crt")], check=True, capture_output=True)
shutil.copy(os.path.join(KEYS, "bulkhead-TEST-ONLY-vendor.pub.pem"), os.path.join(vk, "fleet-a.pem"))
OWN = {"BH_TRUSTED_KEYS": vk + "/workload.pub.pem", "BH_WORKLOAD_SIGNING_KEY": vk + "/workload.key.pem",
       "BH_UPDATE_TRUSTED_KEYS": vk + "/update.pub.pem", "BH_UPDATE_SIGNING_KEY": vk + "/update.key.pem",
       "BH_STATE_TRUSTED_KEYS": vk + "/state.pub.pem", "BH_SECURE_BOOT_KEY": vk + "/db.key",
       "BH_SECURE_BOOT_CERT": vk + "/db.crt"}


def configure(defconfig, keys, allow):
    """A fresh O for defconfig with these key paths and BH_ALLOW_TEST_KEYS."""
    o = os.path.join(tmp, "k-%s-%s" % (defconfig, len(os.listdir(tmp))))
    make("O=" + o, defconfig)
    with open(o + "/.config") as f:
        lines = [x for x in f.read().splitlines()
                 if x.split("=")[0] not in keys and "BH_ALLOW_TEST_KEYS" not in x]
    lines += ['%s="%s"' % kv for kv in keys.items()]
    lines.append("BH_ALLOW_TEST_KEYS=y" if allow else "# BH_ALLOW_TEST_KEYS is not set")
    with open(o + "/.config", "w") as f:
        f.write("\n".join(lines) + "\n")
    return o


def base_files(o):
    """Builds only the image's base files (os-release, the trust roots)."""
    return make("O=" + o, o + "/build/parts/bulkhead-base-files/.stamp")


o = configure("pc_x86_64_efi_defconfig", OWN, False)
p = base_files(o)
os_release = open(o + "/build/parts/bulkhead-base-files/etc/os-release").read() if p.returncode == 0 else ""
t.ok(p.returncode == 0 and "TEST-ONLY" not in p.stderr and "VARIANT=" not in os_release,
     "the vendor's own keys: the build goes on, the image is not marked", p.stderr + os_release)
roots = o + "/build/parts/bulkhead-base-files/etc/bulkhead/keys"
t.ok(p.returncode == 0 and os.listdir(roots + "/workloads") == ["workload.pub.pem"]
     and os.listdir(roots + "/updates") == ["update.pub.pem"]
     and os.listdir(roots + "/state") == ["state.pub.pem"],
     "each trust root holds its own key only", p.returncode == 0 and
     [(d, os.listdir(roots + "/" + d)) for d in os.listdir(roots)])
o = configure("pc_x86_64_efi_defconfig", dict(OWN, BH_STATE_TRUSTED_KEYS=vk + "/state.pub.pem " + vk + "/fleet-a.pem"),
              False)
p = base_files(o)
t.ok(p.returncode != 0 and "BH_STATE_TRUSTED_KEYS: %s/fleet-a.pem is bulkhead-TEST-ONLY-vendor" % vk in p.stderr
     and "BH_TRUSTED_KEYS:" not in p.stderr and not os.path.exists(o + "/build/parts"),
     "a renamed copy of a TEST-ONLY key is refused by its key, naming the symbol and file", p.stderr)
o = configure("pc_x86_64_efi_defconfig", dict(OWN, BH_SECURE_BOOT_CERT=os.path.join(KEYS, "TEST-ONLY-secureboot", "db.crt")),
              False)
p = base_files(o)
t.ok(p.returncode != 0 and "BH_SECURE_BOOT_CERT:" in p.stderr and "TEST-ONLY-secureboot/db (key id" in p.stderr,
     "the TEST-ONLY Secure Boot certificate is refused too", p.stderr)

# First-boot Secure Boot enrolment (BH_SECURE_BOOT_ENROLL): the folder and
# its three .auth files must be there; a TEST-ONLY .auth file is refused by
# the certificate in it, whatever the folder is called; the db.auth must
# hold the certificate the image is signed with.
def enrolling(keys, allow, enrol_dir):
    o = configure("pc_x86_64_efi_defconfig", dict(keys, BH_SECURE_BOOT_ENROLL_DIR=enrol_dir), allow)
    with open(o + "/.config") as f:
        lines = [x for x in f.read().splitlines() if x != "# BH_SECURE_BOOT_ENROLL is not set"]
    with open(o + "/.config", "w") as f:
        f.write("\n".join(lines + ["BH_SECURE_BOOT_ENROLL=y"]) + "\n")
    return base_files(o), o


copied = os.path.join(tmp, "acme-secureboot")
shutil.copytree(os.path.join(KEYS, "TEST-ONLY-secureboot"), copied)
p, o = enrolling(OWN, False, copied)
t.ok(p.returncode != 0 and all("BH_SECURE_BOOT_ENROLL_DIR: %s/%s.auth is TEST-ONLY-secureboot/%s (key id" % (copied, k, k)
                               in p.stderr for k in ("PK", "KEK", "db"))
     and 'BH_SECURE_BOOT_ENROLL_DIR="' in p.stderr and not os.path.exists(o + "/build/parts"),
     "BH_SECURE_BOOT_ENROLL: TEST-ONLY .auth files in a folder of another name are refused by their "
     "certificates, each named", p.stderr)
p, o = enrolling(OWN, True, copied)
t.ok(p.returncode != 0 and "%s/db.auth does not hold BH_SECURE_BOOT_CERT %s/db.crt" % (copied, vk) in p.stderr
     and not os.path.exists(o + "/build/parts"),
     "BH_SECURE_BOOT_ENROLL: a db.auth without the image's signing certificate is refused, naming both",
     p.stderr)
p, o = enrolling(OWN, False, os.path.join(tmp, "no-such-folder"))
t.ok(p.returncode != 0 and "BH_SECURE_BOOT_ENROLL_DIR: the folder %s/no-such-folder does not exist" % tmp in p.stderr,
     "BH_SECURE_BOOT_ENROLL: a missing folder is named", p.stderr)
os.remove(os.path.join(copied, "KEK.auth"))
p, o = enrolling(OWN, True, copied)
t.ok(p.returncode != 0 and "BH_SECURE_BOOT_ENROLL_DIR: %s/KEK.auth does not exist" % copied in p.stderr,
     "BH_SECURE_BOOT_ENROLL: a missing KEK.auth is named", p.stderr)
p, o = enrolling(dict(OWN, BH_SECURE_BOOT_KEY=os.path.join(KEYS, "TEST-ONLY-secureboot", "db.key"),
                      BH_SECURE_BOOT_CERT=os.path.join(KEYS, "TEST-ONLY-secureboot", "db.crt")),
                 True, os.path.join(KEYS, "TEST-ONLY-secureboot"))
t.ok(p.returncode == 0 and "BH_SECURE_BOOT_ENROLL_DIR" in p.stdout,
     "BH_SECURE_BOOT_ENROLL with BH_ALLOW_TEST_KEYS=y and the matching TEST-ONLY set: the build goes on, "
     "make names the symbol among the allowed test keys", p.stdout + p.stderr)

# BH_ALLOW_TEST_KEYS=y (the QEMU boards' defconfigs) lets them through and
# marks the image.
o = os.path.join(tmp, "qemu")
make("O=" + o, "qemu_x86_64_defconfig")
p = base_files(o)
os_release = open(o + "/build/parts/bulkhead-base-files/etc/os-release").read() if p.returncode == 0 else ""
t.ok(p.returncode == 0 and 'VARIANT="TEST KEYS"\n' in os_release and "BH_ALLOW_TEST_KEYS=y" in p.stdout,
     "qemu_x86_64_defconfig allows the TEST-ONLY keys: os-release says VARIANT=\"TEST KEYS\", "
     "make says so", p.stdout + p.stderr + os_release)

# A revocation list in the image (BH_REVOKED_KEYS): one signed by an update
# key lands at /etc/bulkhead/keys/revoked.dsse; one signed by another key
# stops the build, naming the symbol and file, with no base files left.
p = make("O=" + o, "host-bhpack")
bhp = o + "/host/bin/bhpack"


def revocations(key, name):
    subprocess.run([bhp, "revoke", "--key", os.path.join(KEYS, key), "--serial", "1", "--revoke",
                    os.path.join(KEYS, "bulkhead-TEST-ONLY-vendor.pub.pem"), "-o",
                    os.path.join(tmp, name)], check=True, capture_output=True)
    return os.path.join(tmp, name)


def with_revocations(path):
    with open(o + "/.config") as f:
        lines = [x for x in f.read().splitlines() if not x.startswith("BH_REVOKED_KEYS=")]
    with open(o + "/.config", "w") as f:
        f.write("\n".join(lines + ['BH_REVOKED_KEYS="%s"' % path]) + "\n")
    return base_files(o)


good = revocations("bulkhead-TEST-ONLY-update.key.pem", "revoked-good.dsse")
p = with_revocations(good)
shipped = o + "/build/parts/bulkhead-base-files/etc/bulkhead/keys/revoked.dsse"
t.ok(p.returncode == 0 and os.path.exists(shipped) and open(shipped).read() == open(good).read(),
     "BH_REVOKED_KEYS signed by an update key is shipped as /etc/bulkhead/keys/revoked.dsse",
     p.stderr)
bad = revocations("bulkhead-TEST-ONLY-vendor.key.pem", "revoked-by-vendor.dsse")
p = with_revocations(bad)
t.ok(p.returncode != 0 and "BH_REVOKED_KEYS: %s is refused" % bad in p.stderr
     and "unknown key" in p.stderr and not os.path.exists(o + "/build/parts/bulkhead-base-files"),
     "BH_REVOKED_KEYS signed by the workload key stops the build, naming the file; no base files",
     p.stderr)
p = with_revocations(os.path.join(tmp, "no-such-list.dsse"))
t.ok(p.returncode != 0 and "BH_REVOKED_KEYS: %s does not exist" % os.path.join(tmp, "no-such-list.dsse")
     in p.stderr, "a BH_REVOKED_KEYS that does not exist is named", p.stderr)

# Downloads, against a local HTTP server and a private cache.
srv_dir = os.path.join(tmp, "srv")
os.makedirs(srv_dir)
payload = b"bulkhead test archive\n" * 100
with open(os.path.join(srv_dir, "good.tar.gz"), "wb") as f:
    f.write(payload)
good = hashlib.sha256(payload).hexdigest()
wrong = "0" * 64


class Quiet(http.server.SimpleHTTPRequestHandler):
    def __init__(self, *a, **kw):
        super().__init__(*a, directory=srv_dir, **kw)

    def log_message(self, *a):
        pass


httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Quiet)
threading.Thread(target=httpd.serve_forever, daemon=True).start()
base = "http://127.0.0.1:%d" % httpd.server_address[1]
cache = os.path.join(tmp, "cache")
dl = os.path.join(cache, "dl")


def fetch(name, digest, urls):
    hash_file = os.path.join(tmp, "pkg.hash")
    with open(hash_file, "w") as f:
        f.write("sha256  %s  %s\n" % (digest, name))
    argv = [TOP + "/support/download.py", "--package", "testpkg", "--file", name,
            "--hash-file", hash_file, "--dl-dir", dl, "--cache", cache]
    for u in urls:
        argv += ["--url", u]
    return subprocess.run(argv, capture_output=True, text=True)


p = fetch("good.tar.gz", good, ["%s/missing.tar.gz" % base, "%s/good.tar.gz" % base])
t.ok(p.returncode == 0 and open(os.path.join(dl, "good.tar.gz"), "rb").read() == payload,
     "fetch falls through a failing URL to the next one", p.stderr)

p = fetch("good.tar.gz", good, [])
t.ok(p.returncode == 0, "a warm cache needs no URL at all", p.stderr)

with open(os.path.join(dl, "good.tar.gz"), "wb") as f:
    f.write(b"corrupted")
p = fetch("good.tar.gz", good, ["%s/good.tar.gz" % base])
t.ok(p.returncode == 0 and open(os.path.join(dl, "good.tar.gz"), "rb").read() == payload,
     "a corrupted cached file is replaced", p.stderr)

shutil.rmtree(dl)
p = fetch("good.tar.gz", wrong, ["%s/good.tar.gz" % base])
t.ok(p.returncode != 0 and "testpkg" in p.stderr and base + "/good.tar.gz" in p.stderr
     and wrong in p.stderr and good in p.stderr,
     "hash mismatch: error names the package, URL and both hashes", p.stderr)
t.ok(not os.listdir(dl), "hash mismatch: nothing left in the download cache", os.listdir(dl))

p = fetch("good.tar.gz", good, ["%s/a.tar.gz" % base, "http://127.0.0.1:1/b.tar.gz"])
t.ok(p.returncode != 0 and "testpkg" in p.stderr and base + "/a.tar.gz" in p.stderr
     and "127.0.0.1:1/b.tar.gz" in p.stderr,
     "fetch failure: error names the package and every URL tried", p.stderr)
t.ok(not os.listdir(dl), "fetch failure: nothing left in the download cache", os.listdir(dl))

httpd.shutdown()
shutil.rmtree(tmp)
t.done()
