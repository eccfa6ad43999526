#!/usr/bin/python3
"""Boot a built image with its own start-qemu-kernel.sh (start-qemu.sh, through
the firmware, on a board without a direct kernel boot) and check what a user would:
the kernel is the one we built, our init is PID 1, the root is read-only,
the boot-complete line names this firmware, board and kernel, and an image
built with BH_ALLOW_TEST_KEYS says "TEST KEYS: not for shipping" (and
VARIANT="TEST KEYS" in its os-release).

Environment: BH_OUTPUT, the O folder of a configured and built image.
"""
import os
import re
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap  # noqa: E402
from qemu import Machine  # noqa: E402
from ports import free_port  # noqa: E402
import image  # noqa: E402

t = Tap()
out = os.environ["BH_OUTPUT"]
cfg = image.config(out)
images = os.path.join(out, "images")
kimage = os.path.join(images, image.kernel_name(cfg))

# The version string inside the kernel image we built, to compare with the
# banner the booted kernel prints.
built = image.kernel_version_string(kimage, cfg["BH_ARCH"])
t.ok(built.startswith("6.12."), "built kernel image carries a 6.12 version string", built)



def accepts(port):
    """QEMU's user network accepts on a forwarded host port at once, before
    the guest answers; nothing else listens on a port we just found free."""
    try:
        socket.create_connection(("127.0.0.1", port), timeout=5).close()
        return True
    except OSError:
        return False


# BULKHEAD_HOSTFWD as the README writes it (plain ports) and in QEMU's own
# syntax, side by side: QEMU refuses a bad rule and exits at once.
plain, rule = free_port(), free_port()
fwd = "%d,tcp:127.0.0.1:%d-:8081" % (plain, rule)
with Machine(images, log_path=os.path.join(out, "e2e-boot.log"),
             env=dict(os.environ, BULKHEAD_HOSTFWD=fwd)) as m:
    banner = m.expect(r"Linux version ([^\r\n]+)\r?\n", 240).group(1).decode()
    # x86 stores "release (user@host) #version" in the bzImage header; the
    # banner adds the compiler between them, so compare release and build.
    rel, build = built.split(" ", 1)[0], built.rsplit(")", 1)[-1].strip()
    t.ok(banner.startswith(rel + " ") and banner.endswith(build),
         "booted kernel is the one built (%s)" % rel, "banner: %s\nimage: %s" % (banner, built))
    t.run("root is squashfs, mounted read-only by the kernel",
          m.expect, r"VFS: Mounted root \(squashfs filesystem\) readonly", 120)
    t.run("kernel starts /sbin/init", m.expect, r"Run /sbin/init as init process", 60)
    t.ok(accepts(plain), "BULKHEAD_HOSTFWD: a plain port number (%d) is forwarded" % plain)
    t.ok(accepts(rule), "BULKHEAD_HOSTFWD: a QEMU hostfwd rule (%s) is forwarded" % fwd)
    line = m.expect(r"init: bulkhead boot complete: ([^\r\n]+)\r?\n", 120).group(1).decode()
    fields = dict(re.findall(r"(firmware|board|profile|kernel|pid|root) ([^,]+)", line))
    t.ok(fields.get("firmware") == image.expected_version(),
         "boot line names this firmware version", line)
    t.ok(fields.get("board") == cfg["BH_BOARD_NAME"], "boot line names the board", line)
    t.ok(fields.get("profile") == cfg["BH_PROFILE"], "boot line names the profile", line)
    t.ok(fields.get("kernel") == rel, "boot line names the running kernel", line)
    t.ok(fields.get("pid") == "1", "our init runs as PID 1", line)
    t.ok(fields.get("root") == "read-only", "init sees / read-only", line)
    # The TEST-ONLY keys mark the image (rootfs/keys.mk, docs/vendor.md).
    test_keys = cfg.get("BH_ALLOW_TEST_KEYS") == "y"
    with open(os.path.join(out, "build", "rootfs", "etc", "os-release")) as f:
        os_release = f.read()
    t.ok(('VARIANT="TEST KEYS"\n' in os_release) == test_keys,
         "os-release says VARIANT=\"TEST KEYS\" exactly when BH_ALLOW_TEST_KEYS=y (%s)" % test_keys,
         os_release)
    if test_keys:
        said = m.expect(r"init: (TEST KEYS: not for shipping[^\r\n]*)\r?\n", 30).group(1).decode()
        t.ok(said.startswith("TEST KEYS: not for shipping"), "init says TEST KEYS: not for shipping", said)
    else:
        t.skip("init says TEST KEYS", "BH_ALLOW_TEST_KEYS is off: no such line (its absence is not "
               "waited for)")

    if cfg["BH_PROFILE"] == "debug":
        # Independent of init's own report: ask the kernel through the shell.
        m.send("\n")
        m.expect(r"# ", 60)
        st, comm = m.shell("cat /proc/1/comm")
        t.ok(st == 0 and comm == "init", "/proc/1/comm is init", comm)
        st, exe = m.shell("readlink /proc/1/exe")
        t.ok(exe == "/sbin/init", "PID 1 executes /sbin/init", exe)
        st, opts = m.shell("awk '$2 == \"/\" { print $3, $4 }' /proc/mounts")
        t.ok(opts.startswith("squashfs ro"), "/proc/mounts has / as squashfs ro", opts)
        st, err = m.shell("touch /probe-write")
        t.ok(st != 0 and "Read-only file system" in err, "writing to / fails", err)
    m.qmp("quit")
    t.ok(m.wait_exit(30) == 0, "QEMU stops on request, with status 0")
t.done()
