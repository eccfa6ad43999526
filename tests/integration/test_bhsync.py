#!/usr/bin/python3
"""bhsync, the fetcher bhd starts for each poll (firmware/bhsync/,
include/bulkhead/sync.h), built for the build host, against Debian's
docker-registry that this test starts on 127.0.0.1 (TLS from a CA it
makes, htpasswd auth) and stops.

Checks: a first poll brings a verified state and every bundle it names,
each file's SHA-256 the layer digest; a poll of the settled state is one
request (HEAD); bundles the device has are not fetched again, nor are
cached manifests; a due update is fetched only when the boot is confirmed
and never again once it rolled back; a state by an unknown key, a replayed
serial and another group's state are refused with their verdict; a
registry that is down is a network fault; an update that moved on prunes
the old files; a bad request is refused naming the field. TLS session
resumption: a poll by a new process resumes the session the last poll was
given (no certificate chain on the wire), the session file is 0600, and a
garbage or truncated session file, one saved for another registry or
another CA bundle is not used (a full handshake, said once, the poll
unharmed), nor are sessions descending from a full handshake over a day
old.

Environment: BH_OUTPUT, a built O folder (O/host/bin/bhsync, bhpack).
"""
import base64
import json
import os
import re
import shutil
import ssl
import subprocess
import sys
import tempfile
import time
import urllib.request

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
from tap import Tap  # noqa: E402
import bhbin  # noqa: E402
import registry_servers as rs  # noqa: E402

t = Tap()
out = os.environ["BH_OUTPUT"]
bhpack, bhsync = bhbin.host_programs(t, out, "bhpack", "bhsync")

tmp = tempfile.mkdtemp(prefix="bh-bhsync-")
KEYS = os.path.join(TOP, "board", "common", "keys")
STATE_KEY = os.path.join(KEYS, "bulkhead-TEST-ONLY-state.key.pem")
VENDOR_KEY = os.path.join(KEYS, "bulkhead-TEST-ONLY-vendor.key.pem")
UPDATE_KEY = os.path.join(KEYS, "bulkhead-TEST-ONLY-update.key.pem")
state_keys = os.path.join(tmp, "state-keys")
os.makedirs(state_keys)
shutil.copy(os.path.join(KEYS, "bulkhead-TEST-ONLY-state.pub.pem"), state_keys)
USERS = {"gw": "s3cret pass"}
ENV = dict(os.environ, BHPACK_REGISTRY_PASSWORD=USERS["gw"])


def p(*x):
    return os.path.join(tmp, *x)


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, env=ENV, timeout=300, **kw)
    return r.returncode, r.stdout, r.stderr


def sha256(path):
    return rs.sha256_file(path)


def bundle(name, size):
    root = p("root-" + name)
    os.makedirs(os.path.join(root, "usr", "bin"))
    with open(os.path.join(root, "usr", "bin", "payload"), "wb") as f:
        f.write(os.urandom(size))
    with open(p(name + ".json"), "w") as f:
        json.dump({"name": name, "version": "1.0", "mode": "container",
                   "container": {"args": ["/usr/bin/payload"]}}, f)
    rc, o, e = run([bhpack, "build", "--manifest", p(name + ".json"), "--rootfs", root,
                    "--arch", "x86_64", "--key", VENDOR_KEY, "-o", p(name + ".bundle")])
    if rc != 0:
        raise RuntimeError("bhpack build %s: %s" % (name, e))
    return p(name + ".bundle")


def push(path, ref):
    rc, o, e = run([bhpack, "push", "--ca", pki.ca, "--user", "gw", path, ref])
    if rc != 0:
        raise RuntimeError("bhpack push %s: %s" % (path, e))
    return o.strip()


def publish(serial, workloads, group="lab", key=STATE_KEY, firmware=None, expires_days=7):
    args = [bhpack, "state", "--key", key, "--group", group, "--serial", str(serial),
            "--valid-days", str(expires_days), "--poll-interval", "30", "-o", p("s.state")]
    for name, digest in workloads:
        args += ["--workload", "%s=1.0@%s" % (name, digest)]
    if firmware:
        args += ["--firmware", "%s@%s" % firmware]
    rc, o, e = run(args)
    if rc != 0:
        raise RuntimeError("bhpack state: %s" % e)
    return push_state(group)


def push_state(group):
    rc, o, e = run([bhpack, "push", "--ca", pki.ca, "--user", "gw", "--state", p("s.state"),
                    "%s/fleet:group-%s" % (reg.host, group)])
    if rc != 0:
        raise RuntimeError("bhpack push --state: %s" % e)
    return o.strip()


def put_manifest(tag, body):
    """PUT a manifest under a tag by hand, as a hostile publisher could."""
    req = urllib.request.Request("https://%s/v2/fleet/manifests/%s" % (reg.host, tag), data=body,
                                 method="PUT", headers={
                                     "Content-Type": "application/vnd.oci.image.manifest.v1+json",
                                     "Authorization": "Basic " + base64.b64encode(
                                         ("gw:" + USERS["gw"]).encode()).decode()})
    urllib.request.urlopen(req, context=pki.client_context(), timeout=30).close()


def request(**kw):
    q = {"config": {"registry": reg.host, "repository": "fleet", "group": "lab",
                    "ca_file": pki.ca, "client_cert": "", "client_key": "", "client_key_pem": "",
                    "username": "gw", "password": USERS["gw"], "poll_interval": 60},
         "keys_dir": state_keys, "work_dir": p("work"), "settled": "", "force": False,
         "applied_serial": 0, "running_version": "1.0", "update_allowed": True,
         "failed_updates": [], "have": []}
    for k, v in kw.items():
        if k in q["config"]:
            q["config"][k] = v
        else:
            q[k] = v
    return q


def poll(q, raw=None):
    r = subprocess.run([bhsync, "poll"], input=raw if raw is not None else json.dumps(q),
                       capture_output=True, text=True, timeout=300)
    try:
        res = json.loads(r.stdout) if r.stdout else {}
    except ValueError:
        res = {}
    return r.returncode, res, r.stderr


def show(r):
    return "rc=%s\nresult: %s\nstderr: %s" % (r[0], json.dumps(r[1], indent=1)[:3000], r[2])


pki = rs.Pki(p("pki"))
reg = None
try:
    reg = rs.Registry(p("reg"), pki, users=USERS)
    web = bundle("web", 2 * 1024 * 1024)
    db = bundle("db", 512 * 1024)
    web_m = push(web, reg.host + "/fleet:web-1.0")
    db_m = push(db, reg.host + "/fleet:db-1.0")
    state1 = publish(1, [("web", web_m), ("db", db_m)])

    # 1. The first poll: a verified state and both bundles, complete.
    r = poll(request())
    res = r[1]
    files = {w["name"]: w for w in res.get("workloads", [])}
    t.ok(r[0] == 0 and res.get("outcome") == "ready" and res.get("serial") == 1 and
         res.get("state_digest") == state1 and res.get("poll_interval") == 30,
         "first poll: outcome ready with the state's digest, serial and interval", show(r))
    ok = set(files) == {"web", "db"}
    for name, path in (("web", web), ("db", db)):
        f = files.get(name, {})
        ok = ok and f.get("layer") == sha256(path) and os.path.exists(f.get("path", "")) and \
            sha256(f["path"]) == f["layer"]
    t.ok(ok, "first poll: each bundle downloaded, its SHA-256 the layer digest", show(r))
    t.ok(os.path.exists(p("work", "state.dsse")), "the state envelope is kept in the work folder")

    # 2. The settled state: one HEAD and nothing else.
    r = poll(request(settled=state1, applied_serial=1))
    t.ok(r[0] == 0 and r[1].get("outcome") == "unchanged" and r[1].get("requests") == 1,
         "an unchanged poll is one request (HEAD of the group's tag)", show(r))

    # 2b. TLS session resumption (docs/fleet.md): each poll is a new
    # process, and the session the last one was given is kept in the work
    # folder. Through a relay that counts what the server sends: a resumed
    # handshake leaves out the certificate chain (and its signature), so a
    # resumed poll receives at least the server certificate's size less
    # than a full one. The HTTP of each poll is the same single HEAD.
    relay = rs.TcpCounter(reg.port)
    ca_copy = p("ca-copy.pem")
    shutil.copy(pki.ca, ca_copy)
    with open(pki.server) as f:
        cert_len = len(ssl.PEM_cert_to_DER_cert(f.read()))
    sessions = p("work-tls", "tls-sessions")

    def wire_poll():
        """One unchanged poll through the relay: (result, bytes from the server)."""
        d0 = relay.snapshot()[2]
        r = poll(request(registry=relay.host, ca_file=ca_copy, work_dir=p("work-tls"),
                         settled=state1, applied_serial=1))
        time.sleep(0.5)  # the relay's threads count what is still in flight
        return r, relay.snapshot()[2] - d0

    try:
        wire_poll()  # learns the auth scheme: the polls below are one HEAD each
        if os.path.exists(sessions):
            os.unlink(sessions)
        r_full, full = wire_poll()
        made = os.path.exists(sessions)
        mode = oct(os.stat(sessions).st_mode & 0o777) if made else "none"
        t.ok(r_full[0] == 0 and r_full[1].get("outcome") == "unchanged" and mode == "0o600",
             "a poll keeps its TLS sessions in the work folder, 0600 (%s)" % mode, show(r_full))
        saved = open(sessions, "rb").read() if made else b""
        # As if the full handshake had been an hour ago: the chain keeps it.
        hour_ago = int(time.time()) - 3600
        saved = re.sub(rb"\nverified \d+\n", b"\nverified %d\n" % hour_ago, saved)
        with open(sessions, "wb") as f:
            f.write(saved)
        r, resumed = wire_poll()
        t.ok(r[0] == 0 and r[1].get("outcome") == "unchanged" and
             r[1].get("requests") == 1 and resumed + cert_len <= full,
             "a poll by a new process resumes the TLS session: %d bytes from the server "
             "instead of %d (the certificate is %d)" % (resumed, full, cert_len), show(r))
        def verified():
            m = re.search(rb"\nverified (\d+)\n", open(sessions, "rb").read())
            return int(m.group(1)) if m else -1

        t.ok(verified() == hour_ago,
             "a resumed poll keeps the time of the full handshake its session descends from",
             "%d, not %d" % (verified(), hour_ago))
        # A chain of resumptions ends a day after its full handshake (or
        # when that time is in the future): the certificate is seen again.
        for what, delta in (("over a day ago", -86401), ("in the future", 3600)):
            wire_poll()
            content = open(sessions, "rb").read()
            when = int(time.time()) + delta
            with open(sessions, "wb") as f:
                f.write(re.sub(rb"\nverified \d+\n", b"\nverified %d\n" % when, content))
            r, got = wire_poll()
            t.ok(r[0] == 0 and r[1].get("outcome") == "unchanged" and got + cert_len > full and
                 "tls-sessions" not in r[2] and abs(verified() - time.time()) < 120,
                 "sessions whose full handshake was %s are not offered: a full handshake "
                 "(%d bytes), without a word, a new chain" % (what, got), show(r))
        bad_files = [
            ("of random bytes", os.urandom(3000)),
            ("cut in half", saved[:len(saved) // 2]),
            ("cut before its last line", saved[:saved.rfind(b"end ")]),
            ("saved for another registry URL",
             saved.replace(("registry %s\n" % relay.host).encode(), b"registry 127.0.0.1:1\n")),
        ]
        for what, content in bad_files:
            wire_poll()  # a fresh session to replace
            with open(sessions, "wb") as f:
                f.write(content)
            r, got = wire_poll()
            t.ok(r[0] == 0 and r[1].get("outcome") == "unchanged" and got + cert_len > full and
                 sum("tls-sessions" in x for x in r[2].splitlines()) == 1 and
                 open(sessions, "rb").read().startswith(b"bulkhead-tls-sessions/1\n"),
                 "a session file %s: a full handshake (%d bytes), said once, the poll "
                 "unharmed, a new file kept" % (what, got), show(r))
        # The same CA file name with other content: the sessions were
        # verified against another CA bundle, so they are not resumed.
        wire_poll()
        with open(ca_copy, "a") as f:
            f.write("\n")
        r, got = wire_poll()
        t.ok(r[0] == 0 and r[1].get("outcome") == "unchanged" and got + cert_len > full,
             "sessions saved under another CA bundle are not resumed (%d bytes)" % got, show(r))
    finally:
        relay.stop()

    # 3. Bundles the device has are not downloaded; manifests come from
    # the cache: the HEAD and the state's envelope, nothing more.
    shutil.rmtree(p("work", "blobs"))
    r = poll(request(have=[sha256(web), sha256(db)]))
    t.ok(r[0] == 0 and r[1].get("outcome") == "ready" and
         all(w["path"] == "" for w in r[1].get("workloads", [])) and r[1].get("requests") == 2,
         "bundles the device has are not fetched again; cached manifests cost no request",
         show(r))

    # 4. A firmware update in the state.
    for name, size in (("uki-a.efi", 10000), ("uki-b.efi", 10001), ("slot.img", 3 * 4096)):
        with open(p(name), "wb") as f:
            f.write(os.urandom(size))
    sbom = os.path.join(out, "images", "sbom", "image.spdx.json")
    rc, o, e = run([bhpack, "update", "--key", UPDATE_KEY, "--board", "qemu-x86_64",
                    "--arch", "x86_64", "--version", "2.0", "--sbom", sbom,
                    "--uki-a", p("uki-a.efi"), "--uki-b", p("uki-b.efi"),
                    "--slot", p("slot.img"), "-o", p("u.bhu")])
    t.ok(rc == 0, "bhpack update makes a small update file", e)
    upd_m = push(p("u.bhu"), reg.host + "/fleet:firmware-2.0")
    state2 = publish(2, [("web", web_m)], firmware=("2.0", upd_m))
    have = [sha256(web), sha256(db)]
    r = poll(request(have=have, applied_serial=1, update_allowed=False))
    t.ok(r[1].get("outcome") == "ready" and r[1]["update"]["path"] == "" and
         "confirmed" in r[1].get("note", ""),
         "a due update waits while the running boot is unconfirmed", show(r))
    r = poll(request(have=have, applied_serial=1))
    u = r[1].get("update", {})
    t.ok(r[1].get("outcome") == "ready" and u.get("layer") == sha256(p("u.bhu")) and
         os.path.exists(u.get("path", "")) and sha256(u["path"]) == u["layer"],
         "a due update is fetched once the boot is confirmed", show(r))
    t.ok(not os.path.exists(os.path.join(p("work", "blobs"), "sha256-" + sha256(db)[7:])),
         "a file the state no longer needs is pruned")
    r = poll(request(have=have, applied_serial=1, failed_updates=[upd_m]))
    t.ok(r[1].get("outcome") == "ready" and r[1]["update"]["layer"] == "" and
         "rolled back" in r[1].get("note", ""),
         "an update that rolled back is not fetched again", show(r))
    r = poll(request(have=have, applied_serial=1, running_version="2.0"))
    t.ok(r[1].get("outcome") == "ready" and r[1]["update"]["layer"] == "",
         "no update when the device runs the state's version", show(r))

    # 5. States the device must refuse, each with its verdict.
    r = poll(request(applied_serial=3))
    t.ok(r[1].get("outcome") == "failed" and r[1].get("verdict") == "replayed",
         "a serial lower than the applied one is refused as replayed", show(r))
    rc, o, e = run([bhpack, "keygen", "--private", p("rogue.key.pem"), "--public",
                    p("rogue.pub.pem")])
    rogue = p("rogue.key.pem")
    publish(5, [("web", web_m)], group="other", key=rogue)
    r = poll(request(group="other"))
    t.ok(r[1].get("outcome") == "failed" and r[1].get("verdict") == "unknown-key",
         "a state signed by an unknown key is refused (unknown-key)", show(r))
    publish(6, [("web", web_m)], group="third")
    shutil.copy(p("s.state"), p("third.state"))
    # The third group's state under lab2's tag (bhpack refuses to do
    # that, so the test pushes the manifest by hand through a copy).
    rc, o, e = run([bhpack, "fetch", "manifest", "--ca", pki.ca, "--user", "gw",
                    "-o", p("third.manifest"), "%s/fleet:group-third" % reg.host])
    put_manifest("group-lab2", open(p("third.manifest"), "rb").read())
    r = poll(request(group="lab2"))
    t.ok(r[1].get("outcome") == "failed" and r[1].get("verdict") == "wrong-group",
         "another group's state under our tag is refused (wrong-group)", show(r))

    # 6. Mutual TLS with the key handed over as PEM text (bhd reads the
    # device key; its unprivileged fetcher may not): through a front that
    # requires a client certificate from our CA.
    front = rs.Front(pki, reg.port, client_ca=pki.ca)
    try:
        key_pem = open(pki.client_key).read()
        r = poll(request(registry=front.host, client_cert=pki.client, client_key_pem=key_pem,
                         work_dir=p("work-mtls")))
        t.ok(r[1].get("outcome") == "ready", "mutual TLS with the client key given as PEM text",
             show(r))
        r = poll(request(registry=front.host, work_dir=p("work-mtls2")))
        t.ok(r[1].get("outcome") == "failed" and r[1].get("fault") in (1, 2),
             "without a client certificate the front refuses the connection", show(r))
    finally:
        front.stop()

    # 7. The registry down: a network fault the caller backs off from.
    r = poll(request(registry="127.0.0.1:%d" % rs.free_port()))
    t.ok(r[0] == 0 and r[1].get("outcome") == "failed" and r[1].get("fault") == 1 and
         r[1].get("error"), "a registry that is down is a network fault, with its cause",
         show(r))

    # 8. bhpack provision: a device identity signed by the vendor's device
    # CA, the document 0600; bad input named.
    rc, o, e = run([bhpack, "provision", "-o", p("prov.json"), "--registry", reg.host,
                    "--repository", "fleet", "--group", "lab", "--device-id", "gw-0042",
                    "--ca-key", pki.ca_key, "--ca-cert", pki.ca, "--days", "30"])
    doc = json.load(open(p("prov.json"))) if rc == 0 else {}
    with open(p("dev.pem"), "w") as f:
        f.write(doc.get("device_cert", ""))
    v = subprocess.run(["openssl", "verify", "-purpose", "sslclient", "-CAfile", pki.ca,
                        p("dev.pem")], capture_output=True, text=True)
    subj = subprocess.run(["openssl", "x509", "-in", p("dev.pem"), "-noout", "-subject"],
                          capture_output=True, text=True).stdout
    t.ok(rc == 0 and v.returncode == 0 and "CN = gw-0042" in subj and
         "PRIVATE KEY" in doc.get("device_key", "") and
         oct(os.stat(p("prov.json")).st_mode & 0o777) == "0o600",
         "bhpack provision makes a client certificate for the device id, signed by the "
         "device CA; the document is 0600", e + v.stdout + v.stderr + subj)
    rc, o, e = run([bhpack, "provision", "-o", p("bad.json"), "--device-id", "gw 42",
                    "--ca-key", pki.ca_key, "--ca-cert", pki.ca])
    t.ok(rc != 0 and "--device-id" in e and not os.path.exists(p("bad.json")),
         "a device id that cannot be a name is refused, nothing written", e)
    rc, o, e = run([bhpack, "provision", "-o", p("bad.json"), "--device-id", "gw-1",
                    "--ca-key", pki.other_ca_key, "--ca-cert", pki.ca])
    t.ok(rc != 0 and "is not the key of" in e and not os.path.exists(p("bad.json")),
         "a CA key that does not match its certificate is refused", e)
    with open(p("notadisk.img"), "wb") as f:
        f.write(b"\0" * 65536)
    rc, o, e = run([bhpack, "provision", "--disk", p("notadisk.img"), "--group", "lab"])
    t.ok(rc != 0 and "no GPT" in e, "a disk without a GPT is refused, naming it", e)

    # 9. A bad request is refused, naming the field.
    bad = request()
    bad["config"]["poll_interval"] = 1
    r = poll(None, raw=json.dumps(bad))
    t.ok(r[0] == 2 and "config.poll_interval" in r[2], "a bad request names the field", show(r))
    r = poll(None, raw='{"config": {}}')
    t.ok(r[0] == 2 and "registry" in r[2], "a request missing fields names the first", show(r))
finally:
    if reg:
        reg.stop()
    shutil.rmtree(tmp, ignore_errors=True)
t.done()
