"""A simulated fleet for telemetry (tests/integration/test_telemetry_sim.py,
tests/bench/bench_telemetry.py): device identities made by `bhpack
provision` (the vendor's tool) from one device CA, one bhreport per device
(the device's reporting code built for the build host, fed as bhd feeds
it), one mosquitto (tests/lib/mqtt_fixture.py), and bhfleet as the
operator. Every process is stopped by its own PID."""
import json
import os
import subprocess
import threading
import time

from mqtt_fixture import Mosquitto, Pki
from reporter_fixture import Reporter, config, status


def make_identities(bhpack, pki, names, jobs=8):
    """A key and certificate per device from bhpack provision, written as
    <name>.key/.pem in the Pki's folder (where reporter_fixture reads them)."""
    def one(name):
        out = pki.path(name + ".prov.json")
        subprocess.run([bhpack, "provision", "-o", out, "--device-id", name, "--ca-key",
                        pki.path("ca.key"), "--ca-cert", pki.ca, "--days", "30"],
                       check=True, capture_output=True, text=True)
        doc = json.load(open(out))
        with open(pki.path(name + ".pem"), "w") as f:
            f.write(doc["device_cert"])
        with open(pki.path(name + ".key"), "w") as f:
            f.write(doc["device_key"])
        os.chmod(pki.path(name + ".key"), 0o600)
        os.unlink(out)
    todo = list(names)
    lock = threading.Lock()
    errors = []

    def worker():
        while True:
            with lock:
                if not todo:
                    return
                n = todo.pop()
            try:
                one(n)
            except subprocess.CalledProcessError as e:
                errors.append("%s: %s" % (n, e.stderr))
    threads = [threading.Thread(target=worker) for _ in range(jobs)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    if errors:
        raise RuntimeError("bhpack provision: " + errors[0])


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def tcp_bytes(port):
    """Bytes the broker's established connections on port have moved, both
    ways, as the kernel counts them (TLS and TCP payload; ss -ti)."""
    o = subprocess.run(["ss", "-tinH", "state", "established", "( sport = :%d )" % port],
                       capture_output=True, text=True).stdout
    total = 0
    for tok in o.split():
        for key in ("bytes_acked:", "bytes_received:"):
            if tok.startswith(key):
                total += int(tok[len(key):])
    return total


class Fleet:
    def __init__(self, tmp, bhreport, bhpack, n, prefix="sim", **cfg):
        self.tmp = tmp
        self.pki = Pki(os.path.join(tmp, "pki"))
        self.pki.issue("operator", "operator")
        self.names = ["%s-%04d" % (prefix, i) for i in range(n)]
        make_identities(bhpack, self.pki, self.names)
        self.broker = Mosquitto(tmp, self.pki)
        self.bhreport = bhreport
        self.cfg = cfg
        self.reporters = []

    def start(self):
        """Starts every device at once; returns the seconds until all are
        online (None if one is not within 120 s)."""
        t0 = time.time()
        for i, name in enumerate(self.names):
            os.makedirs(os.path.join(self.tmp, "q"), exist_ok=True)
            c = config(self.pki, self.broker.port, name, os.path.join(self.tmp, "q", name), **self.cfg)
            self.reporters.append(Reporter(self.bhreport, c, stat=status(version="1.%d" % (i % 3))))
        for r in self.reporters:
            if not r.online(max(1, 120 - (time.time() - t0))):
                return None
        return time.time() - t0

    def fleet(self, bhfleet, *args):
        r = subprocess.run([bhfleet, "--broker", "localhost:%d" % self.broker.port, "--ca", self.pki.ca,
                            "--cert", self.pki.path("operator.pem"), "--key",
                            self.pki.path("operator.key")] + list(args),
                           capture_output=True, text=True, timeout=120)
        return r.returncode, r.stdout, r.stderr

    def watch(self, bhfleet):
        """bhfleet --watch --json, its lines collected by a thread."""
        w = {"lines": [], "cond": threading.Condition()}
        w["proc"] = subprocess.Popen([bhfleet, "--broker", "localhost:%d" % self.broker.port, "--ca",
                                      self.pki.ca, "--cert", self.pki.path("operator.pem"), "--key",
                                      self.pki.path("operator.key"), "--watch", "--json"],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)

        def read():
            for line in w["proc"].stdout:
                with w["cond"]:
                    w["lines"].append((time.time(), line))
                    w["cond"].notify_all()
        threading.Thread(target=read, daemon=True).start()
        self.watcher = w
        return w

    def wait_watch(self, pred, timeout=30, start=0):
        w = self.watcher
        deadline = time.time() + timeout
        with w["cond"]:
            while True:
                for when, line in w["lines"][start:]:
                    try:
                        d = json.loads(line)
                    except ValueError:
                        continue
                    if pred(d):
                        return when, d
                if time.time() >= deadline:
                    return None, None
                w["cond"].wait(0.1)

    def stop(self):
        for r in self.reporters:
            if r.proc.poll() is None:
                r.send({"stop": True})
        for r in self.reporters:
            r.stop()
        w = getattr(self, "watcher", None)
        if w and w["proc"].poll() is None:
            w["proc"].terminate()
            w["proc"].wait(10)
        Reporter.stop_all()
        self.broker.stop()
