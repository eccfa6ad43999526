#!/usr/bin/python3
"""External trees (BH_EXTERNAL): check them and tell make and Kconfig what
they add, as Buildroot's support/scripts/br2-external does for BR2_EXTERNAL.

Usage: external.py --top TOPDIR --out O [DIR[:DIR...]]

Each DIR is an external tree (docs/vendor.md, "External trees"): a folder
with an `external.desc` naming it, laid out like this tree:

  board/<board>/               defconfigs, cmdline, qemu.args, qemu-kernel.args, linux.fragment
  firmware/packages/<pkg>/     <pkg>.mk, Config.in, <pkg>.hash (as ours)
  firmware/<prog>/<prog>.mk    a C program ($(eval $(call program,<prog>)))
  rootfs/services.d/*.service  host services, installed as they are
  rootfs/overlay/              files copied onto the root filesystem
  rootfs/workloads/<b>/<b>.mk  a workload bundle baked into the image
  Config.in                    the tree's own options (optional)

It writes, each through a temporary file renamed into place:
  O/.bh-external.mk  the trees for make (and the remembered BH_EXTERNAL);
  O/.bh-external.in  their Kconfig menu ("External options").
With no DIR it removes both: BH_EXTERNAL is forgotten. Any error (a missing
or malformed descriptor, a name used twice, a board, package, program,
service or bundle that clashes with ours or another tree's) is printed on
stderr naming both places, exit status 1, and O is left as it was.
"""
import argparse
import os
import re
import subprocess
import sys

DESC = "external.desc"
DESC_KEYS = ("name", "desc", "supplier", "license", "url")
NAME_RE = re.compile(r"^[A-Za-z0-9_]+$")
# What make and Kconfig will see of a package or program name: make
# variables and BH_PACKAGE_ symbols use it upper-cased with - as _, so
# `foo-bar` and `FOO_bar` are the same name.
MK_FILE = ".bh-external.mk"
KCONFIG_FILE = ".bh-external.in"


class ExternalError(Exception):
    pass


def ident(name):
    return name.upper().replace("-", "_")


def parse_desc(tree):
    path = os.path.join(tree, DESC)
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except FileNotFoundError:
        raise ExternalError("%s: no such file: an external tree needs a descriptor "
                            "with at least a line 'name: <NAME>' (docs/vendor.md)" % path)
    except (OSError, UnicodeDecodeError) as e:
        raise ExternalError("%s: cannot read: %s" % (path, e))
    desc = {}
    for n, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        m = re.match(r"^([a-z]+):\s*(.*?)\s*$", line)
        if not m:
            raise ExternalError("%s:%d: expected 'key: value', got %r" % (path, n, line))
        key, value = m.groups()
        if key not in DESC_KEYS:
            raise ExternalError("%s:%d: unknown key '%s' (known: %s)"
                                % (path, n, key, ", ".join(DESC_KEYS)))
        if key in desc:
            raise ExternalError("%s:%d: '%s' given twice" % (path, n, key))
        if "$" in value or "\\" in value or '"' in value:
            raise ExternalError("%s:%d: %s: $, \\ and \" are not allowed" % (path, n, key))
        desc[key] = value
    if "name" not in desc:
        raise ExternalError("%s: no 'name: <NAME>' line" % path)
    if not NAME_RE.match(desc["name"]):
        raise ExternalError("%s: name '%s' may hold only letters, digits and _"
                            % (path, desc["name"]))
    return desc


def subdirs(path):
    try:
        return sorted(d for d in os.listdir(path) if os.path.isdir(os.path.join(path, d)))
    except FileNotFoundError:
        return []


def files(path, suffix=""):
    try:
        return sorted(f for f in os.listdir(path)
                      if f.endswith(suffix) and os.path.isfile(os.path.join(path, f)))
    except FileNotFoundError:
        return []


def contents(root):
    """What a tree (ours or an external one) names: boards, defconfigs,
    packages, programs, services, bundles, each name -> the path it is at."""
    c = {k: {} for k in ("board", "defconfig", "package", "program", "service", "bundle")}
    for b in subdirs(os.path.join(root, "board")):
        c["board"][b] = os.path.join(root, "board", b)
        for d in files(os.path.join(root, "board", b), "_defconfig"):
            c["defconfig"][d] = os.path.join(root, "board", b, d)
    for p in subdirs(os.path.join(root, "firmware", "packages")):
        if os.path.exists(os.path.join(root, "firmware", "packages", p, p + ".mk")):
            c["package"][p] = os.path.join(root, "firmware", "packages", p)
    for p in subdirs(os.path.join(root, "firmware")):
        if p != "packages" and os.path.exists(os.path.join(root, "firmware", p, p + ".mk")):
            c["program"][p] = os.path.join(root, "firmware", p)
    for s in files(os.path.join(root, "rootfs", "services.d")):
        c["service"][s] = os.path.join(root, "rootfs", "services.d", s)
    for b in subdirs(os.path.join(root, "rootfs", "workloads")):
        if os.path.exists(os.path.join(root, "rootfs", "workloads", b, b + ".mk")):
            c["bundle"][b] = os.path.join(root, "rootfs", "workloads", b)
    return c


def our_contents(top):
    c = contents(top)
    # Our services are templates in rootfs/services/ (rootfs/rootfs.mk),
    # our baked bundles the demo ones (rootfs/workloads.mk).
    c["service"] = {s: os.path.join(top, "rootfs", "services", s)
                    for s in files(os.path.join(top, "rootfs", "services"))}
    c["bundle"] = {b: os.path.join(top, "rootfs", "workloads.mk") for b in ("demo-web", "demo-vm")}
    return c


def check_clashes(top, trees):
    """Every name an external tree adds must be new: not ours, not another
    tree's. Packages and programs share make's targets and variables, so
    they clash with each other too."""
    seen = {}  # (kind group, key) -> path

    def claim(group, key, path, what):
        other = seen.get((group, key))
        if other is not None:
            raise ExternalError("%s %s clashes with %s: rename one of them"
                                % (what, path, other))
        seen[(group, key)] = path

    def claim_all(c):
        for b, path in c["board"].items():
            claim("board", b, path, "board")
        for d, path in c["defconfig"].items():
            claim("defconfig", d, path, "board configuration")
        for kind in ("package", "program"):
            for p, path in c[kind].items():
                claim("target", ident(p), path, kind)
        for s, path in c["service"].items():
            claim("service", s, path, "service")
        for b, path in c["bundle"].items():
            claim("bundle", b, path, "workload bundle")
            # Its component in the manifest and the SBOM.
            claim("target", ident(b + "-bundle"), path, "workload bundle")

    claim_all(our_contents(top))
    for t in trees:
        claim_all(t["contents"])
        # The component of its overlay and services.
        claim("target", ident(tree_id(t["name"]) + "-files"), os.path.join(t["path"], DESC),
              "external tree %s (its component %s-files)" % (t["name"], tree_id(t["name"])))


def tree_id(name):
    """The tree's name as it appears in component names and purls."""
    return name.lower().replace("_", "-")


def tree_version(path):
    try:
        p = subprocess.run(["git", "-C", path, "describe", "--always", "--dirty", "--abbrev=12"],
                           capture_output=True, text=True)
    except OSError:
        return ""
    return p.stdout.strip() if p.returncode == 0 else ""


def package_order(t):
    """The tree's package recipes, each after the packages of the same
    tree it depends on: a package's key is computed from its
    dependencies' keys when make reads its recipe."""
    deps = {}
    for p, path in t["contents"]["package"].items():
        with open(os.path.join(path, p + ".mk"), encoding="utf-8") as f:
            text = f.read().replace("\\\n", " ")
        words = []
        for m in re.finditer(r"^%s_DEPENDENCIES\s*[:+]?=(.*)$" % re.escape(ident(p)), text, re.M):
            words += m.group(1).split()
        deps[p] = [d for d in words if d in t["contents"]["package"]]
    order, state = [], {}

    def visit(p, chain):
        if state.get(p) == "done":
            return
        if state.get(p) == "visiting":
            raise ExternalError("%s: packages depend on each other in a circle: %s"
                                % (t["path"], " -> ".join(chain + [p])))
        state[p] = "visiting"
        for d in deps[p]:
            visit(d, chain + [p])
        state[p] = "done"
        order.append(p)

    for p in sorted(deps):
        visit(p, [])
    return [os.path.join(t["contents"]["package"][p], p + ".mk") for p in order]


def load(top, value):
    trees = []
    for raw in value.split(":"):
        if not raw:
            continue
        path = os.path.normpath(os.path.join(top, raw))
        if not os.path.isdir(path):
            raise ExternalError("BH_EXTERNAL: %s is not a folder" % path)
        path = os.path.realpath(path)
        if path == os.path.realpath(top):
            raise ExternalError("BH_EXTERNAL: %s is this tree itself" % path)
        for t in trees:
            if t["path"] == path:
                raise ExternalError("BH_EXTERNAL: %s is given twice" % path)
        desc = parse_desc(path)
        for t in trees:
            if t["name"] == desc["name"]:
                raise ExternalError("external tree name '%s' of %s clashes with %s: "
                                    "each tree needs its own name"
                                    % (desc["name"], os.path.join(path, DESC),
                                       os.path.join(t["path"], DESC)))
        trees.append({"name": desc["name"], "path": path, "desc": desc,
                      "contents": contents(path)})
    check_clashes(top, trees)
    return trees


def write(path, text):
    """Through a temporary file; an unchanged file is left alone, so that
    what depends on it in make is not rebuilt."""
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return
    except OSError:
        pass
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def mk_text(trees):
    out = ["# Made by support/external.py from BH_EXTERNAL: do not edit.",
           "# 'make BH_EXTERNAL=...' changes it, 'make BH_EXTERNAL=' removes it.",
           "BH_EXTERNAL := %s" % ":".join(t["path"] for t in trees),
           "BH_EXTERNAL_NAMES := %s" % " ".join(t["name"] for t in trees)]
    for t in trees:
        n, d, c = t["name"], t["desc"], t["contents"]
        out += ["BH_EXTERNAL_%s_PATH := %s" % (n, t["path"]),
                "BH_EXTERNAL_%s_DESC := %s" % (n, d.get("desc", "")),
                "BH_EXTERNAL_%s_ID := %s" % (n, tree_id(n)),
                "BH_EXTERNAL_%s_SUPPLIER := %s" % (n, d.get("supplier", "Organization: " + n)),
                "BH_EXTERNAL_%s_LICENSE := %s" % (n, d.get("license", "NOASSERTION")),
                "BH_EXTERNAL_%s_URL := %s" % (n, d.get("url", "NOASSERTION")),
                "BH_EXTERNAL_%s_VERSION := %s" % (n, tree_version(t["path"])),
                "BH_EXTERNAL_%s_BOARDS := %s" % (n, " ".join(c["board"])),
                "BH_EXTERNAL_%s_DEFCONFIGS := %s" % (n, " ".join(c["defconfig"].values())),
                "BH_EXTERNAL_%s_PACKAGE_MKS := %s" % (n, " ".join(package_order(t))),
                "BH_EXTERNAL_%s_PROGRAM_MKS := %s"
                % (n, " ".join(os.path.join(p, os.path.basename(p) + ".mk")
                               for p in c["program"].values())),
                "BH_EXTERNAL_%s_SERVICES := %s" % (n, " ".join(c["service"].values())),
                "BH_EXTERNAL_%s_WORKLOAD_MKS := %s"
                % (n, " ".join(os.path.join(p, os.path.basename(p) + ".mk")
                               for p in c["bundle"].values())),
                "BH_EXTERNAL_%s_OVERLAY := %s"
                % (n, os.path.join(t["path"], "rootfs", "overlay")
                   if os.path.isdir(os.path.join(t["path"], "rootfs", "overlay")) else "")]
    return "\n".join(out) + "\n"


def kconfig_text(trees):
    out = ["# Made by support/external.py from BH_EXTERNAL: do not edit.",
           'menu "External options"']
    for t in trees:
        n, c = t["name"], t["contents"]
        title = n + (": " + t["desc"]["desc"] if t["desc"].get("desc") else "")
        out += ['', 'menu "%s"' % title,
                'comment "from %s"' % t["path"]]
        if os.path.exists(os.path.join(t["path"], "Config.in")):
            out.append('source "%s"' % os.path.join(t["path"], "Config.in"))
        if c["package"]:
            out.append('comment "Packages"')
        for p in sorted(c["package"]):
            out.append('source "%s"' % os.path.join(c["package"][p], "Config.in"))
        out.append("endmenu")
    out.append("endmenu")
    return "\n".join(out) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--top", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("value", nargs="?", default="")
    args = ap.parse_args()
    try:
        trees = load(os.path.abspath(args.top), args.value)
        for t in trees:
            for p, path in t["contents"]["package"].items():
                for f in ("Config.in", p + ".hash"):
                    if not os.path.exists(os.path.join(path, f)):
                        raise ExternalError("package %s: %s is missing (a package is a recipe, "
                                            "a Config.in and a .hash file)"
                                            % (path, os.path.join(path, f)))
    except ExternalError as e:
        sys.stderr.write("BH_EXTERNAL: %s\n" % e if not str(e).startswith("BH_EXTERNAL") else "%s\n" % e)
        return 1
    mk, kc = os.path.join(args.out, MK_FILE), os.path.join(args.out, KCONFIG_FILE)
    if not trees:
        for f in (mk, kc):
            if os.path.exists(f):
                os.unlink(f)
        return 0
    os.makedirs(args.out, exist_ok=True)
    # Kconfig's menu first: the .mk file is what says a tree is in use.
    write(kc, kconfig_text(trees))
    write(mk, mk_text(trees))
    return 0


if __name__ == "__main__":
    sys.exit(main())
