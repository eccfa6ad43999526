#!/usr/bin/python3
"""Bad input to the build gets a clear error and leaves nothing behind:
an unknown board, a broken .config, a missing host tool, a download that
fails or has the wrong hash, a corrupted file in the download cache.

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
