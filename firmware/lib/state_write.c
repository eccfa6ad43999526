/* Writing a desired state's payload (bhpack state). */
#include <bulkhead/state.h>

#include <errno.h>
#include <yyjson.h>

int state_write(const struct state *s, char **json, size_t *len, struct bh_error *err)
{
	yyjson_mut_doc *d = yyjson_mut_doc_new(NULL);
	yyjson_mut_val *root, *arr;
	char issued[21], expires[21];

	if (!d)
		return bh_error(err, ENOMEM, "write the state");
	state_time_format(s->issued, issued);
	state_time_format(s->expires, expires);
	root = yyjson_mut_obj(d);
	yyjson_mut_doc_set_root(d, root);
	yyjson_mut_obj_add_str(d, root, "format", STATE_FORMAT);
	yyjson_mut_obj_add_str(d, root, "group", s->group);
	yyjson_mut_obj_add_uint(d, root, "serial", s->serial);
	yyjson_mut_obj_add_strcpy(d, root, "issued", issued);
	yyjson_mut_obj_add_strcpy(d, root, "expires", expires);
	yyjson_mut_obj_add_uint(d, root, "poll_interval", s->poll_interval);
	if (s->has_firmware) {
		yyjson_mut_val *fw = yyjson_mut_obj_add_obj(d, root, "firmware");

		yyjson_mut_obj_add_str(d, fw, "version", s->firmware_version);
		yyjson_mut_obj_add_str(d, fw, "update", s->firmware_update);
	}
	arr = yyjson_mut_obj_add_arr(d, root, "workloads");
	for (size_t i = 0; i < s->n_workloads; i++) {
		yyjson_mut_val *w = yyjson_mut_arr_add_obj(d, arr);

		yyjson_mut_obj_add_str(d, w, "name", s->workloads[i].name);
		yyjson_mut_obj_add_str(d, w, "version", s->workloads[i].version);
		yyjson_mut_obj_add_str(d, w, "bundle", s->workloads[i].bundle);
	}
	if (s->revocations_len) {
		yyjson_doc *r = yyjson_read(s->revocations, s->revocations_len, 0);
		yyjson_mut_val *copy = r ? yyjson_val_mut_copy(d, yyjson_doc_get_root(r)) : NULL;

		yyjson_doc_free(r);
		if (!copy) {
			yyjson_mut_doc_free(d);
			return bh_error(err, 0, "write the state: its revocations are not JSON");
		}
		yyjson_mut_obj_add_val(d, root, "revocations", copy);
	}
	*json = yyjson_mut_write(d, YYJSON_WRITE_PRETTY_TWO_SPACES, len);
	yyjson_mut_doc_free(d);
	if (!*json)
		return bh_error(err, ENOMEM, "write the state");
	return 0;
}
