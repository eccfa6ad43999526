#!/usr/bin/python3
"""The firmware enforces Secure Boot on disk.img with the build's keys.

test_disk.py checks the signatures on the host (sbverify); this test lets
UEFI firmware (OVMF / AAVMF) check them. It proves, on a copy of disk.img:
1. systemd-boot enrolls the TEST-ONLY PK, KEK and db from
   /loader/keys/auto (`secure-boot-enroll force`) into firmware in setup
   mode, resets, and the image then boots to init's `ready` with the kernel
   reporting Secure Boot enabled. An image built with
   BH_SECURE_BOOT_ENROLL=y carries those files itself (the test puts
   nothing there), and then bhd removes them in that boot: after it the
   ESP holds no .auth file;
2. an unsigned UKI and 3. a UKI signed with another key are refused by the
   firmware (systemd-boot's LoadImage: Access Denied), no kernel starts;
4. an unsigned systemd-boot is refused by the firmware itself;
5. the original signed files boot again (the refusals came from the
   signatures, not from a broken disk).
With BH_SECURE_BOOT_ENROLL=y, also:
6. a fresh variable store (setup mode again) with the disk that booted:
   nothing is enrolled, the kernel reports Secure Boot disabled;
7. a boot with Secure Boot off (setup mode, systemd-boot told not to
   enrol): bhd keeps the files;
8. a key set from `bhpack keys` (its .auth files on the ESP, systemd-boot
   and the UKI re-signed with its db key) is enrolled the same way and the
   image boots with Secure Boot enabled.

Debug configurations only (the other profile has the same boot chain and
keys). Environment: BH_OUTPUT, the O folder of a built image;
BH_TESTS_OUTPUT, scratch space (optional).
"""
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap  # noqa: E402
from qemu import Machine  # noqa: E402
import disk_image  # noqa: E402
import image  # noqa: E402

t = Tap()
out = os.environ["BH_OUTPUT"]
cfg = image.config(out)
arch = cfg["BH_ARCH"]
top = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..")
keys = os.path.join(top, "board", "common", "keys", "TEST-ONLY-secureboot")
cert = cfg.get("BH_SECURE_BOOT_CERT", "board/common/keys/TEST-ONLY-secureboot/db.crt")
if not cert.startswith("/"):
    cert = os.path.join(top, cert)
# BH_SECURE_BOOT_ENROLL: the image's ESP carries the .auth files of this
# folder, and bhd removes them once Secure Boot is on.
enrols = cfg.get("BH_SECURE_BOOT_ENROLL") == "y"
enrol_dir = cfg.get("BH_SECURE_BOOT_ENROLL_DIR", "board/common/keys/TEST-ONLY-secureboot")
if not enrol_dir.startswith("/"):
    enrol_dir = os.path.join(top, enrol_dir)

if cfg["BH_PROFILE"] != "debug":
    t.skip("the firmware enforces Secure Boot on disk.img",
           "the debug image of this board runs it (same boot chain, same keys)")
    t.done()
if os.path.realpath(cert) != os.path.realpath(os.path.join(keys, "db.crt")):
    # The enrolled db must be the certificate the image is signed with.
    t.skip("the firmware enforces Secure Boot on disk.img",
           "BH_SECURE_BOOT_CERT is not the TEST-ONLY key, whose PK/KEK/db .auth files this test enrolls")
    t.done()

began = time.monotonic()
scratch = tempfile.mkdtemp(prefix="bh-secureboot-", dir=os.environ.get("BH_TESTS_OUTPUT"))
disk = os.path.join(scratch, "disk.img")
subprocess.run(["cp", "--sparse=always", os.path.join(out, "images", "disk.img"), disk], check=True)
esp = disk_image.esp(disk)
boot_path = "::/EFI/BOOT/" + ("BOOTX64.EFI" if arch == "x86_64" else "BOOTAA64.EFI")


def mtools(*argv):
    return disk_image.mtools(disk, *argv)


def ukis():
    return disk_image.esp_ukis(disk)


def put(src, dst):
    mtools("mcopy", "-D", "o", src, dst)


def local(name):
    return os.path.join(scratch, name)


def unsigned(src, dst):
    """A copy of src without its signature."""
    shutil.copy(src, dst)
    subprocess.run(["sbattach", "--remove", dst], check=True, capture_output=True)
    return dst


# The signed originals, kept to put back.
uki_names = ukis()
for n in uki_names:
    mtools("mcopy", "-n", "::/EFI/Linux/" + n, local(n))
mtools("mcopy", "-n", boot_path, local("boot.efi"))


def put_ukis(make):
    """Replace every UKI on the ESP (a fresh disk has one, slot A's) by
    make(signed original) under its original name: no signed entry is left
    for systemd-boot to fall back to."""
    for n in ukis():
        mtools("mdel", "::/EFI/Linux/" + n)
    for n in uki_names:
        put(make(local(n)), "::/EFI/Linux/" + n)


# --- the machine ---------------------------------------------------------------
# OVMF_CODE_4M.fd, the build without SMM, enforces Secure Boot once PK/KEK/db
# are set and boots fast under TCG; but any code in the guest could rewrite
# its variable store. A real product uses the SMM build
# (OVMF_CODE_4M.secboot.fd with -M q35,smm=on and the pflash "secure"
# property), where only the firmware's SMM code writes the variables. The
# fresh variable stores of both OVMF_VARS_4M.fd and AAVMF_VARS.fd hold no
# keys: setup mode, in which systemd-boot may enroll ours.
if arch == "x86_64":
    fw_code, fw_vars = "/usr/share/OVMF/OVMF_CODE_4M.fd", "/usr/share/OVMF/OVMF_VARS_4M.fd"
    qemu, machine = "qemu-system-x86_64", "-M q35"
else:
    # acpi=off: the kernel has no ACPI and needs the device tree.
    fw_code, fw_vars = "/usr/share/AAVMF/AAVMF_CODE.fd", "/usr/share/AAVMF/AAVMF_VARS.fd"
    qemu, machine = "qemu-system-aarch64", "-M virt,virtualization=on,gic-version=3,acpi=off"
code, vars_fd = local("code.fd"), local("vars.fd")
shutil.copy(fw_code, code)
accel = os.environ.get("BULKHEAD_ACCEL") or (
    "kvm" if platform.machine() == arch and os.access("/dev/kvm", os.R_OK | os.W_OK)
    and not os.path.isdir("/sys/module/kvm_pvm") else "tcg")
# The devices of board/*/qemu-disk.args, without port forwards.
images = local("images")
os.mkdir(images)
with open(os.path.join(images, "start-sb.sh"), "w") as f:
    f.write("#!/bin/sh\nexec %s %s %s -m 1024 -smp 2 -nographic"
            " -drive if=pflash,format=raw,unit=0,readonly=on,file=%s"
            " -drive if=pflash,format=raw,unit=1,file=%s"
            " -drive file=%s,if=none,id=disk,format=raw -device virtio-blk-pci,drive=disk"
            " -device i6300esb -action watchdog=reset"
            " -netdev user,id=net0 -device virtio-net-pci,netdev=net0,romfile="
            " -device virtio-rng-pci \"$@\"\n"
            % (qemu, "-accel kvm -cpu host" if accel.startswith("kvm") else "-accel tcg,thread=multi -cpu max",
               machine, shlex.quote(code), shlex.quote(vars_fd), shlex.quote(disk)))
os.chmod(os.path.join(images, "start-sb.sh"), 0o755)

KERNEL = r"EFI stub: |Linux version "
# Once the keys are enrolled, systemd-boot enrolls again only if the
# firmware lost them (setup mode): then nothing is enforced.
ENROLL = r"Enrolling secure boot keys from directory: \\loader\\keys\\auto"
SB_ON = r"secureboot: Secure boot enabled"


def boot(label, name, check, extra=("-no-reboot",), more=()):
    """Boot the copy once; check(m) is one TAP line, and so is each
    (name, check) of more, run after it in the same boot. Returns
    check's result."""
    start = time.monotonic()
    with Machine(images, list(extra), log_path=os.path.join(out, "e2e-secureboot.log"),
                 script="start-sb.sh") as m:
        m.log.write(("\n=== test_secureboot: %s\n" % label).encode())
        ok = t.run(name, check, m)
        for more_name, more_check in more:
            if ok:
                t.run(more_name, more_check, m)
            else:
                t.ok(False, more_name, "not run: the check before it failed")
        t.diag("%s: QEMU start to the end of the check %.1f s" % (label, time.monotonic() - start))
    return ok


# bhd's line once it removed the files (firmware/bhd/secure_boot_enrol.c).
REMOVED = r"bhd: secure boot: on \(SecureBoot 1, SetupMode 0\): removed the enrolled key files ([^\r\n]*) from"


def files_removed(m):
    # Before or after init's ready line: searched from the start (one
    # kernel ran in this QEMU).
    hit = m.expect(REMOVED, 120, since=0)
    names = hit.group(1).decode().split()
    return names[:1] == ["PK.auth"] and sorted(names) == ["KEK.auth", "PK.auth", "db.auth"], \
        "bhd removed %s (PK.auth first, then KEK.auth and db.auth)" % names


def auth_files():
    """The .auth files anywhere under the ESP's /loader."""
    listing = mtools("mdir", "-/", "-b", "::/loader")
    return sorted(os.path.basename(l.strip()) for l in listing.splitlines() if l.strip().lower().endswith(".auth"))


def ready_with_secure_boot(m, since=None):
    m.expect(r"Linux version ", 240, since=since)
    m.expect(r"init: ready: ", 180)
    sb = re.findall(r"secureboot: [^\r\n]*", m.text())
    return set(sb) == {SB_ON}, "the kernel reports %s" % (sb or "nothing about Secure Boot")


def uki_refused(m):
    # systemd-boot asks the firmware to load the UKI (LoadImage), which
    # refuses it; systemd-boot then returns to the firmware.
    hit = m.expect(r"Error loading \\EFI\\Linux\\bulkhead-[^\r\n]*: Access Denied|%s|%s" % (KERNEL, ENROLL), 240)
    if not hit.group(0).startswith(b"Error loading"):
        return False, "a kernel was started or the firmware is in setup mode; console ends with:\n" + m.tail()
    m.expect(r"BdsDxe: failed to start Boot\d+ [^\r\n]*: Access Denied", 60)
    if re.search(KERNEL, m.text()):
        return False, "a kernel was started; console ends with:\n" + m.tail()
    return True


def loader_refused(m):
    # The firmware's boot manager refuses the boot loader itself: nothing of
    # systemd-boot or the kernel runs.
    hit = m.expect(r"BdsDxe: failed to (?:load|start) Boot\d+ [^\r\n]*: Access Denied|Error loading|%s|%s"
                   % (KERNEL, ENROLL), 240)
    if not hit.group(0).startswith(b"BdsDxe") or re.search("Error loading|%s|%s" % (KERNEL, ENROLL), m.text()):
        return False, "systemd-boot or a kernel ran; console ends with:\n" + m.tail()
    return True


def control(m):
    hit = m.expect("%s|%s" % (KERNEL, ENROLL), 240)
    if hit.group(0).startswith(b"Enrolling"):
        return False, "the firmware is in setup mode again; console ends with:\n" + m.tail()
    return ready_with_secure_boot(m, since=hit.start())


# --- 1. enrollment -----------------------------------------------------------------
def enroll(m):
    hit = m.expect(ENROLL + "|" + KERNEL, 180)
    if not hit.group(0).startswith(b"Enrolling"):
        return False, "systemd-boot did not enroll the keys, a kernel started; console ends with:\n" + m.tail()
    # systemd-boot resets the machine after writing PK (last); the next
    # boot runs with Secure Boot on.
    return ready_with_secure_boot(m)


conf = mtools("mtype", "::/loader/loader.conf")
if enrols:
    # The image's own ESP holds the files and the loader.conf line: the
    # test puts nothing there.
    same = []
    for k in ("PK", "KEK", "db"):
        try:
            mtools("mcopy", "-n", "::/loader/keys/auto/%s.auth" % k, local("esp-%s.auth" % k))
            with open(local("esp-%s.auth" % k), "rb") as a, open(os.path.join(enrol_dir, k + ".auth"), "rb") as b:
                same.append(a.read() == b.read())
        except RuntimeError as e:
            t.diag(str(e))
            same.append(False)
    t.ok(all(same) and "\nsecure-boot-enroll force\n" in "\n" + conf,
         "BH_SECURE_BOOT_ENROLL: disk.img's ESP holds PK.auth, KEK.auth and db.auth of "
         "BH_SECURE_BOOT_ENROLL_DIR in /loader/keys/auto and loader.conf says secure-boot-enroll force",
         "same content: %s; loader.conf:\n%s" % (same, conf))
else:
    for d in ("::/loader/keys", "::/loader/keys/auto"):
        if subprocess.run(["mdir", "-i", esp, d], capture_output=True).returncode != 0:
            mtools("mmd", d)
    for k in ("PK", "KEK", "db"):
        put(os.path.join(keys, k + ".auth"), "::/loader/keys/auto/%s.auth" % k)
    with open(local("loader.conf"), "w") as f:
        f.write(conf.rstrip("\n") + "\nsecure-boot-enroll force\n")
    put(local("loader.conf"), "::/loader/loader.conf")
shutil.copy(fw_vars, vars_fd)
# No -no-reboot: the enrollment resets the machine.
enrolled = boot("enrollment", "enrollment: systemd-boot enrolls the TEST-ONLY PK/KEK/db %sin setup mode, resets, "
                "the image boots to init ready with Secure Boot enabled"
                % ("from the image's own ESP " if enrols else ""), enroll, extra=(),
                more=[("bhd then removes PK.auth, then KEK.auth and db.auth from the ESP, and says so",
                       files_removed)] if enrols else ())
# Stopped while Linux ran: the firmware was not writing the store.
enrolled_vars = local("vars-enrolled.fd")
shutil.copy(vars_fd, enrolled_vars)
if enrols:
    left = auth_files()
    t.ok(enrolled and not left and subprocess.run(["mdir", "-i", esp, "::/loader/keys"],
                                                   capture_output=True).returncode != 0,
         "after that boot the ESP holds no .auth file and no /loader/keys (read from the disk after QEMU exited)",
         "left: %s" % left)

cases = [
    ("unsigned UKI", "an unsigned UKI is refused by the firmware (Access Denied), no kernel starts",
     lambda: put_ukis(lambda f: unsigned(f, f + ".unsigned")), uki_refused),
    ("UKI signed with another key",
     "a UKI signed with another key is refused by the firmware (Access Denied), no kernel starts",
     lambda: put_ukis(other_signed), uki_refused),
    ("unsigned systemd-boot",
     "an unsigned systemd-boot is refused by the firmware: neither systemd-boot nor a kernel runs",
     lambda: (put_ukis(lambda f: f), put(unsigned(local("boot.efi"), local("boot.unsigned")), boot_path)),
     loader_refused),
    ("control", "control: the signed originals put back boot to init ready with Secure Boot enabled",
     lambda: (put_ukis(lambda f: f), put(local("boot.efi"), boot_path)), control),
]


def other_signed(f):
    """f re-signed with a throwaway key the firmware's db does not hold."""
    key, crt = local("other.key"), local("other.crt")
    if not os.path.exists(crt):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1",
                        "-subj", "/CN=Bulkhead throwaway test key", "-keyout", key, "-out", crt],
                       check=True, capture_output=True)
    subprocess.run(["sbsign", "--key", key, "--cert", crt, "--output", f + ".other",
                    unsigned(f, f + ".unsigned")], check=True, capture_output=True)
    # Signed, just not by a key of db.
    assert subprocess.run(["sbverify", "--cert", crt, f + ".other"], capture_output=True).returncode == 0
    assert subprocess.run(["sbverify", "--cert", cert, f + ".other"], capture_output=True).returncode != 0
    return f + ".other"


for label, name, prepare, check in cases:
    if not enrolled:
        t.ok(False, name, "not run: the keys were not enrolled (case 1)")
        continue
    try:
        # Every case starts from the variable store as the enrollment left
        # it: QEMU is stopped while the firmware may be writing variables
        # (it tries the next boot options), and a store damaged that way
        # once came back empty (setup mode) on AAVMF.
        shutil.copy(enrolled_vars, vars_fd)
        prepare()
    except Exception as e:  # a broken tool must not hide the other cases
        t.ok(False, name, "preparing the ESP: %s: %s" % (type(e).__name__, e))
        continue
    boot(label, name, check)


# --- 6.-8. first-boot enrolment (BH_SECURE_BOOT_ENROLL) ---------------------------
def nothing_enrolled(m):
    hit = m.expect("%s|%s" % (KERNEL, ENROLL), 240)
    if hit.group(0).startswith(b"Enrolling"):
        return False, "systemd-boot enrolled keys again; console ends with:\n" + m.tail()
    m.expect(r"init: ready: ", 180)
    sb = re.findall(r"secureboot: [^\r\n]*", m.text())
    return set(sb) == {"secureboot: Secure boot disabled"}, "the kernel reports %s" % (sb or "nothing")


KEPT = r"bhd: secure boot: off \(SecureBoot 0, SetupMode 1\): the 3 key files in the ESP's /loader/keys/auto are kept"


def files_kept(m):
    linux = m.expect(r"Linux version ", 240)
    m.expect(KEPT, 180, since=linux.start())
    m.expect(r"init: ready: ", 180, since=linux.start())
    sb = re.findall(r"secureboot: [^\r\n]*", m.text())
    return set(sb) == {"secureboot: Secure boot disabled"} and not re.search(ENROLL, m.text()), \
        "the kernel reports %s" % (sb or "nothing")


def fresh_disk():
    subprocess.run(["cp", "--sparse=always", os.path.join(out, "images", "disk.img"), disk], check=True)


def resigned(f, key, crt):
    """f signed with key/crt instead of the build's db key."""
    subprocess.run(["sbsign", "--key", key, "--cert", crt, "--output", f + ".vendor",
                    unsigned(f, f + ".unsigned")], check=True, capture_output=True)
    return f + ".vendor"


if not enrols:
    for name in ("a fresh variable store after the removal enrolls nothing",
                 "with Secure Boot off bhd keeps the files", "a bhpack keys set is enrolled"):
        t.skip(name, "BH_SECURE_BOOT_ENROLL is not set in this configuration")
else:
    # 6. The firmware loses its keys (a fresh store: setup mode) after the
    # removal: the disk that booted has nothing left to enrol.
    if not enrolled:
        t.ok(False, "a fresh variable store after the removal enrolls nothing", "not run: no enrollment (case 1)")
    else:
        shutil.copy(fw_vars, vars_fd)
        boot("setup mode after removal", "a fresh variable store (setup mode) with the disk that booted: systemd-boot "
             "enrolls nothing, the kernel reports Secure Boot disabled", nothing_enrolled)
    # 7. Secure Boot off, files there: a fresh disk.img in setup mode, its
    # loader.conf without secure-boot-enroll so that systemd-boot leaves
    # the firmware in setup mode (as on firmware that does not enrol).
    fresh_disk()
    with open(local("loader-noenroll.conf"), "w") as f:
        f.write("".join(l for l in conf.splitlines(True) if not l.startswith("secure-boot-enroll")))
    put(local("loader-noenroll.conf"), "::/loader/loader.conf")
    shutil.copy(fw_vars, vars_fd)
    boot("Secure Boot off", "Secure Boot off (setup mode, no enrollment): bhd keeps the files and says so", files_kept)
    left = auth_files()
    t.ok(left == ["KEK.auth", "PK.auth", "db.auth"],
         "after a boot with Secure Boot off the ESP still holds PK.auth, KEK.auth and db.auth", "left: %s" % left)
    # 8. A vendor's key set made by bhpack keys.
    bhpack = os.path.join(out, "host", "bin", "bhpack")
    vk = local("vendor-keys")
    p = subprocess.run([bhpack, "keys", "--dir", vk, "--name", "Bulkhead e2e vendor"], capture_output=True, text=True)
    if p.returncode != 0:
        t.ok(False, "a bhpack keys set is enrolled and the image re-signed with its db key boots with "
             "Secure Boot enabled", "bhpack keys: %s" % (p.stdout + p.stderr))
    else:
        sb = os.path.join(vk, "secureboot")
        fresh_disk()
        put_ukis(lambda f: resigned(f, os.path.join(sb, "db.key"), os.path.join(sb, "db.crt")))
        put(resigned(local("boot.efi"), os.path.join(sb, "db.key"), os.path.join(sb, "db.crt")), boot_path)
        for k in ("PK", "KEK", "db"):
            put(os.path.join(sb, k + ".auth"), "::/loader/keys/auto/%s.auth" % k)
        shutil.copy(fw_vars, vars_fd)
        boot("bhpack keys", "a bhpack keys set is enrolled from the ESP, and the image re-signed with its db key "
             "boots to init ready with Secure Boot enabled", enroll, extra=(),
             more=[("... and bhd removes that set's files", files_removed)])

t.diag("test_secureboot: %.1f s in all" % (time.monotonic() - began))
shutil.rmtree(scratch, ignore_errors=True)
t.done()
