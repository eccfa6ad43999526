################################################################################
# disk.img: the verified A/B GPT disk a UEFI machine boots (docs/update.md).
#   bulkhead-esp     systemd-boot + one signed UKI per installed slot
#   bulkhead-root-a  rootfs.squashfs + its dm-verity hash tree
#   bulkhead-root-b  empty until the first update
#   bulkhead-data    /data, formatted by init on first boot
# rootfs/mkdisk.sh does the work with unprivileged file tools only; every
# identifier, salt, timestamp and signature is fixed, so two builds of one
# commit give the same bytes (tests/e2e/once_reproducible.py).
# start-qemu.sh boots it through OVMF / AAVMF.
################################################################################

DISK_DIR := $(BUILD_DIR)/disk
# SECURE_BOOT_KEY, SECURE_BOOT_CERT and SECURE_BOOT_ENROLL_* come from
# rootfs/keys.mk.
# binutils' plain objcopy on x86_64 writes no pei-aarch64.
DISK_OBJCOPY := $(if $(filter aarch64,$(BH_ARCH)),aarch64-linux-gnu-objcopy,objcopy)
# The kernel command line of the UKIs: the board's, with the root from
# dm-verity instead of root=.
DISK_CMDLINE = $(filter-out root=%,$(KERNEL_CMDLINE))

$(DISK_DIR)/.stamp: $(IMAGES_DIR)/rootfs.squashfs $(LINUX_PREFIX)/.published $(SYSTEMD_BOOT_PREFIX)/.published \
		$(TOPDIR)/rootfs/mkdisk.sh $(TOPDIR)/rootfs/disk.mk $(CONFIG_FILE) $(IMAGE_VERSION_FILE) \
		$(SECURE_BOOT_KEY) $(SECURE_BOOT_CERT) $(SECURE_BOOT_ENROLL_FILES) \
		$(TOPDIR)/board/common/cmdline $(wildcard $(BOARD_DIR)/cmdline)
	@echo ">>> disk: disk.img $(BH_IMAGE_VERSION)"
	$(Q)ARCH=$(BH_ARCH) KERNEL=$(LINUX_PREFIX)/$(KERNEL_IMAGE) ROOTFS=$(IMAGES_DIR)/rootfs.squashfs \
		SDBOOT=$(SYSTEMD_BOOT_EFI) STUB=$(SYSTEMD_BOOT_STUB) OBJCOPY=$(DISK_OBJCOPY) \
		CMDLINE='$(DISK_CMDLINE)' VERSION='$(BH_IMAGE_VERSION)' SEED='bulkhead/$(BH_BOARD_NAME)' \
		SB_KEY=$(SECURE_BOOT_KEY) SB_CERT=$(SECURE_BOOT_CERT) SB_ENROLL_DIR='$(SECURE_BOOT_ENROLL_DIR)' \
		HALT_INIT=$(ROOTFS_DIR)/sbin/init \
		ESP_MIB=$(BH_DISK_ESP_MIB) SLOT_MIB=$(BH_DISK_SLOT_MIB) DATA_MIB=$(BH_DISK_DATA_MIB) \
		$(TOPDIR)/rootfs/mkdisk.sh $(DISK_DIR)
	$(Q)touch $@

# Moved, not copied (450 MiB): each one rename, so images/ never holds a
# half-written disk.
$(IMAGES_DIR)/.disk-stamp: $(DISK_DIR)/.stamp
	$(Q)mkdir -p $(@D)
	$(Q)mv $(DISK_DIR)/disk.img.bmap $(IMAGES_DIR)/disk.img.bmap
	$(Q)mv $(DISK_DIR)/disk.img $(IMAGES_DIR)/disk.img
	$(Q)touch $@

$(IMAGES_DIR)/start-qemu.sh: $(TOPDIR)/rootfs/start-qemu.sh.in $(BOARD_DIR)/qemu.args \
		$(TOPDIR)/rootfs/disk.mk
	$(Q)mkdir -p $(@D)
	$(Q)args=$$(sed -e '/^#/d' -e 's|@HOSTFWD@|$$hostfwd|' $(BOARD_DIR)/qemu.args | tr '\n' ' ') && \
	sed -e 's|@QEMU@|$(QEMU_SYSTEM)|' -e 's|@ARCH@|$(BH_ARCH)|' -e "s|@ARGS@|$$args|" \
		-e 's|@BOARD@|$(BH_BOARD_NAME)|' $< > $@.tmp
	$(Q)chmod 0755 $@.tmp && mv $@.tmp $@

IMAGES += $(IMAGES_DIR)/.disk-stamp $(IMAGES_DIR)/start-qemu.sh

# systemd-boot is on the image, outside the root filesystem: the SBOM lists
# the files as Debian ships them (the ESP holds them signed).
define SYSTEMD_BOOT_SBOM_EXTRA
outside_file=boot/efi/systemd-boot$(SYSTEMD_BOOT_EFI_ARCH).efi $(SYSTEMD_BOOT_EFI)
outside_file=boot/efi/linux$(SYSTEMD_BOOT_EFI_ARCH).efi.stub $(SYSTEMD_BOOT_STUB)
endef

# make update-image: the signed update file a device installs with
# `bhctl update` (docs/update.md): a bundle of format bulkhead-update/1
# holding the slot payload, the signed UKI for either slot and the image's
# SBOM, signed with BH_UPDATE_SIGNING_KEY.
UPDATE_IMAGE := $(IMAGES_DIR)/update-$(BH_IMAGE_VERSION).bhu

$(UPDATE_IMAGE): $(DISK_DIR)/.stamp $(IMAGES_DIR)/sbom/.stamp $(BHPACK_HOST_BIN) $(UPDATE_SIGNING_KEY)
	@echo ">>> update: $(notdir $@)"
	$(Q)$(BHPACK_HOST_BIN) update --key $(UPDATE_SIGNING_KEY) --board $(BH_BOARD_NAME) \
		--arch $(BH_ARCH) --version '$(BH_IMAGE_VERSION)' --sbom $(IMAGES_DIR)/sbom/image.spdx.json \
		--uki-a $(DISK_DIR)/uki-a.efi --uki-b $(DISK_DIR)/uki-b.efi --slot $(DISK_DIR)/slot.img \
		-o $@ >/dev/null

update-image: $(UPDATE_IMAGE)
	@echo "update file: $(UPDATE_IMAGE)"
.PHONY: update-image
