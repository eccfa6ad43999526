/* The checks on an update file before anything is written
 * (include/bulkhead/update.h). */
#include <bulkhead/bundle.h>
#include <bulkhead/sbom.h>
#include <bulkhead/update.h>

#include <string.h>

int update_check(int fd, const char *what, const char *keys_dir, const char *board,
		 const char *arch, const char *running_version, int allow_downgrade,
		 struct bundle *b, struct update_manifest *m, struct bh_error *err)
{
	const struct bundle_member *slot;

	if (bundle_check_as(fd, what, UPDATE_FORMAT, keys_dir, b, err) < 0)
		return -1;
	if (update_manifest_parse(b->manifest, strlen(b->manifest), what, m, err) < 0)
		goto refuse;
	slot = bundle_member(b, "slot.img");
	if (slot && slot->size != m->slot_bytes) {
		bh_error(err, 0, "%s: slot.img is %llu bytes, manifest.json says %llu", what,
			 (unsigned long long)slot->size, (unsigned long long)m->slot_bytes);
		goto refuse;
	}
	if (strcmp(m->board, board)) {
		bh_error(err, 0, "%s: the update is for board %s, this is %s: refused", what, m->board,
			 board);
		goto refuse;
	}
	if (strcmp(m->arch, arch)) {
		bh_error(err, 0, "%s: the update is for %s, this is %s: refused", what, m->arch, arch);
		goto refuse;
	}
	if (running_version && !allow_downgrade &&
	    version_compare(m->version, running_version) <= 0) {
		bh_error(err, 0, "%s: version %s is not newer than the running %s: refused "
			 "(--allow-downgrade to install it anyway)", what, m->version, running_version);
		goto refuse;
	}
	return 0;
refuse:
	bundle_free(b);
	return -1;
}
