#!/usr/bin/python3
"""Assemble the root filesystem tree from its components and list every file.

Usage: assemble.py --out TREE --manifest FILE --dirs SKELETON_DIRS
                   COMPONENT=DIR [COMPONENT=DIR ...]

Each COMPONENT=DIR is a folder laid out like the root filesystem holding
exactly what that component installs. A path provided by two components is
an error: in the SBOM each file belongs to exactly one component.

The manifest is tab-separated, one line per file, symlink and directory,
sorted by path:  path  component  type  mode  size  sha256  link-target
(type is f, l or d; size and sha256 only for files, link-target only for
symlinks). The SBOM generator reads it.

Modes are normalised (0755 for executables and directories, 0644 for other
files) so that the image does not depend on the builder's umask. Nothing is
setuid or setgid.
"""
import hashlib
import os
import shutil
import stat
import sys


def fail(msg):
    sys.exit("assemble: " + msg)


def normal_mode(st):
    return 0o755 if st.st_mode & 0o111 else 0o644


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def main(argv):
    args = {"--out": None, "--manifest": None, "--dirs": None}
    parts = []
    it = iter(argv[1:])
    for a in it:
        if a in args:
            args[a] = next(it, None)
        elif "=" in a:
            parts.append(tuple(a.split("=", 1)))
        else:
            fail("unexpected argument %r\n%s" % (a, __doc__))
    if None in args.values() or not parts:
        fail(__doc__)
    out, manifest = args["--out"], args["--manifest"]

    shutil.rmtree(out, ignore_errors=True)
    os.makedirs(out)
    entries = {}  # path -> (component, type, mode, size, sha, target)

    with open(args["--dirs"]) as f:
        for lineno, line in enumerate(f, 1):
            words = line.split()
            if not words or words[0].startswith("#"):
                continue
            if len(words) != 2:
                fail("%s:%d: expected 'MODE PATH'" % (args["--dirs"], lineno))
            os.makedirs(os.path.join(out, words[1]), exist_ok=True)
            entries[words[1]] = ("bulkhead-base-files", "d", int(words[0], 8), "", "", "")

    for component, src in parts:
        if not os.path.isdir(src):
            fail("component %s: %s is not a folder" % (component, src))
        for root, dirs, files in os.walk(src):
            dirs.sort()
            rel_root = os.path.relpath(root, src)
            for name in sorted(dirs) + sorted(files):
                s = os.path.join(root, name)
                rel = os.path.normpath(os.path.join(rel_root, name))
                if rel.startswith(".stamp") or name == ".stamp":
                    continue
                d = os.path.join(out, rel)
                st = os.lstat(s)
                if stat.S_ISDIR(st.st_mode):
                    os.makedirs(d, exist_ok=True)
                    entries.setdefault(rel, (component, "d", 0o755, "", "", ""))
                    continue
                if rel in entries:
                    fail("%s is installed by both %s and %s" % (rel, entries[rel][0], component))
                if st.st_mode & (stat.S_ISUID | stat.S_ISGID):
                    fail("%s from %s is setuid or setgid; the image has none" % (rel, component))
                if stat.S_ISLNK(st.st_mode):
                    target = os.readlink(s)
                    os.symlink(target, d)
                    entries[rel] = (component, "l", 0o777, "", "", target)
                elif stat.S_ISREG(st.st_mode):
                    shutil.copyfile(s, d)
                    mode = normal_mode(st)
                    os.chmod(d, mode)
                    entries[rel] = (component, "f", mode, str(st.st_size), sha256(s), "")
                else:
                    fail("%s from %s is not a file, folder or symlink" % (rel, component))

    for rel, e in entries.items():
        if e[1] == "d":
            os.chmod(os.path.join(out, rel), e[2])

    tmp = manifest + ".tmp"
    with open(tmp, "w") as f:
        f.write("# path\tcomponent\ttype\tmode\tsize\tsha256\ttarget\n")
        for rel in sorted(entries):
            c, t, mode, size, digest, target = entries[rel]
            f.write("/%s\t%s\t%s\t%04o\t%s\t%s\t%s\n" % (rel, c, t, mode, size, digest, target))
    os.replace(tmp, manifest)


if __name__ == "__main__":
    main(sys.argv)
