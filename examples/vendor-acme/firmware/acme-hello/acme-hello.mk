################################################################################
# acme-hello: the ACME example's own program. On the host (a service) it
# says the greeting of its configuration file; in the acme-web container
# (a baked bundle) it also serves that greeting on a TCP port.
################################################################################

ACME_HELLO_SOURCES = main.c greeting.c
ACME_HELLO_INSTALL = usr/bin/acme-hello
# Its unit tests: the tree's tests/unit/test_acme_greeting.c.
ACME_HELLO_UNIT_TESTS = test_acme_greeting
ACME_HELLO_UNIT_SOURCES = greeting.c

$(eval $(call program,acme-hello))
