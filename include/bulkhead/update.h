/* Firmware updates (docs/update.md): what an update file's manifest.json
 * says, and how image versions compare. The file itself is a signed bundle
 * of format UPDATE_FORMAT (include/bulkhead/bundle.h). */
#ifndef BULKHEAD_UPDATE_H
#define BULKHEAD_UPDATE_H

#include <bulkhead/error.h>

#include <stddef.h>
#include <stdint.h>

#define UPDATE_VERSION_MAX 64

struct update_manifest {
	char board[64];
	char arch[16];
	char version[UPDATE_VERSION_MAX]; /* IMAGE_VERSION of the new image */
	uint64_t slot_bytes;              /* size of slot.img */
};

/* Parses manifest.json: {"board": "...", "arch": "x86_64|aarch64",
 * "version": "...", "slot_bytes": N}. The error names `what` and the field. */
int update_manifest_parse(const char *json, size_t len, const char *what,
			  struct update_manifest *m, struct bh_error *err);

/* True when a version string is one we accept: 1..63 characters of
 * [0-9A-Za-z.~^_-]; it also names files on the ESP, so no '/', '+' or ' '. */
int update_version_valid(const char *v);

/* Image versions compare with version_compare() (include/bulkhead/sbom.h):
 * runs of digits numerically, "1.2" < "1.2.1", "1.0~rc1" < "1.0". */

struct bundle;

/* What a device checks before it writes anything: the file at fd is a
 * bundle of format UPDATE_FORMAT signed by a key in keys_dir, every member
 * matches its signed hash, its manifest names this board and arch, and
 * its version is newer than running_version (or allow_downgrade). Fills b
 * (bundle_free it) and m. The error names `what` and the refusal. */
int update_check(int fd, const char *what, const char *keys_dir, const char *board,
		 const char *arch, const char *running_version, int allow_downgrade,
		 struct bundle *b, struct update_manifest *m, struct bh_error *err);

#endif
