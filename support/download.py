#!/usr/bin/python3
"""Fetch one pinned source archive into the download cache.

Order: the download cache, then each upstream URL, then Debian's archive
(a source package's orig tarball found with `apt-get source --print-uris`,
or a binary package found with `apt-get download --print-uris`). The apt
configuration used for Debian is private to the cache and derived at run
time from the machine's own apt sources: the project never names a mirror.

Whatever the origin, the file's SHA-256 must equal the one pinned in the
package's .hash file. A file is only ever renamed into the cache after it
has been checked, so a failed or interrupted fetch leaves nothing behind.
"""
import argparse
import fcntl
import glob
import hashlib
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.request

APT_LISTS_MAX_AGE = 12 * 3600
# The Debian architectures of the boards we build for. The private apt
# configuration names them itself: a build host's dpkg knows only its own
# architecture unless someone ran `dpkg --add-architecture`, and the build
# never changes the machine's dpkg configuration.
APT_ARCHES = ("amd64", "arm64")


class FetchError(Exception):
    pass


def pinned_hash(hash_file, name):
    """Return the sha256 pinned for `name` in a Buildroot-style hash file."""
    try:
        with open(hash_file) as f:
            for lineno, line in enumerate(f, 1):
                words = line.split()
                if not words or words[0].startswith("#"):
                    continue
                if len(words) != 3 or words[0] != "sha256" or \
                        not re.fullmatch(r"[0-9a-f]{64}", words[1]):
                    raise FetchError("%s:%d: expected 'sha256 <64 hex> <file>'"
                                     % (hash_file, lineno))
                if words[2] == name:
                    return words[1]
    except OSError as e:
        raise FetchError("cannot read %s: %s" % (hash_file, e.strerror))
    raise FetchError("%s pins no sha256 for %s" % (hash_file, name))


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def fetch_url(url, dest, want):
    """Download url to dest through a temporary file; check the hash first."""
    fd, part = tempfile.mkstemp(prefix=".part-", dir=os.path.dirname(dest))
    try:
        h = hashlib.sha256()
        with os.fdopen(fd, "wb") as out:
            with urllib.request.urlopen(url, timeout=30) as resp:
                for chunk in iter(lambda: resp.read(1 << 20), b""):
                    h.update(chunk)
                    out.write(chunk)
        got = h.hexdigest()
        if got != want:
            raise FetchError("sha256 mismatch: expected %s, got %s" % (want, got))
        os.chmod(part, 0o644)
        os.replace(part, dest)
    except (OSError, ValueError) as e:
        raise FetchError(str(getattr(e, "reason", None) or e))
    finally:
        if os.path.exists(part):
            os.unlink(part)


def machine_apt_uris():
    """The Debian archive URIs this machine's apt is configured with.

    Returns {"main": [uri...], "security": [uri...]}, read from one-line
    .list files and deb822 .sources files alike.
    """
    entries = []  # (uri, suite)
    files = ["/etc/apt/sources.list"] + \
        sorted(glob.glob("/etc/apt/sources.list.d/*.list")) + \
        sorted(glob.glob("/etc/apt/sources.list.d/*.sources"))
    for path in files:
        try:
            text = open(path).read()
        except OSError:
            continue
        if path.endswith(".sources"):
            for stanza in re.split(r"\n\s*\n", text):
                fields = {}
                for line in stanza.splitlines():
                    if line.startswith("#") or ":" not in line:
                        continue
                    k, v = line.split(":", 1)
                    fields[k.strip().lower()] = v.split()
                if fields.get("enabled", ["yes"])[0] == "no" or \
                        "deb" not in fields.get("types", []):
                    continue
                for uri in fields.get("uris", []):
                    for suite in fields.get("suites", []):
                        entries.append((uri, suite))
        else:
            for line in text.splitlines():
                line = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0])
                words = line.split()
                if len(words) >= 3 and words[0] == "deb":
                    entries.append((words[1], words[2]))
    debian = re.compile(r"^(buster|bullseye|bookworm|trixie|forky|sid|"
                        r"stable|testing|unstable|oldstable)(-updates|-security)?$")
    uris = {"main": [], "security": []}
    for uri, suite in entries:
        m = debian.match(suite)
        if not m:
            continue
        kind = "security" if m.group(2) == "-security" else "main"
        if uri.rstrip("/") not in uris[kind]:
            uris[kind].append(uri.rstrip("/"))
    return uris


class Apt:
    """A private apt configuration for one Debian release under the cache."""

    def __init__(self, cache, release):
        self.root = os.path.join(cache, "apt", release)
        self.release = release
        uris = machine_apt_uris()
        if not uris["main"] and not uris["security"]:
            raise FetchError("this machine's apt sources name no Debian archive "
                             "(looked in /etc/apt/sources.list and "
                             "/etc/apt/sources.list.d/)")
        keyring = "/usr/share/keyrings/debian-archive-keyring.gpg"
        opts = "arch=%s signed-by=%s" % (",".join(APT_ARCHES), keyring)
        lines = []
        for uri in uris["main"]:
            for suite in (release, release + "-updates"):
                for t in ("deb", "deb-src"):
                    lines.append("%s [%s] %s %s main" % (t, opts, uri, suite))
        for uri in uris["security"]:
            for t in ("deb", "deb-src"):
                lines.append("%s [%s] %s %s-security main"
                             % (t, opts, uri, release))
        for d in ("lists/partial", "cache/archives/partial", "etc"):
            os.makedirs(os.path.join(self.root, d), exist_ok=True)
        self.sources = os.path.join(self.root, "etc", "sources.list")
        text = "\n".join(lines) + "\n"
        if not os.path.exists(self.sources) or open(self.sources).read() != text:
            with open(self.sources + ".tmp", "w") as f:
                f.write(text)
            os.replace(self.sources + ".tmp", self.sources)
            stamp = os.path.join(self.root, "updated")
            if os.path.exists(stamp):
                os.unlink(stamp)

    def opts(self):
        return ["-o", "Dir::Etc::SourceList=" + self.sources,
                "-o", "Dir::Etc::SourceParts=/dev/null",
                "-o", "Dir::Etc::Preferences=/dev/null",
                "-o", "Dir::Etc::PreferencesParts=/dev/null",
                "-o", "Dir::State::Lists=" + os.path.join(self.root, "lists"),
                "-o", "Dir::Cache=" + os.path.join(self.root, "cache"),
                "-o", "Dir::State::status=/var/lib/dpkg/status",
                "-o", "APT::Architectures=" + ",".join(APT_ARCHES),
                "-o", "Debug::NoLocking=1",
                "-o", "APT::Sandbox::User=" + ("root" if os.getuid() == 0 else
                                               os.environ.get("USER", "nobody")),
                "-qq"]

    def run(self, args, cwd=None):
        p = subprocess.run(["apt-get"] + self.opts() + args, cwd=cwd,
                           capture_output=True, text=True)
        return p.returncode, p.stdout, p.stderr

    def update(self, force=False):
        stamp = os.path.join(self.root, "updated")
        if not force and os.path.exists(stamp) and \
                time.time() - os.path.getmtime(stamp) < APT_LISTS_MAX_AGE:
            return
        rc, _, err = self.run(["update"])
        if rc != 0:
            raise FetchError("apt-get update for Debian %s failed: %s"
                             % (self.release, err.strip().splitlines()[-1:]))
        open(stamp, "w").close()

    def source_uris(self, srcpkg, filename):
        """URIs of `filename` in any version of source package `srcpkg`."""
        p = subprocess.run(["apt-cache"] + self.opts() + ["showsrc", srcpkg],
                           capture_output=True, text=True)
        versions = []
        for stanza in p.stdout.split("\n\n"):
            m = re.search(r"^Version: (\S+)", stanza, re.M)
            if m and filename in stanza and m.group(1) not in versions:
                versions.append(m.group(1))
        uris = []
        for v in versions:
            rc, out, _ = self.run(["source", "--print-uris", "--only-source",
                                   "%s=%s" % (srcpkg, v)], cwd=tempfile.gettempdir())
            for line in out.splitlines():
                words = line.split()
                if len(words) >= 2 and words[1] == filename:
                    uri = words[0].strip("'")
                    if uri not in uris:
                        uris.append(uri)
        return uris

    def binary_uris(self, pkg, version):
        rc, out, _ = self.run(["download", "--print-uris", "%s=%s" % (pkg, version)],
                              cwd=tempfile.gettempdir())
        return [line.split()[0].strip("'") for line in out.splitlines()
                if line.startswith("'")]


def fetch(args):
    dest = os.path.join(args.dl_dir, args.file)
    want = pinned_hash(args.hash_file, args.file)
    os.makedirs(args.dl_dir, exist_ok=True)
    tried = []
    if os.path.exists(dest):
        got = sha256_of(dest)
        if got == want:
            return
        os.unlink(dest)
        tried.append(("cache %s" % dest,
                      "sha256 mismatch: expected %s, got %s; removed" % (want, got)))
    for url in args.url:
        try:
            fetch_url(url, dest, want)
            print("%s: fetched %s" % (args.package, url))
            return
        except FetchError as e:
            tried.append((url, str(e)))
    if args.debian_release:
        try:
            # One apt at a time per release: parallel builds fetch several
            # packages at once, and apt's own locking is off (its folders are
            # private), so two `apt-get update`s would tear each other's lists.
            os.makedirs(os.path.join(args.cache, "apt"), exist_ok=True)
            lock = open(os.path.join(args.cache, "apt", args.debian_release + ".lock"), "w")
            fcntl.flock(lock, fcntl.LOCK_EX)
            apt = Apt(args.cache, args.debian_release)
            for attempt in (0, 1):
                apt.update(force=attempt == 1)
                if args.debian_source:
                    pkg, name = args.debian_source.split(":", 1)
                    uris = apt.source_uris(pkg, name)
                    what = "orig %s of Debian source package %s" % (name, pkg)
                else:
                    pkg, ver = args.debian_binary.split("=", 1)
                    uris = apt.binary_uris(pkg, ver)
                    what = "Debian package %s=%s" % (pkg, ver)
                if uris:
                    break
            lock.close()
            if not uris:
                tried.append(("Debian %s" % args.debian_release,
                              "%s is not in the archive" % what))
            for url in uris:
                try:
                    fetch_url(url, dest, want)
                    print("%s: fetched %s from Debian %s" % (args.package, what,
                                                             args.debian_release))
                    return
                except FetchError as e:
                    tried.append((url, str(e)))
        except FetchError as e:
            tried.append(("Debian %s" % args.debian_release, str(e)))
    msg = ["cannot fetch %s for package %s; tried:" % (args.file, args.package)]
    msg += ["  %s: %s" % t for t in tried] or ["  (no URL or Debian source given)"]
    raise FetchError("\n".join(msg))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--package", required=True)
    ap.add_argument("--file", required=True, help="archive name in the cache")
    ap.add_argument("--hash-file", required=True)
    ap.add_argument("--dl-dir", required=True)
    ap.add_argument("--cache", required=True, help="Bulkhead cache folder")
    ap.add_argument("--url", action="append", default=[])
    ap.add_argument("--debian-release")
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--debian-source", help="SRCPKG:ORIG_FILE_NAME")
    g.add_argument("--debian-binary", help="PKG=VERSION")
    args = ap.parse_args()
    try:
        fetch(args)
    except FetchError as e:
        sys.exit("download: %s" % e)


if __name__ == "__main__":
    main()
