################################################################################
# test-service: what the end-to-end tests run as services to prove init's
# behaviour (orphans, crashes, stubborn processes). Debug images only.
################################################################################

ifeq ($(BH_PROFILE),debug)
TEST_SERVICE_SOURCES = main.c
TEST_SERVICE_INSTALL = usr/libexec/bulkhead/test-service

$(eval $(call program,test-service))
endif
