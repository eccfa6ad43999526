"""Facts about a built image that the end-to-end tests compare against."""
import os
import re
import struct
import subprocess


def config(out):
    """The BH_ symbols of O/.config as a dict of strings."""
    cfg = {}
    with open(os.path.join(out, ".config")) as f:
        for line in f:
            m = re.match(r'(BH_\w+)=(?:"(.*)"|(.*))$', line.strip())
            if m:
                cfg[m.group(1)] = m.group(2) if m.group(2) is not None else m.group(3)
    return cfg


def kernel_name(cfg):
    return "bzImage" if cfg["BH_ARCH"] == "x86_64" else "Image"


def kernel_version_string(path, arch):
    """The version string a kernel image carries: x86 bzImages point to it
    from the setup header (boot protocol field kernel_version at 0x20e);
    an ARM64 Image is uncompressed and holds the banner itself."""
    data = open(path, "rb").read()
    if arch == "x86_64":
        if data[0x202:0x206] != b"HdrS":
            raise ValueError("%s is not a bzImage (no HdrS)" % path)
        off = struct.unpack_from("<H", data, 0x20E)[0] + 0x200
        return data[off:data.index(b"\0", off)].decode()
    m = re.search(rb"Linux version ([^\n\0]+)", data)
    if not m:
        raise ValueError("%s holds no Linux version banner" % path)
    return m.group(1).decode()


def expected_version():
    top = os.path.join(os.path.dirname(__file__), "..", "..")
    return os.environ.get("BH_VERSION") or subprocess.run(
        ["git", "-C", top, "describe", "--always", "--dirty", "--abbrev=12"],
        capture_output=True, text=True).stdout.strip()


def make_vars(out, *names):
    """Values of the build's make variables for the configuration in out."""
    top = os.path.join(os.path.dirname(__file__), "..", "..")
    p = subprocess.run(["make", "-s", "--no-print-directory", "-C", top, "O=" + out, "printvars",
                        "VARS=" + " ".join(names)], capture_output=True, text=True, check=True)
    return dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)


def kernel_config(out):
    """The kernel .config the image's kernel was built with, as a dict."""
    prefix = make_vars(out, "LINUX_PREFIX")["LINUX_PREFIX"]
    conf = {}
    with open(os.path.join(prefix, "config")) as f:
        for line in f:
            m = re.match(r"(CONFIG_\w+)=(.*)", line)
            if m:
                conf[m.group(1)] = m.group(2)
    return conf
