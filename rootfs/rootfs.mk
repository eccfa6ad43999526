################################################################################
# Image assembly: the read-only squashfs root, the kernel beside it, the
# manifest of every installed file and, for boards that have that path, the
# board's start-qemu-kernel.sh.
# Every output is written to a temporary name and renamed when complete, so
# the images folder never holds a half-written file.
################################################################################

ROOTFS_DIR := $(BUILD_DIR)/rootfs
ROOTFS_MANIFEST := $(BUILD_DIR)/rootfs.manifest
BASE_FILES_PART := $(PARTS_DIR)/bulkhead-base-files
ROOTFS_SKELETON_FILES := $(shell find $(TOPDIR)/rootfs/skeleton -type f)

# What each component installs: (component name)=(folder laid out like /).
ROOTFS_PARTS := bulkhead-base-files=$(BASE_FILES_PART) \
	busybox=$(BUSYBOX_PREFIX)/target \
	e2fsprogs=$(E2FSPROGS_PREFIX)/target \
	$(foreach p,$(PROGRAMS),$(p)=$(PARTS_DIR)/$(p))
ROOTFS_PART_STAMPS := $(BASE_FILES_PART)/.stamp $(BUSYBOX_PREFIX)/.published $(E2FSPROGS_PREFIX)/.published \
	$(foreach p,$(PROGRAMS),$(PARTS_DIR)/$(p)/.stamp)

# The SBOM's inputs and the embedded workloads add parts and SBOM inputs:
# they come before the rules that use those lists.
include $(TOPDIR)/rootfs/sbom.mk
include $(TOPDIR)/rootfs/keys.mk
include $(TOPDIR)/rootfs/workloads.mk
include $(TOPDIR)/rootfs/external.mk

# The image version (os-release, the UKIs): a file that changes only when
# the version does, so that a version given on the command line rebuilds.
IMAGE_VERSION_FILE := $(BUILD_DIR)/image-version
$(IMAGE_VERSION_FILE): FORCE
	$(Q)mkdir -p $(@D) && printf '%s\n' '$(BH_IMAGE_VERSION)' > $@.tmp
	$(Q)cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

# The skeleton, the services this configuration runs, and the files that
# name this build.
NTP_SERVERS := $(call qstrip,$(BH_NTP_SERVERS))
$(BASE_FILES_PART)/.stamp: $(ROOTFS_SKELETON_FILES) $(wildcard $(TOPDIR)/rootfs/services/*) $(TRUSTED_KEYS) \
		$(UPDATE_TRUSTED_KEYS) $(STATE_TRUSTED_KEYS) $(FLEET_CA) $(FLEET_BROKER_CA) $(FLEET_ADVISORIES) \
		$(REVOKED_KEYS) $(if $(REVOKED_KEYS),$(BHPACK_HOST_BIN)) \
		$(CONFIG_FILE) $(GENERATED_INCLUDE)/bulkhead/version.h $(IMAGE_VERSION_FILE) $(TOPDIR)/rootfs/rootfs.mk
	$(Q)rm -rf $(@D) && mkdir -p $(@D)/etc/bulkhead/services.d
	$(Q)cp -R $(TOPDIR)/rootfs/skeleton/. $(@D)/
	$(Q)printf '%s\n' 'NAME=Bulkhead' 'ID=bulkhead' 'PRETTY_NAME="Bulkhead $(BH_VERSION)"' \
		'VERSION_ID=$(BH_VERSION)' 'VARIANT_ID=$(BH_PROFILE)' 'BULKHEAD_BOARD=$(BH_BOARD_NAME)' \
		'IMAGE_ID=bulkhead' 'IMAGE_VERSION=$(BH_IMAGE_VERSION)' \
		$(if $(filter y,$(BH_ALLOW_TEST_KEYS)),'VARIANT="$(TEST_KEYS_VARIANT)"') \
		> $(@D)/etc/os-release
ifeq ($(BH_NET_DHCP),y)
	$(Q)sed 's|@INTERFACE@|$(call qstrip,$(BH_NET_INTERFACE))|' $(TOPDIR)/rootfs/services/dhcp.service \
		> $(@D)/etc/bulkhead/services.d/dhcp.service
endif
	$(Q)sed -e '$(if $(filter y,$(BH_WORKLOAD_OUTPUT_CONSOLE)),s|^exec = /usr/sbin/bhd$$|& --workload-output-console|)' \
		$(TOPDIR)/rootfs/services/bhd.service > $(@D)/etc/bulkhead/services.d/bhd.service
	$(Q)mkdir -p $(@D)/etc/bulkhead/keys/workloads $(@D)/etc/bulkhead/keys/updates $(@D)/etc/bulkhead/keys/state
	$(Q)$(foreach k,$(TRUSTED_KEYS),cp $(k) $(@D)/etc/bulkhead/keys/workloads/$(notdir $(k)) &&) true
	$(Q)$(foreach k,$(UPDATE_TRUSTED_KEYS),cp $(k) $(@D)/etc/bulkhead/keys/updates/$(notdir $(k)) &&) true
	$(Q)$(foreach k,$(STATE_TRUSTED_KEYS),cp $(k) $(@D)/etc/bulkhead/keys/state/$(notdir $(k)) &&) true
ifneq ($(REVOKED_KEYS),)
	$(Q)$(BHPACK_HOST_BIN) revoke --check $(REVOKED_KEYS) --keys $(@D)/etc/bulkhead/keys/updates >/dev/null || \
		{ echo "BH_REVOKED_KEYS: $(REVOKED_KEYS) is refused (see above): it must be made with" \
			"bhpack revoke and signed by one of BH_UPDATE_TRUSTED_KEYS" >&2; rm -rf $(@D); exit 1; }
	$(Q)install -m 0644 $(REVOKED_KEYS) $(@D)/etc/bulkhead/keys/revoked.dsse
endif
ifneq ($(FLEET_CA),)
	$(Q)install -D -m 0644 $(FLEET_CA) $(@D)/etc/bulkhead/fleet/ca.pem
endif
ifneq ($(FLEET_BROKER_CA),)
	$(Q)install -D -m 0644 $(FLEET_BROKER_CA) $(@D)/etc/bulkhead/fleet/broker-ca.pem
endif
ifneq ($(FLEET_ADVISORIES),)
	$(Q)install -D -m 0644 $(FLEET_ADVISORIES) $(@D)/etc/bulkhead/fleet/advisories.json
endif
ifneq ($(NTP_SERVERS),)
	$(Q)sed -e 's|@SERVERS@|$(foreach s,$(NTP_SERVERS),-p $(s))|' \
		$(if $(filter y,$(BH_NET_DHCP)),,-e '/^after = dhcp/d') \
		$(TOPDIR)/rootfs/services/ntp.service > $(@D)/etc/bulkhead/services.d/ntp.service
endif
	$(Q)touch $@

$(ROOTFS_MANIFEST): $(ROOTFS_PART_STAMPS) $(TOPDIR)/rootfs/assemble.py $(TOPDIR)/rootfs/skeleton.dirs
	@echo ">>> rootfs: assembling"
	$(Q)$(PYTHON3) $(TOPDIR)/rootfs/assemble.py --out $(ROOTFS_DIR) --manifest $@ \
		--dirs $(TOPDIR)/rootfs/skeleton.dirs $(ROOTFS_PARTS)


# The SBOM of everything the manifest lists, written by the host build of
# bhsbom and stored in the image under /usr/share/sbom (it cannot list
# itself: bhsbom verify knows that folder).
SBOM_NAME = bulkhead-$(BH_BOARD_NAME)-$(BH_PROFILE)
$(SBOM_OUT_DIR)/.stamp: $(ROOTFS_MANIFEST) $(SBOM_INFO_FILES) $(BHSBOM_HOST_BIN)
	@echo ">>> sbom: SPDX 2.3 and CycloneDX 1.6"
	$(Q)rm -rf $(SBOM_OUT_DIR) $(ROOTFS_DIR)/usr/share/sbom
	$(Q)$(BHSBOM_HOST_BIN) generate --info-dir $(SBOM_INFO_DIR) --manifest $(ROOTFS_MANIFEST) \
		--root $(ROOTFS_DIR) --out $(SBOM_OUT_DIR) --name $(SBOM_NAME) --version $(BH_VERSION) \
		--board $(BH_BOARD_NAME) --profile $(BH_PROFILE) --arch $(BH_ARCH) \
		--created $(SOURCE_DATE_EPOCH)
	$(Q)mkdir -p $(ROOTFS_DIR)/usr/share && cp -R $(SBOM_OUT_DIR) $(ROOTFS_DIR)/usr/share/sbom
	$(Q)touch $@

$(IMAGES_DIR)/sbom/.stamp: $(SBOM_OUT_DIR)/.stamp
	$(Q)rm -rf $(@D).tmp && cp -R $(SBOM_OUT_DIR) $(@D).tmp && rm -f $(@D).tmp/.stamp
	$(Q)rm -rf $(@D) && mv $(@D).tmp $(@D) && touch $@

# mksquashfs takes every timestamp from SOURCE_DATE_EPOCH (exported).
$(IMAGES_DIR)/rootfs.squashfs: $(ROOTFS_MANIFEST) $(SBOM_OUT_DIR)/.stamp
	@echo ">>> rootfs: squashfs"
	$(Q)mkdir -p $(@D)
	$(Q)rm -f $@.tmp
	$(Q)mksquashfs $(ROOTFS_DIR) $@.tmp -noappend -quiet -no-progress -all-root -no-xattrs \
		-comp xz -b 256K >/dev/null
	$(Q)mv $@.tmp $@

$(IMAGES_DIR)/rootfs.manifest: $(ROOTFS_MANIFEST)
	$(Q)mkdir -p $(@D) && cp $< $@.tmp && mv $@.tmp $@

$(IMAGES_DIR)/$(KERNEL_IMAGE): $(LINUX_PREFIX)/.published
	$(Q)mkdir -p $(@D) && cp $(LINUX_PREFIX)/$(KERNEL_IMAGE) $@.tmp && mv $@.tmp $@

# The QEMU command line lives once, in the board folder; the generated
# script adds the accelerator choice and passes extra arguments through.
KERNEL_CMDLINE = $(strip $(call qstrip,$(BH_KERNEL_CMDLINE)) $(shell cat $(TOPDIR)/board/common/cmdline \
	$(wildcard $(BOARD_DIR)/cmdline)))

$(IMAGES_DIR)/start-qemu-kernel.sh: $(TOPDIR)/rootfs/start-qemu-kernel.sh.in $(BOARD_DIR)/qemu-kernel.args $(TOPDIR)/rootfs/rootfs.mk \
		$(TOPDIR)/board/common/cmdline $(wildcard $(BOARD_DIR)/cmdline) $(CONFIG_FILE)
	$(Q)mkdir -p $(@D)
	$(Q)args=$$(sed -e '/^#/d' -e 's/@KERNEL@/$(KERNEL_IMAGE)/' -e 's|@CMDLINE@|$(KERNEL_CMDLINE)|' -e 's|@DATA@|"$$data"|' -e 's|@HOSTFWD@|$$hostfwd|' \
		$(BOARD_DIR)/qemu-kernel.args | tr '\n' ' ') && \
	sed -e 's|@QEMU@|$(QEMU_SYSTEM)|' -e 's|@ARCH@|$(BH_ARCH)|' -e "s|@ARGS@|$$args|" \
		-e 's|@BOARD@|$(BH_BOARD_NAME)|' $< > $@.tmp
	$(Q)chmod 0755 $@.tmp && mv $@.tmp $@

IMAGES := $(IMAGES_DIR)/$(KERNEL_IMAGE) $(IMAGES_DIR)/rootfs.squashfs \
	$(IMAGES_DIR)/rootfs.manifest $(IMAGES_DIR)/sbom/.stamp
# The direct kernel boot exists only for boards with a qemu-kernel.args
# (the QEMU boards); a real-hardware board boots disk.img only.
ifneq ($(wildcard $(BOARD_DIR)/qemu-kernel.args),)
IMAGES += $(IMAGES_DIR)/start-qemu-kernel.sh
endif

# disk.img: the verified A/B disk for UEFI machines, beside the above.
include $(TOPDIR)/rootfs/disk.mk

images: $(IMAGES)
	@echo "images in $(IMAGES_DIR): $(filter-out .stamp,$(notdir $(IMAGES))) sbom/"
.PHONY: images
include $(TOPDIR)/rootfs/legal-info.mk
include $(TOPDIR)/rootfs/sdk.mk
