################################################################################
# What the external trees (BH_EXTERNAL, docs/vendor.md) put on the image
# besides their programs and baked bundles (firmware/programs.mk,
# rootfs/workloads.mk):
# - each tree's rootfs/overlay/ and rootfs/services.d/ (installed into
#   /etc/bulkhead/services.d/ as they are) make one component, <id>-files,
#   which assemble.py checks like every other (nothing setuid or setgid, no
#   path that another component installs) and the manifest and the SBOM
#   hash file by file;
# - every selected package whose recipe says <PKG>_ROOTFS = YES adds the
#   target/ folder of its stage, as busybox and e2fsprogs do.
################################################################################

# $(1): the tree's name. cp -a keeps the modes, setuid bits included, so
# that assemble.py sees them and refuses them.
define external-files
$(1)_FILES_PART := $(PARTS_DIR)/$(BH_EXTERNAL_$(1)_ID)-files
$(1)_FILES := $(BH_EXTERNAL_$(1)_SERVICES) $(if $(BH_EXTERNAL_$(1)_OVERLAY),$(shell find $(BH_EXTERNAL_$(1)_OVERLAY)))

$$($(1)_FILES_PART)/.stamp: $$($(1)_FILES) $(BH_EXTERNAL_FILE) $(TOPDIR)/rootfs/external.mk
	$(Q)rm -rf $$(@D) && mkdir -p $$(@D)
	$(Q)$(if $(BH_EXTERNAL_$(1)_OVERLAY),cp -a $(BH_EXTERNAL_$(1)_OVERLAY)/. $$(@D)/)
	$(Q)$(if $(BH_EXTERNAL_$(1)_SERVICES),mkdir -p $$(@D)/etc/bulkhead/services.d && \
		cp -a $(BH_EXTERNAL_$(1)_SERVICES) $$(@D)/etc/bulkhead/services.d/)
	$(Q)touch $$@

define SBOM_INFO_TEXT_$(BH_EXTERNAL_$(1)_ID)-files
name=$(BH_EXTERNAL_$(1)_ID)-files
kind=files
version=$(call sbom-version,$(1))
supplier=$(call sbom-supplier,$(1))
license=$(call sbom-license,$(1))
purl=pkg:generic/$(BH_EXTERNAL_$(1)_ID)-files@$(call sbom-version,$(1))
download=$(call sbom-url,$(1))
source=$(BH_EXTERNAL_$(1)_PATH)/rootfs
$(if $(call sbom-license-file,$(1)),license_file=$(call sbom-license-file,$(1)))
endef
$(SBOM_INFO_DIR)/$(BH_EXTERNAL_$(1)_ID)-files.info: $(BH_EXTERNAL_FILE) $(TOPDIR)/rootfs/external.mk \
		$(GENERATED_INCLUDE)/bulkhead/version.h | $(SBOM_INFO_DIR)
	$$(file >$$@.tmp,$$(SBOM_INFO_TEXT_$(BH_EXTERNAL_$(1)_ID)-files))
	$(Q)mv $$@.tmp $$@

ifneq ($$(strip $$($(1)_FILES)),)
ROOTFS_PARTS += $(BH_EXTERNAL_$(1)_ID)-files=$$($(1)_FILES_PART)
ROOTFS_PART_STAMPS += $$($(1)_FILES_PART)/.stamp
SBOM_INFO_FILES += $(SBOM_INFO_DIR)/$(BH_EXTERNAL_$(1)_ID)-files.info
endif
endef
$(foreach t,$(BH_EXTERNAL_NAMES),$(eval $(call external-files,$(t))))

# Packages with files for the image (<PKG>_ROOTFS = YES): the target/
# folder of their published stage is their component.
ROOTFS_PACKAGES := $(foreach p,$(PACKAGES),$(if $(filter YES,$($(call UPPERCASE,$(p))_ROOTFS)),$(p)))
ROOTFS_PARTS += $(foreach p,$(ROOTFS_PACKAGES),$(p)=$($(call UPPERCASE,$(p))_PREFIX)/target)
ROOTFS_PART_STAMPS += $(foreach p,$(ROOTFS_PACKAGES),$($(call UPPERCASE,$(p))_PREFIX)/.published)
