#!/usr/bin/python3
"""libbulkhead's MQTT client (include/bulkhead/mqtt.h) against Debian's
mosquitto on loopback, over mutual TLS, as a gateway will use it: the
device program tests/helpers/mqtt_device.c, built here with ASan
and UBSan, connects as device devA.

mosquitto runs with its own configuration on a free port: TLS with
require_certificate and use_identity_as_username (the certificate's CN is
the user name), an ACL that lets each device write only under
bulkhead/<its CN>/# and read its cmd topic, and a CRL. The test makes its
CA, the broker's certificate and the devices' certificates with openssl
(tests/lib/mqtt_fixture.py); an `operator` identity watches with
mosquitto_sub and sends commands with mosquitto_pub.

Faults: the broker down at start, a broker certificate from another CA or
for another name, a revoked and an expired device certificate, and a fake
broker (Python, TLS) that sends malformed, oversized and out-of-place
packets, goes silent, or cuts the connection with QoS 1 messages
unacknowledged.

Environment: BH_OUTPUT, a configured O folder (for its host build of
mbedTLS).
"""
import os
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
from tap import Tap  # noqa: E402
from mqtt_fixture import (Device, FakeBroker, Mosquitto, Pki, build_device, free_port,  # noqa: E402
                          read_packet, MOSQUITTO)

t = Tap()
for tool in (MOSQUITTO, shutil.which("mosquitto_sub"), shutil.which("openssl")):
    if not tool or not os.path.exists(tool):
        t.ok(False, "mosquitto, mosquitto-clients and openssl are installed (make host-tools)")
        t.done()

tmp = tempfile.mkdtemp(prefix="bh-mqtt-")
try:
    exe = build_device(tmp, os.environ["BH_OUTPUT"])
except subprocess.CalledProcessError as e:
    t.ok(False, "tests/helpers/mqtt_device.c builds with libbulkhead's MQTT client", e.stderr)
    shutil.rmtree(tmp, ignore_errors=True)
    t.done()
pki = Pki(os.path.join(tmp, "pki"))
for name in ("devA", "devB", "operator", "devR"):
    pki.issue(name, name)
pki.issue("devX", "devX", start="20200101000000Z", end="20200102000000Z")
pki.revoke("devR")
crl = pki.crl()
started = []


def clean_exit(dev, want=0):
    """The device ended by itself with status `want` and no sanitizer report."""
    rc = dev.stop()
    err = dev.stderr()
    return rc == want and "Sanitizer" not in err and "runtime error" not in err, \
        "exit status %s (want %d)\n%s\n%s" % (rc, want, dev.output(), err)


def error_line(dev, timeout=15):
    return dev.wait_for(lambda l: l.startswith("error:"), timeout) or ""


def lines_of(proc, seconds):
    """What a mosquitto_sub printed after `seconds` more seconds."""
    time.sleep(seconds)
    proc.terminate()
    return proc.communicate()[0].splitlines()


try:
    broker = Mosquitto(tmp, pki, crl=crl)
    started.append(broker)
    watch = broker.client("mosquitto_sub", "operator", "-t", "bulkhead/#", "-F", "%t %r %p")
    time.sleep(0.5)

    # --- A session as device A ---------------------------------------------
    dev = Device(exe, broker.port, pki, "devA", "--keepalive", "1", "--will")
    line = dev.wait_for(lambda l: l.startswith("connected"))
    log = broker.read_log()
    t.ok(line == "connected session_present=0 attempts=1" and "as devA (p2, c0, k1, u'devA')" in log,
         "device A connects over mutual TLS: MQTT 3.1.1, keepalive 1 s, its certificate's CN as "
         "user name", "%s\n%s" % (dev.output(), log[-1500:]))

    dev.send('pub bulkhead/devA/status 1 1 {"version":"1.0","slot":"A"}')
    t.ok(dev.wait_for(lambda l: l == "puback id=1"), "the retained status (QoS 1) is acknowledged",
         dev.output())
    fresh = broker.client("mosquitto_sub", "operator", "-t", "bulkhead/devA/status", "-C", "1", "-W", "5",
                          "-F", "%t %r %p")
    out = fresh.communicate(timeout=10)[0].strip()
    t.ok(out == 'bulkhead/devA/status 1 {"version":"1.0","slot":"A"}',
         "a later subscriber gets the status as a retained message", out)

    # QoS 1 events, one of them under device B's topic in the middle.
    mark = dev.count()
    dev.send("pub bulkhead/devA/events 1 0 e1")
    dev.send("pub bulkhead/devB/events 1 0 forged")
    dev.send("pub bulkhead/devA/events 1 0 e2")
    dev.send("pub bulkhead/devA/events 1 0 e3")
    acks = [dev.wait_for(lambda l, i=i: l == "puback id=%d" % i, start=mark) for i in (2, 3, 4, 5)]
    t.ok(all(acks), "QoS 1 events get their PUBACKs by packet id",
         dev.output())
    dev.send("sub bulkhead/devA/cmd 1")
    t.ok(dev.wait_for(lambda l: l == "suback id=6 filter=bulkhead/devA/cmd granted=1"),
         "the subscription to its cmd topic is granted at QoS 1", dev.output())
    p = broker.client("mosquitto_pub", "operator", "-t", "bulkhead/devA/cmd", "-q", "1", "-m", "sync")
    p.communicate(timeout=10)
    t.ok(dev.wait_for(lambda l: l == "message bulkhead/devA/cmd sync qos=1 retain=0"),
         "a command sent to bulkhead/devA/cmd arrives at the device", dev.output())

    # The ACL: writing under device B's topic. Under MQTT 3.1.1 a PUBACK has
    # no reason code; mosquitto 2.0 acknowledges the denied message (its log
    # shows reason 135, "not authorized") and drops it.
    log = broker.read_log()
    t.ok(acks[1] and "Denied PUBLISH from devA (d0, q1, r0, m3, 'bulkhead/devB/events'" in log
         and "Sending PUBACK to devA (m3, rc135)" in log,
         "the broker denies device A's message under bulkhead/devB/ (its log: denied, PUBACK "
         "with reason 135 that MQTT 3.1.1 cannot carry; the client sees a plain PUBACK)", log[-2000:])
    dev.send("sub bulkhead/devB/cmd 1")
    dev.wait_for(lambda l: l.startswith("suback id=7"))
    p = broker.client("mosquitto_pub", "operator", "-t", "bulkhead/devB/cmd", "-q", "1", "-m", "steal")
    p.communicate(timeout=10)

    # Keepalive: with 1 s, PINGREQ goes out when the line is idle.
    mark = dev.count()
    ping = dev.wait_for(lambda l: l.startswith("ping n="), 5, start=mark)
    pong = dev.wait_for(lambda l: l.startswith("pong n="), 5, start=mark)
    t.ok(ping and pong and "Received PINGREQ from devA" in broker.read_log(),
         "an idle connection sends PINGREQ on keepalive and gets PINGRESP", dev.output())
    t.ok(not dev.wait_for(lambda l: "steal" in l, 1),
         "a message on device B's cmd topic never reaches device A (the ACL filters delivery)",
         dev.output())

    # Cut: SIGKILL leaves the broker a dead connection; it publishes the will.
    os.kill(dev.proc.pid, signal.SIGKILL)
    dev.stop()
    seen = lines_of(watch, 2)
    events = [l.split(" ", 2)[2] for l in seen if l.startswith("bulkhead/devA/events ")]
    t.ok(events == ["e1", "e2", "e3"], "the watcher got the events in order, once each", seen)
    t.ok(not any("forged" in l for l in seen), "the message under device B's topic reached nobody", seen)
    t.ok("bulkhead/devA/status 0 offline" in seen,
         "killing the device publishes its last will: offline on its status topic", seen)
    fresh = broker.client("mosquitto_sub", "operator", "-t", "bulkhead/devA/status", "-C", "1", "-W", "5",
                          "-F", "%t %r %p")
    out = fresh.communicate(timeout=10)[0].strip()
    t.ok(out == "bulkhead/devA/status 1 offline", "the will is retained", out)

    # A clean disconnect: DISCONNECT, so no will.
    watch = broker.client("mosquitto_sub", "operator", "-t", "bulkhead/devB/status", "-F", "%t %r %p")
    dev = Device(exe, broker.port, pki, "devB", "--will")
    dev.wait_for(lambda l: l.startswith("connected"))
    dev.send("disconnect")
    t.run("disconnect ends the program cleanly", clean_exit, dev)
    seen = lines_of(watch, 1)
    t.ok(dev.wait_for(lambda l: l == "stopped", 1) and "Received DISCONNECT from devB" in broker.read_log()
         and not seen, "after DISCONNECT the broker publishes no will", "%s\n%s" % (seen, dev.output()))

    # A configuration MQTT cannot carry is refused at start, once.
    dev = Device(exe, broker.port, pki, "devA", "--will", "--id", "dev+1")
    rc = dev.stop()
    err = dev.stderr()
    t.ok(rc == 1 and "mqtt: connect: will topic holds the wildcard '+' at byte 12" in err,
         "a will topic with a wildcard is refused when the client is made", "%s %s" % (rc, err))

    # --- The broker's and the device's certificates ------------------------
    other = Mosquitto(tmp, pki, cert=pki.other_broker)
    started.append(other)
    dev = Device(exe, other.port, pki, "devA", "--give-up", "1")
    e = error_line(dev)
    t.ok("the broker's certificate is not trusted for \"localhost\": The certificate is not correctly "
         "signed by the trusted CA" in e, "a broker certificate from another CA is refused, saying so", e)
    t.run("... and the client stops cleanly", clean_exit, dev, 2)
    dev = Device(exe, broker.port, pki, "devA", "--give-up", "1", "--server-name", "broker.example")
    e = error_line(dev)
    t.ok("not trusted for \"broker.example\"" in e and "Common Name (CN) does not match" in e,
         "a broker certificate for another name is refused", e)
    dev.stop()
    dev = Device(exe, broker.port, pki, "devR", "--give-up", "1")
    e = error_line(dev)
    t.ok("the broker refused the session with TLS alert \"certificate revoked\" (44)" in e,
         "a revoked device certificate: the broker refuses it and the device says why", e)
    t.run("... and the client stops cleanly", clean_exit, dev, 2)
    dev = Device(exe, broker.port, pki, "devX", "--give-up", "1")
    e = error_line(dev)
    t.ok("TLS alert \"certificate expired\" (45); this device's certificate expired on 2020-01-02 "
         "00:00:00 UTC" in e, "an expired device certificate: refused, and the device names the date", e)
    dev.stop()

    # --- The broker down at start ------------------------------------------
    port = free_port()
    dev = Device(exe, port, pki, "devA", "--backoff", "200,800")
    deadline = time.time() + 15
    while sum(l.startswith("error:") for l in dev.lines) < 3 and time.time() < deadline:
        time.sleep(0.1)
    delays = [int(l.split("next attempt in ")[1].split(" ")[0]) for l in dev.lines if "next attempt in" in l]
    ceilings = [min(200 * 2 ** i, 800) for i in range(len(delays))]
    t.ok(len(delays) >= 3 and all((c + 1) // 2 <= d <= c for d, c in zip(delays, ceilings))
         and all("connect to 127.0.0.1:%d: Connection refused" % port in l for l in dev.lines if l.startswith("error")),
         "with the broker down, attempts fail with the reason and back off in [d/2, d], d doubling "
         "to the cap", "%s\n%s" % (delays, dev.output()))
    late = Mosquitto(tmp, pki, port=port)
    started.append(late)
    line = dev.wait_for(lambda l: l.startswith("connected"), 10)
    t.ok(line and line.startswith("connected session_present=0 attempts="),
         "once the broker is up, the next attempt connects", dev.output())
    t.run("... and disconnects cleanly", clean_exit, dev)

    # --- A fake broker: bad packets ----------------------------------------
    CONNACK = bytes([0x20, 2, 0, 0])

    def fake(send, expect, name, before_connack=False, extra=(), gives=1):
        """A broker that answers CONNECT (unless before_connack) and then
        sends `send`; the device must report `expect` and stop cleanly."""
        def script(conn, n):
            first, _ = read_packet(conn)
            if first >> 4 != 1:
                raise RuntimeError("first packet 0x%02x is not CONNECT" % first)
            conn.sendall(send if before_connack else CONNACK + send)
            while read_packet(conn):
                pass
        fb = FakeBroker(pki, script)
        dev = Device(exe, fb.port, pki, "devA", "--give-up", str(gives), "--max-packet", "4096",
                     "--connect-timeout", "1500", "--ping-timeout", "1000", *extra)
        e = error_line(dev)
        dev.wait_for(lambda l: l.startswith("gave up"), 15)
        ok, why = clean_exit(dev, 2)
        fb.stop()
        t.ok(expect in e and ok and fb.connections == gives,
             "fake broker, %s: \"%s\"; the client stops cleanly after %d attempt(s)" % (name, expect, gives),
             "%s\n%s\n%s" % (why, fb.errors, dev.output()))

    fake(bytes([0x30, 0x80, 0x80, 0x40]), "PUBLISH: packet of 1048580 bytes exceeds the limit of 4096 bytes",
         "a 1 MiB PUBLISH announced", gives=2)
    fake(bytes([0x30, 0xff, 0xff, 0xff, 0xff, 0x01]), "PUBLISH: remaining length takes more than 4 bytes",
         "a 5-byte remaining length")
    fake(bytes([0x20, 3, 0, 0, 0]), "CONNACK: remaining length is 3, not 2", "a CONNACK too long",
         before_connack=True)
    fake(bytes([0x20, 2, 0, 5]), "the broker refused the connection: not authorized (CONNACK code 5)",
         "CONNACK refusal", before_connack=True)
    fake(bytes([0x30, 3, 0, 1, 0x41]), "PUBLISH: received before CONNACK", "a PUBLISH before CONNACK",
         before_connack=True)
    fake(bytes([0x30, 5, 0, 3, 0x61, 0xc0, 0xaf]), "PUBLISH: topic is not valid UTF-8 at byte 1",
         "an overlong UTF-8 topic")
    fake(bytes([0xff] * 16), "reserved type 15: remaining length takes more than 4 bytes", "garbage bytes")
    fake(bytes([0x90, 4, 0, 1, 1, 1]), "SUBACK: 2 return codes for a SUBSCRIBE of one filter",
         "a SUBACK with a code too many", extra=("--keepalive", "0"))

    def cut_script(conn, n):
        read_packet(conn)
        conn.sendall(bytes([0x20, 2]))  # half a CONNACK, then the end
    fb = FakeBroker(pki, cut_script)
    dev = Device(exe, fb.port, pki, "devA", "--give-up", "1")
    e = error_line(dev)
    t.ok("the broker closed the connection" in e, "a connection cut inside a packet: %s" % e.split("): ", 1)[-1],
         dev.output())
    dev.stop()
    fb.stop()

    def silent_script(conn, n):
        read_packet(conn)
        time.sleep(3)
    fb = FakeBroker(pki, silent_script)
    dev = Device(exe, fb.port, pki, "devA", "--give-up", "1", "--connect-timeout", "1000")
    e = error_line(dev)
    t.ok("no CONNACK within 1000 ms" in e, "a broker that never answers CONNECT: the attempt times out",
         dev.output())
    t.run("... and the client stops cleanly", clean_exit, dev, 2)
    fb.stop()

    def deaf_script(conn, n):
        read_packet(conn)
        conn.sendall(CONNACK)
        time.sleep(4)
    fb = FakeBroker(pki, deaf_script)
    dev = Device(exe, fb.port, pki, "devA", "--give-up", "1", "--keepalive", "1", "--ping-timeout", "1000")
    e = error_line(dev)
    t.ok("no PINGRESP within 1000 ms" in e and dev.wait_for(lambda l: l == "ping n=1", 1),
         "a broker that stops answering: PINGREQ unanswered ends the connection", dev.output())
    dev.stop()
    fb.stop()

    # --- Redelivery after a cut --------------------------------------------
    seen_publish = []

    def redeliver_script(conn, n):
        first, body = read_packet(conn)
        clean = body[7] & 0x02
        conn.sendall(bytes([0x20, 2, 1 if n > 1 else 0, 0]))
        for _ in range(2):
            first, body = read_packet(conn)
            tlen = struct.unpack(">H", body[:2])[0]
            pid = struct.unpack(">H", body[2 + tlen:4 + tlen])[0]
            seen_publish.append((n, bool(first & 0x08), pid, body[4 + tlen:].decode(), clean))
        if n == 1:
            return  # cut with both unacknowledged
        for pid in (seen_publish[-2][2], seen_publish[-1][2]):
            conn.sendall(bytes([0x40, 2]) + struct.pack(">H", pid))
        while read_packet(conn):
            pass

    fb = FakeBroker(pki, redeliver_script)
    dev = Device(exe, fb.port, pki, "devA", "--backoff", "100,200")
    dev.send("pub bulkhead/devA/events 1 0 first")
    dev.send("pub bulkhead/devA/events 1 0 second")
    acked = dev.wait_for(lambda l: l == "puback id=2", 10)
    t.ok(acked and seen_publish == [(1, False, 1, "first", 0), (1, False, 2, "second", 0),
                                    (2, True, 1, "first", 0), (2, True, 2, "second", 0)],
         "QoS 1 messages unacknowledged at a cut go out again after reconnecting: same ids, same "
         "order, DUP set, on a persistent session", "%s\n%s\n%s" % (seen_publish, fb.errors, dev.output()))
    t.ok(dev.wait_for(lambda l: l == "puback id=1", 1) and dev.wait_for(lambda l: l == "puback id=2", 1),
         "... and their PUBACKs release both", dev.output())
    t.run("... and the client disconnects cleanly", clean_exit, dev)
    fb.stop()
finally:
    Device.kill_all()
    for b in started:
        b.stop()
    shutil.rmtree(tmp, ignore_errors=True)
t.done()
