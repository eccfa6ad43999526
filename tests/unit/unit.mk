################################################################################
# C unit tests: each tests/unit/test_<x>.c is a TAP program built for the
# build host with AddressSanitizer and UndefinedBehaviorSanitizer, so that a
# memory error fails the test. It links libbulkhead (built the same way) and host builds
# of our pinned libraries. A program's recipe claims the tests of its own
# code:
#   <PROG>_UNIT_TESTS = test_x test_y      tests/unit/test_x.c, ...
#   <PROG>_UNIT_SOURCES = a.c b.c          files of firmware/<prog>/ they link
#   <PROG>_UNIT_LIBS = libseccomp          host packages beyond yyjson, mbedtls and curl
# An external tree's program (docs/vendor.md) keeps its tests in the tree's
# tests/unit/ instead; `make external-unit-tests` builds only those, and
# tests/run runs them in the O of each example tree's board.
################################################################################

UNIT_BUILD_DIR := $(BUILD_DIR)/unit
UNIT_HOST_LIBS := yyjson mbedtls curl
UNIT_CFLAGS := -O1 -g $(C_STD_FLAGS) -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer -I$(TOPDIR)/include -I$(GENERATED_INCLUDE) -I$(TOPDIR)/tests/unit

# libbulkhead compiled once more for the build host with other flags and
# archived, so that each test (or fuzz harness) links the objects it uses
# instead of compiling every source again: $(1) folder, $(2) the compile
# command, $(3) the archive.
LIBBULKHEAD_VARIANT_PKGS := $(sort $(UNIT_HOST_LIBS) $(LIBBULKHEAD_PACKAGES))
define libbulkhead-variant
$(1)/%.o: $(TOPDIR)/firmware/lib/%.c $(GENERATED_INCLUDE)/bulkhead/autoconf.h \
		$(GENERATED_INCLUDE)/bulkhead/version.h | $(foreach p,$(LIBBULKHEAD_VARIANT_PKGS),host-$(p))
	$$(Q)mkdir -p $$(@D)
	$$(Q)$(2) -MMD -MP \
		$(foreach p,$(LIBBULKHEAD_VARIANT_PKGS),-I$$(HOST_$$(call UPPERCASE,$(p))_PREFIX)/include) \
		-c $$< -o $$@
$(3): $(patsubst $(TOPDIR)/firmware/lib/%.c,$(1)/%.o,$(LIBBULKHEAD_SOURCES))
	$$(Q)rm -f $$@ && ar rcD $$@ $$^
-include $(patsubst $(TOPDIR)/firmware/lib/%.c,$(1)/%.d,$(LIBBULKHEAD_SOURCES))
endef

UNIT_LIB := $(UNIT_BUILD_DIR)/lib/libbulkhead-asan.a
$(eval $(call libbulkhead-variant,$(UNIT_BUILD_DIR)/lib,gcc $(UNIT_CFLAGS),$(UNIT_LIB)))

# $(1): test name, $(2): extra sources (absolute), $(3): extra host packages,
# $(4): the program's folder (for its private headers; a change there
# rebuilds the test, which may #include one of its files), $(5): the
# folder of the test's source.
define unit-test
UNIT_TESTS += $(UNIT_BUILD_DIR)/$(1)
$(UNIT_BUILD_DIR)/$(1): $(5)/$(1).c $(UNIT_LIB) $(2) $(if $(4),$(wildcard $(4)/*.[ch])) \
		$(TOPDIR)/tests/unit/tap.h $(GENERATED_INCLUDE)/bulkhead/autoconf.h \
		$(GENERATED_INCLUDE)/bulkhead/version.h | $(foreach p,$(UNIT_HOST_LIBS) $(3),host-$(p))
	$$(Q)mkdir -p $$(@D)
	@echo "    HOSTCC  $(1)"
	$$(Q)gcc $(UNIT_CFLAGS) $(if $(4),-I$(4)) \
		$(foreach p,$(UNIT_HOST_LIBS) $(3),-I$$(HOST_$$(call UPPERCASE,$(p))_PREFIX)/include) \
		-o $$@ $$< $(2) -Wl,--start-group $(UNIT_LIB) \
		$(foreach p,$(3) $(UNIT_HOST_LIBS),$$(wildcard $$(HOST_$$(call UPPERCASE,$(p))_PREFIX)/lib/*.a)) \
		-Wl,--end-group
endef

# $(1): upper-case program prefix: the folder of its tests' sources.
unit-test-dir = $(if $($(1)_EXTERNAL),$(BH_EXTERNAL_$($(1)_EXTERNAL)_PATH)/tests/unit,$(TOPDIR)/tests/unit)

UNIT_CLAIMED := $(foreach p,$(ALL_PROGRAMS),$($(call UPPERCASE,$(p))_UNIT_TESTS))
$(foreach p,$(ALL_PROGRAMS),$(foreach t,$($(call UPPERCASE,$(p))_UNIT_TESTS),$(eval $(call unit-test,$(t),\
	$(addprefix $($(call UPPERCASE,$(p))_DIR)/,$($(call UPPERCASE,$(p))_UNIT_SOURCES)),\
	$($(call UPPERCASE,$(p))_UNIT_LIBS),$($(call UPPERCASE,$(p))_DIR),\
	$(call unit-test-dir,$(call UPPERCASE,$(p)))))))
$(foreach t,$(filter-out $(UNIT_CLAIMED),$(patsubst $(TOPDIR)/tests/unit/%.c,%,\
	$(wildcard $(TOPDIR)/tests/unit/test_*.c))),$(eval $(call unit-test,$(t),,,,$(TOPDIR)/tests/unit)))

# The external trees' programs' tests (names for tests/run: printvars).
EXTERNAL_UNIT_TESTS := $(foreach p,$(ALL_PROGRAMS),$(if $($(call UPPERCASE,$(p))_EXTERNAL),\
	$($(call UPPERCASE,$(p))_UNIT_TESTS)))

unit-tests: $(UNIT_TESTS)
external-unit-tests: $(addprefix $(UNIT_BUILD_DIR)/,$(EXTERNAL_UNIT_TESTS))
.PHONY: unit-tests external-unit-tests
