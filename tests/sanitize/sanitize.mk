################################################################################
# Sanitizer builds of the programs the host integration tests drive: built
# for the build host with clang and glibc, AddressSanitizer and
# UndefinedBehaviorSanitizer (any report ends the program), linking
# libbulkhead's sources and host builds of the program's packages, into
# $(BUILD_DIR)/asan/bin/<prog>. tests/run runs tests/integration a second
# time with BH_SANITIZED_BIN set to that folder (tests/lib/bhbin.py).
# A program's recipe claims its sanitizer build:
#   <PROG>_SANITIZE = YES       always
#   <PROG>_SANITIZE = NATIVE    only when the configuration's architecture is
#                               the build host's (bhv: its VM code is per arch)
#
# make sanitize-tools
################################################################################

SANITIZE_BUILD_DIR := $(BUILD_DIR)/asan
SANITIZE_BIN_DIR := $(SANITIZE_BUILD_DIR)/bin
# clang, not gcc: gcc's UBSan ignores log_path, and tests/run collects the
# reports from files (a child's stderr may be discarded). clang lacks gcc's
# -Wformat-truncation and warns about a GNU extension bhv uses on purpose
# (struct kvm_msrs followed by its entries, x86_cpu.c).
SANITIZE_CC := clang
SANITIZE_CFLAGS := -O1 -g $(filter-out -Wno-format-truncation,$(C_STD_FLAGS)) \
	-Wno-gnu-variable-sized-type-not-at-end -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer -DBH_SANITIZE=1 -I$(TOPDIR)/include -I$(GENERATED_INCLUDE) -MMD -MP
SANITIZE_LDFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all
SANITIZE_LIB_OBJS := $(patsubst $(TOPDIR)/firmware/lib/%.c,$(SANITIZE_BUILD_DIR)/lib/%.o,$(LIBBULKHEAD_SOURCES))

$(SANITIZE_BUILD_DIR)/lib/%.o: $(TOPDIR)/firmware/lib/%.c $(GENERATED_INCLUDE)/bulkhead/autoconf.h \
		$(GENERATED_INCLUDE)/bulkhead/version.h $(TOPDIR)/tests/sanitize/sanitize.mk \
		| $(foreach p,$(LIBBULKHEAD_PACKAGES),host-$(p))
	$(Q)mkdir -p $(@D)
	@echo "    ASANCC  lib/$*.c"
	$(Q)$(SANITIZE_CC) $(SANITIZE_CFLAGS) \
		$(foreach p,$(LIBBULKHEAD_PACKAGES),-I$(HOST_$(call UPPERCASE,$(p))_PREFIX)/include) -c $< -o $@

-include $(SANITIZE_LIB_OBJS:.o=.d)

# $(1): program name, $(2): upper-case prefix.
define sanitize-program

$(2)_ASAN_OBJS := $$(patsubst %.c,$(SANITIZE_BUILD_DIR)/$(1)/%.o,$$($(2)_SOURCES))
SANITIZE_BINS += $(SANITIZE_BIN_DIR)/$(1)

$(SANITIZE_BUILD_DIR)/$(1)/%.o: $$($(2)_DIR)/%.c $(GENERATED_INCLUDE)/bulkhead/autoconf.h \
		$(GENERATED_INCLUDE)/bulkhead/version.h $(TOPDIR)/tests/sanitize/sanitize.mk \
		| $$(foreach p,$$($(2)_ALL_LIBS),host-$$(p))
	$(Q)mkdir -p $$(@D)
	@echo "    ASANCC  $(1)/$$*.c"
	$(Q)$(SANITIZE_CC) $(SANITIZE_CFLAGS) -I$$($(2)_DIR) \
		$$(foreach p,$$($(2)_ALL_LIBS),-I$$(HOST_$$(call UPPERCASE,$$(p))_PREFIX)/include) -c $$< -o $$@

$(SANITIZE_BIN_DIR)/$(1): $$($(2)_ASAN_OBJS) $(SANITIZE_LIB_OBJS)
	@echo "    ASANLD  $(1)"
	$(Q)mkdir -p $$(@D)
	$(Q)$(SANITIZE_CC) $(SANITIZE_LDFLAGS) -o $$@.tmp $$($(2)_ASAN_OBJS) $(SANITIZE_LIB_OBJS) -Wl,--start-group \
		$$(foreach p,$$($(2)_ALL_LIBS),$$(wildcard $$(HOST_$$(call UPPERCASE,$$(p))_PREFIX)/lib/*.a)) \
		-Wl,--end-group $$($(2)_HOST_LDLIBS)
	$(Q)mv $$@.tmp $$@

-include $$($(2)_ASAN_OBJS:.o=.d)
endef

SANITIZE_NATIVE := $(filter $(BH_ARCH),$(shell uname -m))
$(foreach p,$(ALL_PROGRAMS),$(if $(filter YES $(if $(SANITIZE_NATIVE),NATIVE),\
	$($(call UPPERCASE,$(p))_SANITIZE)),$(eval $(call sanitize-program,$(p),$(call UPPERCASE,$(p))))))

sanitize-tools: $(SANITIZE_BINS)
.PHONY: sanitize-tools
