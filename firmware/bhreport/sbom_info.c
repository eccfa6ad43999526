/* What the status says of the image's SBOM: the SHA-256 of its SPDX
 * document (an operator who has that document knows exactly what the
 * device runs) and what `bhsbom match` finds in it against an OSV file,
 * counted. Parsed here, in the unprivileged reporter, not in bhd. */
#include "bhreport.h"

#include <bulkhead/hash.h>
#include <bulkhead/sbom.h>

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

void sbom_info_load(struct sbom_info *s, const char *sbom, const char *advisories)
{
	struct bh_error err;
	struct spdx_doc doc;
	struct osv_result res;
	struct stat st;
	char hex[65];

	memset(s, 0, sizeof(*s));
	if (!sbom[0])
		return;
	if (sha256_file(sbom, hex, NULL, &err) < 0) {
		snprintf(s->error, sizeof(s->error), "%s", err.msg);
		return;
	}
	snprintf(s->digest, sizeof(s->digest), "sha256:%s", hex);
	if (!advisories[0] || stat(advisories, &st) < 0)
		return; /* no feed: nothing to count */
	s->feed_mtime = (int64_t)st.st_mtime;
	if (sha256_file(advisories, hex, NULL, &err) < 0) {
		snprintf(s->error, sizeof(s->error), "%s", err.msg);
		return;
	}
	snprintf(s->feed, sizeof(s->feed), "sha256:%s", hex);
	if (spdx_read(sbom, &doc, &err) < 0) {
		snprintf(s->error, sizeof(s->error), "%s", err.msg);
		return;
	}
	if (osv_match_file(advisories, &doc, &res, &err) < 0) {
		snprintf(s->error, sizeof(s->error), "%s", err.msg);
		spdx_doc_free(&doc);
		return;
	}
	s->matched = true;
	s->advisories = res.advisories;
	s->affected = res.n;
	s->notes = res.notes.n;
	for (size_t i = 0; i < res.n; i++) {
		bool seen = false;

		for (size_t j = 0; j < i && !seen; j++)
			seen = !strcmp(res.m[j].advisory, res.m[i].advisory);
		s->matching += !seen;
	}
	osv_result_free(&res);
	spdx_doc_free(&doc);
}

bool sbom_info_stale(const struct sbom_info *s, const char *advisories)
{
	struct stat st;

	if (!advisories[0])
		return false;
	if (stat(advisories, &st) < 0)
		return s->feed[0] != 0;
	return (int64_t)st.st_mtime != s->feed_mtime;
}
