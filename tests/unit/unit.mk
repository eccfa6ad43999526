################################################################################
# C unit tests: each tests/unit/test_<x>.c is a TAP program built for the
# build host with AddressSanitizer and UndefinedBehaviorSanitizer, so that a
# memory error fails the test. It links libbulkhead (built the same way) and host builds
# of our pinned libraries. A program's recipe claims the tests of its own
# code:
#   <PROG>_UNIT_TESTS = test_x test_y      tests/unit/test_x.c, ...
#   <PROG>_UNIT_SOURCES = a.c b.c          files of firmware/<prog>/ they link
#   <PROG>_UNIT_LIBS = libseccomp          host packages beyond yyjson, mbedtls and curl
################################################################################

UNIT_BUILD_DIR := $(BUILD_DIR)/unit
UNIT_HOST_LIBS := yyjson mbedtls curl
UNIT_CFLAGS := -O1 -g $(C_STD_FLAGS) -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer -I$(TOPDIR)/include -I$(GENERATED_INCLUDE) -I$(TOPDIR)/tests/unit

# libbulkhead is compiled once with the same flags and archived: each test
# links the objects it uses (compiling every source into every test took
# most of the unit tests' time).
UNIT_LIB_OBJS := $(patsubst $(TOPDIR)/firmware/lib/%.c,$(UNIT_BUILD_DIR)/lib/%.o,$(LIBBULKHEAD_SOURCES))
UNIT_LIB := $(UNIT_BUILD_DIR)/lib/libbulkhead-asan.a

$(UNIT_BUILD_DIR)/lib/%.o: $(TOPDIR)/firmware/lib/%.c $(GENERATED_INCLUDE)/bulkhead/autoconf.h \
		$(GENERATED_INCLUDE)/bulkhead/version.h | $(foreach p,$(sort $(UNIT_HOST_LIBS) $(LIBBULKHEAD_PACKAGES)),host-$(p))
	$(Q)mkdir -p $(@D)
	$(Q)gcc $(UNIT_CFLAGS) -MMD -MP \
		$(foreach p,$(sort $(UNIT_HOST_LIBS) $(LIBBULKHEAD_PACKAGES)),-I$(HOST_$(call UPPERCASE,$(p))_PREFIX)/include) \
		-c $< -o $@

$(UNIT_LIB): $(UNIT_LIB_OBJS)
	$(Q)rm -f $@ && ar rcD $@ $^

-include $(UNIT_LIB_OBJS:.o=.d)

# $(1): test name, $(2): extra sources (absolute), $(3): extra host packages,
# $(4): the program's folder (for its private headers).
define unit-test
UNIT_TESTS += $(UNIT_BUILD_DIR)/$(1)
$(UNIT_BUILD_DIR)/$(1): $(TOPDIR)/tests/unit/$(1).c $(UNIT_LIB) $(2) \
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

UNIT_CLAIMED := $(foreach p,$(ALL_PROGRAMS),$($(call UPPERCASE,$(p))_UNIT_TESTS))
$(foreach p,$(ALL_PROGRAMS),$(foreach t,$($(call UPPERCASE,$(p))_UNIT_TESTS),$(eval $(call unit-test,$(t),\
	$(addprefix $(TOPDIR)/firmware/$(p)/,$($(call UPPERCASE,$(p))_UNIT_SOURCES)),\
	$($(call UPPERCASE,$(p))_UNIT_LIBS),$(TOPDIR)/firmware/$(p)))))
$(foreach t,$(filter-out $(UNIT_CLAIMED),$(patsubst $(TOPDIR)/tests/unit/%.c,%,\
	$(wildcard $(TOPDIR)/tests/unit/test_*.c))),$(eval $(call unit-test,$(t),,,)))

unit-tests: $(UNIT_TESTS)
.PHONY: unit-tests
