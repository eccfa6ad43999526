#!/usr/bin/python3
"""Assemble the SDK tarball of one configured board (`make sdk`,
rootfs/sdk.mk, docs/vendor.md "The SDK").

  mksdk.py --work DIR --out TARBALL --name NAME --board B --arch A
           --version V --created EPOCH --cflags FLAGS --ldflags FLAGS
           --gcc-version V --bhpack PATH --bhsbom PATH --strip PROG
           --package NAME=PREFIX ... --info FILE ...

Stages NAME/ in DIR: each package's include/, lib/ and licence texts
(from its published prefix, in the order given), the compiler and binutils
wrappers (gcc.in, tool.in), musl's specs made relocatable (the sysroot is
read from the environment the wrapper sets), a stripped bhpack, README.md,
and an SBOM (bhsbom generate over a manifest of the staged files, from the
packages' .info files). Then writes TARBALL: sorted, owner 0:0, one mtime
(EPOCH), normalised modes, gzip without a name or time, so that the same
inputs give the same bytes. Written beside TARBALL and renamed into place.
"""
import argparse
import gzip
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile

HERE = os.path.dirname(os.path.abspath(__file__))
BINUTILS = ("ar", "ranlib", "strip", "nm", "objcopy", "objdump", "readelf", "ld")
SDK_COMPONENT = "bulkhead-sdk"


def fail(msg):
    sys.exit("mksdk: " + msg)


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for b in iter(lambda: f.read(1 << 20), b""):
            h.update(b)
    return h.hexdigest()


def read_info(path):
    info = {}
    with open(path) as f:
        for line in f:
            k, _, v = line.rstrip("\n").partition("=")
            info.setdefault(k, v)
    return info


def fill(template, values):
    with open(os.path.join(HERE, template)) as f:
        text = f.read()
    text = re.sub(r"@([A-Z_]+)@", lambda m: values[m.group(1)], text)
    return text


def write(path, text, mode):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w") as f:
        f.write(text)
    os.chmod(path, mode)


def copy_tree(src, dst, component, owner):
    """Copy src/ into dst/, recording each file's component in owner;
    the same path from two packages must be the same bytes."""
    for root, dirs, files in os.walk(src):
        dirs.sort()
        rel = os.path.relpath(root, src)
        os.makedirs(os.path.join(dst, rel), exist_ok=True)
        for n in sorted(files):
            s, d = os.path.join(root, n), os.path.normpath(os.path.join(dst, rel, n))
            if os.path.lexists(d):
                if os.path.islink(s) or os.path.islink(d) or sha256(s) != sha256(d):
                    fail("%s: %s also comes from %s, with other contents" % (s, d, owner[d]))
                # The kernel's headers, copied by musl beside its own:
                # they belong to linux-headers.
                owner[d] = component
                continue
            shutil.copy2(s, d, follow_symlinks=False)
            owner[d] = component


def specs(text):
    """musl's specs with the sysroot taken from BULKHEAD_SDK_SYSROOT:
    gcc's %:getenv makes one argument of its result, so each file under
    the sysroot is named whole inside it."""
    text = re.sub(r"@LIB@/([A-Za-z0-9_.]+\.o)", r"%:getenv(BULKHEAD_SDK_SYSROOT /lib/\1)", text)
    text = text.replace("@INC@", "%:getenv(BULKHEAD_SDK_SYSROOT /include)")
    text = text.replace("@LIB@", "%:getenv(BULKHEAD_SDK_SYSROOT /lib)")
    if "@" in text:
        fail("musl-gcc.specs.in: a placeholder left: %s" % re.findall(r"@\w+@", text))
    return text


def normalised(ti, created):
    ti.uid = ti.gid = 0
    ti.uname = ti.gname = ""
    ti.mtime = created
    if ti.isdir() or (ti.isfile() and ti.mode & 0o111):
        ti.mode = 0o755
    elif ti.isfile():
        ti.mode = 0o644
    return ti


def write_tarball(stage, name, out, created):
    tmp = out + ".tmp"
    paths = []
    for root, dirs, files in os.walk(os.path.join(stage, name)):
        dirs.sort()
        paths += [os.path.join(root, d) for d in dirs] + [os.path.join(root, f) for f in files]
    with open(tmp, "wb") as raw:
        with gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9) as gz:
            with tarfile.open(fileobj=gz, mode="w", format=tarfile.GNU_FORMAT) as tf:
                tf.add(os.path.join(stage, name), name, recursive=False,
                       filter=lambda ti: normalised(ti, created))
                for p in sorted(paths, key=lambda p: os.path.relpath(p, stage)):
                    tf.add(p, os.path.relpath(p, stage), recursive=False,
                           filter=lambda ti: normalised(ti, created))
        raw.flush()
        os.fsync(raw.fileno())
    os.rename(tmp, out)
    fd = os.open(os.path.dirname(out), os.O_RDONLY | os.O_DIRECTORY)
    os.fsync(fd)
    os.close(fd)


def main():
    ap = argparse.ArgumentParser()
    for opt in ("work", "out", "name", "board", "arch", "version", "created", "cflags", "ldflags",
                "gcc-version", "bhpack", "bhsbom", "strip"):
        ap.add_argument("--" + opt, required=True)
    ap.add_argument("--package", action="append", required=True, metavar="NAME=PREFIX")
    ap.add_argument("--info", action="append", required=True, metavar="FILE")
    a = ap.parse_args()
    created = int(a.created)
    triplet = a.arch + "-linux-musl"
    infos = {}
    for p in a.info:
        i = read_info(p)
        infos[i.get("name")] = (p, i)
    packages = [p.split("=", 1) for p in a.package]
    for n, prefix in packages:
        if n not in infos:
            fail("--package %s has no --info file" % n)
        if not os.path.exists(os.path.join(prefix, ".published")):
            fail("%s is not a published package (no .published): build %s first" % (prefix, n))

    stage = os.path.join(a.work, "stage")
    shutil.rmtree(a.work, ignore_errors=True)
    top = os.path.join(stage, a.name)
    sysroot = os.path.join(top, "sysroot")
    os.makedirs(sysroot)
    owner = {}

    # The target side: headers, static libraries and C runtime objects,
    # licence texts. musl's own specs and wrappers name its build-time
    # folder: the SDK has its own (below).
    for n, prefix in packages:
        for sub in ("include", "lib"):
            if os.path.isdir(os.path.join(prefix, sub)):
                copy_tree(os.path.join(prefix, sub), os.path.join(sysroot, sub), n, owner)
        copy_tree(os.path.join(prefix, "share", "licenses"), os.path.join(top, "share", "licenses"), n, owner)
    os.remove(os.path.join(sysroot, "lib", "musl-gcc.specs"))
    del owner[os.path.join(sysroot, "lib", "musl-gcc.specs")]

    def version(n):
        return infos[n][1].get("version", "")

    values = {
        "ARCH": a.arch, "ARCH_DEB": a.arch.replace("_", "-"), "TRIPLET": triplet, "BOARD": a.board,
        "VERSION": a.version, "CFLAGS": " ".join(a.cflags.split()), "LDFLAGS": " ".join(
            f for f in a.ldflags.split() if f != "-static-pie"),
        "HOST_ARCH": os.uname().machine, "GCC_VERSION": a.gcc_version,
        "LIBRARIES": ", ".join("%s %s" % (n, version(n)) for n, _ in packages),
        "MBEDTLS_VERSION": version("mbedtls"), "LIBSECCOMP_VERSION": version("libseccomp"),
        "YYJSON_VERSION": version("yyjson"), "TOOL": "",
    }
    ours = []
    path = os.path.join(sysroot, "lib", "musl-gcc.specs")
    write(path, specs(open(os.path.join(HERE, "..", "..", "firmware", "packages", "musl",
                                        "musl-gcc.specs.in")).read()), 0o644)
    ours.append(path)
    path = os.path.join(top, "bin", triplet + "-gcc")
    write(path, fill("gcc.in", values), 0o755)
    ours.append(path)
    for tool in BINUTILS:
        path = os.path.join(top, "bin", "%s-%s" % (triplet, tool))
        write(path, fill("tool.in", dict(values, TOOL=tool)), 0o755)
        ours.append(path)
    path = os.path.join(top, "README.md")
    write(path, fill("README.md.in", values), 0o644)
    ours.append(path)
    # bhpack without its debug information, which names the build's folders.
    path = os.path.join(top, "bin", "bhpack")
    subprocess.run([a.strip, "--strip-debug", "-o", path, a.bhpack], check=True)
    os.chmod(path, 0o755)
    ours.append(path)
    for p in ours:
        owner[p] = SDK_COMPONENT

    # The SBOM: the packages' .info files (as the image's SBOM has them),
    # one for the SDK's own files, and the manifest of every staged file.
    info_dir = os.path.join(a.work, "info")
    os.makedirs(info_dir)
    for n, (p, _) in infos.items():
        shutil.copy(p, os.path.join(info_dir, n + ".info"))
    with open(os.path.join(info_dir, SDK_COMPONENT + ".info"), "w") as f:
        f.write("\n".join([
            "name=" + SDK_COMPONENT, "kind=files", "version=" + a.version,
            "supplier=Organization: Bulkhead", "license=Apache-2.0",
            "purl=pkg:generic/bulkhead-sdk@" + a.version,
            "download=https://github.com/bulkhead-firmware/bulkhead",
            "source=rootfs/sdk, firmware/bhpack",
            "license_file=" + os.path.join(HERE, "..", "..", "LICENSE"), ""]))
    manifest = os.path.join(a.work, "sdk.manifest")
    with open(manifest, "w") as f:
        f.write("# path\tcomponent\ttype\tmode\tsize\tsha256\ttarget\n")
        for p in sorted(owner):
            rel = "/" + os.path.relpath(p, top)
            if os.path.islink(p):
                f.write("%s\t%s\tl\t0777\t\t\t%s\n" % (rel, owner[p], os.readlink(p)))
            else:
                st = os.stat(p)
                f.write("%s\t%s\tf\t%04o\t%d\t%s\t\n" % (rel, owner[p], st.st_mode & 0o7777,
                                                         st.st_size, sha256(p)))
    subprocess.run([a.bhsbom, "generate", "--info-dir", info_dir, "--manifest", manifest,
                    "--root", top, "--out", os.path.join(top, "sbom"), "--name", a.name,
                    "--version", a.version, "--board", a.board, "--profile", "sdk",
                    "--arch", a.arch, "--created", str(created)], check=True)

    os.makedirs(os.path.dirname(a.out), exist_ok=True)
    write_tarball(stage, a.name, a.out, created)
    print("SDK in %s" % a.out)


if __name__ == "__main__":
    main()
