"""A disk image on the build host (disk.img or a copy of it): its GPT
partitions, its ESP through mtools, and the one-bit damage tests do to an
image or an update file to see it refused."""
import json
import os
import subprocess


def partitions(disk):
    """{GPT partition name: sfdisk's entry (start and size in sectors,
    node, uuid, ...)}; RuntimeError when sfdisk cannot read the disk."""
    p = subprocess.run(["sfdisk", "-J", disk], capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("sfdisk -J %s: %s" % (disk, (p.stdout + p.stderr).strip()))
    return {q.get("name"): q for q in json.loads(p.stdout)["partitiontable"]["partitions"]}


def esp(disk):
    """The ESP as mtools names it: DISK@@OFFSET."""
    return "%s@@%d" % (disk, partitions(disk)["bulkhead-esp"]["start"] * 512)


def mtools(disk, tool, *args):
    """Runs an mtools command (mdir, mcopy, mtype, ...) on the disk's ESP;
    its output, or RuntimeError with what it said."""
    p = subprocess.run([tool, "-i", esp(disk)] + list(args), capture_output=True, text=True)
    if p.returncode != 0:
        raise RuntimeError("%s %s: %s" % (tool, " ".join(args), p.stdout + p.stderr))
    return p.stdout


def esp_ukis(disk):
    """The UKIs in the ESP's /EFI/Linux, by name, sorted. systemd-boot
    renames an entry when it counts a try, so they are read afresh."""
    return sorted(os.path.basename(l.strip()) for l in mtools(disk, "mdir", "-b", "::/EFI/Linux").splitlines()
                  if l.strip().endswith(".efi"))


def flip_byte(path, offset):
    """Changes one bit of the byte at offset of the file, in place."""
    with open(path, "r+b") as f:
        f.seek(offset)
        b = f.read(1)
        f.seek(offset)
        f.write(bytes([b[0] ^ 0x01]))


def flipped(data, offset):
    """A copy of data with one bit of the byte at offset changed."""
    c = bytearray(data)
    c[offset] ^= 0x01
    return c
