################################################################################
# bhd: the workload agent (docs/workloads.md)
################################################################################

BHD_SOURCES = main.c log.c workloads.c control.c install.c run.c workload_log.c limits.c verify.c container.c volume.c vm.c \
	net.c proxy.c update.c confirm.c esp.c os_release.c fleet.c sync.c reconcile.c report.c revoked.c \
	report_status.c report_events.c update_trial.c
BHD_INSTALL = usr/sbin/bhd
BHD_UNIT_TESTS = test_bhd_update test_bhd_revoked test_bhd_update_trial
BHD_UNIT_SOURCES = esp.c

$(eval $(call program,bhd))
