################################################################################
# bhsbom: SBOM generation at build time, listing, verification and advisory
# matching on the device (docs/sbom.md)
################################################################################

BHSBOM_SOURCES = main.c cmd_generate.c cmd_list.c cmd_verify.c cmd_match.c strv.c hash.c \
	model.c write.c spdx_write.c cdx_write.c spdx_read.c verify.c osv.c version.c
BHSBOM_LIBS = mbedtls
BHSBOM_INSTALL = usr/bin/bhsbom
BHSBOM_HOST = YES

BHSBOM_UNIT_TESTS = test_bhsbom_version test_bhsbom_osv test_bhsbom_read
BHSBOM_UNIT_SOURCES = strv.c hash.c write.c spdx_read.c verify.c osv.c version.c

$(eval $(call program,bhsbom))
