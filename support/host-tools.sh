#!/bin/sh
# Make sure every tool the build and the tests need is on this machine.
# On Debian and Ubuntu, missing ones are installed with apt-get (as root, or
# through sudo); anywhere else the exact list is printed and the build stops.
# Each line: a command or file that proves the tool is here, then the Debian
# package that provides it. `host-tools.sh --check` only reports.
# zstd: the kernel compresses the x86_64 image with it (CONFIG_KERNEL_ZSTD).
# mount (and its umount): test_bhc_cgroup mounts cgroup2 in a namespace of its own.
# runc, crun and patchelf: bhc's spec-compatibility tests and its benchmark
# peers. cryptsetup-bin to OVMF/AAVMF: the verified disk image (dm-verity,
# GPT, the EFI system partition, Secure Boot signing, bmap) and its firmware.
# docker-registry (distribution 2.8) and apache2-utils (htpasswd): the local
# OCI registry of the fleet tests.
# mosquitto and mosquitto-clients: the broker and the operator's tools the
# MQTT client's tests run on loopback. iproute2 (ss): the telemetry
# simulation and benchmark count each connection's bytes with ss -ti.
set -eu
check_only=false
[ "${1:-}" = --check ] && check_only=true

tools='
gcc                          gcc
clang                        clang
/usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a libclang-rt-14-dev
make                         make
/usr/bin/python3             python3
/usr/lib/python3/dist-packages/kconfiglib.py python3-kconfiglib
/usr/lib/python3/dist-packages/jsonschema    python3-jsonschema
apt-get                      apt
git                          git
bc                           bc
awk                          mawk
patch                        patch
rsync                        rsync
bison                        bison
gperf                        gperf
flex                         flex
perl                         perl
/usr/include/libelf.h        libelf-dev
/usr/include/openssl/ssl.h   libssl-dev
/usr/include/zlib.h          zlib1g-dev
xz                           xz-utils
zstd                         zstd
bzip2                        bzip2
cpio                         cpio
ccache                       ccache
readelf                      binutils
mksquashfs                   squashfs-tools
aarch64-linux-gnu-gcc        gcc-aarch64-linux-gnu
qemu-system-x86_64           qemu-system-x86
qemu-system-aarch64          qemu-system-arm
qemu-img                     qemu-utils
runc                         runc
crun                         crun
patchelf                     patchelf
veritysetup                  cryptsetup-bin
sfdisk                       fdisk
mount                        mount
sgdisk                       gdisk
mcopy                        mtools
fsck.fat                     dosfstools
sbsign                       sbsigntool
cert-to-efi-sig-list         efitools
bmaptool                     bmap-tools
faketime                     faketime
skopeo                       skopeo
openssl                      openssl
docker-registry              docker-registry
htpasswd                     apache2-utils
/usr/sbin/mosquitto          mosquitto
mosquitto_sub                mosquitto-clients
ss                           iproute2
aarch64-linux-gnu-objcopy    binutils-aarch64-linux-gnu
/usr/share/OVMF/OVMF_CODE_4M.fd     ovmf
/usr/share/AAVMF/AAVMF_CODE.fd      qemu-efi-aarch64
'

missing=
while read -r probe pkg; do
	[ -n "$probe" ] || continue
	case $probe in
	/*) [ -e "$probe" ] && continue ;;
	*) command -v "$probe" >/dev/null 2>&1 && continue ;;
	esac
	case " $missing " in *" $pkg "*) ;; *) missing="$missing $pkg" ;; esac
done <<EOF_TOOLS
$tools
EOF_TOOLS
[ -z "$missing" ] && exit 0

echo "host-tools: missing Debian packages:$missing" >&2
$check_only && exit 1
if ! command -v apt-get >/dev/null 2>&1 || ! [ -r /etc/debian_version ]; then
	echo "host-tools: this is not a Debian-like system; install the equivalents of:$missing" >&2
	exit 1
fi
if [ "$(id -u)" -eq 0 ]; then
	sudo=
elif command -v sudo >/dev/null 2>&1; then
	sudo=sudo
else
	echo "host-tools: run as root, or install them yourself: apt-get install$missing" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
