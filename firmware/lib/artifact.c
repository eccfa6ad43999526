/* Image manifests of our OCI artifacts: written by bhpack push, read by the
 * device before it fetches the one layer. */
#include <bulkhead/artifact.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yyjson.h>

#define TITLE_ANNOTATION "org.opencontainers.image.title"

const char *artifact_layer_type(const char *t)
{
	if (!strcmp(t, ARTIFACT_BUNDLE))
		return ARTIFACT_BUNDLE_LAYER;
	if (!strcmp(t, ARTIFACT_UPDATE))
		return ARTIFACT_UPDATE_LAYER;
	if (!strcmp(t, ARTIFACT_STATE))
		return ARTIFACT_STATE_LAYER;
	return NULL;
}

int artifact_manifest_write(const struct artifact *a, char **json, size_t *len,
                            struct bh_error *err)
{
	yyjson_mut_doc *d = yyjson_mut_doc_new(NULL);
	yyjson_mut_val *root, *cfg, *layers, *layer;

	if (!d)
		return bh_error(err, ENOMEM, "write the artifact manifest");
	root = yyjson_mut_obj(d);
	yyjson_mut_doc_set_root(d, root);
	yyjson_mut_obj_add_int(d, root, "schemaVersion", 2);
	yyjson_mut_obj_add_str(d, root, "mediaType", OCI_MANIFEST_MEDIA_TYPE);
	yyjson_mut_obj_add_str(d, root, "artifactType", a->artifact_type);
	cfg = yyjson_mut_obj_add_obj(d, root, "config");
	yyjson_mut_obj_add_str(d, cfg, "mediaType", OCI_EMPTY_MEDIA_TYPE);
	yyjson_mut_obj_add_str(d, cfg, "digest", OCI_EMPTY_DIGEST);
	yyjson_mut_obj_add_int(d, cfg, "size", 2);
	yyjson_mut_obj_add_str(d, cfg, "data", "e30=");
	layers = yyjson_mut_obj_add_arr(d, root, "layers");
	layer = yyjson_mut_arr_add_obj(d, layers);
	yyjson_mut_obj_add_str(d, layer, "mediaType", a->layer_media_type);
	yyjson_mut_obj_add_str(d, layer, "digest", a->layer_digest);
	yyjson_mut_obj_add_uint(d, layer, "size", a->layer_size);
	if (a->title[0]) {
		yyjson_mut_val *ann = yyjson_mut_obj_add_obj(d, layer, "annotations");

		yyjson_mut_obj_add_str(d, ann, TITLE_ANNOTATION, a->title);
	}
	*json = yyjson_mut_write(d, 0, len);
	yyjson_mut_doc_free(d);
	if (!*json)
		return bh_error(err, ENOMEM, "write the artifact manifest");
	return 0;
}

#define FAIL(...) bh_error(err, 0, __VA_ARGS__)

static int get_str(yyjson_val *o, const char *key, char *out, size_t cap, const char *what,
                   const char *where, struct bh_error *err)
{
	const char *s = yyjson_get_str(yyjson_obj_get(o, key));

	if (!s)
		return FAIL("%s: %s%s is missing or not a string", what, where, key);
	if (strlen(s) >= cap)
		return FAIL("%s: %s%s is longer than %zu characters", what, where, key, cap - 1);
	strcpy(out, s);
	return 0;
}

int artifact_manifest_parse(const char *json, size_t len, const char *what, const char *want_type,
                            struct artifact *a, struct bh_error *err)
{
	yyjson_doc *d = yyjson_read(json, len, 0);
	yyjson_val *root = yyjson_doc_get_root(d), *cfg, *layers, *layer, *size, *ann;
	char buf[REGISTRY_MEDIA_TYPE_MAX];
	const char *want_layer, *title;
	int rc = -1;

	memset(a, 0, sizeof(*a));
	if (!yyjson_is_obj(root)) {
		FAIL("%s: not a JSON object", what);
		goto out;
	}
	if (yyjson_get_int(yyjson_obj_get(root, "schemaVersion")) != 2 ||
	    !yyjson_is_int(yyjson_obj_get(root, "schemaVersion"))) {
		FAIL("%s: schemaVersion must be 2", what);
		goto out;
	}
	if (get_str(root, "mediaType", buf, sizeof(buf), what, "", err) < 0)
		goto out;
	if (strcmp(buf, OCI_MANIFEST_MEDIA_TYPE)) {
		FAIL("%s: mediaType is %s, not an OCI image manifest", what, buf);
		goto out;
	}
	if (get_str(root, "artifactType", a->artifact_type, sizeof(a->artifact_type), what, "",
	            err) < 0)
		goto out;
	want_layer = artifact_layer_type(a->artifact_type);
	if (!want_layer || (want_type && strcmp(want_type, a->artifact_type))) {
		FAIL("%s: artifactType is %s, expected %s", what, a->artifact_type,
		     want_type ? want_type : "a Bulkhead artifact");
		goto out;
	}
	cfg = yyjson_obj_get(root, "config");
	if (!yyjson_is_obj(cfg)) {
		FAIL("%s: config is missing", what);
		goto out;
	}
	if (get_str(cfg, "mediaType", buf, sizeof(buf), what, "config.", err) < 0)
		goto out;
	if (strcmp(buf, OCI_EMPTY_MEDIA_TYPE)) {
		FAIL("%s: config.mediaType is %s, expected %s", what, buf, OCI_EMPTY_MEDIA_TYPE);
		goto out;
	}
	layers = yyjson_obj_get(root, "layers");
	if (!yyjson_is_arr(layers) || yyjson_arr_size(layers) != 1) {
		FAIL("%s: layers must hold exactly one layer", what);
		goto out;
	}
	layer = yyjson_arr_get_first(layers);
	if (!yyjson_is_obj(layer)) {
		FAIL("%s: layers[0] is not an object", what);
		goto out;
	}
	if (get_str(layer, "mediaType", a->layer_media_type, sizeof(a->layer_media_type), what,
	            "layers[0].", err) < 0 ||
	    get_str(layer, "digest", a->layer_digest, sizeof(a->layer_digest), what, "layers[0].",
	            err) < 0)
		goto out;
	if (strcmp(a->layer_media_type, want_layer)) {
		FAIL("%s: layers[0].mediaType is %s, expected %s", what, a->layer_media_type,
		     want_layer);
		goto out;
	}
	if (!registry_digest_valid(a->layer_digest)) {
		FAIL("%s: layers[0].digest '%s' is not sha256:<64 hex>", what, a->layer_digest);
		goto out;
	}
	size = yyjson_obj_get(layer, "size");
	if (!yyjson_is_uint(size) && !(yyjson_is_sint(size) && yyjson_get_sint(size) >= 0)) {
		FAIL("%s: layers[0].size must be a number of bytes", what);
		goto out;
	}
	a->layer_size = yyjson_get_uint(size);
	ann = yyjson_obj_get(layer, "annotations");
	title = yyjson_get_str(yyjson_obj_get(ann, TITLE_ANNOTATION));
	if (title && strlen(title) < sizeof(a->title))
		strcpy(a->title, title);
	rc = 0;
out:
	yyjson_doc_free(d);
	return rc;
}
