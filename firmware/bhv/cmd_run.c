/* bhv run (the default verb): check everything, jail, build, run. */
#include "commands.h"
#include "jail.h"
#include "vm.h"

#include <string.h>

static struct vm vm; /* large: a vCPU array and the cmdline */

int cmd_run(int argc, char **argv, struct bh_error *err)
{
	struct bhv_config cfg;
	struct vm_files files;
	struct jail_limits limits;
	int keep[BHV_MAX_DISKS + 5], n = 0, status, uid_lock;

	config_defaults(&cfg);
	if (config_from_args(&cfg, argc, argv, err) < 0 || config_check(&cfg, err) < 0 ||
	    vm_open_files(&cfg, &files, err) < 0)
		return BHV_EXIT_ERROR;
	keep[n++] = files.kvm;
	keep[n++] = files.kernel;
	keep[n++] = files.initrd;
	keep[n++] = cfg.net_fd;
	for (int i = 0; i < cfg.n_disks; i++)
		keep[n++] = files.disks[i];
	/* A uid no other VM has, held for as long as this VM runs. */
	if (cfg.jail && cfg.jail_uid_auto) {
		uid_lock = jail_uid_allocate(JAIL_UID_DIR, JAIL_UID_BASE, JAIL_UID_SLOTS,
		                             &cfg.jail_uid, err);
		if (uid_lock < 0)
			return BHV_EXIT_ERROR;
		if (cfg.jail_gid_auto)
			cfg.jail_gid = (gid_t)cfg.jail_uid;
		keep[n++] = uid_lock;
	}
	close_other_fds(keep, n);
	jail_limits_for(&cfg, files.largest_disk, &limits);
	if (cfg.jail && jail_enter(&cfg, &limits, err) < 0)
		return BHV_EXIT_ERROR;
	if (vm_create(&vm, &cfg, &files, err) < 0)
		return BHV_EXIT_ERROR;
	status = vm_run(&vm, err);
	if (status < 0)
		return BHV_EXIT_ERROR;
	/* Not an error, but the caller wants to know why. */
	if (status != BHV_EXIT_POWEROFF)
		bh_error(err, 0, "%s", vm.stop_reason);
	return status;
}
