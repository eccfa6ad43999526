#!/usr/bin/python3
"""Finds the TEST-ONLY keys among the keys a build uses (rootfs/keys.mk).

usage: test-keys.py --list TEST-ONLY-keys.sha256 --allow y|n SYMBOL=PATH...

A key is recognised by the SHA-256 of its public key (DER
SubjectPublicKeyInfo), computed with openssl from a private key, a public
key, a certificate or the certificates of a UEFI .auth file
(support/efi_auth.py, BH_SECURE_BOOT_ENROLL_DIR) alike: a copy of a test
key under another name is still a test key. Prints "refused" on stdout when a test key is used and
--allow is not y, after the reason and the way out on stderr; prints the
symbols that name a test key, with --allow y, as "allowed SYMBOL...". An
unreadable key file is an error (exit status 1).
"""
import argparse
import hashlib
import os
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import efi_auth  # noqa: E402


def public_keys_der(path):
    """The public keys of a PEM key or certificate (one) or of a .auth
    file (one per certificate), as DER."""
    with open(path, "rb") as f:
        data = f.read()
    if efi_auth.is_auth(data):
        return [public_key_der(c, der=True) for c in efi_auth.certificates(data)]
    return [public_key_der(data)]


def public_key_der(pem, der=False):
    """The public key of a PEM key or certificate (or a DER certificate),
    as DER."""
    if der or b"-----BEGIN CERTIFICATE-----" in pem:
        r = subprocess.run(["openssl", "x509", "-noout", "-pubkey"] + (["-inform", "DER"] if der else []),
                           input=pem, capture_output=True)
        if r.returncode != 0:
            raise ValueError(r.stderr.decode(errors="replace").strip())
        pem = r.stdout
    public = b"-----BEGIN PUBLIC KEY-----" in pem
    # -passin: an encrypted key is an error, never a password prompt.
    r = subprocess.run(["openssl", "pkey", "-passin", "pass:", "-outform", "DER"]
                       + (["-pubin"] if public else ["-pubout"]), input=pem,
                       capture_output=True)
    if r.returncode != 0 or not r.stdout:
        said = r.stderr.decode(errors="replace").strip().splitlines()
        raise ValueError(said[0] if said else "no key in it")
    return r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--list", required=True)
    ap.add_argument("--allow", default="n")
    ap.add_argument("keys", nargs="*", metavar="SYMBOL=PATH")
    args = ap.parse_args()

    known = {}
    with open(args.list) as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                digest, name = line.split()
                known[digest] = name

    found, errors = [], []
    for arg in args.keys:
        symbol, path = arg.split("=", 1)
        try:
            digests = [hashlib.sha256(k).hexdigest() for k in public_keys_der(path)]
        except FileNotFoundError:
            continue  # said by the rule that needs it, with its symbol
        except (OSError, ValueError) as e:
            errors.append("%s: %s is not a key or certificate openssl can read: %s"
                          % (symbol, path, e))
            continue
        found += [(symbol, path, known[d], d) for d in digests if d in known]
    if errors:
        print("\n".join(errors), file=sys.stderr)
        return 1
    if not found:
        return 0
    if args.allow == "y":
        print("allowed " + " ".join(sorted({s for s, _, _, _ in found})))
        return 0
    lines = ["error: this build uses TEST-ONLY keys, whose private halves are published in"
             " board/common/keys:"]
    for symbol, path, name, digest in found:
        lines.append("  %s: %s is %s (key id %s)" % (symbol, path, name, digest[:32]))
    lines += [
        "Anyone can sign for an image that trusts them, or is signed by them. Make your own",
        "key set outside this tree, keep it offline, and point the configuration at it",
        "(docs/vendor.md):",
        "    make keys DIR=/path/to/vendor-keys",
        "and set, with make menuconfig or in your defconfig:",
        '    BH_TRUSTED_KEYS="/path/to/vendor-keys/workload.pub.pem"',
        '    BH_WORKLOAD_SIGNING_KEY="/path/to/vendor-keys/workload.key.pem"',
        '    BH_UPDATE_TRUSTED_KEYS="/path/to/vendor-keys/update.pub.pem"',
        '    BH_UPDATE_SIGNING_KEY="/path/to/vendor-keys/update.key.pem"',
        '    BH_STATE_TRUSTED_KEYS="/path/to/vendor-keys/state.pub.pem"',
        '    BH_SECURE_BOOT_KEY="/path/to/vendor-keys/secureboot/db.key"',
        '    BH_SECURE_BOOT_CERT="/path/to/vendor-keys/secureboot/db.crt"',
    ]
    if any(s == "BH_SECURE_BOOT_ENROLL_DIR" for s, _, _, _ in found):
        lines.append('    BH_SECURE_BOOT_ENROLL_DIR="/path/to/vendor-keys/secureboot"')
    lines += [
        "A test image only may use them with BH_ALLOW_TEST_KEYS=y, which marks it",
        '"TEST KEYS" (os-release VARIANT and a line at every boot). The QEMU boards\'',
        "defconfigs set it: an O folder configured before it existed needs its",
        "make <board>_defconfig again.",
    ]
    print("\n".join(lines), file=sys.stderr)
    print("refused")
    return 0


if __name__ == "__main__":
    sys.exit(main())
