################################################################################
# systemd-boot: the UEFI boot loader on the ESP of disk.img and the stub that
# every unified kernel image (UKI) is built from (rootfs/disk.mk)
################################################################################

# Debian 12's binary package systemd-boot-efi (built from systemd 252), one
# .deb per architecture. Nothing is compiled: the EFI binaries are taken as
# Debian built them, and signed by our build for Secure Boot.
SYSTEMD_BOOT_VERSION = 252.39
SYSTEMD_BOOT_DEBIAN_VERSION = 252.39-1~deb12u2
SYSTEMD_BOOT_DEB_ARCH = $(if $(filter x86_64,$(BH_ARCH)),amd64,arm64)
SYSTEMD_BOOT_EFI_ARCH = $(if $(filter x86_64,$(BH_ARCH)),x64,aa64)
SYSTEMD_BOOT_SOURCE = systemd-boot-efi_$(SYSTEMD_BOOT_DEBIAN_VERSION)_$(SYSTEMD_BOOT_DEB_ARCH).deb
SYSTEMD_BOOT_DEBIAN_RELEASE = bookworm
SYSTEMD_BOOT_DEBIAN_BINARY = systemd-boot-efi:$(SYSTEMD_BOOT_DEB_ARCH)=$(SYSTEMD_BOOT_DEBIAN_VERSION)
SYSTEMD_BOOT_LICENSE = LGPL-2.1-or-later
SYSTEMD_BOOT_LICENSE_FILES = usr/share/doc/systemd-boot-efi/copyright
SYSTEMD_BOOT_CPE_ID = cpe:2.3:a:systemd_project:systemd:$(SYSTEMD_BOOT_VERSION):*:*:*:*:*:*:*
SYSTEMD_BOOT_PURL = pkg:deb/debian/systemd-boot-efi@$(SYSTEMD_BOOT_DEBIAN_VERSION)?arch=$(SYSTEMD_BOOT_DEB_ARCH)
SYSTEMD_BOOT_UPSTREAM_URL = https://github.com/systemd/systemd-stable/archive/refs/tags/v$(SYSTEMD_BOOT_VERSION).tar.gz
SYSTEMD_BOOT_SUPPLIER = Organization: Debian (systemd-boot-efi), from the systemd project

define SYSTEMD_BOOT_EXTRACT_CMDS
	dpkg-deb -x $(SYSTEMD_BOOT_DL_FILE) $(SYSTEMD_BOOT_SRCDIR)
endef

# The boot loader and the UKI stub of this architecture.
define SYSTEMD_BOOT_INSTALL_CMDS
	$(Q)install -D -m 0644 $(SYSTEMD_BOOT_SRCDIR)/usr/lib/systemd/boot/efi/systemd-boot$(SYSTEMD_BOOT_EFI_ARCH).efi \
		$(SYSTEMD_BOOT_STAGE)/systemd-boot$(SYSTEMD_BOOT_EFI_ARCH).efi
	$(Q)install -D -m 0644 $(SYSTEMD_BOOT_SRCDIR)/usr/lib/systemd/boot/efi/linux$(SYSTEMD_BOOT_EFI_ARCH).efi.stub \
		$(SYSTEMD_BOOT_STAGE)/linux$(SYSTEMD_BOOT_EFI_ARCH).efi.stub
endef

SYSTEMD_BOOT_EFI = $(SYSTEMD_BOOT_PREFIX)/systemd-boot$(SYSTEMD_BOOT_EFI_ARCH).efi
SYSTEMD_BOOT_STUB = $(SYSTEMD_BOOT_PREFIX)/linux$(SYSTEMD_BOOT_EFI_ARCH).efi.stub

$(eval $(call package,systemd-boot))
