/* config.json: process.capabilities. The five sets are applied as written
 * (init.c, bh_drop_privileges), less what bhc never grants and what the
 * kernel would refuse; each capability left out is named in a warning, as
 * the runtime spec requires, and an unknown name is a warning too, never
 * an error (runc and crun run such configs). The capabilities are those of
 * the container's user namespace: they act on what that namespace owns,
 * never on the host. */
#include "libbhc.h"

#include <linux/capability.h>
#include <stdio.h>
#include <string.h>

static const char *const set_names[CAPSET_N] = {"bounding", "effective", "inheritable", "permitted",
                                                "ambient"};

/* Never granted, whatever the config says. The first ones act on the host
 * as a whole: the kernel checks them against the host's user namespace, so
 * they do nothing in the container's today, and are denied so that a
 * kernel bug treating one as namespaced cannot make it live. The last ones
 * are namespaced but open the kernel code behind most escapes from a user
 * namespace. firmware/bhc/README.md gives the reasons at length. */
static const struct {
	int cap;
	const char *why;
} denied[] = {
    {CAP_SYS_MODULE, "it loads code into the host's kernel"},
    {CAP_SYS_RAWIO, "it gives raw access to the host's I/O ports and memory"},
    {CAP_SYS_TIME, "it sets the host's clock"},
    {CAP_SYS_BOOT, "it reboots the host or loads a new kernel (kexec)"},
    {CAP_MAC_ADMIN, "it changes the host's LSM policy"},
    {CAP_MAC_OVERRIDE, "it overrides the host's LSM policy"},
    {CAP_SYSLOG, "it reads the host's kernel log and kernel addresses"},
    {CAP_WAKE_ALARM, "it sets timers that wake the host from suspend"},
    {CAP_BLOCK_SUSPEND, "it keeps the host from suspending"},
    {CAP_AUDIT_CONTROL, "it changes the host's audit rules"},
    {CAP_BPF, "it loads BPF programs into the host's kernel"},
    {CAP_PERFMON, "it monitors the host's kernel and other processes"},
    {CAP_CHECKPOINT_RESTORE, "it serves checkpointing, which bhc does not do"},
    {CAP_SYS_ADMIN, "it opens mounts, namespaces and the widest kernel surface to the "
                    "container (CVE-2022-0185, CVE-2022-0492)"},
    {CAP_NET_ADMIN, "it opens netfilter, traffic control and interface setup, the kernel code "
                    "behind most user-namespace escapes (CVE-2022-1015, CVE-2024-1086); the "
                    "agent sets up the container's network"},
};

const char *bhc_cap_denied(int cap)
{
	for (size_t i = 0; i < sizeof(denied) / sizeof(*denied); i++)
		if (denied[i].cap == cap)
			return denied[i].why;
	return NULL;
}

/* "CAP_KILL, CAP_NET_BIND_SERVICE": the capabilities of mask. */
static const char *cap_list(uint64_t mask, char *buf, size_t size)
{
	size_t n = 0;

	buf[0] = 0;
	for (int c = 0; c < 64 && n < size; c++) {
		if (!(mask & (1ULL << c)))
			continue;
		if (bh_cap_name(c))
			n += (size_t)snprintf(buf + n, size - n, "%s%s", n ? ", " : "",
			                      bh_cap_name(c));
		else
			n += (size_t)snprintf(buf + n, size - n, "%scapability %d", n ? ", " : "",
			                      c);
	}
	return buf;
}

/* Takes the capabilities of mask out of set s, with one warning naming
 * them and why. */
static void drop(struct bhc_config *cfg, int s, uint64_t mask, const char *why)
{
	char list[1024];
	struct json_path p;

	mask &= cfg->caps[s];
	if (!mask)
		return;
	cfg->caps[s] &= ~mask;
	bhc_warn(cfg, json_at(&p, "$.process.capabilities.", "%s", set_names[s]), "%s: %s",
	         cap_list(mask, list, sizeof(list)), why);
}

/* A name from the config as a warning shows it: at most 64 bytes, control
 * characters as '?', so that the warning stays one line. */
static const char *printable(const char *name, char *buf, size_t size)
{
	size_t i;

	for (i = 0; name[i] && i < 64 && i + 1 < size; i++)
		buf[i] = (unsigned char)name[i] < 0x20 || name[i] == 0x7f ? '?' : name[i];
	buf[i] = 0;
	return buf;
}

static int parse_set(yyjson_val *list, int s, struct bhc_config *cfg, struct bh_error *err)
{
	struct json_path p, q;
	yyjson_val *name;
	char shown[72];
	size_t i, max;

	if (json_array(list, json_at(&p, "$.process.capabilities.", "%s", set_names[s]), err) < 0)
		return -1;
	yyjson_arr_foreach(list, i, max, name)
	{
		const char *n;
		int cap;

		if (json_string(name, json_at(&q, p.s, "[%zu]", i), &n, err) < 0)
			return -1;
		cap = bh_cap_from_name(n);
		if (cap < 0)
			bhc_warn(cfg, q.s, "'%s' is not a capability bhc knows: ignored",
			         printable(n, shown, sizeof(shown)));
		else
			cfg->caps[s] |= 1ULL << cap;
	}
	return 0;
}

int bhc_parse_caps(yyjson_val *caps, struct bhc_config *cfg, struct bh_error *err)
{
	int last = bh_cap_last();
	uint64_t known = last >= 63 ? ~0ULL : (1ULL << (last + 1)) - 1;
	char why[512];

	if (json_object(caps, "$.process.capabilities", err) < 0)
		return -1;
	for (int s = 0; s < CAPSET_N; s++) {
		yyjson_val *list = yyjson_obj_get(caps, set_names[s]);

		if (list && parse_set(list, s, cfg, err) < 0)
			return -1;
	}
	snprintf(why, sizeof(why), "not granted: this kernel does not have it (its last is %s)",
	         bh_cap_name(last) ? bh_cap_name(last) : "unknown to bhc");
	for (int s = 0; s < CAPSET_N; s++) {
		for (size_t i = 0; i < sizeof(denied) / sizeof(*denied); i++) {
			char w[512];

			snprintf(w, sizeof(w), "not granted: bhc never grants it: %s",
			         denied[i].why);
			drop(cfg, s, 1ULL << denied[i].cap, w);
		}
		drop(cfg, s, ~known, why);
	}
	/* What the kernel refuses, checked here so that it is a warning at
	 * create and not a failure in the init: capset(2) makes nothing
	 * effective that is not permitted and adds nothing to the inheritable
	 * set from outside the bounding set (which the init cuts first), and
	 * an ambient capability must be permitted and inheritable. runc's own
	 * `runc spec` lists ambient capabilities that are not inheritable:
	 * runc does not raise them either. */
	drop(
	    cfg, CAPSET_EFFECTIVE, ~cfg->caps[CAPSET_PERMITTED],
	    "not granted: not in the permitted set, and no capability can be effective without it");
	drop(cfg, CAPSET_INHERITABLE, ~cfg->caps[CAPSET_BOUNDING],
	     "not granted: not in the bounding set, and the kernel adds no inheritable capability "
	     "from outside it");
	drop(cfg, CAPSET_AMBIENT, ~(cfg->caps[CAPSET_PERMITTED] & cfg->caps[CAPSET_INHERITABLE]),
	     "not raised: an ambient capability must be in the permitted and inheritable sets too "
	     "(capabilities(7)); runc does not raise it either");
	return 0;
}
