################################################################################
# SBOM inputs: one small `key=value` file per component, written from the
# recipes (packages) and from the build (our programs, their link traces),
# then handed with the root filesystem's manifest to bhsbom, which writes the
# SPDX 2.3 and CycloneDX 1.6 documents (firmware/bhsbom, docs/sbom.md).
################################################################################

SBOM_INFO_DIR := $(BUILD_DIR)/sbom/info
SBOM_OUT_DIR := $(BUILD_DIR)/sbom/out
BULKHEAD_LICENSE := Apache-2.0
BULKHEAD_SUPPLIER := Organization: Bulkhead
BULKHEAD_URL := https://github.com/bulkhead-firmware/bulkhead

# $(file) runs when make expands a recipe, before its first command: the
# folder must exist by then.
$(SBOM_INFO_DIR):
	$(Q)mkdir -p $@

# Where an archive can be downloaded: the recipe's site, or its upstream
# when the pinned archive is Debian's (kernel, yyjson).
sbom-download = $(if $($(1)_SITE),$(firstword $($(1)_SITE))/$($(1)_SOURCE),$(or \
	$($(1)_UPSTREAM_URL),$($(1)_SOURCE_UPSTREAM_URL),NOASSERTION))
sbom-origin = $(if $($(1)_DEBIAN_SOURCE),Debian $($(1)_DEBIAN_RELEASE) source package \
	$(subst :, orig ,$($(1)_DEBIAN_SOURCE)))$(if $($(1)_DEBIAN_BINARY),Debian \
	$($(1)_DEBIAN_RELEASE) package $($(1)_DEBIAN_BINARY))

# $(1): package name, $(2): upper-case prefix. Kept as one line per key;
# $(file) writes it without a shell in between, so no quoting can break it.
define sbom-package-info
define SBOM_INFO_TEXT_$(1)
name=$(1)
kind=$(if $(filter musl linux-headers,$(1)),toolchain,package)
version=$$($(2)_VERSION)
supplier=$$($(2)_SUPPLIER)
license=$$($(2)_LICENSE)
cpe=$$($(2)_CPE_ID)
purl=$$($(2)_PURL)
download=$$(call sbom-download,$(2))
origin=$$(strip $$(call sbom-origin,$(2)))
source=$$($(2)_SOURCE)
source_sha256=$$(shell awk '$$$$1 == "sha256" && $$$$3 == "$$($(2)_SOURCE)" {print $$$$2}' $$($(2)_HASH_FILE))
$$(foreach p,$$($(2)_PATCHES),patch=$$(notdir $$(p)) $$(firstword $$(shell sha256sum $$(p)))
)$$(foreach f,$$($(2)_LICENSE_FILES),license_file=$$($(2)_PREFIX)/share/licenses/$(1)/$$(f)
)$$(foreach d,$$($(2)_DEPENDENCIES),depends=$$(d)
)artifact=$$($(2)_ID)
archive=$$($(2)_PREFIX)/
$$($(2)_SBOM_EXTRA)
endef
$(SBOM_INFO_DIR)/$(1).info: $$($(2)_PREFIX)/.published $$($(2)_HASH_FILE) $(TOPDIR)/rootfs/sbom.mk | $(SBOM_INFO_DIR)
	$$(file >$$@.tmp,$$(SBOM_INFO_TEXT_$(1)))
	$$(Q)mv $$@.tmp $$@
SBOM_INFO_FILES += $(SBOM_INFO_DIR)/$(1).info
endef

# The kernel also records the hash of its .config, and the image it boots
# (outside the root filesystem).
define LINUX_SBOM_EXTRA
kernel_config_sha256=$(firstword $(shell sha256sum $(LINUX_PREFIX)/config))
outside_file=boot/$(KERNEL_IMAGE) $(LINUX_PREFIX)/$(KERNEL_IMAGE)
endef
$(foreach p,$(PACKAGES),$(eval $(call sbom-package-info,$(p),$(call UPPERCASE,$(p)))))

# Our programs: version from git, our licence, and the libraries the linker
# really pulled in (the link map).
define sbom-program-info
define SBOM_INFO_TEXT_$(1)
name=$(1)
kind=program
version=$(BH_VERSION)
supplier=$(BULKHEAD_SUPPLIER)
license=$(BULKHEAD_LICENSE)
purl=pkg:generic/bulkhead-$(1)@$(BH_VERSION)
download=$(BULKHEAD_URL)
source=firmware/$(1)
link_map=$$($(2)_BIN).map
license_file=$(TOPDIR)/LICENSE
endef
$(SBOM_INFO_DIR)/$(1).info: $$($(2)_BIN) $(TOPDIR)/rootfs/sbom.mk | $(SBOM_INFO_DIR)
	$$(file >$$@.tmp,$$(SBOM_INFO_TEXT_$(1)))
	$$(Q)mv $$@.tmp $$@
SBOM_INFO_FILES += $(SBOM_INFO_DIR)/$(1).info
endef
$(foreach p,$(PROGRAMS),$(eval $(call sbom-program-info,$(p),$(call UPPERCASE,$(p)))))

define SBOM_INFO_TEXT_bulkhead-base-files
name=bulkhead-base-files
kind=files
version=$(BH_VERSION)
supplier=$(BULKHEAD_SUPPLIER)
license=$(BULKHEAD_LICENSE)
purl=pkg:generic/bulkhead-base-files@$(BH_VERSION)
download=$(BULKHEAD_URL)
source=rootfs/skeleton
license_file=$(TOPDIR)/LICENSE
endef
# version.h changes with BH_VERSION (the commit): an incremental build on a
# later commit names that commit, as a clean one does.
$(SBOM_INFO_DIR)/bulkhead-base-files.info: $(CONFIG_FILE) $(TOPDIR)/rootfs/sbom.mk \
		$(GENERATED_INCLUDE)/bulkhead/version.h | $(SBOM_INFO_DIR)
	$(file >$@.tmp,$(SBOM_INFO_TEXT_bulkhead-base-files))
	$(Q)mv $@.tmp $@
SBOM_INFO_FILES += $(SBOM_INFO_DIR)/bulkhead-base-files.info

# libbulkhead (firmware/lib) is linked into every program.
define SBOM_INFO_TEXT_libbulkhead
name=libbulkhead
kind=library
version=$(BH_VERSION)
supplier=$(BULKHEAD_SUPPLIER)
license=$(BULKHEAD_LICENSE)
purl=pkg:generic/bulkhead-libbulkhead@$(BH_VERSION)
download=$(BULKHEAD_URL)
source=firmware/lib
archive=$(LIBBULKHEAD)
package_file=$(LIBBULKHEAD)
license_file=$(TOPDIR)/LICENSE
endef
$(SBOM_INFO_DIR)/libbulkhead.info: $(LIBBULKHEAD) $(TOPDIR)/rootfs/sbom.mk | $(SBOM_INFO_DIR)
	$(file >$@.tmp,$(SBOM_INFO_TEXT_libbulkhead))
	$(Q)mv $@.tmp $@
SBOM_INFO_FILES += $(SBOM_INFO_DIR)/libbulkhead.info

# gcc's runtime (libgcc.a, crtbegin/end) is linked into every program too:
# it comes from Debian's gcc, so its identity is Debian's package.
LIBGCC_DIR := $(dir $(shell $(TARGET_REAL_CC) -print-libgcc-file-name))

$(SBOM_INFO_DIR)/libgcc.info: $(TOPDIR)/rootfs/sbom.mk | $(SBOM_INFO_DIR)
	$(Q)pkg=$$(dpkg-query -S $(LIBGCC_DIR)libgcc.a | head -1 | cut -d: -f1) && \
	ver=$$(dpkg-query -W -f '$${Version}' $$pkg) && \
	src=$$(dpkg-query -W -f '$${source:Package}' $$pkg) && \
	printf '%s\n' name=libgcc kind=toolchain "version=$$ver" \
		"supplier=Organization: Debian (package $$pkg), from the GNU Compiler Collection" \
		"license=GPL-3.0-or-later WITH GCC-exception-3.1" \
		"purl=pkg:deb/debian/$$pkg@$$ver" "download=NOASSERTION" \
		"origin=Debian package $$pkg=$$ver (source $$src)" "archive=$(LIBGCC_DIR)" \
		"package_file=$(LIBGCC_DIR)libgcc.a" \
		"license_file=/usr/share/doc/$$pkg/copyright" > $@.tmp
	$(Q)mv $@.tmp $@
SBOM_INFO_FILES += $(SBOM_INFO_DIR)/libgcc.info
