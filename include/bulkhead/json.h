/* Typed access to JSON values read with yyjson (firmware/lib/json.c).
 * Every error names the JSON path of the value ($.process.args[1]) and
 * what was expected instead of what was there ("expected a string, got a
 * number"), so that a malformed file points at its own mistake. A missing
 * value is NULL, which is "nothing". Callers prefix the file's name
 * (bh_error_wrap). bhc's config.json, bhv's config file and workload
 * manifests are read through here. */
#ifndef BULKHEAD_JSON_H
#define BULKHEAD_JSON_H

#include <bulkhead/error.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yyjson.h>

/* A JSON path being built: "$", "$.process", "$.process.args[1]". */
struct json_path {
	char s[256];
};

/* parent followed by fmt, into p; returns p->s:
 * json_at(&p, "$.process.args", "[%zu]", i). */
const char *json_at(struct json_path *p, const char *parent, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* "path: expected <want>, got <what v is>". */
int json_type_error(struct bh_error *err, const char *path, const char *want, yyjson_val *v);

/* *out points into the document; a NUL inside the string is an error. */
int json_string(yyjson_val *v, const char *path, const char **out, struct bh_error *err);
/* The same, copied into out (size bytes with its NUL). */
int json_string_copy(yyjson_val *v, const char *path, char *out, size_t size,
		     struct bh_error *err);
int json_bool(yyjson_val *v, const char *path, bool *out, struct bh_error *err);
int json_u64(yyjson_val *v, const char *path, uint64_t *out, struct bh_error *err);
/* A non-negative integer from min to max. */
int json_u64_range(yyjson_val *v, const char *path, uint64_t min, uint64_t max, uint64_t *out,
		   struct bh_error *err);
int json_i64(yyjson_val *v, const char *path, int64_t *out, struct bh_error *err);
int json_u32(yyjson_val *v, const char *path, uint32_t *out, struct bh_error *err);
/* A NULL-terminated array of the strings, pointing into the document;
 * *out is freed and replaced. */
int json_strings(yyjson_val *v, const char *path, const char ***out, size_t *n,
		 struct bh_error *err);
int json_object(yyjson_val *v, const char *path, struct bh_error *err);
int json_array(yyjson_val *v, const char *path, struct bh_error *err);
/* An array of at most max elements. */
int json_array_max(yyjson_val *v, const char *path, size_t max, struct bh_error *err);
/* An object whose keys are all among keys (NULL-terminated): anything else
 * is "path.key: unknown key", so that a misspelt setting is never
 * silently ignored. */
int json_known_keys(yyjson_val *obj, const char *path, const char *const *keys,
		    struct bh_error *err);

#endif
