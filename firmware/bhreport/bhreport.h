/* Internal interfaces of bhreport, the fleet reporter (include/bulkhead/report.h). */
#ifndef BHREPORT_H
#define BHREPORT_H

#include <bulkhead/report.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The image's SBOM as the status reports it (sbom_info.c). */
struct sbom_info {
	char digest[REGISTRY_DIGEST_LEN + 1]; /* of the SPDX document; "" when none */
	char feed[REGISTRY_DIGEST_LEN + 1];   /* of the OSV file matched; "" when none */
	int64_t feed_mtime;
	bool matched;
	size_t advisories; /* in the feed */
	size_t matching;   /* advisories that affect a component */
	size_t affected;   /* (component, advisory) pairs */
	size_t notes;      /* ranges that could not be compared */
	char error[256];
};
void sbom_info_load(struct sbom_info *s, const char *sbom, const char *advisories);
/* The OSV file changed since it was matched. */
bool sbom_info_stale(const struct sbom_info *s, const char *advisories);

/* The reporter's loop (reporter.c): returns the exit status. */
int reporter_run(struct report_config *cfg);

#endif
