#!/usr/bin/python3
"""Kconfig glue for the top-level Makefile, on Debian's python3-kconfiglib.

Usage: kconfig.py defconfig FILE | olddefconfig | savedefconfig OUT |
       menuconfig | header OUT | list-symbols

The configuration is read from and written to $KCONFIG_CONFIG. Any warning
kconfiglib gives about a configuration file (a malformed line, a value out
of range, an unknown symbol) is an error here: a build must never run on a
configuration that was silently repaired.
"""
import os
import re
import sys
import tempfile

import kconfiglib

PREFIX = ""  # symbols carry their BH_ prefix in Kconfig, like Buildroot's BR2_


def set_env():
    os.environ.setdefault("srctree", os.getcwd())
    os.environ["CONFIG_"] = PREFIX
    # The external trees' menus (support/external.py) sit beside the
    # configuration; the top Kconfig sources them when they exist.
    # A tree's own Config.in can name its files as
    # "$(BH_EXTERNAL_<NAME>_PATH)/...".
    out = os.path.dirname(os.path.abspath(os.environ.get("KCONFIG_CONFIG", ".config")))
    os.environ["BH_EXTERNAL_KCONFIG"] = os.path.join(out, ".bh-external.in")
    try:
        with open(os.path.join(out, ".bh-external.mk")) as f:
            for line in f:
                m = re.match(r"^(BH_EXTERNAL_[A-Za-z0-9_]+_PATH) := (.*)$", line)
                if m:
                    os.environ[m.group(1)] = m.group(2)
    except FileNotFoundError:
        pass


def load(strict_file=None):
    set_env()
    kconf = kconfiglib.Kconfig("Kconfig", warn_to_stderr=False)
    kconf.warn_assign_undef = True
    if strict_file is not None:
        del kconf.warnings[:]
        kconf.load_config(strict_file)
        if kconf.warnings:
            for w in kconf.warnings:
                sys.stderr.write("kconfig: %s\n" % w.strip())
            sys.exit("kconfig: %s: fix the lines above, or run a "
                     "<board>_defconfig target again" % strict_file)
    return kconf


def write_atomic(kconf, path, writer):
    """Write through a temporary file; leave an unchanged file untouched so
    that make does not see a newer configuration than it has."""
    fd, tmp = tempfile.mkstemp(prefix=os.path.basename(path) + ".",
                               dir=os.path.dirname(os.path.abspath(path)))
    os.close(fd)
    writer(tmp)
    try:
        with open(tmp, "rb") as new, open(path, "rb") as old:
            if new.read() == old.read():
                os.unlink(tmp)
                return
    except OSError:
        pass
    os.replace(tmp, path)


def main(argv):
    if len(argv) < 2:
        sys.exit(__doc__)
    cmd = argv[1]
    config = os.environ.get("KCONFIG_CONFIG", ".config")
    if cmd == "defconfig":
        kconf = load(argv[2])
        os.makedirs(os.path.dirname(os.path.abspath(config)), exist_ok=True)
        write_atomic(kconf, config, lambda p: kconf.write_config(
            p, header="# Bulkhead configuration, made from %s\n" % argv[2]))
    elif cmd == "olddefconfig":
        kconf = load(config)
        write_atomic(kconf, config, lambda p: kconf.write_config(
            p, header="# Bulkhead configuration\n"))
    elif cmd == "savedefconfig":
        kconf = load(config)
        write_atomic(kconf, argv[2], kconf.write_min_config)
        print("wrote %s" % argv[2])
    elif cmd == "header":
        kconf = load(config)
        write_atomic(kconf, argv[2], lambda p: kconf.write_autoconf(
            p, header="/* Generated from %s: do not edit. */\n" % config))
    elif cmd == "menuconfig":
        import menuconfig
        set_env()
        menuconfig.menuconfig(kconfiglib.Kconfig("Kconfig"))
    else:
        sys.exit("kconfig: unknown command '%s'\n%s" % (cmd, __doc__))


if __name__ == "__main__":
    main(sys.argv)
