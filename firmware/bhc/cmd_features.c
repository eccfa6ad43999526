/* bhc features: what this runtime supports, in the runtime-spec
 * features.md format. */
#include "cli.h"

#include <stdio.h>

int cmd_features(struct cli *c, struct bh_error *err)
{
	printf("{\n"
	       "  \"ociVersionMin\": \"1.0.0\",\n"
	       "  \"ociVersionMax\": \"%s\",\n"
	       "  \"hooks\": [\"prestart\", \"createRuntime\", \"createContainer\", "
	       "\"startContainer\", \"poststart\", \"poststop\"],\n"
	       "  \"mountOptions\": [\"async\", \"atime\", \"bind\", \"dev\", \"diratime\", "
	       "\"dirsync\", \"exec\", "
	       "\"lazytime\", \"noatime\", \"nodev\", \"nodiratime\", \"noexec\", \"nolazytime\", "
	       "\"nomand\", "
	       "\"norelatime\", \"nostrictatime\", \"nosuid\", \"nosymfollow\", \"private\", "
	       "\"rbind\", \"relatime\", "
	       "\"ro\", \"rprivate\", \"rshared\", \"rslave\", \"runbindable\", \"rw\", "
	       "\"shared\", \"slave\", "
	       "\"strictatime\", \"suid\", \"symfollow\", \"sync\", \"unbindable\"],\n"
	       "  \"linux\": {\n"
	       "    \"namespaces\": [\"cgroup\", \"ipc\", \"mount\", \"network\", \"pid\", "
	       "\"user\", \"uts\"],\n"
	       "    \"capabilities\": [",
	       BHC_OCI_VERSION);
	/* The ones bhc grants: a denied one in a config is left out with a
	 * warning (config_caps.c). */
	for (int i = 0, n = 0; bh_cap_name(i); i++)
		if (!bhc_cap_denied(i))
			printf("%s\"%s\"", n++ ? ", " : "", bh_cap_name(i));
	printf("],\n"
	       "    \"cgroup\": {\"v1\": false, \"v2\": true, \"systemd\": false, \"systemdUser\": "
	       "false},\n"
	       "    \"seccomp\": {\"enabled\": true, \"actions\": [\"SCMP_ACT_ALLOW\", "
	       "\"SCMP_ACT_ERRNO\", "
	       "\"SCMP_ACT_KILL\", \"SCMP_ACT_KILL_PROCESS\", \"SCMP_ACT_KILL_THREAD\", "
	       "\"SCMP_ACT_LOG\", "
	       "\"SCMP_ACT_TRACE\", \"SCMP_ACT_TRAP\"], \"operators\": [\"SCMP_CMP_EQ\", "
	       "\"SCMP_CMP_GE\", "
	       "\"SCMP_CMP_GT\", \"SCMP_CMP_LE\", \"SCMP_CMP_LT\", \"SCMP_CMP_MASKED_EQ\", "
	       "\"SCMP_CMP_NE\"]},\n"
	       "    \"apparmor\": {\"enabled\": false},\n"
	       "    \"selinux\": {\"enabled\": false},\n"
	       "    \"intelRdt\": {\"enabled\": false}\n"
	       "  },\n"
	       "  \"annotations\": {\"org.bulkhead.bhc.hardened\": \"user namespace, no_new_privs, "
	       "seccomp, "
	       "masked paths: always\"}\n"
	       "}\n");
	return 0;
}
