################################################################################
# Workloads the image carries: the trusted keys bhd checks bundles against,
# bhd's service, and (BH_DEMO_WORKLOADS) the demo bundles, built and signed
# here with bhpack like any vendor's bundle and installed by bhd on first
# boot.
################################################################################

# The keys (TRUSTED_KEYS, SIGNING_KEY, ...) come from rootfs/keys.mk.

DEMO_DIR := $(BUILD_DIR)/demo
DEMO_PART := $(PARTS_DIR)/demo-workloads
CONSOLE_TTY := $(if $(filter x86_64,$(BH_ARCH)),ttyS0,ttyAMA0)
BHPACK_BUILD = $(BHPACK_HOST_BIN) build --key $(SIGNING_KEY) --arch $(BH_ARCH) \
	--supplier "Organization: Bulkhead" --created $(SOURCE_DATE_EPOCH)

$(DEMO_DIR)/demo-web.bundle: $(DEMO_HTTPD_BIN) $(TOPDIR)/rootfs/demo/demo-web.json \
		$(BHPACK_HOST_BIN) $(SIGNING_KEY)
	@echo ">>> demo-web: container bundle"
	$(Q)rm -rf $(DEMO_DIR)/web && mkdir -p $(DEMO_DIR)/web/usr/bin $(DEMO_DIR)/web/var/lib/demo
	$(Q)$(TARGET_STRIP) -o $(DEMO_DIR)/web/usr/bin/demo-httpd $(DEMO_HTTPD_BIN)
	$(Q)$(BHPACK_BUILD) --manifest $(TOPDIR)/rootfs/demo/demo-web.json --rootfs $(DEMO_DIR)/web \
		-o $@ >/dev/null

# The board's own kernel boots the guest, with an initramfs holding only
# the demo's init.
$(DEMO_DIR)/demo-vm.bundle: $(DEMO_GUEST_BIN) $(TOPDIR)/rootfs/demo/demo-vm.json.in \
		$(LINUX_PREFIX)/.published $(BHPACK_HOST_BIN) $(SIGNING_KEY)
	@echo ">>> demo-vm: microVM bundle"
	$(Q)rm -rf $(DEMO_DIR)/vm && mkdir -p $(DEMO_DIR)/vm/initramfs/dev $(DEMO_DIR)/vm/initramfs/proc \
		$(DEMO_DIR)/vm/initramfs/sys
	$(Q)$(TARGET_STRIP) -o $(DEMO_DIR)/vm/initramfs/init $(DEMO_GUEST_BIN)
	$(Q)find $(DEMO_DIR)/vm/initramfs -exec touch -h -d @$(SOURCE_DATE_EPOCH) {} +
	$(Q)cd $(DEMO_DIR)/vm/initramfs && find . | LC_ALL=C sort | \
		cpio --quiet --reproducible -o -H newc -R 0:0 | gzip -9n > ../initrd.gz
	$(Q)sed 's/@CONSOLE@/$(CONSOLE_TTY)/' $(TOPDIR)/rootfs/demo/demo-vm.json.in > $(DEMO_DIR)/vm/demo-vm.json
	$(Q)$(BHPACK_BUILD) --manifest $(DEMO_DIR)/vm/demo-vm.json \
		--kernel $(LINUX_PREFIX)/$(KERNEL_IMAGE) --initrd $(DEMO_DIR)/vm/initrd.gz -o $@ >/dev/null

$(DEMO_PART)/.stamp: $(DEMO_DIR)/demo-web.bundle $(DEMO_DIR)/demo-vm.bundle
	$(Q)rm -rf $(@D) && mkdir -p $(@D)/usr/share/bulkhead/workloads
	$(Q)cp $^ $(@D)/usr/share/bulkhead/workloads/
	$(Q)touch $@

define SBOM_INFO_TEXT_demo-workloads
name=demo-workloads
kind=files
version=$(BH_VERSION)
supplier=$(BULKHEAD_SUPPLIER)
license=$(BULKHEAD_LICENSE)
purl=pkg:generic/bulkhead-demo-workloads@$(BH_VERSION)
download=$(BULKHEAD_URL)
source=rootfs/demo
license_file=$(TOPDIR)/LICENSE
endef
$(SBOM_INFO_DIR)/demo-workloads.info: $(TOPDIR)/rootfs/workloads.mk $(GENERATED_INCLUDE)/bulkhead/version.h | $(SBOM_INFO_DIR)
	$(file >$@.tmp,$(SBOM_INFO_TEXT_demo-workloads))
	$(Q)mv $@.tmp $@

ifeq ($(BH_DEMO_WORKLOADS),y)
ROOTFS_PARTS += demo-workloads=$(DEMO_PART)
ROOTFS_PART_STAMPS += $(DEMO_PART)/.stamp
SBOM_INFO_FILES += $(SBOM_INFO_DIR)/demo-workloads.info
endif
