#!/usr/bin/python3
"""The registry client (firmware/lib/registry*.c, the code a gateway pulls
with) and the artifacts and signed desired state of bhpack push / state,
against Debian's docker-registry (distribution 2.8) that this test starts
on 127.0.0.1 with TLS from a CA it makes and htpasswd auth, then stops.
`bhpack fetch` drives the client as the device does.

Checks: push then pull with equal digests; the cost of an unchanged poll
(requests and bytes, HTTP and TCP); Basic auth; the Bearer token flow;
a redirect to another host gets no Authorization; a wrong CA and a wrong
host name; mutual TLS; a blob that does not match its digest; a manifest
over 4 MiB; 500 and 429 with Retry-After; one byte per second; a cut
connection resumed with Range (and a server that ignores Range); a full
disk; and a tampered state, an unknown key, an expired state, a replayed
serial and another group's state.

Environment: BH_OUTPUT, a built O folder (O/host/bin/bhpack).
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
from tap import Tap  # noqa: E402
import bhbin  # noqa: E402
import registry_servers as rs  # noqa: E402

t = Tap()
out = os.environ["BH_OUTPUT"]
bhpack = bhbin.host_programs(t, out, "bhpack")
for tool in ("docker-registry", "htpasswd", "openssl"):
    if not shutil.which(tool):
        t.skip("registry tests", "%s is missing (make host-tools installs it)" % tool)
        t.done()

tmp = tempfile.mkdtemp(prefix="bh-registry-")
KEYS = os.path.join(TOP, "board", "common", "keys")
STATE_KEY = os.path.join(KEYS, "bulkhead-TEST-ONLY-state.key.pem")
state_keys = os.path.join(tmp, "state-keys")
os.makedirs(state_keys)
shutil.copy(os.path.join(KEYS, "bulkhead-TEST-ONLY-state.pub.pem"), state_keys)
USERS = {"alice": "correct horse"}
ENV = dict(os.environ, BHPACK_REGISTRY_PASSWORD=USERS["alice"])


def p(*x):
    return os.path.join(tmp, *x)


def bh(*args, env=ENV, timeout=120, preexec=None, wrap=None):
    """bhpack with args; returns (rc, stdout, stderr, fields of key=value)."""
    cmd = (wrap or []) + [bhpack] + list(args)
    try:
        r = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=timeout,
                           preexec_fn=preexec)
    except subprocess.TimeoutExpired as e:
        return -1, "", "timed out after %d s" % timeout, {}
    fields = {}
    for line in r.stdout.splitlines():
        for w in line.split():
            if "=" in w:
                k, v = w.split("=", 1)
                fields[k] = v
    return r.returncode, r.stdout, r.stderr, fields


def show(r):
    return "rc=%s\nstdout: %s\nstderr: %s" % (r[0], r[1], r[2])


pki = rs.Pki(p("pki"))
servers = []


def start(obj):
    servers.append(obj)
    return obj


def auth(ca=None):
    return ["--ca", ca or pki.ca, "--user", "alice"]


# A bundle with 3 MiB of random data, so that downloads take several reads.
os.makedirs(p("root", "usr", "bin"))
with open(p("root", "usr", "bin", "payload"), "wb") as f:
    f.write(os.urandom(3 * 1024 * 1024))
with open(p("web.json"), "w") as f:
    json.dump({"name": "web", "version": "1.0", "mode": "container",
               "container": {"args": ["/usr/bin/payload"]}}, f)
r = bh("build", "--manifest", p("web.json"), "--rootfs", p("root"), "--arch", "x86_64",
       "--key", os.path.join(KEYS, "bulkhead-TEST-ONLY-vendor.key.pem"), "-o", p("web.bundle"))
if r[0] != 0:
    t.ok(False, "build a test bundle", show(r))
    t.done()
bundle_sha = rs.sha256_file(p("web.bundle"))
bundle_size = os.path.getsize(p("web.bundle"))

try:
    reg = start(rs.Registry(p("reg"), pki, users=USERS))
    REPO = reg.host + "/fleet/web"

    # 1. Push, then pull: the same bytes, and the digest bhpack printed is
    # the one HEAD and GET give.
    r = bh("push", *auth(), p("web.bundle"), REPO + ":1.0")
    pushed = r[1].strip()
    t.ok(r[0] == 0 and pushed.startswith("sha256:"), "bhpack push prints the manifest digest",
         show(r))
    r = bh("fetch", "pull", *auth(), "--type", "bundle", "-o", p("pulled.bundle"), REPO + ":1.0")
    t.ok(r[0] == 0 and r[3].get("manifest") == pushed and
         rs.sha256_file(p("pulled.bundle")) == bundle_sha and r[3].get("layer") == bundle_sha,
         "pull by tag gives the pushed manifest digest and the same bundle bytes", show(r))
    r = bh("fetch", "head", *auth(), REPO + "@" + pushed)
    t.ok(r[0] == 0 and r[3].get("digest") == pushed, "HEAD by digest names the same digest",
         show(r))
    r = bh("fetch", "manifest", *auth(), "-o", p("m.json"), REPO + ":1.0")
    m = json.load(open(p("m.json"))) if r[0] == 0 else {}
    t.ok(m.get("artifactType") == "application/vnd.bulkhead.bundle.v1" and
         m.get("config", {}).get("mediaType") == "application/vnd.oci.empty.v1+json" and
         len(m.get("layers", [])) == 1 and m["layers"][0]["size"] == bundle_size,
         "the manifest is an OCI 1.1 artifact: artifactType, empty config, one layer",
         show(r) + "\n" + json.dumps(m))
    # An update file is published as an update artifact (its SBOM comes
    # from the built image, as in test_update_file.py).
    sbom = os.path.join(out, "images", "sbom", "image.spdx.json")
    if os.path.exists(sbom):
        for name, size in (("uki-a.efi", 10000), ("uki-b.efi", 10001), ("slot.img", 3 * 4096)):
            with open(p(name), "wb") as f:
                f.write(os.urandom(size))
        r = bh("update", "--key", os.path.join(KEYS, "bulkhead-TEST-ONLY-update.key.pem"),
               "--board", "qemu-x86_64", "--arch", "x86_64", "--version", "9.9.9", "--sbom", sbom,
               "--uki-a", p("uki-a.efi"), "--uki-b", p("uki-b.efi"), "--slot", p("slot.img"),
               "-o", p("u.bhu"))
        r1 = bh("push", *auth(), p("u.bhu"), reg.host + "/fleet/firmware:9.9.9")
        r2 = bh("fetch", "pull", *auth(), "--type", "update", "-o", p("u-pulled.bhu"),
                reg.host + "/fleet/firmware:9.9.9")
        t.ok(r[0] == 0 and r1[0] == 0 and r2[0] == 0 and
             r2[3].get("artifact_type") == "application/vnd.bulkhead.update.v1" and
             rs.sha256_file(p("u-pulled.bhu")) == rs.sha256_file(p("u.bhu")),
             "an update file round-trips as an update artifact", show(r) + show(r1) + show(r2))
    else:
        t.skip("an update file round-trips as an update artifact",
               "no images/sbom/image.spdx.json in BH_OUTPUT (build the image first)")
    r = bh("push", *auth(), p("web.json"), REPO + ":junk")
    t.ok(r[0] != 0 and "neither a workload bundle nor an update file" in r[2],
         "push refuses a file that is neither a bundle nor an update", show(r))

    # 2. The unchanged poll: one HEAD on the tag per poll once the client
    # knows the auth scheme, on the kept connection. Counted by the client
    # (HTTP) and by a TCP relay (TLS records and handshakes included).
    relay = start(rs.TcpCounter(reg.port))
    RELAYED = relay.host + "/fleet/web:1.0"
    c0 = relay.snapshot()
    r1 = bh("fetch", "head", *auth(), RELAYED)
    c1 = relay.snapshot()
    r3 = bh("fetch", "head", *auth(), "--polls", "3", RELAYED)
    c3 = relay.snapshot()
    polls = [dict(w.split("=", 1) for w in line.split() if "=" in w)
             for line in r3[1].splitlines() if line.startswith("poll=")]
    ok = r1[0] == 0 and r3[0] == 0 and len(polls) == 3
    warm = polls[1:] if ok else []
    cold_tcp = (c1[1] - c0[1]) + (c1[2] - c0[2])
    three_tcp = (c3[1] - c1[1]) + (c3[2] - c1[2])
    warm_tcp = (three_tcp - cold_tcp) / 2
    t.diag("unchanged poll, first of a client: %s requests, %s HTTP bytes, %d TCP bytes "
           "(TLS handshake, 401, retry)" % (polls[0]["requests"] if ok else "?",
                                           int(polls[0]["sent"]) + int(polls[0]["received"])
                                           if ok else 0, cold_tcp))
    for w in warm:
        t.diag("unchanged poll, later: %s request, %d HTTP bytes (%s sent, %s received), "
               "%s new connections; %.0f TCP bytes per poll"
               % (w["requests"], int(w["sent"]) + int(w["received"]), w["sent"],
                  w["received"], w["connections"], warm_tcp))
    t.ok(ok and all(w["requests"] == "1" and w["connections"] == "0" and
                    int(w["sent"]) + int(w["received"]) < 2048 for w in warm) and
         c3[0] - c1[0] == 1,
         "an unchanged poll is one HEAD request under 2 KiB on the kept connection",
         show(r3))

    # 3. Basic auth.
    r = bh("fetch", "head", "--ca", pki.ca, REPO + ":1.0", env=dict(os.environ))
    t.ok(r[0] != 0 and r[3].get("fault") == "auth" and r[3].get("http_status") == "401" and
         "none were given" in r[2], "no credentials: refused with 401, saying so", show(r))
    bad = dict(os.environ, BHPACK_REGISTRY_PASSWORD="wrong")
    r = bh("fetch", "head", *auth(), REPO + ":1.0", env=bad)
    t.ok(r[0] != 0 and r[3].get("fault") == "auth" and "refused user alice" in r[2],
         "a wrong password: refused, naming the user", show(r))
    r = bh("fetch", "head", "--ca", pki.ca, "--user", "alice", "--password", "x", REPO + ":1.0")
    t.ok(r[0] != 0, "there is no --password option (passwords never on the command line)",
         show(r))
    with open(p("pw"), "w") as f:
        f.write(USERS["alice"] + "\n")
    r = bh("fetch", "head", *auth(), "--password-file", p("pw"), REPO + ":1.0",
           env=dict(os.environ))
    t.ok(r[0] == 0 and r[3].get("digest") == pushed, "Basic auth with a password file",
         show(r))

    # 4. The Bearer token flow: 401 with WWW-Authenticate: Bearer, a token
    # from the issuer (with our Basic credentials), the retry.
    issuer = start(rs.TokenIssuer(p("tok"), pki, USERS))
    os.makedirs(p("reg2"))
    reg2 = start(rs.Registry(p("reg2"), pki, token=issuer))
    r = bh("push", *auth(), p("web.bundle"), reg2.host + "/fleet/web:1.0")
    r2 = bh("fetch", "pull", *auth(), "-o", p("tok.bundle"), reg2.host + "/fleet/web:1.0")
    scopes = [q["path"] for q in issuer.requests]
    t.ok(r[0] == 0 and r2[0] == 0 and rs.sha256_file(p("tok.bundle")) == bundle_sha and
         any("push" in s for s in scopes) and
         all(q["headers"].get("Authorization", "").startswith("Basic ")
             for q in issuer.requests),
         "Bearer token flow: push and pull through tokens for the challenge's scope",
         show(r) + "\n" + show(r2) + "\n" + "\n".join(scopes))
    r = bh("fetch", "head", *auth(), reg2.host + "/fleet/web:1.0", env=bad)
    t.ok(r[0] != 0 and r[3].get("fault") == "auth" and "get a token" in r[2],
         "Bearer flow with a wrong password: the token endpoint's refusal is reported", show(r))

    # 5. A front that redirects blobs to another host (localhost, another
    # port): the blob arrives, and that host never sees Authorization.
    store = start(rs.BlobStore(pki))
    front = start(rs.Front(pki, reg.port))

    def redirect_blobs(fr, req):
        if req.method == "GET" and "/blobs/sha256:" in req.path and \
                req.headers.get("Authorization"):
            st, hdrs, data = fr.forward("GET", req.path, dict(req.headers), b"")
            if st != 200:
                return False
            digest = req.path.rsplit("/", 1)[1]
            store.blobs[digest] = data
            req.reply(307, [("Location", store.base + "/" + digest)], b"")
            return True
        return False
    front.fault = redirect_blobs
    FR = front.host + "/fleet/web:1.0"
    r = bh("fetch", "pull", *auth(), "-o", p("redir.bundle"), FR)
    sent_auth = [q for q in store.requests if "Authorization" in q["headers"]]
    front_auth = [q for q in front.requests if "Authorization" in q["headers"]]
    t.ok(r[0] == 0 and rs.sha256_file(p("redir.bundle")) == bundle_sha and store.requests and
         not sent_auth and front_auth,
         "a redirect to another host is followed without the Authorization header",
         show(r) + "\nstore saw: %s" % store.requests)
    front.fault = None

    # 6. TLS: a CA that did not sign the server, a certificate for another
    # host name, and mutual TLS.
    r = bh("fetch", "head", *auth(pki.other_ca), REPO + ":1.0")
    t.ok(r[0] != 0 and r[3].get("fault") == "tls", "a wrong CA: refused as a TLS failure",
         show(r))
    wrong = start(rs.Front(pki, reg.port, cert=pki.wrong, key=pki.wrong_key))
    r = bh("fetch", "head", *auth(), wrong.host + "/fleet/web:1.0")
    t.ok(r[0] != 0 and r[3].get("fault") == "tls" and wrong.count() == 0,
         "a certificate for another host name: refused before any request", show(r))
    mtls = start(rs.Front(pki, reg.port, client_ca=pki.ca))
    r = bh("fetch", "head", *auth(), mtls.host + "/fleet/web:1.0")
    r2 = bh("fetch", "head", *auth(), "--client-cert", pki.client, "--client-key",
            pki.client_key, mtls.host + "/fleet/web:1.0")
    t.ok(r[0] != 0 and r[3].get("fault") in ("tls", "network") and r2[0] == 0 and
         r2[3].get("digest") == pushed,
         "mutual TLS: refused without a client certificate, served with one",
         show(r) + "\n" + show(r2))

    # 7. Faults injected by the front.
    def blob_fault(kind):
        def f(fr, req):
            if req.method != "GET" or "/blobs/" + bundle_sha not in req.path:
                return False
            st, hdrs, data = fr.forward("GET", req.path, dict(req.headers), b"")
            if kind == "flip":
                data = data[:1000] + bytes([data[1000] ^ 1]) + data[1001:]
                req.reply(st, hdrs, data)
            elif kind == "trickle":
                req.reply(st, hdrs, data, trickle=1.0)
            return True
        return f

    front.fault = blob_fault("flip")
    dest = p("flip.bundle")
    r = bh("fetch", "pull", *auth(), "-o", dest, FR)
    t.ok(r[0] != 0 and r[3].get("fault") == "integrity" and not os.path.exists(dest) and
         not os.path.exists(dest + ".part"),
         "a blob whose digest does not match: refused, nothing left behind", show(r))

    def other_manifest(fr, req):
        if req.method == "GET" and "/manifests/sha256:" in req.path:
            st, hdrs, data = fr.forward("GET", req.path, dict(req.headers), b"")
            req.reply(st, hdrs, data.replace(b'"schemaVersion":2', b'"schemaVersion": 2'))
            return True
        return False
    front.fault = other_manifest
    r = bh("fetch", "manifest", *auth(), front.host + "/fleet/web@" + pushed)
    t.ok(r[0] != 0 and r[3].get("fault") == "integrity" and pushed in r[2],
         "a manifest whose bytes do not match the digest asked for is refused", show(r))

    def slow_manifest(fr, req):
        if req.method == "GET" and "/manifests/" in req.path:
            st, hdrs, data = fr.forward("GET", req.path, dict(req.headers), b"")
            req.reply(st, hdrs, data, trickle=1.0)
            return True
        return False
    front.fault = slow_manifest
    r = bh("fetch", "manifest", *auth(), "--low-speed", "100/3", FR, timeout=90)
    t.ok(r[0] != 0 and r[3].get("fault") == "network" and "too slow" in r[2].lower(),
         "a manifest sent one byte per second fails in bounded time too", show(r))

    def big_manifest(fr, req):
        if "/manifests/big" in req.path:
            body = b'{"x":"' + b"a" * (5 * 1024 * 1024) + b'"}'
            req.reply(200, [("Content-Type", "application/vnd.oci.image.manifest.v1+json")],
                      body, head=req.method == "HEAD")
            return True
        return False
    front.fault = big_manifest
    r = bh("fetch", "manifest", *auth(), front.host + "/fleet/web:big")
    t.ok(r[0] != 0 and r[3].get("fault") == "too-large" and "larger than 4194304" in r[2],
         "a manifest over 4 MiB is refused", show(r))

    def status(code, extra):
        def f(fr, req):
            body = json.dumps({"errors": [{"code": "TOOMANYREQUESTS" if code == 429 else
                                           "UNAVAILABLE", "message": "try later"}]}).encode()
            req.reply(code, [("Content-Type", "application/json")] + extra, body,
                      head=req.method == "HEAD")
            return True
        return f
    front.fault = status(500, [])
    r = bh("fetch", "head", *auth(), FR)
    t.ok(r[0] != 0 and r[3].get("fault") == "server" and r[3].get("http_status") == "500",
         "500: a server fault with its status", show(r))
    front.fault = status(429, [("Retry-After", "7")])
    r = bh("fetch", "manifest", *auth(), FR)
    t.ok(r[0] != 0 and r[3].get("fault") == "rate-limited" and r[3].get("retry_after") == "7"
         and "retry after 7 s" in r[2] and "TOOMANYREQUESTS" in r[2],
         "429: rate limited, with Retry-After and the registry's error code", show(r))

    front.fault = blob_fault("trickle")
    t0 = time.time()
    r = bh("fetch", "pull", *auth(), "--low-speed", "100/3", "--resumes", "0",
           "-o", p("slow.bundle"), FR, timeout=90)
    t.diag("one byte per second: failed after %.1f s (limit: 100 bytes/s over 3 s)"
           % (time.time() - t0))
    t.ok(r[0] != 0 and r[3].get("fault") == "network" and "too slow" in r[2] and
         not os.path.exists(p("slow.bundle")),
         "a server sending one byte per second fails in bounded time", show(r))

    # 8. A cut connection: the first blob GET ends after 1 MiB; the client
    # resumes with Range from there.
    cuts = []

    def cut_once(fr, req):
        if req.method != "GET" or "/blobs/" + bundle_sha not in req.path:
            return False
        if cuts:
            return False
        cuts.append(1)
        st, hdrs, data = fr.forward("GET", req.path, dict(req.headers), b"")
        req.reply(st, hdrs, data, cut_after=1024 * 1024)
        return True
    front.fault = cut_once
    front.requests.clear()
    r = bh("fetch", "pull", *auth(), "-o", p("cut.bundle"), FR)
    ranges = [q["headers"].get("Range") for q in front.requests if "/blobs/" in q["path"]]
    t.diag("cut at 1 MiB: resumes=%s downloaded=%s refetched=%s (bytes fetched again), "
           "Range headers: %s" % (r[3].get("resumes"), r[3].get("downloaded"),
                                  r[3].get("refetched"), ranges))
    t.ok(r[0] == 0 and rs.sha256_file(p("cut.bundle")) == bundle_sha and
         r[3].get("resumes") == "1" and r[3].get("refetched") == "0" and
         "bytes=1048576-" in ranges and not os.path.exists(p("cut.bundle.part")),
         "a cut connection resumes with a Range request, nothing fetched again", show(r))

    # The same cut with no resume allowed: .part stays, the next call
    # resumes it; through a server that ignores Range the kept bytes are
    # sent again and counted.
    cuts.clear()
    r1 = bh("fetch", "pull", *auth(), "--resumes", "0", "-o", p("cut2.bundle"), FR)
    part = os.path.getsize(p("cut2.bundle.part")) if os.path.exists(p("cut2.bundle.part")) \
        else 0
    no_final = not os.path.exists(p("cut2.bundle"))

    def ignore_range(fr, req):
        if req.method == "GET" and "/blobs/" + bundle_sha in req.path:
            h = {k: v for k, v in req.headers.items() if k.lower() != "range"}
            st, hdrs, data = fr.forward("GET", req.path, h, b"")
            req.reply(st, hdrs, data)
            return True
        return False
    front.fault = ignore_range
    r2 = bh("fetch", "pull", *auth(), "-o", p("cut2.bundle"), FR)
    t.diag("kept .part of %d bytes; a server ignoring Range sent them again: refetched=%s"
           % (part, r2[3].get("refetched")))
    t.ok(r1[0] != 0 and r1[3].get("fault") == "network" and part > 0 and no_final and
         r2[0] == 0 and
         r2[3].get("resumed_from") == str(part) and r2[3].get("refetched") == str(part) and
         rs.sha256_file(p("cut2.bundle")) == bundle_sha,
         "a .part left by a failed call is resumed; bytes a server sends again are counted",
         show(r1) + "\n" + show(r2))
    front.fault = None

    # 9. A full disk: a 1 MiB tmpfs (checked before the download starts)
    # and a 1 MiB file size limit (the write fails mid-way).
    if os.getuid() == 0 and shutil.which("unshare"):
        r = bh("fetch", "pull", *auth(), "-o", "/mnt/x.bundle", REPO + ":1.0",
               wrap=["unshare", "--mount", "--propagation", "private", "sh", "-c",
                     'mount -t tmpfs -o size=1m tmpfs /mnt && exec "$0" "$@"'])
        t.ok(r[0] != 0 and r[3].get("fault") == "no-space" and "free" in r[2],
             "a full disk is found before the download starts", show(r))
    else:
        t.skip("a full disk is found before the download starts",
               "needs root and unshare for a private tmpfs")

    def fsize_limit():
        import resource
        import signal
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024 * 1024, 1024 * 1024))
    r = bh("fetch", "pull", *auth(), "-o", p("fsize.bundle"), REPO + ":1.0",
           preexec=fsize_limit)
    t.ok(r[0] != 0 and r[3].get("fault") == "no-space" and not os.path.exists(p("fsize.bundle")),
         "a write that fails mid-download (file size limit): no-space, no final file", show(r))

    # 10. The desired state: signed, published per group, read as the
    # device reads it.
    D = pushed
    r = bh("state", "--key", STATE_KEY, "--group", "lab", "--serial", "5", "--valid-days", "7",
           "--poll-interval", "60", "--workload", "web=1.0@" + D, "-o", p("s5.json"))
    r2 = bh("push", *auth(), "--state", p("s5.json"), "--keys", state_keys,
            reg.host + "/fleet/state:group-lab")
    r3 = bh("fetch", "state", *auth(), "--keys", state_keys, "--group", "lab",
            "--applied-serial", "4", reg.host + "/fleet/state:group-lab")
    t.ok(r[0] == 0 and r2[0] == 0 and r3[0] == 0 and r3[3].get("verdict") == "accepted",
         "a signed state is published at group-lab and accepted", show(r2) + "\n" + show(r3))
    r = bh("push", *auth(), "--state", p("s5.json"), reg.host + "/fleet/state:group-other")
    t.ok(r[0] != 0 and "publish it at tag group-lab" in r[2],
         "push --state refuses another group's tag", show(r))

    env = json.load(open(p("s5.json")))
    payload = base64.b64decode(env["payload"]).replace(b'"serial": 5', b'"serial": 9')
    env["payload"] = base64.b64encode(payload).decode()
    with open(p("tampered.json"), "w") as f:
        json.dump(env, f)
    r = bh("state", "--check", p("tampered.json"), "--keys", state_keys)
    t.ok(r[0] == 1 and r[3].get("verdict") == "bad-signature",
         "a tampered state: bad-signature", show(r))
    r = bh("keygen", "--private", p("rogue.key"), "--public", p("rogue.pub"))
    r = bh("state", "--key", p("rogue.key"), "--group", "lab", "--serial", "99",
           "--valid-days", "7", "-o", p("rogue.json"))
    r2 = bh("push", *auth(), "--state", p("rogue.json"), reg.host + "/fleet/state:group-lab")
    r3 = bh("fetch", "state", *auth(), "--keys", state_keys, "--group", "lab",
            reg.host + "/fleet/state:group-lab")
    t.ok(r2[0] == 0 and r3[0] != 0 and r3[3].get("verdict") == "unknown-key",
         "a state signed by an unknown key, served by the registry: unknown-key", show(r3))
    r = bh("state", "--check", p("s5.json"), "--keys", state_keys, "--now",
           time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + 8 * 86400)))
    t.ok(r[0] == 1 and r[3].get("verdict") == "expired" and "stale" in r[2],
         "an expired state: expired (stale)", show(r))
    r = bh("state", "--check", p("s5.json"), "--keys", state_keys, "--applied-serial", "6")
    t.ok(r[0] == 1 and r[3].get("verdict") == "replayed" and "lower than the applied 6" in r[2],
         "a lower serial than the applied one: replayed", show(r))
    r = bh("state", "--check", p("s5.json"), "--keys", state_keys, "--group", "edge")
    t.ok(r[0] == 1 and r[3].get("verdict") == "wrong-group",
         "another group's state: wrong-group", show(r))
    r = bh("state", "--key", STATE_KEY, "--group", "lab", "--serial", "6", "--valid-days", "1",
           "--workload", "Bad Name=1@" + D, "-o", p("bad.json"))
    t.ok(r[0] != 0 and "workloads[0].name" in r[2] and not os.path.exists(p("bad.json")),
         "a state with a bad field is never signed; the error names the field", show(r))
finally:
    for s in reversed(servers):
        try:
            s.stop()
        except Exception as e:  # keep stopping the others
            t.diag("stopping %s: %s" % (type(s).__name__, e))
    shutil.rmtree(tmp, ignore_errors=True)
t.done()
