################################################################################
# bhctl: the operator's command line for bhd
################################################################################

BHCTL_SOURCES = main.c
BHCTL_INSTALL = usr/bin/bhctl

$(eval $(call program,bhctl))
