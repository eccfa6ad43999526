/* The device's three trust roots (docs/vendor.md): folders of public keys
 * (*.pem) on the read-only root, one per kind of signed file, so that a
 * key trusted for one kind cannot sign another: a workload key cannot sign
 * a firmware update or a desired state. The image build fills them from
 * BH_TRUSTED_KEYS, BH_UPDATE_TRUSTED_KEYS and BH_STATE_TRUSTED_KEYS.
 *
 * Beside them, the image may carry a key revocation list
 * (include/bulkhead/revoke.h, BH_REVOKED_KEYS) signed by an update key:
 * the keys it names are trusted for nothing, in any root. */
#ifndef BULKHEAD_TRUST_H
#define BULKHEAD_TRUST_H

#define TRUST_WORKLOAD_KEYS "/etc/bulkhead/keys/workloads" /* workload bundles */
#define TRUST_UPDATE_KEYS   "/etc/bulkhead/keys/updates"   /* firmware update files */
#define TRUST_STATE_KEYS    "/etc/bulkhead/keys/state"     /* the fleet's desired states */
#define TRUST_REVOKED       "/etc/bulkhead/keys/revoked.dsse" /* the image's revocation list */

#endif
