/* What bhfleet prints: one line per gateway, or JSON; and the cache that
 * keeps each gateway's last status, so that one gone offline (whose
 * retained status is then just "offline") still shows what it ran and
 * when it was last seen. */
#include "bhfleet.h"

#include <bulkhead/fs.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *str(yyjson_val *root, const char *path)
{
	const char *s = yyjson_get_str(yyjson_ptr_get(root, path));

	return s && *s ? s : "-";
}

/* What a line shows of a device. */
struct summary {
	const char *version, *slot, *confirmed, *last_seen, *state;
	size_t running, total;
	long long advisories; /* -1: not matched */
};

static struct summary summarize(const struct device *d)
{
	yyjson_val *root = yyjson_doc_get_root(d->doc), *w, *adv;
	struct summary s = {.advisories = -1};
	size_t i, n;

	s.version = str(root, "/image/version");
	s.slot = str(root, "/boot/slot");
	s.confirmed = !root ? "-" : yyjson_get_bool(yyjson_ptr_get(root, "/boot/confirmed")) ? "yes" : "no";
	s.last_seen = str(root, "/time");
	yyjson_arr_foreach(yyjson_obj_get(root, "workloads"), i, n, w)
	{
		s.total++;
		s.running += !strcmp(str(w, "/state"), "running");
	}
	adv = yyjson_ptr_get(root, "/sbom/advisories");
	if (yyjson_is_uint(adv))
		s.advisories = (long long)yyjson_get_uint(adv);
	s.state = d->online ? "online" : d->raw[0] ? "unknown" : "offline";
	return s;
}

void show_header(void)
{
	printf("%-24s %-20s %-4s %-9s %-9s %-10s %-20s %s\n", "DEVICE", "VERSION", "SLOT",
	       "CONFIRMED", "WORKLOADS", "ADVISORIES", "LAST SEEN", "STATE");
}

void show_line(const struct device *d)
{
	struct summary s = summarize(d);
	char wl[32], adv[24];

	snprintf(wl, sizeof(wl), "%zu/%zu", s.running, s.total);
	if (!d->doc)
		snprintf(wl, sizeof(wl), "-");
	if (s.advisories < 0)
		snprintf(adv, sizeof(adv), "-");
	else
		snprintf(adv, sizeof(adv), "%lld", s.advisories);
	printf("%-24s %-20s %-4s %-9s %-9s %-10s %-20s %s%s%s\n", d->name, s.version, s.slot,
	       s.confirmed, wl, adv, s.last_seen, s.state, d->raw[0] ? ": " : "", d->raw);
}

static yyjson_mut_val *device_json(yyjson_mut_doc *doc, const struct device *d)
{
	struct summary s = summarize(d);
	yyjson_mut_val *o = yyjson_mut_obj(doc);

#define STR(k, v)                                                                                  \
	(strcmp(v, "-") ? yyjson_mut_obj_add_str(doc, o, k, v) : yyjson_mut_obj_add_null(doc, o, k))
	yyjson_mut_obj_add_str(doc, o, "device", d->name);
	yyjson_mut_obj_add_bool(doc, o, "online", d->online);
	STR("version", s.version);
	STR("slot", s.slot);
	if (d->doc)
		yyjson_mut_obj_add_bool(doc, o, "confirmed", !strcmp(s.confirmed, "yes"));
	else
		yyjson_mut_obj_add_null(doc, o, "confirmed");
	yyjson_mut_obj_add_uint(doc, o, "workloads_running", s.running);
	yyjson_mut_obj_add_uint(doc, o, "workloads_total", s.total);
	if (s.advisories >= 0)
		yyjson_mut_obj_add_uint(doc, o, "advisories", (uint64_t)s.advisories);
	else
		yyjson_mut_obj_add_null(doc, o, "advisories");
	STR("last_seen", s.last_seen);
#undef STR
	if (d->raw[0])
		yyjson_mut_obj_add_str(doc, o, "payload", d->raw);
	yyjson_mut_obj_add_val(doc, o, "status",
	                       d->doc ? yyjson_val_mut_copy(doc, yyjson_doc_get_root(d->doc))
	                              : yyjson_mut_null(doc));
	return o;
}

int show_json(const struct fleet_view *v)
{
	yyjson_mut_doc *doc = yyjson_mut_doc_new(NULL);
	yyjson_mut_val *a = yyjson_mut_arr(doc);
	char *json;

	yyjson_mut_doc_set_root(doc, a);
	for (size_t i = 0; i < v->n; i++)
		yyjson_mut_arr_append(a, device_json(doc, &v->dev[i]));
	json = yyjson_mut_write(doc, YYJSON_WRITE_PRETTY, NULL);
	yyjson_mut_doc_free(doc);
	if (!json)
		return -1;
	printf("%s\n", json);
	free(json);
	return 0;
}

void show_watch(const struct options *o, const struct device *d)
{
	if (!d) {
		fflush(stdout);
		return;
	}
	if (o->json) {
		yyjson_mut_doc *doc = yyjson_mut_doc_new(NULL);
		char *json;

		yyjson_mut_doc_set_root(doc, device_json(doc, d));
		json = yyjson_mut_write(doc, 0, NULL);
		yyjson_mut_doc_free(doc);
		if (json)
			printf("%s\n", json);
		free(json);
	} else {
		show_line(d);
	}
	fflush(stdout);
}

/* The cache: {"<device>": <its last status document>, ...}. */
int cache_load(const char *path, struct fleet_view *v, struct bh_error *err)
{
	yyjson_val *k;
	yyjson_obj_iter it;
	yyjson_read_err e;
	yyjson_doc *doc;
	size_t len;
	char *text;

	text = bh_read_file(path, 64 * 1024 * 1024, &len, err);
	if (!text)
		return err->code == ENOENT ? 0 : -1;
	doc = yyjson_read_opts(text, len, 0, NULL, &e);
	free(text);
	if (!yyjson_is_obj(yyjson_doc_get_root(doc))) {
		yyjson_doc_free(doc);
		return bh_error(err, 0, "%s: not a bhfleet cache (a JSON object)", path);
	}
	yyjson_obj_iter_init(yyjson_doc_get_root(doc), &it);
	while ((k = yyjson_obj_iter_next(&it))) {
		char *one = yyjson_val_write(yyjson_obj_iter_get_val(k), 0, &len);
		struct device *d;

		if (!one || !report_device_valid(yyjson_get_str(k)))
			continue;
		d = view_update(v, yyjson_get_str(k), one, len);
		if (d)
			d->online = false; /* until the broker says otherwise */
		free(one);
	}
	yyjson_doc_free(doc);
	return 0;
}

int cache_save(const char *path, const struct fleet_view *v, struct bh_error *err)
{
	yyjson_mut_doc *doc = yyjson_mut_doc_new(NULL);
	yyjson_mut_val *root = yyjson_mut_obj(doc);
	size_t len;
	char *json;
	int rc;

	yyjson_mut_doc_set_root(doc, root);
	for (size_t i = 0; i < v->n; i++)
		if (v->dev[i].doc)
			yyjson_mut_obj_put(root, yyjson_mut_strcpy(doc, v->dev[i].name),
			                   yyjson_val_mut_copy(doc, yyjson_doc_get_root(v->dev[i].doc)));
	json = yyjson_mut_write(doc, 0, &len);
	yyjson_mut_doc_free(doc);
	if (!json)
		return bh_error(err, ENOMEM, "write %s", path);
	rc = bh_write_atomic(path, json, len, 0600, err);
	free(json);
	return rc;
}
