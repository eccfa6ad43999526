/* Before a workload's first start after bhd starts (so, after every
 * boot), its installed files are hashed again against the SBOM stored at
 * install: a /data edited offline (the disk taken out, or written by a
 * rescue system) never runs. A workload that fails is not started, says
 * which files differ, and stays failed until it is installed again. */
#include "bhd.h"

#include <bulkhead/sbom.h>

#include <stdio.h>
#include <string.h>

static void first(const char *what, const struct strv *s, char *out, size_t size)
{
	size_t used = strlen(out);

	if (s->n && used < size)
		snprintf(out + used, size - used, "%s%s %s%s", used ? "; " : "", what, s->v[0],
			 s->n > 1 ? " and more" : "");
}

int workload_verify(struct workload *w, struct bh_error *err)
{
	char sbom[256], base[256], prefix[300], found[700] = "";
	struct verify_report rep = {0};
	int64_t started = now_ms();
	size_t bad;

	snprintf(sbom, sizeof(sbom), SBOM_STORE "/%s.spdx.json", w->m.name);
	snprintf(base, sizeof(base), WORKLOADS_DIR "/%s", w->m.name);
	snprintf(prefix, sizeof(prefix), "data/workloads/%s/", w->m.name);
	/* A VM's writable disk is the guest's to change. */
	if (sbom_verify_installed(sbom, base, prefix, NULL,
	                          w->m.mode == WL_VM && !w->m.disk_readonly ? "disk.img" : NULL,
	                          &rep, err) < 0) {
		verify_report_free(&rep);
		return bh_error_wrap(err, "check its files before the first start");
	}
	bad = rep.modified.n + rep.missing.n + rep.unlisted.n;
	first("modified", &rep.modified, found, sizeof(found));
	first("missing", &rep.missing, found, sizeof(found));
	first("unlisted", &rep.unlisted, found, sizeof(found));
	if (bad == 0)
		bhd_log("bhd: %s: %zu files match its SBOM (%lld ms)", w->m.name, rep.checked,
			(long long)(now_ms() - started));
	verify_report_free(&rep);
	if (bad)
		return bh_error(err, 0,
				"not started: %zu of its files differ from its SBOM (%s); install it "
				"again",
				bad, found);
	w->verified = true;
	return 0;
}
