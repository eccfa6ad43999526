################################################################################
# The shared recipe every third-party package hands itself to.
#
# A recipe (firmware/packages/<name>/<name>.mk) sets <NAME>_VERSION,
# _SOURCE, _SITE, _LICENSE, _LICENSE_FILES, _CPE_ID, _PURL, _SUPPLIER,
# _DEPENDENCIES and the _CONFIGURE_CMDS/_BUILD_CMDS/_INSTALL_CMDS blocks,
# then ends with $(eval $(call package,<name>)).
#
# Results are shared: a package is built once per architecture and set of
# inputs (its recipe folder, the files in _KEY_FILES, the toolchain and its
# dependencies) and published, complete, under
# $(ARTIFACTS_DIR)/<name>-<version>-<key>. Builds for other profiles or
# output folders find it there instead of rebuilding. The work folder lives
# in $(BUILD_DIR) and each step leaves a stamp, so an interrupted build
# resumes where it stopped.
################################################################################

UPPERCASE = $(subst -,_,$(subst a,A,$(subst b,B,$(subst c,C,$(subst d,D,$(subst e,E,$(subst f,F,$(subst g,G,$(subst h,H,$(subst i,I,$(subst j,J,$(subst k,K,$(subst l,L,$(subst m,M,$(subst n,N,$(subst o,O,$(subst p,P,$(subst q,Q,$(subst r,R,$(subst s,S,$(subst t,T,$(subst u,U,$(subst v,V,$(subst w,W,$(subst x,X,$(subst y,Y,$(subst z,Z,$(1))))))))))))))))))))))))))))

# Part of every key. Bump it when a change to this file changes what
# packages build into (a new flag, a new install step); changes that do not
# (comments, new macros) leave the shared artifacts valid.
PKG_INFRA_VERSION := 1

# Names this output folder in the shared cache's stage folders, so that two
# builds of one package at once never share a stage.
O_TAG := $(shell printf '%s' '$(O)' | sha256sum | cut -c1-8)

# The identity of a package's inputs: anything that changes the result
# changes the key, and so the folder the result is published in.
# _EXTRA_KEY_FILES are inputs set from outside the recipe (a board's
# kernel fragment, packages.mk).
# $(1): upper-case prefix, $(2): what it is built for (arch, compilers).
define pkg-key
$(shell { echo "$(PKG_INFRA_VERSION) $(2) $($(1)_VERSION) $($(1)_KEY_VARS)"; \
	echo "$(foreach d,$($(1)_DEPENDENCIES),$($(call UPPERCASE,$(d))_KEY))"; \
	cat $(sort $(wildcard $($(1)_PKGDIR)/*)) $($(1)_KEY_FILES) $($(1)_EXTRA_KEY_FILES); } \
	| sha256sum | cut -c1-12)
endef

# Extraction for the usual tarballs; a recipe sets <NAME>_EXTRACT_CMDS for
# anything else. $(1): upper-case prefix.
define pkg-extract-tarball
	tar -xf $($(1)_DL_FILE) --strip-components=1 -C $($(1)_SRCDIR)
endef

# A target package is built, and listed in the SBOM and legal-info, only
# when the configuration selects it: BH_PACKAGE_<NAME> from its Config.in
# is y. One without a Config.in (linux-headers, part of the toolchain)
# always is. $(1): recipe folder name, $(2): the folder.
pkg-selected = $(if $(wildcard $(2)/Config.in),$(filter y,$(BH_PACKAGE_$(call UPPERCASE,$(1)))),y)

# The folder of recipe <name>/<name>.mk, ours (firmware/packages) or an
# external tree's: the makefile being read with that name. $(1): name.
pkgdir = $(patsubst %/,%,$(dir $(lastword $(filter %/$(1)/$(1).mk,$(MAKEFILE_LIST)))))

# $(1): package name, $(2): upper-case prefix, $(3): artifacts folder,
# $(4): what it is built for (part of the key), $(5): recipe folder name,
# $(6): recipe folder.
define package-inner
$(2)_NAME := $(1)
$(2)_PKGDIR := $(6)
$(2)_HASH_FILE ?= $$($(2)_PKGDIR)/$(5).hash
$(2)_PATCHES := $$(sort $$(wildcard $$($(2)_PKGDIR)/*.patch))
$(2)_DL_FILE := $(DL_DIR)/$$($(2)_SOURCE)
$(2)_KEY := $$(call pkg-key,$(2),$(4))
$(2)_ID := $(1)-$$($(2)_VERSION)-$$($(2)_KEY)
$(2)_PREFIX := $(3)/$$($(2)_ID)
$(2)_STAGE := $(3)/.stage-$$($(2)_ID)-$(O_TAG)
$(2)_BUILDDIR := $(BUILD_DIR)/$$($(2)_ID)
$(2)_SRCDIR := $$($(2)_BUILDDIR)/src
$(2)_EXTRACT_CMDS ?= $$(call pkg-extract-tarball,$(2))
$(2)_DEP_STAMPS := $$(foreach d,$$($(2)_DEPENDENCIES),$$($$(call UPPERCASE,$$(d))_PREFIX)/.published)
$(2)_FETCH_ARGS := --package $(1) --file $$($(2)_SOURCE) --hash-file $$($(2)_HASH_FILE) \
	--dl-dir $(DL_DIR) --cache $(BULKHEAD_CACHE) \
	$$(foreach s,$$($(2)_SITE),--url $$(s)/$$($(2)_SOURCE)) \
	$$(if $$($(2)_DEBIAN_RELEASE),--debian-release $$($(2)_DEBIAN_RELEASE)) \
	$$(if $$($(2)_DEBIAN_SOURCE),--debian-source $$($(2)_DEBIAN_SOURCE)) \
	$$(if $$($(2)_DEBIAN_BINARY),--debian-binary '$$($(2)_DEBIAN_BINARY)')
$(if $(filter host-%,$(1)),HOST_PACKAGES,$(if $(call pkg-selected,$(5),$(6)),PACKAGES,UNSELECTED_PACKAGES)) += $(1)

# Two packages may share one archive (linux and linux-headers).
ifeq ($$(filter $$($(2)_DL_FILE),$$(DL_FILES)),)
DL_FILES += $$($(2)_DL_FILE)
$$($(2)_DL_FILE):
	$(Q)$(TOPDIR)/support/download.py $$($(2)_FETCH_ARGS)
endif

$(1)-source: $$($(2)_DL_FILE)

$$($(2)_BUILDDIR)/.stamp_extracted: | $$($(2)_DL_FILE)
	@echo ">>> $(1) $$($(2)_VERSION): extracting"
	$(Q)rm -rf $$($(2)_BUILDDIR) && mkdir -p $$($(2)_SRCDIR)
	$(Q)$$($(2)_EXTRACT_CMDS)
	$(Q)$$(foreach f,$$($(2)_LICENSE_FILES),$(TOPDIR)/support/check-hash.sh \
		$$($(2)_HASH_FILE) $$($(2)_SRCDIR)/$$(f) $$(f) &&) true
	$(Q)$$(foreach p,$$($(2)_PATCHES),echo "    applying $$(notdir $$(p))" && \
		patch -d $$($(2)_SRCDIR) -p1 --no-backup-if-mismatch -s < $$(p) &&) true
	$(Q)touch $$@

$$($(2)_BUILDDIR)/.stamp_configured: $$($(2)_BUILDDIR)/.stamp_extracted | $$($(2)_DEP_STAMPS)
	@echo ">>> $(1) $$($(2)_VERSION): configuring"
	$$($(2)_CONFIGURE_CMDS)
	$(Q)touch $$@

$$($(2)_BUILDDIR)/.stamp_built: $$($(2)_BUILDDIR)/.stamp_configured
	@echo ">>> $(1) $$($(2)_VERSION): building"
	$$($(2)_BUILD_CMDS)
	$(Q)touch $$@

# Install into a stage folder of this output folder, then publish it with
# one rename: the artifacts folder never holds a half-installed package.
# Two builds (two O folders) may build the same package at once: the first
# to publish wins and the other drops its identical stage, so a published
# package is never replaced under a build that is reading it.
$$($(2)_PREFIX)/.published: | $$($(2)_DEP_STAMPS)
	$(Q)$$(MAKE) --no-print-directory BH_SUBMAKE=1 $$($(2)_BUILDDIR)/.stamp_built
	@echo ">>> $(1) $$($(2)_VERSION): installing into $$($(2)_PREFIX)"
	$(Q)rm -rf $$($(2)_STAGE) && mkdir -p $$($(2)_STAGE)
	$$($(2)_INSTALL_CMDS)
	$(Q)$$(foreach f,$$($(2)_LICENSE_FILES),install -D -m 0644 $$($(2)_SRCDIR)/$$(f) \
		$$($(2)_STAGE)/share/licenses/$(1)/$$(f) &&) true
	$(Q)printf '%s\n' '$$($(2)_ID)' > $$($(2)_STAGE)/.published
	$(Q)if [ -e $$($(2)_PREFIX)/.published ]; then rm -rf $$($(2)_STAGE); else \
		rm -rf $$($(2)_PREFIX) && mv -T $$($(2)_STAGE) $$($(2)_PREFIX) || \
		{ [ -e $$($(2)_PREFIX)/.published ] && rm -rf $$($(2)_STAGE); }; fi

$(1): $$($(2)_PREFIX)/.published

$(1)-rebuild:
	$(Q)rm -rf $$($(2)_PREFIX) $$($(2)_BUILDDIR)/.stamp_built
	$(Q)$$(MAKE) --no-print-directory $(1)

$(1)-dirclean:
	$(Q)rm -rf $$($(2)_BUILDDIR)

.PHONY: $(1) $(1)-source $(1)-rebuild $(1)-dirclean
endef

package = $(call package-inner,$(1),$(call UPPERCASE,$(1)),$(ARTIFACTS_DIR),$(BH_ARCH) $(TOOLCHAIN_ID),$(1),$(call pkgdir,$(1)))

# host-<name>: the same pinned source built for the build machine with its
# own gcc, for the C unit tests and the host tools ($(O)/host/bin). The
# recipe adds HOST_<NAME>_CONFIGURE/BUILD/INSTALL_CMDS; the source, hashes
# and licence come from the target recipe.
HOST_ARTIFACTS_DIR := $(BULKHEAD_CACHE)/artifacts/host-$(HOST_ARCH)
HOST_GCC_ID := $(shell gcc -dumpfullversion)

define host-package-vars
HOST_$(2)_VERSION = $$($(2)_VERSION)
HOST_$(2)_SOURCE = $$($(2)_SOURCE)
HOST_$(2)_SITE = $$($(2)_SITE)
HOST_$(2)_HASH_FILE = $$($(2)_HASH_FILE)
HOST_$(2)_LICENSE_FILES = $$($(2)_LICENSE_FILES)
HOST_$(2)_DEBIAN_RELEASE = $$($(2)_DEBIAN_RELEASE)
HOST_$(2)_DEBIAN_SOURCE = $$($(2)_DEBIAN_SOURCE)
HOST_$(2)_DEBIAN_BINARY = $$($(2)_DEBIAN_BINARY)
endef

host-package = $(eval $(call host-package-vars,$(1),$(call UPPERCASE,$(1))))$(call package-inner,host-$(1),HOST_$(call UPPERCASE,$(1)),$(HOST_ARTIFACTS_DIR),host $(HOST_GCC_ID),$(1),$(call pkgdir,$(1)))
