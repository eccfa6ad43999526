/* A registry client's TLS sessions kept in a file between processes
 * (docs/fleet.md, "TLS session resumption"). A gateway's fetcher is a new
 * process for each poll: without a saved session every poll pays a full
 * TLS handshake, the server's certificate chain most of its bytes; with
 * one, a TLS 1.3 connection resumes from the ticket the server gave the
 * last poll.
 *
 * The file is a secret of the client (a ticket and its resumption key):
 * keep it 0600 in a folder of the client's own. It is bound to the
 * registry (host[:port], as configured) and to the SHA-256 of the CA
 * bundle the client verifies the server with; saved for anything else, it
 * is not used, nor past REGISTRY_TLS_SESSIONS_MAX_AGE_S. Its content is untrusted input: whatever
 * is wrong with it just means a full handshake. libcurl does not export sessions made with a client
 * certificate (mutual TLS): those clients always make a full handshake. */
#ifndef BULKHEAD_REGISTRY_TLS_SESSIONS_H
#define BULKHEAD_REGISTRY_TLS_SESSIONS_H

#include <bulkhead/error.h>
#include <bulkhead/registry.h>

#define REGISTRY_TLS_SESSIONS_FORMAT "bulkhead-tls-sessions/1"
/* A resumed connection sees no certificate, and each one brings a new
 * ticket: without a limit a chain of resumptions, or someone on the path
 * holding a stolen ticket and handing out its own, would never show the
 * certificate again. Sessions descending from a full handshake older
 * than this are not offered (RFC 8446 4.6.1 recommends such a limit). */
#define REGISTRY_TLS_SESSIONS_MAX_AGE_S (24 * 3600)

struct registry_tls_sessions;

/* Gives r a session cache that can be loaded and saved. Call before r's
 * first request, and registry_tls_sessions_detach() before
 * registry_close(r). */
int registry_tls_sessions_attach(struct registry *r, struct registry_tls_sessions **out,
                                 struct bh_error *err);
void registry_tls_sessions_detach(struct registry_tls_sessions *s);

/* Imports the sessions saved in path for r's registry and CA bundle.
 * Returns how many; 0 when there is no file, or its sessions descend from
 * a full handshake older than REGISTRY_TLS_SESSIONS_MAX_AGE_S; -1 when
 * the file cannot be used (err says why: truncated, malformed, saved for
 * another registry or CA bundle), in which case nothing of it was
 * imported. */
int registry_tls_sessions_load(struct registry_tls_sessions *s, const char *path,
                               struct bh_error *err);

/* Writes the sessions r holds for its registry to path (a temporary file,
 * fsynced, renamed, the folder fsynced; 0600), or removes path when there
 * are none. Returns how many were saved. */
int registry_tls_sessions_save(struct registry_tls_sessions *s, const char *path,
                               struct bh_error *err);

#endif
