################################################################################
# C unit tests: each tests/unit/test_<x>.c is a TAP program built for the
# build host with firmware/lib, with AddressSanitizer and UndefinedBehavior-
# Sanitizer so that a memory error fails the test.
################################################################################

UNIT_BUILD_DIR := $(BUILD_DIR)/unit
UNIT_SOURCES := $(sort $(wildcard $(TOPDIR)/tests/unit/test_*.c))
UNIT_TESTS := $(patsubst $(TOPDIR)/tests/unit/%.c,$(UNIT_BUILD_DIR)/%,$(UNIT_SOURCES))
UNIT_CFLAGS := -O1 -g $(C_STD_FLAGS) -fsanitize=address,undefined -fno-sanitize-recover=all \
	-I$(TOPDIR)/include -I$(GENERATED_INCLUDE) -I$(TOPDIR)/tests/unit

$(UNIT_BUILD_DIR)/%: $(TOPDIR)/tests/unit/%.c $(LIBBULKHEAD_SOURCES) $(TOPDIR)/tests/unit/tap.h \
		$(GENERATED_INCLUDE)/bulkhead/autoconf.h $(GENERATED_INCLUDE)/bulkhead/version.h
	$(Q)mkdir -p $(@D)
	@echo "    HOSTCC  $*"
	$(Q)gcc $(UNIT_CFLAGS) -o $@ $< $(LIBBULKHEAD_SOURCES)

unit-tests: $(UNIT_TESTS)
.PHONY: unit-tests
