/* Before a workload's first start after bhd starts (so, after every
 * boot), its installed files are hashed again against the SBOM stored at
 * install: a /data edited offline (the disk taken out, or written by a
 * rescue system) never runs. A workload that fails is not started, says
 * which files differ, and stays failed until it is installed again. */
#include "bhd.h"

#include <bulkhead/sbom.h>

#include <stdio.h>
#include <stdlib.h>
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
	struct strv covered = {0}, none = {0};
	struct spdx_doc doc;
	int64_t started = now_ms();
	size_t bad;
	int rc;

	snprintf(sbom, sizeof(sbom), SBOM_STORE "/%s.spdx.json", w->m.name);
	snprintf(base, sizeof(base), WORKLOADS_DIR "/%s", w->m.name);
	snprintf(prefix, sizeof(prefix), "data/workloads/%s/", w->m.name);
	if (spdx_read(sbom, &doc, err) < 0)
		return bh_error_wrap(err, "check its files before the first start");
	rc = sbom_verify_tree(&doc, base, prefix, &rep, err);
	for (size_t i = 0; rc == 0 && i < doc.n_files; i++)
		if (!doc.files[i].outside)
			rc = strv_push(&covered, doc.files[i].path) < 0
				     ? bh_error(err, 0, "out of memory")
				     : 0;
	if (rc == 0)
		rc = sbom_find_unlisted(base, &covered, &none, prefix, &rep, err);
	spdx_doc_free(&doc);
	strv_free(&covered);
	if (rc < 0) {
		verify_report_free(&rep);
		return bh_error_wrap(err, "check its files against %s", sbom);
	}
	/* A VM's writable disk is the guest's to change. */
	if (w->m.mode == WL_VM && !w->m.disk_readonly)
		for (size_t i = 0; i < rep.modified.n; i++)
			if (!strncmp(rep.modified.v[i], prefix, strlen(prefix)) &&
			    !strcmp(rep.modified.v[i] + strlen(prefix), "disk.img")) {
				free(rep.modified.v[i]);
				rep.modified.v[i] = rep.modified.v[--rep.modified.n];
				rep.modified.v[rep.modified.n] = NULL;
				break;
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
