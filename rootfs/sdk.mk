################################################################################
# make sdk: what a vendor needs to build workloads for this board outside
# the tree (docs/vendor.md, "The SDK"), as one relocatable tarball,
# $(IMAGES_DIR)/bulkhead-sdk-<board>-<arch>-<version>.tar.gz:
#   bin/<triplet>-gcc    the image's own compiler: Debian's gcc through
#                        musl's specs, with the image's hardening flags
#   bin/<triplet>-ar...  Debian's binutils for the target
#   bin/bhpack           this build's bhpack (for the build machine)
#   sysroot/             musl, the kernel's headers, mbedTLS, libseccomp,
#                        yyjson: headers and static libraries
#   share/licenses/, sbom/, README.md
# rootfs/sdk/mksdk.py assembles it; the same inputs give the same bytes.
################################################################################

SDK_PACKAGES := musl linux-headers mbedtls libseccomp yyjson
SDK_NAME = bulkhead-sdk-$(BH_BOARD_NAME)-$(BH_ARCH)-$(BH_VERSION)
SDK_TARBALL = $(IMAGES_DIR)/$(SDK_NAME).tar.gz
# Every target compile's flags without the board's optimisation choice
# (BH_TARGET_CFLAGS): the SDK's gcc adds them to every compile.
SDK_CFLAGS = $(filter-out $(call qstrip,$(BH_TARGET_CFLAGS)),$(TARGET_CFLAGS_BASE))

ifneq ($(filter sdk,$(MAKECMDGOALS)),)
$(foreach p,$(SDK_PACKAGES),$(if $(filter $(p),$(PACKAGES)),,$(error make sdk: the SDK carries $(p), \
	which this configuration does not build: BH_PACKAGE_$(call UPPERCASE,$(p)) is not set)))
endif

sdk: $(foreach p,$(SDK_PACKAGES),$(SBOM_INFO_DIR)/$(p).info) $(BHPACK_HOST_BIN) $(BHSBOM_HOST_BIN)
	$(Q)rm -f $(IMAGES_DIR)/bulkhead-sdk-*.tar.gz
	$(Q)$(PYTHON3) $(TOPDIR)/rootfs/sdk/mksdk.py --work $(BUILD_DIR)/sdk --out $(SDK_TARBALL) \
		--name $(SDK_NAME) --board $(BH_BOARD_NAME) --arch $(BH_ARCH) --version $(BH_VERSION) \
		--created $(SOURCE_DATE_EPOCH) --cflags '$(SDK_CFLAGS)' --ldflags '$(TARGET_LDFLAGS)' \
		--gcc-version $(shell $(TARGET_REAL_CC) -dumpfullversion) --bhpack $(BHPACK_HOST_BIN) \
		--bhsbom $(BHSBOM_HOST_BIN) --strip strip \
		$(foreach p,$(SDK_PACKAGES),--package $(p)=$($(call UPPERCASE,$(p))_PREFIX) \
		--info $(SBOM_INFO_DIR)/$(p).info)
.PHONY: sdk
