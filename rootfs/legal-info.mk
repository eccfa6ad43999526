################################################################################
# make legal-info: the sources and licence texts of everything on the image,
# collected under $(O)/legal-info/ (as Buildroot users expect):
#   manifest.csv             component, version, licence, source, sha256, url
#   sources/<component>/     the pinned archive (and patches) it was built from
#   licenses/<component>/    its licence texts
# Our own programs' source is the repository itself (git archive of HEAD);
# an external tree's (BH_EXTERNAL) is a tarball of the tree, its packages'
# are their pinned archives like ours.
################################################################################

LEGAL_INFO_DIR := $(O)/legal-info

legal-info: $(foreach p,$(PACKAGES),$($(call UPPERCASE,$(p))_PREFIX)/.published) $(SBOM_INFO_FILES)
	$(Q)rm -rf $(LEGAL_INFO_DIR).tmp && mkdir -p $(LEGAL_INFO_DIR).tmp/sources $(LEGAL_INFO_DIR).tmp/licenses
	$(Q)printf '%s\n' 'component,version,licence,source,sha256,download' > $(LEGAL_INFO_DIR).tmp/manifest.csv
	$(Q)$(foreach p,$(PACKAGES),$(call legal-info-package,$(p),$(call UPPERCASE,$(p))))true
	$(Q)mkdir -p $(LEGAL_INFO_DIR).tmp/sources/bulkhead $(LEGAL_INFO_DIR).tmp/licenses/bulkhead
	$(Q)git -C $(TOPDIR) archive --format=tar.gz --prefix=bulkhead-$(BH_VERSION)/ \
		-o $(LEGAL_INFO_DIR).tmp/sources/bulkhead/bulkhead-$(BH_VERSION).tar.gz HEAD
	$(Q)cp $(TOPDIR)/LICENSE $(LEGAL_INFO_DIR).tmp/licenses/bulkhead/
	$(Q)printf '%s\n' "bulkhead ($(foreach p,$(PROGRAMS),$(if $($(call UPPERCASE,$(p))_EXTERNAL),,$(p)))),$(BH_VERSION),$(BULKHEAD_LICENSE),bulkhead-$(BH_VERSION).tar.gz,$$(sha256sum $(LEGAL_INFO_DIR).tmp/sources/bulkhead/*.tar.gz | cut -d' ' -f1),$(BULKHEAD_URL)" \
		>> $(LEGAL_INFO_DIR).tmp/manifest.csv
	$(Q)$(foreach t,$(BH_EXTERNAL_NAMES),$(call legal-info-external,$(t)))true
	$(Q)pkg=$$(sed -n 's/^origin=Debian package \([^=]*\)=.*/\1/p' $(SBOM_INFO_DIR)/libgcc.info) && \
		mkdir -p $(LEGAL_INFO_DIR).tmp/licenses/libgcc && \
		cp /usr/share/doc/$$pkg/copyright $(LEGAL_INFO_DIR).tmp/licenses/libgcc/ && \
		printf '%s\n' "libgcc,$$(sed -n 's/^version=//p' $(SBOM_INFO_DIR)/libgcc.info),GPL-3.0-or-later WITH GCC-exception-3.1,Debian source package gcc-12 (not copied: the runtime exception covers static linking),," \
		>> $(LEGAL_INFO_DIR).tmp/manifest.csv
	$(Q)rm -rf $(LEGAL_INFO_DIR) && mv $(LEGAL_INFO_DIR).tmp $(LEGAL_INFO_DIR)
	@echo "legal-info in $(LEGAL_INFO_DIR)"
.PHONY: legal-info

# $(1): package, $(2): upper-case prefix. One shell command list per package.
define legal-info-package
mkdir -p $(LEGAL_INFO_DIR).tmp/sources/$(1) $(LEGAL_INFO_DIR).tmp/licenses/$(1) && \
{ ln -f $($(2)_DL_FILE) $(LEGAL_INFO_DIR).tmp/sources/$(1)/ 2>/dev/null || \
	cp $($(2)_DL_FILE) $(LEGAL_INFO_DIR).tmp/sources/$(1)/; } && \
$(if $($(2)_PATCHES),cp $($(2)_PATCHES) $(LEGAL_INFO_DIR).tmp/sources/$(1)/ &&) \
cp -R $($(2)_PREFIX)/share/licenses/$(1)/. $(LEGAL_INFO_DIR).tmp/licenses/$(1)/ && \
printf '%s\n' '$(1),$($(2)_VERSION),$($(2)_LICENSE),$($(2)_SOURCE),$(shell awk '$$1 == "sha256" && $$3 == "$($(2)_SOURCE)" {print $$2}' $($(2)_HASH_FILE)),$(call sbom-download,$(2))' \
	>> $(LEGAL_INFO_DIR).tmp/manifest.csv && 
endef

# $(1): an external tree's name. Its folder as it is (no .git), reproducibly.
define legal-info-external
mkdir -p $(LEGAL_INFO_DIR).tmp/sources/$(BH_EXTERNAL_$(1)_ID) $(LEGAL_INFO_DIR).tmp/licenses/$(BH_EXTERNAL_$(1)_ID) && \
tar --sort=name --mtime=@$(SOURCE_DATE_EPOCH) --owner=0 --group=0 --numeric-owner --exclude=.git \
	-C $(dir $(BH_EXTERNAL_$(1)_PATH)) -cf - $(notdir $(BH_EXTERNAL_$(1)_PATH)) | gzip -9n \
	> $(LEGAL_INFO_DIR).tmp/sources/$(BH_EXTERNAL_$(1)_ID)/$(BH_EXTERNAL_$(1)_ID)-$(call sbom-version,$(1)).tar.gz && \
$(if $(call sbom-license-file,$(1)),cp $(call sbom-license-file,$(1)) $(LEGAL_INFO_DIR).tmp/licenses/$(BH_EXTERNAL_$(1)_ID)/ &&) \
printf '%s\n' "$(BH_EXTERNAL_$(1)_ID) (external tree $(1): its programs and files),$(call sbom-version,$(1)),$(call sbom-license,$(1)),$(BH_EXTERNAL_$(1)_ID)-$(call sbom-version,$(1)).tar.gz,$$(sha256sum $(LEGAL_INFO_DIR).tmp/sources/$(BH_EXTERNAL_$(1)_ID)/*.tar.gz | cut -d' ' -f1),$(call sbom-url,$(1))" \
	>> $(LEGAL_INFO_DIR).tmp/manifest.csv && 
endef
