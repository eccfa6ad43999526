#!/usr/bin/python3
"""External trees (BH_EXTERNAL, docs/vendor.md) at the level of
list-defconfigs, <board>_defconfig and printvars, without building
anything: what a tree adds is seen, BH_EXTERNAL is remembered in O and
forgotten with BH_EXTERNAL=, and every clash (with our boards, board
configurations, packages, programs, services, or another tree's) and every
bad descriptor is an error that names both places (or the file), leaving
the remembered value as it was. An overlay's setuid file reaches
assemble.py, which refuses it.

Runs on the build host in temporary folders.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
from tap import Tap  # noqa: E402

t = Tap()
tmp = tempfile.mkdtemp(prefix="bh-external-")
env = {k: v for k, v in os.environ.items()
       if k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES", "BH_EXTERNAL")}


def make(*args):
    return subprocess.run(["make", "-C", TOP, "--no-print-directory"] + list(args),
                          capture_output=True, text=True, env=env)


def write(path, text, mode=0o644):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def tree(name, desc=None, board=None, package=None, program=None, service=None,
         fragment=False, overlay=None):
    """An external tree under tmp; returns its path."""
    path = os.path.join(tmp, name)
    if desc is not None:
        write(os.path.join(path, "external.desc"), desc)
    if board:
        b, defconfig = board
        write(os.path.join(path, "board", b, defconfig),
              "# %s test board\nBH_ARCH_X86_64=y\nBH_BOARD_NAME=\"%s\"\nBH_ALLOW_TEST_KEYS=y\n%s"
              % (name, b, "BH_PACKAGE_%s=y\n" % package.upper().replace("-", "_") if package else ""))
        write(os.path.join(path, "board", b, "cmdline"), "\n")
        if fragment:
            write(os.path.join(path, "board", b, "linux.fragment"), "CONFIG_CRC32=y\n")
    if package:
        d = os.path.join(path, "firmware", "packages", package)
        sym = package.upper().replace("-", "_")
        write(os.path.join(d, package + ".mk"),
              "%s_VERSION = 1.0\n%s_SOURCE = %s-1.0.tar.gz\n%s_LICENSE = MIT\n"
              "%s_DEPENDENCIES = musl\n$(eval $(call package,%s))\n"
              % (sym, sym, package, sym, sym, package))
        write(os.path.join(d, "Config.in"), "config BH_PACKAGE_%s\n\tbool \"%s\"\n" % (sym, package))
        write(os.path.join(d, package + ".hash"), "# none: never fetched here\n")
    if program:
        write(os.path.join(path, "firmware", program, program + ".mk"),
              "%s_SOURCES = main.c\n%s_INSTALL = usr/bin/%s\n$(eval $(call program,%s))\n"
              % (program.upper().replace("-", "_"), program.upper().replace("-", "_"), program, program))
    if service:
        write(os.path.join(path, "rootfs", "services.d", service), "exec = /bin/true\n")
    for rel, mode in (overlay or {}).items():
        write(os.path.join(path, "rootfs", "overlay", rel), "overlay\n", mode)
    return path


def remembered(o):
    try:
        with open(os.path.join(o, ".bh-external.mk")) as f:
            return [l.split(" := ", 1)[1].strip() for l in f if l.startswith("BH_EXTERNAL := ")][0]
    except FileNotFoundError:
        return None


def printvars(o, *names):
    p = make("-s", "O=" + o, "printvars", "VARS=" + " ".join(names))
    return p, dict(l.split("=", 1) for l in p.stdout.splitlines() if "=" in l)


# 1. A tree with a board (and its kernel fragment) and a package.
foo = tree("foo", "name: FOO\ndesc: the FOO test tree\n", board=("foo-board", "foo_board_defconfig"),
           package="foopkg", program="fooprog", service="foo.service", fragment=True,
           overlay={"etc/foo/foo.conf": 0o644})
o1 = os.path.join(tmp, "o1")
p = make("O=" + o1, "BH_EXTERNAL=" + foo, "list-defconfigs")
t.ok(p.returncode == 0 and "External tree FOO (%s):" % foo in p.stdout
     and "foo_board_defconfig" in p.stdout.split("External tree FOO")[1]
     and "qemu_x86_64_defconfig" in p.stdout.split("External tree FOO")[0],
     "list-defconfigs: ours, then the tree's boards under its name and path", p.stdout + p.stderr)
t.ok(remembered(o1) == foo, "BH_EXTERNAL is remembered in O/.bh-external.mk", remembered(o1))

p = make("O=" + o1, "list-defconfigs")
t.ok(p.returncode == 0 and "foo_board_defconfig" in p.stdout,
     "a later make on O without BH_EXTERNAL uses the remembered value", p.stdout + p.stderr)

p = make("O=" + o1, "foo_board_defconfig")
config = open(os.path.join(o1, ".config")).read() if os.path.exists(os.path.join(o1, ".config")) else ""
t.ok(p.returncode == 0 and 'BH_BOARD_NAME="foo-board"' in config and "BH_PACKAGE_FOOPKG=y" in config,
     "the tree's defconfig configures O, with its package's Kconfig symbol", p.stderr + config[-400:])
with open(os.path.join(o1, ".bh-external.in")) as f:
    kconfig = f.read()
t.ok('menu "External options"' in kconfig and 'menu "FOO: the FOO test tree"' in kconfig
     and os.path.join(foo, "firmware/packages/foopkg/Config.in") in kconfig,
     "Kconfig: a menu per tree under External options, sourcing its packages", kconfig)

p, v = printvars(o1, "BOARD_DIR", "PACKAGES", "FOOPKG_PKGDIR", "PROGRAMS", "FOOPROG_DIR",
                 "FOOPROG_EXTERNAL", "LINUX_FRAGMENTS", "LINUX_KEY", "ROOTFS_PARTS", "SBOM_INFO_FILES")
t.ok(v.get("BOARD_DIR") == os.path.join(foo, "board", "foo-board"), "the board folder is the tree's",
     p.stdout + p.stderr)
t.ok("foopkg" in v.get("PACKAGES", "").split() and v.get("FOOPKG_PKGDIR") ==
     os.path.join(foo, "firmware", "packages", "foopkg")
     and v.get("SBOM_INFO_FILES", "").endswith("") and "/foopkg.info" in v.get("SBOM_INFO_FILES", ""),
     "the tree's selected package is built, from its folder, and is in the SBOM inputs", p.stdout)
t.ok("fooprog" in v.get("PROGRAMS", "").split() and v.get("FOOPROG_EXTERNAL") == "FOO"
     and v.get("FOOPROG_DIR") == os.path.join(foo, "firmware", "fooprog"),
     "the tree's program is one of the image's programs, marked as the tree's", p.stdout)
t.ok("foo-files=" in v.get("ROOTFS_PARTS", "") and "/foo-files.info" in v.get("SBOM_INFO_FILES", ""),
     "the tree's overlay and services are a component of the image and of the SBOM", p.stdout)
t.ok(v.get("LINUX_FRAGMENTS", "").split()[-1:] == [os.path.join(foo, "board/foo-board/linux.fragment")],
     "the board's linux.fragment comes after ours", v.get("LINUX_FRAGMENTS"))

# Our board in another O: same kernel inputs but the fragment, so another key.
o0 = os.path.join(tmp, "o0")
make("O=" + o0, "qemu_x86_64_defconfig")
p0, v0 = printvars(o0, "LINUX_KEY", "PACKAGES")
t.ok(v0.get("LINUX_KEY") and v.get("LINUX_KEY") and v0["LINUX_KEY"] != v["LINUX_KEY"]
     and "foopkg" not in v0.get("PACKAGES", ""),
     "a board's kernel fragment is part of the kernel's key; other O folders see nothing of the tree",
     "%s / %s" % (v0.get("LINUX_KEY"), v.get("LINUX_KEY")))

# The overlay reaches assemble.py with its modes: a setuid file is refused
# there, as one of ours would be.
setuid = tree("suid", "name: SUID\n", board=("suid-board", "suid_board_defconfig"),
              overlay={"usr/bin/evil": 0o4755})
o3 = os.path.join(tmp, "o3")
p = make("O=" + o3, "BH_EXTERNAL=" + setuid, "suid_board_defconfig")
part = os.path.join(o3, "build", "parts", "suid-files")
p = make("O=" + o3, os.path.join(part, ".stamp"))
a = subprocess.run([sys.executable, os.path.join(TOP, "rootfs", "assemble.py"), "--out",
                    os.path.join(tmp, "root"), "--manifest", os.path.join(tmp, "manifest"),
                    "--dirs", os.path.join(TOP, "rootfs", "skeleton.dirs"), "suid-files=" + part],
                   capture_output=True, text=True)
t.ok(p.returncode == 0 and a.returncode != 0 and "usr/bin/evil from suid-files is setuid" in a.stderr,
     "an overlay's setuid file keeps its mode into assemble.py, which refuses it",
     p.stderr + a.stderr)

# 2. Forgetting: BH_EXTERNAL= removes the files; the next make sees no tree.
p = make("O=" + o1, "BH_EXTERNAL=", "list-defconfigs")
t.ok(p.returncode == 0 and "foo_board_defconfig" not in p.stdout
     and not os.path.exists(os.path.join(o1, ".bh-external.mk"))
     and not os.path.exists(os.path.join(o1, ".bh-external.in")),
     "BH_EXTERNAL= forgets the trees (both files removed)", p.stdout + p.stderr)
p = make("O=" + o1, "list-defconfigs")
t.ok(p.returncode == 0 and "External tree" not in p.stdout, "and stays forgotten", p.stdout)
p = make("O=" + o1, "printvars", "VARS=BOARD_DIR")
t.ok(p.returncode != 0 and "BH_PACKAGE_FOOPKG" in p.stderr,
     "a configuration made with a tree stops, naming the tree's symbol, once the tree is forgotten",
     p.stderr)


# 3. Errors: each names the places, and the remembered value stays.
def refused(name, value, *needles):
    o = os.path.join(tmp, "o-" + re.sub(r"\W+", "-", name))
    ok = make("O=" + o, "BH_EXTERNAL=" + foo, "list-defconfigs").returncode == 0
    p = make("O=" + o, "BH_EXTERNAL=" + value, "list-defconfigs")
    t.ok(ok and p.returncode != 0 and all(n in p.stderr for n in needles) and remembered(o) == foo,
         name, p.stderr)


ours = lambda rel: os.path.join(TOP, rel)  # noqa: E731
pkg = tree("pkgclash", "name: PKGCLASH\n", package="busybox")
refused("clash with our package names both folders", pkg,
        "package %s/firmware/packages/busybox" % pkg, ours("firmware/packages/busybox"))
pkg2 = tree("pkgcase", "name: PKGCASE\n", package="E2FSPROGS")
refused("clash with our package by its make name (case, - and _)", pkg2,
        "%s/firmware/packages/E2FSPROGS" % pkg2, ours("firmware/packages/e2fsprogs"))
prog = tree("progclash", "name: PROGCLASH\n", program="bhd")
refused("clash with our program names both folders", prog,
        "%s/firmware/bhd" % prog, ours("firmware/bhd"))
brd = tree("boardclash", "name: BOARDCLASH\n", board=("qemu-x86_64", "other_defconfig"))
refused("clash with our board names both folders", brd,
        "board %s/board/qemu-x86_64" % brd, ours("board/qemu-x86_64"))
dfc = tree("defclash", "name: DEFCLASH\n", board=("my-board", "qemu_x86_64_defconfig"))
refused("clash with our board configuration names both files", dfc,
        "%s/board/my-board/qemu_x86_64_defconfig" % dfc, ours("board/qemu-x86_64/qemu_x86_64_defconfig"))
svc = tree("svcclash", "name: SVCCLASH\n", service="bhd.service")
refused("clash with our service names both files", svc,
        "%s/rootfs/services.d/bhd.service" % svc, ours("rootfs/services/bhd.service"))
a = tree("a", "name: A\n", package="shared", board=("a-board", "a_defconfig"))
b = tree("b", "name: B\n", package="shared")
refused("two trees with one package name: both folders", a + ":" + b,
        "%s/firmware/packages/shared" % b, "%s/firmware/packages/shared" % a)
c = tree("c", "name: C\n", board=("a-board", "c_defconfig"))
refused("two trees with one board name: both folders", a + ":" + c,
        "%s/board/a-board" % c, "%s/board/a-board" % a)
d = tree("d", "name: A\n")
refused("two trees with one name: both descriptors", a + ":" + d,
        "name 'A'", os.path.join(d, "external.desc"), os.path.join(a, "external.desc"))
refused("a tree given twice", a + ":" + a, "%s is given twice" % a)
nodesc = tree("nodesc")
os.makedirs(nodesc, exist_ok=True)
refused("a missing descriptor names the file", nodesc, os.path.join(nodesc, "external.desc"), "no such file")
refused("a folder that does not exist", os.path.join(tmp, "nowhere"), os.path.join(tmp, "nowhere"),
        "not a folder")
bad = tree("badline", "name: BAD\nthis is not a key\n")
refused("a malformed descriptor line names the file and line", bad,
        os.path.join(bad, "external.desc") + ":2", "expected 'key: value'")
badname = tree("badname", "name: ACME-2\n")
refused("a name with other characters than [A-Za-z0-9_]", badname,
        os.path.join(badname, "external.desc"), "name 'ACME-2'")
noname = tree("noname", "desc: no name here\n")
refused("a descriptor without a name", noname, os.path.join(noname, "external.desc"), "no 'name:")
unknown = tree("unknown", "name: UNK\ncolour: blue\n")
refused("an unknown descriptor key", unknown, os.path.join(unknown, "external.desc") + ":2",
        "unknown key 'colour'")
nohash = tree("nohash", "name: NOHASH\n", package="nohashpkg")
os.unlink(os.path.join(nohash, "firmware/packages/nohashpkg/nohashpkg.hash"))
refused("a package without its .hash file", nohash,
        os.path.join(nohash, "firmware/packages/nohashpkg/nohashpkg.hash"))

shutil.rmtree(tmp, ignore_errors=True)
t.done()
