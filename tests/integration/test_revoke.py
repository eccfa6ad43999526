#!/usr/bin/python3
"""Key revocation lists on the build host (bhpack revoke, bhpack state
--revocations; docs/vendor.md): a list signed with the update key checks
against the update keys and names its keys and reasons; one signed with
another key, tampered with, of another format or not JSON is refused with
the file named, and a failed write leaves nothing behind; --from carries
the older list's keys over and a list that leaves one out is refused
against the held one; a state carries a list, and a state given a file
that is not one is not written.

Environment: BH_OUTPUT, a built O folder (O/host/bin/bhpack).
"""
import base64
import json
import os
import shutil
import subprocess
import sys
import tempfile

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
from tap import Tap  # noqa: E402
import bhbin  # noqa: E402

t = Tap()
out = os.environ["BH_OUTPUT"]
bhpack = bhbin.host_programs(t, out, "bhpack")
tmp = tempfile.mkdtemp(prefix="bh-revoke-")
KEYS = os.path.join(TOP, "board", "common", "keys")
UPDATE_KEY = os.path.join(KEYS, "bulkhead-TEST-ONLY-update.key.pem")
VENDOR_KEY = os.path.join(KEYS, "bulkhead-TEST-ONLY-vendor.key.pem")
STATE_KEY = os.path.join(KEYS, "bulkhead-TEST-ONLY-state.key.pem")


def p(*x):
    return os.path.join(tmp, *x)


def run(*args):
    r = subprocess.run([bhpack] + list(args), capture_output=True, text=True)
    return r.returncode, r.stdout + r.stderr


# The device's update trust root, and a folder holding only the workload key.
os.makedirs(p("updates"))
shutil.copy(os.path.join(KEYS, "bulkhead-TEST-ONLY-update.pub.pem"), p("updates"))
os.makedirs(p("workloads"))
shutil.copy(os.path.join(KEYS, "bulkhead-TEST-ONLY-vendor.pub.pem"), p("workloads"))

# 1. A list revoking the workload key, by key file, and one key by id.
rc, o = run("revoke", "--key", UPDATE_KEY, "--serial", "1",
            "--revoke", os.path.join(KEYS, "bulkhead-TEST-ONLY-vendor.pub.pem"),
            "--reason", "test key", "--revoke", "0123456789abcdef0123456789abcdef",
            "-o", p("l1.dsse"))
t.ok(rc == 0 and "serial 1, 2 keys revoked, signed" in o, "bhpack revoke writes a signed list", o)
env = json.load(open(p("l1.dsse")))
body = json.loads(base64.b64decode(env["payload"]))
vendor_id = body["revoked"][0]["key_id"] if rc == 0 else "?"
t.ok(env["payloadType"] == "application/vnd.bulkhead.revocations.v1+json"
     and body["format"] == "bulkhead-revocations/1" and body["serial"] == 1
     and body["revoked"][0].get("reason") == "test key" and "reason" not in body["revoked"][1],
     "the list is bulkhead-revocations/1 in a DSSE envelope, a reason only where given", body)
rc, o = run("revoke", "--check", p("l1.dsse"), "--keys", p("updates"))
t.ok(rc == 0 and "verdict=accepted" in o and "revoked %s test key" % vendor_id in o
     and "revoked 0123456789abcdef0123456789abcdef\n" in o,
     "--check against the update keys accepts it and lists the keys with their reasons", o)

# 2. Refusals, each naming the file.
run("revoke", "--key", VENDOR_KEY, "--serial", "1", "--revoke", vendor_id, "-o", p("byvendor.dsse"))
rc, o = run("revoke", "--check", p("byvendor.dsse"), "--keys", p("updates"))
t.ok(rc == 1 and "verdict=refused" in o and p("byvendor.dsse") in o and "unknown key" in o,
     "a list signed by the workload key is refused by the update trust root", o)
bad = dict(env)
bad["payload"] = base64.b64encode(base64.b64decode(env["payload"]).replace(b'"serial": 1',
                                                                             b'"serial": 9')).decode()
json.dump(bad, open(p("tampered.dsse"), "w"))
rc, o = run("revoke", "--check", p("tampered.dsse"), "--keys", p("updates"))
t.ok(rc == 1 and p("tampered.dsse") in o and "bad signature" in o,
     "a tampered list is refused: bad signature", o)
run("state", "--key", STATE_KEY, "--group", "lab", "--serial", "1", "--valid-days", "1",
    "-o", p("a.state"))
rc, o = run("revoke", "--check", p("a.state"), "--keys", p("updates"))
t.ok(rc == 1 and p("a.state") in o and "payloadType" in o,
     "a desired state is not a revocation list (its payloadType)", o)
with open(p("garbage.dsse"), "w") as f:
    f.write("revoke everything\n")
rc, o = run("revoke", "--check", p("garbage.dsse"), "--keys", p("updates"))
t.ok(rc == 1 and p("garbage.dsse") in o and "not a signed envelope" in o,
     "a file that is not an envelope is refused", o)
rc, o = run("revoke", "--key", UPDATE_KEY, "--serial", "1", "--revoke", "nothex", "-o", p("x.dsse"))
t.ok(rc == 2 and "nothex" in o and not os.path.exists(p("x.dsse")),
     "--revoke of something neither a key file nor a key id: refused, nothing written", o)
rc, o = run("revoke", "--key", UPDATE_KEY, "--serial", "1", "--revoke", vendor_id,
            "--reason", "r" * 200, "-o", p("x.dsse"))
t.ok(rc == 2 and "longer than 127" in o and not os.path.exists(p("x.dsse")),
     "a reason over 127 characters: refused, nothing written", o)
rc, o = run("revoke", "--key", UPDATE_KEY, "--serial", "1", "--revoke", vendor_id,
            "-o", p("nowhere", "x.dsse"))
t.ok(rc == 2 and p("nowhere") in o and not os.path.exists(p("nowhere")),
     "an output folder that does not exist: the error names it", o)

# 3. Serials: --from keeps every revoked key; a list that drops one is
# refused against the held one; an older one is kept out.
rc, o = run("revoke", "--key", UPDATE_KEY, "--from", p("l1.dsse"),
            "--revoke", "fedcba9876543210fedcba9876543210", "-o", p("l2.dsse"))
t.ok(rc == 0 and "serial 2, 3 keys revoked" in o, "--from carries the keys over, serial + 1", o)
rc, o = run("revoke", "--check", p("l2.dsse"), "--keys", p("updates"), "--held", p("l1.dsse"))
t.ok(rc == 0 and "verdict=newer" in o and "test key" in o,
     "the newer list supersedes the held one, reasons kept", o)
rc, o = run("revoke", "--check", p("l1.dsse"), "--keys", p("updates"), "--held", p("l2.dsse"))
t.ok(rc == 1 and "verdict=older" in o, "an older list does not replace the held one", o)
run("revoke", "--key", UPDATE_KEY, "--serial", "3", "--revoke", vendor_id, "-o", p("l3.dsse"))
rc, o = run("revoke", "--check", p("l3.dsse"), "--keys", p("updates"), "--held", p("l2.dsse"))
t.ok(rc == 1 and "verdict=refused" in o and "0123456789abcdef0123456789abcdef" in o
     and "stays revoked" in o,
     "a higher serial that leaves out a revoked key is refused, naming it", o)
rc, o = run("revoke", "--key", UPDATE_KEY, "--from", p("l2.dsse"), "--serial", "2",
            "-o", p("x.dsse"))
t.ok(rc == 2 and "must be higher" in o and not os.path.exists(p("x.dsse")),
     "--from with a serial not above the old one is refused", o)

# 4. Carried in a desired state.
rc, o = run("state", "--key", STATE_KEY, "--group", "lab", "--serial", "2", "--valid-days", "1",
            "--revocations", p("l2.dsse"), "-o", p("b.state"))
t.ok(rc == 0 and "a revocation list, signed" in o, "bhpack state --revocations carries the list", o)
st = json.loads(base64.b64decode(json.load(open(p("b.state")))["payload"]))
t.ok(st.get("revocations", {}).get("payload") == json.load(open(p("l2.dsse")))["payload"],
     "the state holds the list's envelope as signed", st.get("revocations"))
os.makedirs(p("state-keys"))
shutil.copy(os.path.join(KEYS, "bulkhead-TEST-ONLY-state.pub.pem"), p("state-keys"))
rc, o = run("state", "--check", p("b.state"), "--keys", p("state-keys"))
t.ok(rc == 0 and "with a revocation list" in o, "--check of the state sees the list", o)
rc, o = run("state", "--key", STATE_KEY, "--group", "lab", "--serial", "3", "--valid-days", "1",
            "--revocations", p("garbage.dsse"), "-o", p("c.state"))
t.ok(rc == 2 and "revocations" in o and not os.path.exists(p("c.state")),
     "a state given a file that is not a list is not written", o)
rc, o = run("state", "--key", STATE_KEY, "--group", "lab", "--serial", "3", "--valid-days", "1",
            "--revocations", p("a.state"), "-o", p("c.state"))
t.ok(rc == 2 and "payloadType" in o and not os.path.exists(p("c.state")),
     "a state given another envelope (a state) as its list is not written", o)

shutil.rmtree(tmp, ignore_errors=True)
t.done()
