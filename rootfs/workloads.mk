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

# A container bundle baked into the image, the way a vendor's is
# (BH_EXTERNAL, docs/vendor.md): rootfs/workloads/<b>/ of an external tree
# holds bhpack's manifest.json, optionally a rootfs/ folder copied into the
# bundle's root, and <b>.mk, which names the programs (ours or the tree's,
# firmware/<prog>) stripped into the bundle's /usr/bin and ends with
# $(eval $(call workload-bundle,<b>)):
#   ACME_WEB_PROGRAMS = acme-hello
# The bundle is signed with the image's workload key and installed by bhd
# at first boot; it is its own component, <b>-bundle, in the SBOM.
# $(1): bundle name, $(2): upper-case prefix, $(3): its folder.
define workload-bundle-inner
$(2)_BUNDLE_DIR := $(3)
$(2)_BUNDLE_EXTERNAL := $(call external-tree-of,$(3))
$(2)_BUNDLE := $(BUILD_DIR)/workloads/$(1).bundle
$(2)_BUNDLE_ROOT := $(BUILD_DIR)/workloads/$(1)
$(2)_BUNDLE_PART := $(PARTS_DIR)/$(1)-bundle
$(2)_BUNDLE_INPUTS := $(3)/manifest.json $(3)/$(1).mk $(if $(wildcard $(3)/rootfs),$(shell find $(3)/rootfs))

$$($(2)_BUNDLE): $$($(2)_BUNDLE_INPUTS) $$(foreach p,$$($(2)_PROGRAMS),$$($$(call UPPERCASE,$$(p))_BIN)) \
		$(BHPACK_HOST_BIN) $(SIGNING_KEY) $(TOPDIR)/rootfs/workloads.mk
	@echo ">>> $(1): container bundle"
	$(Q)rm -rf $$($(2)_BUNDLE_ROOT) && mkdir -p $$($(2)_BUNDLE_ROOT)/usr/bin
	$(Q)$(if $(wildcard $(3)/rootfs),cp -R $(3)/rootfs/. $$($(2)_BUNDLE_ROOT)/)
	$(Q)$$(foreach p,$$($(2)_PROGRAMS),$(TARGET_STRIP) -o $$($(2)_BUNDLE_ROOT)/usr/bin/$$(p) \
		$$($$(call UPPERCASE,$$(p))_BIN) &&) true
	$(Q)$(BHPACK_HOST_BIN) build --key $(SIGNING_KEY) --arch $(BH_ARCH) \
		--supplier "$$(call sbom-supplier,$$($(2)_BUNDLE_EXTERNAL))" --created $(SOURCE_DATE_EPOCH) \
		--manifest $(3)/manifest.json --rootfs $$($(2)_BUNDLE_ROOT) -o $$@.tmp >/dev/null
	$(Q)mv $$@.tmp $$@

$$($(2)_BUNDLE_PART)/.stamp: $$($(2)_BUNDLE)
	$(Q)rm -rf $$(@D) && mkdir -p $$(@D)/usr/share/bulkhead/workloads
	$(Q)cp $$< $$(@D)/usr/share/bulkhead/workloads/
	$(Q)touch $$@

define SBOM_INFO_TEXT_$(1)-bundle
name=$(1)-bundle
kind=files
version=$$(call sbom-version,$$($(2)_BUNDLE_EXTERNAL))
supplier=$$(call sbom-supplier,$$($(2)_BUNDLE_EXTERNAL))
license=$$(call sbom-license,$$($(2)_BUNDLE_EXTERNAL))
purl=$$(call sbom-purl-prefix,$$($(2)_BUNDLE_EXTERNAL))$(1)-bundle@$$(call sbom-version,$$($(2)_BUNDLE_EXTERNAL))
download=$$(call sbom-url,$$($(2)_BUNDLE_EXTERNAL))
source=$(3)
$$(if $$(call sbom-license-file,$$($(2)_BUNDLE_EXTERNAL)),license_file=$$(call sbom-license-file,$$($(2)_BUNDLE_EXTERNAL)))
endef
$(SBOM_INFO_DIR)/$(1)-bundle.info: $(3)/$(1).mk $(TOPDIR)/rootfs/workloads.mk \
		$(GENERATED_INCLUDE)/bulkhead/version.h | $(SBOM_INFO_DIR)
	$$(file >$$@.tmp,$$(SBOM_INFO_TEXT_$(1)-bundle))
	$(Q)mv $$@.tmp $$@

ROOTFS_PARTS += $(1)-bundle=$$($(2)_BUNDLE_PART)
ROOTFS_PART_STAMPS += $$($(2)_BUNDLE_PART)/.stamp
SBOM_INFO_FILES += $(SBOM_INFO_DIR)/$(1)-bundle.info
WORKLOAD_BUNDLES += $(1)
$(1)-bundle: $$($(2)_BUNDLE_PART)/.stamp
.PHONY: $(1)-bundle
endef
workload-bundle = $(call workload-bundle-inner,$(1),$(call UPPERCASE,$(1)),$(patsubst %/,%,$(dir \
	$(lastword $(filter %/$(1)/$(1).mk,$(MAKEFILE_LIST))))))

include $(foreach t,$(BH_EXTERNAL_NAMES),$(BH_EXTERNAL_$(t)_WORKLOAD_MKS))
