################################################################################
# Bulkhead's own C programs: each is a static-PIE musl binary linked against
# firmware/lib (libbulkhead) and the packages it names.
#
# A program recipe (firmware/<prog>/<prog>.mk) sets <PROG>_SOURCES (files in
# its folder), <PROG>_LIBS (packages whose static libraries it links, in link
# order) and <PROG>_INSTALL (its path on the image), then ends with
# $(eval $(call program,<prog>)). <PROG>_HOST = YES also builds it for the
# build machine into $(HOST_DIR)/bin (host tools such as bhsbom and bhpack).
# Without <PROG>_INSTALL it is built for the target but not installed: a
# payload for a workload bundle (rootfs/workloads.mk).
#
# The link step writes a link map ($(BUILD_DIR)/programs/<prog>/<prog>.map)
# naming every archive member it pulled in and every object it loaded: the
# SBOM's STATIC_LINK relationships come from there, not from a hand-written
# list.
################################################################################

# -Wformat-truncation guesses at snprintf into fixed buffers, which we use
# on purpose for bounded paths and messages; it is off, the rest is on.
C_STD_FLAGS := -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wshadow -Wformat=2 \
	-Wstrict-prototypes -Wmissing-prototypes -Wno-unused-parameter -Wno-format-truncation
PROGRAMS_BUILD_DIR := $(BUILD_DIR)/programs
GENERATED_INCLUDE := $(BUILD_DIR)/include
PARTS_DIR := $(BUILD_DIR)/parts

# The configuration as C macros (BH_ARCH, BH_BOARD_NAME, BH_PROFILE_...).
$(GENERATED_INCLUDE)/bulkhead/autoconf.h: $(CONFIG_FILE)
	$(Q)mkdir -p $(@D)
	$(Q)$(KCONFIG) header $@
	$(Q)touch $@

$(GENERATED_INCLUDE)/bulkhead/version.h: FORCE
	$(Q)mkdir -p $(@D)
	$(Q)printf '#define BH_VERSION "%s"\n' '$(BH_VERSION)' > $@.tmp
	$(Q)cmp -s $@.tmp $@ && rm -f $@.tmp || mv $@.tmp $@

FORCE:
.PHONY: FORCE

# libbulkhead: firmware/lib, one static library per architecture.
LIBBULKHEAD_SOURCES := $(sort $(wildcard $(TOPDIR)/firmware/lib/*.c))
LIBBULKHEAD_OBJS := $(patsubst $(TOPDIR)/firmware/lib/%.c,$(PROGRAMS_BUILD_DIR)/lib/%.o,$(LIBBULKHEAD_SOURCES))
LIBBULKHEAD := $(PROGRAMS_BUILD_DIR)/lib/libbulkhead.a
LIBBULKHEAD_PACKAGES := yyjson mbedtls curl

TARGET_PROGRAM_CFLAGS = $(TARGET_CFLAGS) $(C_STD_FLAGS) -I$(TOPDIR)/include \
	-I$(GENERATED_INCLUDE) -MMD -MP

$(PROGRAMS_BUILD_DIR)/lib/%.o: $(TOPDIR)/firmware/lib/%.c $(GENERATED_INCLUDE)/bulkhead/autoconf.h \
		$(GENERATED_INCLUDE)/bulkhead/version.h | $(foreach p,$(LIBBULKHEAD_PACKAGES),$(p))
	$(Q)mkdir -p $(@D)
	@echo "    CC      lib/$*.c"
	$(Q)$(TARGET_CC) $(TARGET_PROGRAM_CFLAGS) \
		$(foreach p,$(LIBBULKHEAD_PACKAGES),-I$($(call UPPERCASE,$(p))_PREFIX)/include) -c $< -o $@

$(LIBBULKHEAD): $(LIBBULKHEAD_OBJS)
	$(Q)rm -f $@ && $(TARGET_AR) rcD $@ $^

-include $(LIBBULKHEAD_OBJS:.o=.d)

# $(1): program name, $(2): upper-case prefix. Its folder is the one of the
# recipe being read (firmware/<prog>/<prog>.mk, here or in an external
# tree, which _EXTERNAL names).
program-dir = $(patsubst %/,%,$(dir $(lastword $(filter %/$(1)/$(1).mk,$(MAKEFILE_LIST)))))
define program-common
$(2)_DIR := $(call program-dir,$(1))
$(2)_EXTERNAL := $(call external-tree-of,$(call program-dir,$(1)))
$(2)_ALL_LIBS := $$($(2)_LIBS) $(LIBBULKHEAD_PACKAGES)
ALL_PROGRAMS += $(1)
endef

define program-inner

$(foreach p,$($(2)_LIBS) $(LIBBULKHEAD_PACKAGES),$(if $(filter $(p),$(PACKAGES)),,$(error \
	$(call program-dir,$(1)) links $(p), which this configuration does not build: \
	BH_PACKAGE_$(call UPPERCASE,$(p)) is not set)))
$(2)_OBJDIR := $(PROGRAMS_BUILD_DIR)/$(1)
$(2)_OBJS := $$(patsubst %.c,$$($(2)_OBJDIR)/%.o,$$($(2)_SOURCES))
$(2)_BIN := $$($(2)_OBJDIR)/$(1)
$(2)_PART := $(PARTS_DIR)/$(1)
$(if $($(2)_INSTALL),PROGRAMS,PAYLOAD_PROGRAMS) += $(1)

$$($(2)_OBJDIR)/%.o: $$($(2)_DIR)/%.c $(GENERATED_INCLUDE)/bulkhead/autoconf.h \
		$(GENERATED_INCLUDE)/bulkhead/version.h | $$($(2)_ALL_LIBS)
	$(Q)mkdir -p $$(@D)
	@echo "    CC      $(1)/$$*.c"
	$(Q)$$(TARGET_CC) $$(TARGET_PROGRAM_CFLAGS) -I$$($(2)_DIR) \
		$$(foreach p,$$($(2)_ALL_LIBS),-I$$($$(call UPPERCASE,$$(p))_PREFIX)/include) -c $$< -o $$@

$$($(2)_BIN): $$($(2)_OBJS) $(LIBBULKHEAD) $(TOPDIR)/firmware/programs.mk
	@echo "    LD      $(1)"
	$(Q)$$(TARGET_CC) $$(TARGET_LDFLAGS) -o $$@ $$($(2)_OBJS) -Wl,--start-group $(LIBBULKHEAD) \
		$$(foreach p,$$($(2)_ALL_LIBS),$$(wildcard $$($$(call UPPERCASE,$$(p))_PREFIX)/lib/*.a)) \
		-Wl,--end-group -Wl,-Map,$$@.map

$$($(2)_PART)/.stamp: $$($(2)_BIN)
	$(Q)rm -rf $$($(2)_PART) && mkdir -p $$($(2)_PART)
	$(Q)install -D -m 0755 $$($(2)_BIN) $$($(2)_PART)/$$($(2)_INSTALL)
	$(Q)$(TARGET_STRIP) --strip-all $$($(2)_PART)/$$($(2)_INSTALL)
	$(Q)$$($(2)_INSTALL_EXTRA)
	$(Q)touch $$@

# A payload program (no INSTALL: packed into a bundle, not the host) stops
# at its binary.
$(1): $(if $($(2)_INSTALL),$$($(2)_PART)/.stamp,$$($(2)_BIN))
.PHONY: $(1)

-include $$($(2)_OBJS:.o=.d)
endef

# The same program for the build machine: Debian's gcc and glibc, and the
# host builds of the packages (host-<pkg>).
HOST_PROGRAMS_BUILD_DIR := $(BUILD_DIR)/host-programs
HOST_PROGRAM_CFLAGS = -O2 -g $(C_STD_FLAGS) -fstack-protector-strong -D_FORTIFY_SOURCE=2 \
	-I$(TOPDIR)/include -I$(GENERATED_INCLUDE) -MMD -MP
HOST_LIBBULKHEAD_OBJS := $(patsubst $(TOPDIR)/firmware/lib/%.c,$(HOST_PROGRAMS_BUILD_DIR)/lib/%.o,$(LIBBULKHEAD_SOURCES))
HOST_LIBBULKHEAD := $(HOST_PROGRAMS_BUILD_DIR)/lib/libbulkhead.a

$(HOST_PROGRAMS_BUILD_DIR)/lib/%.o: $(TOPDIR)/firmware/lib/%.c $(GENERATED_INCLUDE)/bulkhead/autoconf.h \
		$(GENERATED_INCLUDE)/bulkhead/version.h | $(foreach p,$(LIBBULKHEAD_PACKAGES),host-$(p))
	$(Q)mkdir -p $(@D)
	@echo "    HOSTCC  lib/$*.c"
	$(Q)gcc $(HOST_PROGRAM_CFLAGS) \
		$(foreach p,$(LIBBULKHEAD_PACKAGES),-I$(HOST_$(call UPPERCASE,$(p))_PREFIX)/include) -c $< -o $@

$(HOST_LIBBULKHEAD): $(HOST_LIBBULKHEAD_OBJS)
	$(Q)rm -f $@ && ar rcD $@ $^

-include $(HOST_LIBBULKHEAD_OBJS:.o=.d)

# $(1): program name, $(2): upper-case prefix.
# (The empty first line separates it from the previous define's last line.)
define host-program-inner

$(2)_HOST_OBJDIR := $(HOST_PROGRAMS_BUILD_DIR)/$(1)
$(2)_HOST_OBJS := $$(patsubst %.c,$$($(2)_HOST_OBJDIR)/%.o,$$($(2)_SOURCES))
$(2)_HOST_BIN := $(HOST_DIR)/bin/$(1)
HOST_PROGRAMS += $(1)

$$($(2)_HOST_OBJDIR)/%.o: $$($(2)_DIR)/%.c $(GENERATED_INCLUDE)/bulkhead/autoconf.h \
		$(GENERATED_INCLUDE)/bulkhead/version.h | $$(foreach p,$$($(2)_ALL_LIBS),host-$$(p))
	$(Q)mkdir -p $$(@D)
	@echo "    HOSTCC  $(1)/$$*.c"
	$(Q)gcc $$(HOST_PROGRAM_CFLAGS) -I$$($(2)_DIR) \
		$$(foreach p,$$($(2)_ALL_LIBS),-I$$(HOST_$$(call UPPERCASE,$$(p))_PREFIX)/include) -c $$< -o $$@

$$($(2)_HOST_BIN): $$($(2)_HOST_OBJS) $(HOST_LIBBULKHEAD)
	@echo "    HOSTLD  $(1)"
	$(Q)mkdir -p $$(@D)
	$(Q)gcc -o $$@.tmp $$($(2)_HOST_OBJS) -Wl,--start-group $(HOST_LIBBULKHEAD) \
		$$(foreach p,$$($(2)_ALL_LIBS),$$(wildcard $$(HOST_$$(call UPPERCASE,$$(p))_PREFIX)/lib/*.a)) \
		-Wl,--end-group $$($(2)_HOST_LDLIBS)
	$(Q)mv $$@.tmp $$@

host-$(1): $$($(2)_HOST_BIN)
.PHONY: host-$(1)

-include $$($(2)_HOST_OBJS:.o=.d)
endef

# <PROG>_TARGET = NO makes a host tool only (bhpack): not on the image.
program = $(call program-common,$(1),$(call UPPERCASE,$(1)))$(if $(filter NO,$($(call UPPERCASE,$(1))_TARGET)),,$(call program-inner,$(1),$(call UPPERCASE,$(1))))$(if $(filter YES,$($(call UPPERCASE,$(1))_HOST) $($(call UPPERCASE,$(1))_TARGET:NO=YES)),$(call host-program-inner,$(1),$(call UPPERCASE,$(1))))

include $(sort $(filter-out $(TOPDIR)/firmware/packages/%,$(wildcard $(TOPDIR)/firmware/*/*.mk)))
# The external trees' programs (BH_EXTERNAL): the same flags, libraries and
# rules as ours.
include $(foreach t,$(BH_EXTERNAL_NAMES),$(BH_EXTERNAL_$(t)_PROGRAM_MKS))
