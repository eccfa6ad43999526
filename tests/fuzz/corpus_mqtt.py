#!/usr/bin/python3
"""Captures the seed corpus of fuzz_mqtt: what Debian's mosquitto really
sends to a client, as raw bytes, one file per exchange.

  tests/fuzz/corpus_mqtt.py [DIR]     (default tests/fuzz/corpus/fuzz_mqtt)

It starts mosquitto on a free loopback port without TLS (the harness fuzzes
the MQTT bytes, not TLS), with its own configuration in a temporary
folder, speaks MQTT 3.1.1 to it from a raw socket and stops it again (only
the process it started). Each file holds the broker's bytes of one
exchange, starting with CONNACK, as fuzz_mqtt reads them.
"""
import os
import socket
import struct
import subprocess
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
from ports import free_port  # noqa: E402


def remaining(n):
    out = b""
    while True:
        b = n % 128
        n //= 128
        out += bytes([b | 0x80 if n else b])
        if not n:
            return out


def field(b):
    return struct.pack(">H", len(b)) + b


def packet(first, body):
    return bytes([first]) + remaining(len(body)) + body


def connect(client_id, keepalive=60, clean=True, will=None):
    flags = 0x02 if clean else 0
    payload = field(client_id)
    if will:
        flags |= 0x04 | 0x08 | 0x20  # will, qos 1, retained
        payload += field(will[0]) + field(will[1])
    return packet(0x10, field(b"MQTT") + bytes([4, flags]) + struct.pack(">H", keepalive) + payload)


def publish(topic, payload, qos=0, retain=False, pid=0):
    body = field(topic) + (struct.pack(">H", pid) if qos else b"") + payload
    return packet(0x30 | qos << 1 | int(retain), body)


def subscribe(pid, topic, qos):
    return packet(0x82, struct.pack(">H", pid) + field(topic) + bytes([qos]))


def exchange(port, sends, wait=0.4):
    """Sends each packet in turn and returns all the broker sent back."""
    s = socket.create_connection(("127.0.0.1", port))
    s.settimeout(wait)
    got = b""
    for p in sends:
        s.sendall(p)
        deadline = time.time() + wait
        while time.time() < deadline:
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            got += chunk
    s.close()
    return got


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else os.path.join(TOP, "tests", "fuzz", "corpus", "fuzz_mqtt")
    os.makedirs(out, exist_ok=True)
    tmp = tempfile.mkdtemp()
    os.chmod(tmp, 0o755)  # mosquitto started as root reads its files as user mosquitto
    port = free_port()
    conf = os.path.join(tmp, "mosquitto.conf")
    with open(conf, "w") as f:
        f.write("listener %d 127.0.0.1\nallow_anonymous true\npersistence false\nacl_file %s\n"
                % (port, os.path.join(tmp, "acl")))
    with open(os.path.join(tmp, "acl"), "w") as f:
        f.write("topic readwrite bulkhead/#\n")
    broker = subprocess.Popen(["/usr/sbin/mosquitto", "-c", conf], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    try:
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port)).close()
                break
            except OSError:
                time.sleep(0.1)
        cmd = b"bulkhead/dev1/cmd"
        seeds = {
            # CONNACK, SUBACK, PUBACK of a retained status, the cmd message
            # delivered at QoS 1 with its PUBACK, PINGRESP.
            "session": [connect(b"dev1", will=(b"bulkhead/dev1/status", b"offline")),
                        subscribe(1, cmd, 1),
                        publish(b"bulkhead/dev1/status", b'{"version":"1.0","slot":"A"}', 1, True, 2),
                        publish(cmd, b"sync", 1, False, 3),
                        packet(0xc0, b"")],
            # A retained message delivered on subscription, QoS 0.
            "retained": [connect(b"dev2"), publish(b"bulkhead/dev2/status", b"online", 0, True),
                         subscribe(7, b"bulkhead/+/status", 0)],
            # CONNACK with session present after a persistent session.
            "session-present": [connect(b"dev3", clean=False), subscribe(9, cmd, 1)],
            "session-present-2": [connect(b"dev3", clean=False)],
            # A subscription outside the ACL: mosquitto 2.0 still grants it
            # (and filters on delivery).
            "suback-acl": [connect(b"dev4"), subscribe(5, b"secret/#", 1)],
        }
        for name, sends in seeds.items():
            got = exchange(port, sends)
            with open(os.path.join(out, name), "wb") as f:
                f.write(got)
            print("%-18s %3d bytes  %s" % (name, len(got), got.hex()))
    finally:
        broker.terminate()
        broker.wait()


if __name__ == "__main__":
    main()
