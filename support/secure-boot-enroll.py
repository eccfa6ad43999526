#!/usr/bin/python3
"""Checks the Secure Boot keys an image enrols on first boot
(BH_SECURE_BOOT_ENROLL, rootfs/keys.mk) before anything is built.

usage: secure-boot-enroll.py --cert BH_SECURE_BOOT_CERT DIR

DIR (BH_SECURE_BOOT_ENROLL_DIR) must hold PK.auth, KEK.auth and db.auth,
each a UEFI .auth file of X.509 certificates (support/efi_auth.py), and
db.auth must hold the certificate the image is signed with: otherwise the
firmware would enrol a db that refuses the image's own systemd-boot, and
the device would never boot again. Prints the reason on stderr and exits
1 when something is wrong.
"""
import argparse
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import efi_auth  # noqa: E402

FILES = ("PK.auth", "KEK.auth", "db.auth")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--cert", required=True)
    ap.add_argument("dir")
    args = ap.parse_args()

    certs = {}
    for name in FILES:
        path = os.path.join(args.dir, name)
        try:
            with open(path, "rb") as f:
                certs[name] = efi_auth.certificates(f.read())
        except OSError as e:
            print("BH_SECURE_BOOT_ENROLL_DIR: cannot read %s: %s (the folder needs PK.auth, KEK.auth "
                  "and db.auth: `make keys DIR=...` writes them in DIR/secureboot)"
                  % (path, e.strerror), file=sys.stderr)
            return 1
        except ValueError as e:
            print("BH_SECURE_BOOT_ENROLL_DIR: %s is not a UEFI .auth file of certificates: %s"
                  % (path, e), file=sys.stderr)
            return 1
    r = subprocess.run(["openssl", "x509", "-in", args.cert, "-outform", "DER"], capture_output=True)
    if r.returncode != 0 or not r.stdout:
        print("BH_SECURE_BOOT_CERT: %s is not a certificate openssl can read: %s"
              % (args.cert, r.stderr.decode(errors="replace").strip()), file=sys.stderr)
        return 1
    if r.stdout not in certs["db.auth"]:
        print("BH_SECURE_BOOT_ENROLL_DIR: %s does not hold BH_SECURE_BOOT_CERT %s, the certificate the "
              "image is signed with: the firmware would refuse the image once they are enrolled. Use "
              "the db.crt and db.key of the same key set" % (os.path.join(args.dir, "db.auth"), args.cert),
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
