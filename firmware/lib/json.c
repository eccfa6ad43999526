/* Typed access to JSON values with their path in errors
 * (include/bulkhead/json.h). */
#include <bulkhead/json.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *json_at(struct json_path *p, const char *parent, const char *fmt, ...)
{
	size_t n = (size_t)snprintf(p->s, sizeof(p->s), "%s", parent);
	va_list ap;

	if (n >= sizeof(p->s))
		n = sizeof(p->s) - 1;
	va_start(ap, fmt);
	vsnprintf(p->s + n, sizeof(p->s) - n, fmt, ap);
	va_end(ap);
	return p->s;
}

static const char *type_name(yyjson_val *v)
{
	if (!v)
		return "nothing";
	switch (yyjson_get_type(v)) {
	case YYJSON_TYPE_NULL:
		return "null";
	case YYJSON_TYPE_BOOL:
		return "a boolean";
	case YYJSON_TYPE_NUM:
		return yyjson_is_real(v)   ? "a fractional number"
		       : yyjson_is_sint(v) ? "a negative number"
		                           : "a number";
	case YYJSON_TYPE_STR:
		return "a string";
	case YYJSON_TYPE_ARR:
		return "an array";
	case YYJSON_TYPE_OBJ:
		return "an object";
	default:
		return "an unknown value";
	}
}

int json_type_error(struct bh_error *err, const char *path, const char *want, yyjson_val *v)
{
	return bh_error(err, 0, "%s: expected %s, got %s", path, want, type_name(v));
}

int json_string(yyjson_val *v, const char *path, const char **out, struct bh_error *err)
{
	if (!yyjson_is_str(v))
		return json_type_error(err, path, "a string", v);
	*out = yyjson_get_str(v);
	/* A NUL inside a JSON string would cut the value short without notice. */
	if (yyjson_get_len(v) != strlen(*out))
		return bh_error(err, 0, "%s: string holds a NUL character", path);
	return 0;
}

int json_string_copy(yyjson_val *v, const char *path, char *out, size_t size,
		     struct bh_error *err)
{
	const char *s;

	if (json_string(v, path, &s, err) < 0)
		return -1;
	if (strlen(s) >= size)
		return bh_error(err, 0, "%s: longer than %zu characters", path, size - 1);
	memcpy(out, s, strlen(s) + 1);
	return 0;
}

int json_bool(yyjson_val *v, const char *path, bool *out, struct bh_error *err)
{
	if (!yyjson_is_bool(v))
		return json_type_error(err, path, "a boolean", v);
	*out = yyjson_get_bool(v);
	return 0;
}

int json_u64(yyjson_val *v, const char *path, uint64_t *out, struct bh_error *err)
{
	if (!yyjson_is_uint(v))
		return json_type_error(err, path, "a non-negative integer", v);
	*out = yyjson_get_uint(v);
	return 0;
}

int json_u64_range(yyjson_val *v, const char *path, uint64_t min, uint64_t max, uint64_t *out,
		   struct bh_error *err)
{
	uint64_t x = 0; /* gcc -O2 cannot see json_u64 set it */

	if (json_u64(v, path, &x, err) < 0)
		return -1;
	if (x < min || x > max)
		return bh_error(err, 0, "%s: %llu is out of range (%llu to %llu)", path,
				(unsigned long long)x, (unsigned long long)min, (unsigned long long)max);
	*out = x;
	return 0;
}

int json_i64(yyjson_val *v, const char *path, int64_t *out, struct bh_error *err)
{
	if (yyjson_is_sint(v)) {
		*out = yyjson_get_sint(v);
		return 0;
	}
	if (yyjson_is_uint(v) && yyjson_get_uint(v) <= INT64_MAX) {
		*out = (int64_t)yyjson_get_uint(v);
		return 0;
	}
	return json_type_error(err, path, "an integer", v);
}

int json_u32(yyjson_val *v, const char *path, uint32_t *out, struct bh_error *err)
{
	uint64_t x = 0; /* gcc -O2 cannot see json_u64 set it */

	if (json_u64(v, path, &x, err) < 0)
		return -1;
	if (x > UINT32_MAX)
		return bh_error(err, 0, "%s: %llu is out of range (at most %u)", path,
		                (unsigned long long)x, UINT32_MAX);
	*out = (uint32_t)x;
	return 0;
}

int json_object(yyjson_val *v, const char *path, struct bh_error *err)
{
	return yyjson_is_obj(v) ? 0 : json_type_error(err, path, "an object", v);
}

int json_array(yyjson_val *v, const char *path, struct bh_error *err)
{
	return yyjson_is_arr(v) ? 0 : json_type_error(err, path, "an array", v);
}

int json_array_max(yyjson_val *v, const char *path, size_t max, struct bh_error *err)
{
	if (json_array(v, path, err) < 0)
		return -1;
	if (yyjson_arr_size(v) > max)
		return bh_error(err, 0, "%s: more than %zu entries", path, max);
	return 0;
}

/* A NULL-terminated array of the strings, pointing into the document. */
int json_strings(yyjson_val *v, const char *path, const char ***out, size_t *n, struct bh_error *err)
{
	struct json_path p;
	yyjson_val *item;
	size_t i, max;
	const char **a;

	if (json_array(v, path, err) < 0)
		return -1;
	a = calloc(yyjson_arr_size(v) + 1, sizeof(*a));
	if (!a)
		return bh_error(err, ENOMEM, "%s", path);
	yyjson_arr_foreach(v, i, max, item)
	{
		if (json_string(item, json_at(&p, path, "[%zu]", i), &a[i], err) < 0) {
			free(a);
			return -1;
		}
	}
	free(*out);
	*out = a;
	*n = max;
	return 0;
}

int json_known_keys(yyjson_val *obj, const char *path, const char *const *keys,
		    struct bh_error *err)
{
	struct json_path p;
	yyjson_val *k, *v;
	size_t i, max;

	if (json_object(obj, path, err) < 0)
		return -1;
	yyjson_obj_foreach(obj, i, max, k, v)
	{
		const char *name = yyjson_get_str(k);
		bool known = false;

		(void)v;
		for (const char *const *q = keys; *q && !known; q++)
			known = !strcmp(name, *q);
		if (!known)
			return bh_error(err, 0, "%s: unknown key", json_at(&p, path, ".%s", name));
	}
	return 0;
}
