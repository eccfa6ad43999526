/* Matching components against OSV advisories (https://ossf.github.io/osv-schema/)
 * from a local file, offline. A component is affected when an advisory's
 * affected[] entry names it (by purl, by name in the "Bulkhead" ecosystem,
 * or by a CPE in database_specific.cpe) and its version is in the listed
 * versions or inside one of the ECOSYSTEM/SEMVER ranges. GIT ranges cannot
 * be evaluated against a version number; they are reported as notes. */
#include <bulkhead/sbom.h>
#include "sbom_write.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

void osv_result_free(struct osv_result *res)
{
	for (size_t i = 0; i < res->n; i++) {
		free(res->m[i].advisory);
		free(res->m[i].component);
		free(res->m[i].version);
		free(res->m[i].why);
	}
	free(res->m);
	strv_free(&res->notes);
	memset(res, 0, sizeof(*res));
}

bool purl_base(const char *purl, char *out, size_t size)
{
	size_t n;

	if (strncmp(purl, "pkg:", 4))
		return false;
	purl += 4;
	n = strcspn(purl, "@?#");
	if (n == 0 || n >= size || !strchr(purl, '/'))
		return false;
	for (size_t i = 0; i < n; i++)
		out[i] = (char)tolower((unsigned char)purl[i]);
	out[n] = 0;
	return true;
}

/* vendor:product of a CPE 2.3 string, lowercased. */
static bool cpe_base(const char *cpe, char *out, size_t size)
{
	const char *p = cpe;
	int colons = 0;
	size_t n = 0;

	if (strncmp(cpe, "cpe:2.3:", 8) || strlen(cpe) < 10)
		return false;
	p += 10; /* past "cpe:2.3:a:" (or :o:, :h:) */
	for (; *p && n + 1 < size; p++) {
		if (*p == ':' && ++colons == 2)
			break;
		out[n++] = (char)tolower((unsigned char)*p);
	}
	out[n] = 0;
	return colons == 2;
}

static int add_match(struct osv_result *res, const char *adv, const struct spdx_package *p,
		     const char *why)
{
	struct osv_match *m;

	if (res->n % 16 == 0) {
		m = realloc(res->m, (res->n + 16) * sizeof(*m));
		if (!m)
			return -1;
		res->m = m;
	}
	m = &res->m[res->n++];
	m->advisory = strdup(adv);
	m->component = strdup(p->name);
	m->version = strdup(p->version ? p->version : "");
	m->why = strdup(why);
	return 0;
}

static bool names_component(yyjson_val *aff, const struct spdx_package *p)
{
	yyjson_val *pkg = yyjson_obj_get(aff, "package");
	const char *purl = yyjson_get_str(yyjson_obj_get(pkg, "purl"));
	const char *name = yyjson_get_str(yyjson_obj_get(pkg, "name"));
	const char *eco = yyjson_get_str(yyjson_obj_get(pkg, "ecosystem"));
	const char *cpe = yyjson_get_str(yyjson_obj_get(yyjson_obj_get(aff, "database_specific"), "cpe"));
	char a[512], b[512];

	if (purl && p->purl && purl_base(purl, a, sizeof(a)) && purl_base(p->purl, b, sizeof(b)) &&
	    !strcmp(a, b))
		return true;
	if (name && eco && !strcasecmp(eco, "Bulkhead") && !strcmp(name, p->name))
		return true;
	if (cpe && p->cpe && cpe_base(cpe, a, sizeof(a)) && cpe_base(p->cpe, b, sizeof(b)) &&
	    !strcmp(a, b))
		return true;
	return false;
}

/* One range's events, in order: the version is affected between an
 * "introduced" and the next "fixed" (exclusive), "last_affected"
 * (inclusive) or "limit" (exclusive). */
static bool in_range(yyjson_val *events, const char *v)
{
	bool affected = false;
	size_t i, max;
	yyjson_val *e;

	yyjson_arr_foreach(events, i, max, e)
	{
		const char *intro = yyjson_get_str(yyjson_obj_get(e, "introduced"));
		const char *fixed = yyjson_get_str(yyjson_obj_get(e, "fixed"));
		const char *last = yyjson_get_str(yyjson_obj_get(e, "last_affected"));
		const char *limit = yyjson_get_str(yyjson_obj_get(e, "limit"));

		if (intro && (!strcmp(intro, "0") || version_compare(v, intro) >= 0))
			affected = true;
		if (fixed && version_compare(v, fixed) >= 0)
			affected = false;
		if (last && version_compare(v, last) > 0)
			affected = false;
		if (limit && version_compare(v, limit) >= 0)
			affected = false;
	}
	return affected;
}

/* Checks the shape first, so that a malformed advisory is an error with
 * its JSON path rather than a silent non-match. */
static int check_affected(yyjson_val *aff, const char *file, const char *where,
			  struct bh_error *err)
{
	yyjson_val *pkg = yyjson_obj_get(aff, "package"), *ranges, *versions, *r;
	size_t i, max;

	if (!yyjson_is_obj(aff))
		return bh_error(err, 0, "%s: %s must be an object", file, where);
	if (pkg && !yyjson_is_obj(pkg))
		return bh_error(err, 0, "%s: %s.package must be an object", file, where);
	ranges = yyjson_obj_get(aff, "ranges");
	versions = yyjson_obj_get(aff, "versions");
	if (ranges && !yyjson_is_arr(ranges))
		return bh_error(err, 0, "%s: %s.ranges must be an array", file, where);
	if (versions && !yyjson_is_arr(versions))
		return bh_error(err, 0, "%s: %s.versions must be an array", file, where);
	yyjson_arr_foreach(versions, i, max, r)
	{
		if (!yyjson_is_str(r))
			return bh_error(err, 0, "%s: %s.versions[%zu] must be a string", file, where,
					i);
	}
	yyjson_arr_foreach(ranges, i, max, r)
	{
		yyjson_val *type = yyjson_obj_get(r, "type"), *events = yyjson_obj_get(r, "events");
		size_t j, jmax;
		yyjson_val *e;

		if (!yyjson_is_obj(r) || !yyjson_is_str(type))
			return bh_error(err, 0, "%s: %s.ranges[%zu].type must be a string", file,
					where, i);
		if (!yyjson_is_arr(events))
			return bh_error(err, 0, "%s: %s.ranges[%zu].events must be an array", file,
					where, i);
		yyjson_arr_foreach(events, j, jmax, e)
		{
			yyjson_val *k, *v;
			size_t n, nmax;

			if (!yyjson_is_obj(e) || yyjson_obj_size(e) != 1)
				return bh_error(err, 0, "%s: %s.ranges[%zu].events[%zu] must be an "
						"object with one event", file, where, i, j);
			yyjson_obj_foreach(e, n, nmax, k, v)
			{
				if (!yyjson_is_str(v))
					return bh_error(err, 0, "%s: %s.ranges[%zu].events[%zu].%s "
							"must be a string", file, where, i, j,
							yyjson_get_str(k));
			}
		}
	}
	return 0;
}

static int match_one(yyjson_val *adv, const struct spdx_doc *doc, struct osv_result *res,
		     const char *file, const char *where, struct bh_error *err)
{
	const char *id = yyjson_get_str(yyjson_obj_get(adv, "id"));
	yyjson_val *affected = yyjson_obj_get(adv, "affected"), *aff;
	size_t i, max;

	if (!yyjson_is_obj(adv))
		return bh_error(err, 0, "%s: %s must be an object", file, where);
	if (!id)
		return bh_error(err, 0, "%s: %s.id is missing or not a string", file, where);
	if (affected && !yyjson_is_arr(affected))
		return bh_error(err, 0, "%s: %s.affected must be an array", file, where);
	res->advisories++;
	yyjson_arr_foreach(affected, i, max, aff)
	{
		char awhere[256];

		snprintf(awhere, sizeof(awhere), "%s.affected[%zu]", where, i);
		if (check_affected(aff, file, awhere, err) < 0)
			return -1;
		for (size_t p = 0; p < doc->n_pkgs; p++) {
			const struct spdx_package *pkg = &doc->pkgs[p];
			yyjson_val *versions = yyjson_obj_get(aff, "versions");
			yyjson_val *ranges = yyjson_obj_get(aff, "ranges"), *v;
			size_t j, jmax;
			char why[512] = "";

			if (!pkg->version || !names_component(aff, pkg))
				continue;
			yyjson_arr_foreach(versions, j, jmax, v)
			{
				if (!strcmp(yyjson_get_str(v), pkg->version))
					snprintf(why, sizeof(why), "version %s is listed", pkg->version);
			}
			yyjson_arr_foreach(ranges, j, jmax, v)
			{
				const char *type = yyjson_get_str(yyjson_obj_get(v, "type"));

				if (!strcmp(type, "GIT")) {
					char note[512];

					snprintf(note, sizeof(note), "%s: %s has a GIT range, which "
						 "cannot be compared with version %s", id, pkg->name,
						 pkg->version);
					strv_push(&res->notes, note);
					continue;
				}
				if (!why[0] && in_range(yyjson_obj_get(v, "events"), pkg->version))
					snprintf(why, sizeof(why), "version %s is in an affected %s "
						 "range", pkg->version, type);
			}
			if (why[0] && add_match(res, id, pkg, why) < 0)
				return bh_error(err, ENOMEM, "match %s", id);
		}
	}
	return 0;
}

static int match_doc(yyjson_doc *jd, const char *path, const struct spdx_doc *doc,
		     struct osv_result *res, struct bh_error *err)
{
	yyjson_val *root, *list, *adv;
	size_t i, max;
	int r = 0;

	root = yyjson_doc_get_root(jd);
	/* One advisory, an array of them, or {"vulns": [...]} (OSV's API). */
	if (yyjson_is_arr(root)) {
		yyjson_arr_foreach(root, i, max, adv)
		{
			char where[64];

			snprintf(where, sizeof(where), "$[%zu]", i);
			if ((r = match_one(adv, doc, res, path, where, err)) < 0)
				break;
		}
	} else if (yyjson_is_obj(root) && (list = yyjson_obj_get(root, "vulns"))) {
		if (!yyjson_is_arr(list)) {
			r = bh_error(err, 0, "%s: $.vulns must be an array", path);
		} else {
			yyjson_arr_foreach(list, i, max, adv)
			{
				char where[64];

				snprintf(where, sizeof(where), "$.vulns[%zu]", i);
				if ((r = match_one(adv, doc, res, path, where, err)) < 0)
					break;
			}
		}
	} else if (yyjson_is_obj(root)) {
		r = match_one(root, doc, res, path, "$", err);
	} else {
		r = bh_error(err, 0, "%s: $ must be an advisory, an array of advisories or "
			     "{\"vulns\": [...]}", path);
	}
	if (r < 0)
		osv_result_free(res);
	return r;
}

int osv_match_file(const char *path, const struct spdx_doc *doc, struct osv_result *res,
		   struct bh_error *err)
{
	yyjson_read_err rerr;
	yyjson_doc *jd = yyjson_read_file(path, 0, NULL, &rerr);
	int r;

	memset(res, 0, sizeof(*res));
	if (!jd) {
		if (rerr.code == YYJSON_READ_ERROR_FILE_OPEN)
			return bh_error(err, errno, "open %s", path);
		return bh_error(err, 0, "%s: not valid JSON at byte %zu: %s", path, rerr.pos,
				rerr.msg);
	}
	r = match_doc(jd, path, doc, res, err);
	yyjson_doc_free(jd);
	return r;
}

int osv_match_buf(const char *data, size_t len, const char *name, const struct spdx_doc *doc,
		  struct osv_result *res, struct bh_error *err)
{
	yyjson_read_err rerr;
	yyjson_doc *jd = yyjson_read_opts((char *)data, len, 0, NULL, &rerr);
	int r;

	memset(res, 0, sizeof(*res));
	if (!jd)
		return bh_error(err, 0, "%s: not valid JSON at byte %zu: %s", name, rerr.pos,
				rerr.msg);
	r = match_doc(jd, name, doc, res, err);
	yyjson_doc_free(jd);
	return r;
}
