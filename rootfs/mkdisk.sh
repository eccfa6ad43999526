#!/bin/bash
# mkdisk.sh - the verified A/B disk image of a Bulkhead build (rootfs/disk.mk).
#
#   rootfs/mkdisk.sh OUTDIR
#
# Inputs come from the environment (disk.mk sets every one):
#   ARCH            x86_64 | aarch64
#   KERNEL          the kernel image (bzImage / Image)
#   ROOTFS          rootfs.squashfs
#   SDBOOT STUB     systemd-boot and its UKI stub (firmware/packages/systemd-boot)
#   OBJCOPY         an objcopy that writes PE for ARCH
#   CMDLINE         the kernel command line without root= (console, hardening)
#   VERSION         the image version (os-release IMAGE_VERSION, UKI .osrel)
#   SEED            derives disk GUID, partition UUIDs and the FAT serial;
#                   constant per board, so that an update's UKI finds the
#                   partitions of a device flashed from an older image
#   SB_KEY SB_CERT  Secure Boot db key and certificate: sign systemd-boot and
#                   the UKIs
#   SB_ENROLL_DIR   optional (BH_SECURE_BOOT_ENROLL): the folder of PK.auth,
#                   KEK.auth and db.auth that systemd-boot enrols from
#                   firmware in setup mode (checked by rootfs/keys.mk)
#   HALT_INIT       the image's init (static): PID 1 of the halt entry's
#                   initramfs, which stops the machine when no slot is left
#   ESP_MIB SLOT_MIB DATA_MIB   partition sizes
#   SOURCE_DATE_EPOCH           every timestamp
#
# Writes into OUTDIR:
#   disk.img        GPT: bulkhead-esp | bulkhead-root-a | bulkhead-root-b |
#                   bulkhead-data. Slot A holds ROOTFS and its dm-verity hash
#                   tree, the ESP systemd-boot, slot A's UKI (boot counted,
#                   known good) and the halt entry. Slot B is empty (no UKI
#                   names it): the first update fills it.
#   disk.img.bmap   block map for bmaptool (every block that must be written)
#   slot.img        the slot payload: squashfs padded to 4 KiB + hash tree
#                   (the same bytes for either slot; an update carries it)
#   slot.env        its dm-verity parameters
#   uki-a.efi uki-b.efi   signed UKIs booting that payload from slot A / B
#   layout.txt      partition table and the values above
#
# Only unprivileged file operations: no loop devices, no mounts, no dm.
set -euo pipefail
OUT=${1:?usage: mkdisk.sh OUTDIR}
export TZ=UTC LC_ALL=C
: "${ARCH:?}" "${KERNEL:?}" "${ROOTFS:?}" "${SDBOOT:?}" "${STUB:?}" "${OBJCOPY:?}"
: "${CMDLINE:?}" "${VERSION:?}" "${SEED:?}" "${SB_KEY:?}" "${SB_CERT:?}" "${SOURCE_DATE_EPOCH:?}"
: "${HALT_INIT:?}"
ESP_MIB=${ESP_MIB:-64}
SLOT_MIB=${SLOT_MIB:-64}
DATA_MIB=${DATA_MIB:-256}

# Partition types: ESP; the Discoverable Partitions Specification's root
# type of the architecture for the slots (informational: the kernel finds a
# slot by PARTUUID); Linux filesystem data for /data.
TYPE_ESP=C12A7328-F81F-11D2-BA4B-00A0C93EC93B
TYPE_DATA=0FC63DAF-8483-4772-8E79-3D69D8477DE4
case $ARCH in
x86_64) TYPE_ROOT=4F68BCE3-E8CD-4DB1-96E7-FBCAF984B709; BOOTNAME=BOOTX64.EFI ;;
aarch64) TYPE_ROOT=B921B045-1DF0-41C3-AF44-4C6F280D3FAE; BOOTNAME=BOOTAA64.EFI ;;
*) echo "mkdisk: unknown ARCH $ARCH" >&2; exit 2 ;;
esac
SB_ENROLL_DIR=${SB_ENROLL_DIR:-}
ENROLL_FILES=()
[ -z "$SB_ENROLL_DIR" ] || ENROLL_FILES=("$SB_ENROLL_DIR/PK.auth" "$SB_ENROLL_DIR/KEK.auth" "$SB_ENROLL_DIR/db.auth")
for f in "$KERNEL" "$ROOTFS" "$SDBOOT" "$STUB" "$SB_KEY" "$SB_CERT" "$HALT_INIT" ${ENROLL_FILES[@]+"${ENROLL_FILES[@]}"}; do
	[ -r "$f" ] || { echo "mkdisk: missing input $f" >&2; exit 1; }
done

# --- deterministic identifiers -------------------------------------------------
hex64() { printf '%s/%s' "$SEED" "$1" | sha256sum | cut -c1-64; }
# An RFC 4122 version 4 shaped UUID from SEED and a name, upper case as
# sfdisk prints them.
uuid() {
	local h; h=$(hex64 "uuid/$1")
	local v=$(( (0x${h:16:1} & 0x3) | 0x8 ))
	printf '%s-%s-4%s-%x%s-%s\n' "${h:0:8}" "${h:8:4}" "${h:13:3}" "$v" "${h:17:3}" "${h:20:12}" |
		tr a-f A-F
}
DISK_GUID=$(uuid disk)
PU_ESP=$(uuid esp)
PU_A=$(uuid root-a)
PU_B=$(uuid root-b)
PU_DATA=$(uuid data)
FAT_SERIAL=$(hex64 fat-serial | cut -c1-8)

# --- geometry (512-byte sectors, 1 MiB aligned) -------------------------------
MiB=2048
ESP_START=$MiB;                    ESP_SIZE=$((ESP_MIB * MiB))
A_START=$((ESP_START + ESP_SIZE)); A_SIZE=$((SLOT_MIB * MiB))
B_START=$((A_START + A_SIZE));     B_SIZE=$A_SIZE
DATA_START=$((B_START + B_SIZE));  DATA_SIZE=$((DATA_MIB * MiB))
DISK_SECTORS=$((DATA_START + DATA_SIZE + MiB))   # + 1 MiB: backup GPT

rm -rf "$OUT"
mkdir -p "$OUT/work"
W=$OUT/work

# --- 1. the slot payload: squashfs + dm-verity hash tree -----------------------
size=$(stat -c %s "$ROOTFS")
BLOCKS=$(( (size + 4095) / 4096 ))     # 4 KiB data blocks
HASH_OFF=$(( BLOCKS * 4096 ))           # the tree right after the data
# A fixed salt (veritysetup picks a random one otherwise): derived from the
# root filesystem, so the payload is the same for either slot.
ROOTFS_SHA256=$(sha256sum < "$ROOTFS" | cut -c1-64)
SALT=$(hex64 "verity-salt/$ROOTFS_SHA256")
cp "$ROOTFS" "$OUT/slot.img"
truncate -s "$HASH_OFF" "$OUT/slot.img"
verity_args=(--no-superblock --hash=sha256 --data-block-size=4096 --hash-block-size=4096
	--data-blocks="$BLOCKS" --hash-offset="$HASH_OFF" --salt="$SALT")
veritysetup format "${verity_args[@]}" "$OUT/slot.img" "$OUT/slot.img" > "$W/verity.txt"
ROOT_HASH=$(awk '/^Root hash:/ {print $3}' "$W/verity.txt")
veritysetup verify "${verity_args[@]}" "$OUT/slot.img" "$OUT/slot.img" "$ROOT_HASH"
SLOT_BYTES=$(stat -c %s "$OUT/slot.img")
if [ "$SLOT_BYTES" -gt $((A_SIZE * 512)) ]; then
	echo "mkdisk: the slot payload needs $SLOT_BYTES bytes, a slot has $((A_SIZE * 512)) (BH_DISK_SLOT_MIB)" >&2
	exit 1
fi
cat > "$OUT/slot.env" <<EOF
ROOTFS_SHA256=$ROOTFS_SHA256
ROOT_HASH=$ROOT_HASH
SALT=$SALT
DATA_BLOCKS=$BLOCKS
HASH_OFFSET=$HASH_OFF
SLOT_BYTES=$SLOT_BYTES
SLOT_SHA256=$(sha256sum < "$OUT/slot.img" | cut -c1-64)
PARTUUID_A=$PU_A
PARTUUID_B=$PU_B
EOF

# --- 2. unified kernel images ----------------------------------------------------
# Section addresses of systemd-stub 252: .osrel 0x20000, .cmdline 0x30000,
# .linux 0x2000000, above the stub's own image.
stub_end=$((0x$(${OBJCOPY%objcopy}objdump -p "$STUB" | awk '/^SizeOfImage/ {print $2}')))
[ "$stub_end" -le $((0x20000)) ] || { echo "mkdisk: the stub is too big for .osrel at 0x20000" >&2; exit 1; }

# The dm-verity table on the kernel command line (dm-init): both devices are
# the slot partition by PARTUUID, the tree at block HASH_OFF/4096. On a
# corrupted block the kernel panics, and with panic=-1 (PANIC_TIMEOUT) the
# machine resets at once: never a half-alive system on a changed root. The
# dm uuid bulkhead-root-<slot> tells user space which slot runs.
build_uki() {   # build_uki SLOT PARTUUID OUTPUT
	local slot=$1 pu=$2 out=$3
	local table="0 $((BLOCKS * 8)) verity 1 PARTUUID=$pu PARTUUID=$pu 4096 4096 $BLOCKS $((HASH_OFF / 4096)) sha256 $ROOT_HASH $SALT 1 panic_on_corruption"
	printf '%s' "$CMDLINE dm-mod.create=\"bulkhead-root,bulkhead-root-$slot,,ro,$table\" dm-mod.waitfor=PARTUUID=$pu root=/dev/dm-0 bulkhead.slot=$slot" \
		> "$W/cmdline-$slot.txt"
	# systemd-boot orders UKIs by IMAGE_ID, then IMAGE_VERSION, newest first.
	cat > "$W/osrel.txt" <<-EOF
	NAME=Bulkhead
	ID=bulkhead
	PRETTY_NAME="Bulkhead $VERSION"
	IMAGE_ID=bulkhead
	IMAGE_VERSION=$VERSION
	EOF
	$OBJCOPY \
		--add-section .osrel="$W/osrel.txt" --change-section-vma .osrel=0x20000 \
		--add-section .cmdline="$W/cmdline-$slot.txt" --change-section-vma .cmdline=0x30000 \
		--add-section .linux="$KERNEL" --change-section-vma .linux=0x2000000 \
		"$STUB" "$out"
	pe_timestamp "$out"
	sign "$out"
}
# objcopy (binutils 2.40) writes the current time into the PE TimeDateStamp
# and ignores SOURCE_DATE_EPOCH: put SOURCE_DATE_EPOCH there and recompute
# the PE CheckSum.
pe_timestamp() {
	/usr/bin/python3 - "$1" "$SOURCE_DATE_EPOCH" <<'PY'
import struct, sys
path, stamp = sys.argv[1], int(sys.argv[2])
b = bytearray(open(path, 'rb').read())
pe = struct.unpack_from('<I', b, 0x3c)[0]
struct.pack_into('<I', b, pe + 8, stamp)
ck = pe + 24 + 64
struct.pack_into('<I', b, ck, 0)
data = b + (b'\0' if len(b) % 2 else b'')
s = 0
for (w,) in struct.iter_unpack('<H', data):
    s += w
    s = (s & 0xffff) + (s >> 16)
s = (s & 0xffff) + (s >> 16)
struct.pack_into('<I', b, ck, (s + len(b)) & 0xffffffff)
open(path, 'wb').write(b)
PY
}
# Authenticode signature for Secure Boot. sbsign records the signing time:
# faketime makes it SOURCE_DATE_EPOCH (RSA PKCS#1 v1.5 is deterministic), so
# the signed file is reproducible.
sign() {
	faketime -f "$(date -u -d "@$SOURCE_DATE_EPOCH" '+%Y-%m-%d %H:%M:%S')" \
		sbsign --key "$SB_KEY" --cert "$SB_CERT" --output "$1.signed" "$1" 2>"$W/sbsign.log" ||
		{ cat "$W/sbsign.log" >&2; exit 1; }
	mv "$1.signed" "$1"
	sbverify --cert "$SB_CERT" "$1" >/dev/null 2>&1 || { echo "mkdisk: $1: signature does not verify" >&2; exit 1; }
}
build_uki a "$PU_A" "$OUT/uki-a.efi"
build_uki b "$PU_B" "$OUT/uki-b.efi"

# The halt entry: what systemd-boot starts when every slot's entry has used
# up its tries. Entries with no tries left sort last, but systemd-boot still
# boots one when nothing else is there; this entry has no counter, and its
# IMAGE_ID "bulkhead-halt" sorts after the slots' "bulkhead", so it is
# chosen exactly then. It holds the same kernel and an initramfs whose only
# file is this image's init: started with bulkhead_halt=1 it says on the
# console that no slot is left and halts the machine (panic=0: should the
# kernel itself fail, it stops there too instead of resetting into the
# same loop). No root filesystem is touched.
build_halt_uki() {   # build_halt_uki OUTPUT
	local out=$1 kernel_bytes initrd_vma
	/usr/bin/python3 - "$HALT_INIT" "$W/halt.cpio" "$SOURCE_DATE_EPOCH" <<'PY'
# A newc cpio by hand: /init and /dev/console (a device node, which cpio(1)
# could only copy from a real one, needing root), all owned by root.
import sys
init, out, mtime = sys.argv[1], sys.argv[2], int(sys.argv[3])
ino = [0]
def entry(name, mode, data=b"", rdev=(0, 0)):
    ino[0] += 1
    name_b = name.encode() + b"\0"
    fields = [ino[0], mode, 0, 0, 1, mtime, len(data), 0, 0, rdev[0], rdev[1], len(name_b), 0]
    hdr = b"070701" + b"".join(b"%08X" % v for v in fields)
    rec = hdr + name_b
    rec += b"\0" * (-len(rec) % 4) + data
    return rec + b"\0" * (-len(rec) % 4)
blob = entry("dev", 0o040755) + entry("dev/console", 0o020600, rdev=(5, 1))
blob += entry("init", 0o100755, open(init, "rb").read()) + entry("TRAILER!!!", 0)
open(out, "wb").write(blob + b"\0" * (-len(blob) % 512))
PY
	printf '%s' "$CMDLINE panic=0 bulkhead_halt=1" > "$W/cmdline-halt.txt"
	cat > "$W/osrel-halt.txt" <<-EOF
	NAME=Bulkhead
	ID=bulkhead
	PRETTY_NAME="Bulkhead: no bootable slot"
	IMAGE_ID=bulkhead-halt
	IMAGE_VERSION=$VERSION
	EOF
	kernel_bytes=$(stat -c %s "$KERNEL")
	initrd_vma=$(( (0x2000000 + kernel_bytes + 0xfffff) / 0x100000 * 0x100000 ))
	$OBJCOPY \
		--add-section .osrel="$W/osrel-halt.txt" --change-section-vma .osrel=0x20000 \
		--add-section .cmdline="$W/cmdline-halt.txt" --change-section-vma .cmdline=0x30000 \
		--add-section .linux="$KERNEL" --change-section-vma .linux=0x2000000 \
		--add-section .initrd="$W/halt.cpio" --change-section-vma .initrd=$initrd_vma \
		"$STUB" "$out"
	pe_timestamp "$out"
	sign "$out"
}
build_halt_uki "$OUT/uki-halt.efi"

# --- 3. the ESP ------------------------------------------------------------------
# /EFI/BOOT/BOOT<arch>.EFI  systemd-boot on the removable-media path: no
#                           Boot#### variable needed
# /loader/loader.conf       never wait, no editing, only our UKIs
# /loader/keys/auto/*.auth  with SB_ENROLL_DIR: the keys to enrol
# /EFI/Linux/*.efi          the UKIs (type #2 entries)
esp=$W/esp
mkdir -p "$esp/EFI/BOOT" "$esp/EFI/Linux" "$esp/loader"
cp "$SDBOOT" "$esp/EFI/BOOT/$BOOTNAME"
sign "$esp/EFI/BOOT/$BOOTNAME"
# Every boot is counted (docs/update.md, "Boot counting"): slot A starts
# known good, armed with 3 tries; bhd re-arms it after each healthy boot.
cp "$OUT/uki-a.efi" "$esp/EFI/Linux/bulkhead-$VERSION-a+3.efi"
cp "$OUT/uki-halt.efi" "$esp/EFI/Linux/bulkhead-halt.efi"
mkdir -p "$esp/loader/bulkhead"
printf '%s\n' "$VERSION" > "$esp/loader/bulkhead/good-a"
printf '%s\n' "timeout 0" "editor no" "auto-entries no" "auto-firmware no" "console-mode keep" \
	> "$esp/loader/loader.conf"
# First-boot enrolment (docs/vendor.md, "Secure Boot enrolment"):
# systemd-boot, started by firmware in setup mode, writes db, KEK and PK
# from /loader/keys/auto and resets the machine; bhd removes the files once
# the firmware reports Secure Boot on.
if [ -n "$SB_ENROLL_DIR" ]; then
	mkdir -p "$esp/loader/keys/auto"
	for f in "${ENROLL_FILES[@]}"; do
		cp "$f" "$esp/loader/keys/auto/"
	done
	echo "secure-boot-enroll force" >> "$esp/loader/loader.conf"
fi
find "$esp" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +

# --- 4. the GPT disk ---------------------------------------------------------------
disk=$OUT/disk.img
truncate -s $((DISK_SECTORS * 512)) "$disk"
sfdisk -q --no-reread --no-tell-kernel "$disk" > "$W/sfdisk.out" <<EOF
label: gpt
label-id: $DISK_GUID
unit: sectors
sector-size: 512
start=$ESP_START, size=$ESP_SIZE, type=$TYPE_ESP, uuid=$PU_ESP, name="bulkhead-esp"
start=$A_START, size=$A_SIZE, type=$TYPE_ROOT, uuid=$PU_A, name="bulkhead-root-a"
start=$B_START, size=$B_SIZE, type=$TYPE_ROOT, uuid=$PU_B, name="bulkhead-root-b"
start=$DATA_START, size=$DATA_SIZE, type=$TYPE_DATA, uuid=$PU_DATA, name="bulkhead-data"
EOF
# What is written here is what bmaptool flashes; holes are NOT written and
# may hold old data on the target. So: mtools writes the FAT in full into
# the image (boot sectors, both FATs, folders, files), the slot with dd
# without conv=sparse (a zero block in the squashfs or the tree must reach
# the device), and the data partition's first MiB as explicit zeros (init
# formats /data when it finds them). Slot B stays a hole: no UKI names it,
# and an update writes and verifies it in full before one does.
esp_img="$disk@@$((ESP_START * 512))"
mformat -i "$esp_img" -F -T "$ESP_SIZE" -H "$ESP_START" -N "$FAT_SERIAL" -v BULKHEADESP ::
# Folders, then files, in a fixed order: long names get their 8.3 aliases
# in creation order.
(cd "$esp" && find . -mindepth 1 -type d | sort | sed 's|^\./||') | while read -r d; do
	mmd -i "$esp_img" "::/$d"
done
(cd "$esp" && find . -type f | sort | sed 's|^\./||') | while read -r f; do
	mcopy -m -i "$esp_img" "$esp/$f" "::/$f"
done
dd if="$OUT/slot.img" of="$disk" bs=1M seek=$((A_START / MiB)) conv=notrunc status=none
dd if=/dev/zero of="$disk" bs=1M count=1 seek=$((DATA_START / MiB)) conv=notrunc status=none
dd if="$disk" of="$W/esp-check.img" bs=1M skip=$((ESP_START / MiB)) count="$ESP_MIB" status=none
fsck.fat -n "$W/esp-check.img" > "$W/fsck-esp.txt"
rm -f "$W/esp-check.img"
sgdisk -v "$disk" > "$W/sgdisk-verify.txt"
grep -q 'No problems found' "$W/sgdisk-verify.txt" || { cat "$W/sgdisk-verify.txt" >&2; exit 1; }

# --- 5. bmap ---------------------------------------------------------------------------
# bmaptool create uses the file's holes; its output names the image's
# mtime-free properties only, so it is reproducible.
bmaptool create -o "$disk.bmap" "$disk" 2>"$W/bmaptool.log" || { cat "$W/bmaptool.log" >&2; exit 1; }

{
	sfdisk -d "$disk"
	echo
	echo "DISK_GUID=$DISK_GUID FAT_SERIAL=$FAT_SERIAL SEED=$SEED VERSION=$VERSION"
	cat "$OUT/slot.env"
	for s in a b; do echo "CMDLINE_$s=$(cat "$W/cmdline-$s.txt")"; done
	echo; echo "ESP:"; mdir -/ -i "$esp_img" ::
} > "$OUT/layout.txt"
rm -rf "$W"
