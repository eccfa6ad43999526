################################################################################
# Compilers: Debian's gcc (native or cross) for the kernel, and the same gcc
# driven through musl's specs for every target program, so that each one is a
# static musl binary. ccache sits in front of both; its files live in the
# shared cache, outside the checkout.
################################################################################

HOST_ARCH := $(shell uname -m)
ARTIFACTS_DIR := $(BULKHEAD_CACHE)/artifacts/$(BH_ARCH)
TARGET_TRIPLET := $(BH_ARCH)-linux-musl

ifeq ($(BH_ARCH),x86_64)
KERNEL_ARCH := x86_64
KERNEL_IMAGE := bzImage
KERNEL_IMAGE_PATH := arch/x86/boot/bzImage
QEMU_SYSTEM := qemu-system-x86_64
else ifeq ($(BH_ARCH),aarch64)
KERNEL_ARCH := arm64
KERNEL_IMAGE := Image
KERNEL_IMAGE_PATH := arch/arm64/boot/Image
QEMU_SYSTEM := qemu-system-aarch64
else
$(error BH_ARCH '$(BH_ARCH)' is not supported: use x86_64 or aarch64)
endif

# Debian's gcc for the target: the native one when the build host has the
# target's architecture, otherwise gcc-<arch>-linux-gnu.
ifeq ($(HOST_ARCH),$(BH_ARCH))
TARGET_CROSS :=
else
TARGET_CROSS := $(BH_ARCH)-linux-gnu-
endif
TARGET_REAL_CC := $(TARGET_CROSS)gcc
ifeq ($(shell command -v $(TARGET_REAL_CC)),)
$(error $(TARGET_REAL_CC) is missing: run 'make host-tools' (Debian package gcc-$(BH_ARCH)-linux-gnu))
endif

# What identifies the compilers: part of every package key, so a compiler
# upgrade rebuilds the shared packages.
TOOLCHAIN_ID := $(shell $(TARGET_REAL_CC) -dumpfullversion)-$(shell $(TARGET_CROSS)ld --version | head -1 | tr -cd '0-9.')

export CCACHE_DIR := $(BULKHEAD_CACHE)/ccache
export CCACHE_BASEDIR := $(O)
export CCACHE_NOHASHDIR := 1
export CCACHE_COMPILERCHECK := content
export CCACHE_MAXSIZE := 5G
CCACHE := $(shell command -v ccache)

# The musl toolchain (set up by firmware/packages/musl) is a wrapper around
# TARGET_REAL_CC; its paths are known once the musl package is declared.
TARGET_CC_NO_CCACHE = $(MUSL_PREFIX)/bin/$(TARGET_TRIPLET)-gcc
TARGET_CC = $(CCACHE) $(TARGET_CC_NO_CCACHE)
TARGET_AR := $(TARGET_CROSS)ar
TARGET_RANLIB := $(TARGET_CROSS)ranlib
TARGET_STRIP := $(TARGET_CROSS)strip
TARGET_READELF := $(TARGET_CROSS)readelf
TARGET_OBJCOPY := $(TARGET_CROSS)objcopy

ifeq ($(BH_ARCH),x86_64)
TARGET_HARDENING := -fcf-protection=full
else
TARGET_HARDENING := -mbranch-protection=standard
endif

# Flags for every target compile. Paths are mapped so that nothing about the
# build machine ends up in a binary. The flags without the paths are part of
# the toolchain's package key (firmware/packages/musl), so changing them
# rebuilds every target package, but a different O folder does not.
TARGET_CFLAGS_BASE = $(call qstrip,$(BH_TARGET_CFLAGS)) -pipe -fPIE \
	-fstack-protector-strong -fstack-clash-protection $(TARGET_HARDENING)
TARGET_CFLAGS = $(TARGET_CFLAGS_BASE) -ffile-prefix-map=$(BUILD_DIR)=. \
	-ffile-prefix-map=$(TOPDIR)=. -ffile-prefix-map=$(ARTIFACTS_DIR)=.
TARGET_LDFLAGS := -static-pie -Wl,-z,relro,-z,now,-z,noexecstack -Wl,--build-id=none

TARGET_CONFIGURE_ENV = CC="$(TARGET_CC)" AR="$(TARGET_AR)" RANLIB="$(TARGET_RANLIB)" \
	STRIP="$(TARGET_STRIP)" CFLAGS="$(TARGET_CFLAGS)"

# Reproducible kernel and package builds: nothing about this machine or
# this moment may reach an output.
export KBUILD_BUILD_USER := bulkhead
export KBUILD_BUILD_HOST := bulkhead
export KBUILD_BUILD_VERSION := 1
export TZ := UTC
export LC_ALL := C
