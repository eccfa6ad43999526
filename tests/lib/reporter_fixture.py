"""bhreport (firmware/bhreport) driven as bhd drives it, for the host tests
and the telemetry simulation: the configuration as the first line of its
stdin, then status, event and stop messages; its replies (JSON lines on
stdout) and its log (stderr) collected by threads so that a test can wait
for one. Reporter.stop_all() ends every one still running, by its own PID
(a test's cleanup)."""
import json
import os
import subprocess
import threading
import time

from line_reader import Lines


def config(pki, port, name, queue_dir, device=None, **extra):
    """The reporter's configuration for identity `name` of an mqtt_fixture
    Pki, against a broker on 127.0.0.1:port."""
    with open(pki.path(name + ".key")) as f:
        key = f.read()
    c = {"host": "127.0.0.1", "port": str(port), "server_name": "localhost", "ca_file": pki.ca,
         "cert_file": pki.path(name + ".pem"), "key_pem": key, "device": device or name,
         "prefix": "bulkhead", "keepalive_s": 60, "status_period_s": 900, "queue_dir": queue_dir,
         "queue_max": 0, "sbom": "", "advisories": "", "backoff_cap_ms": 2000}
    c.update(extra)
    return c


def status(version="1.0", slot="a", confirmed=True, workloads=(("web", "running", 0),), serial=1):
    """A status as bhd sends it: (stable part, volatile part)."""
    return ({"image": {"version": version, "board": "qemu_x86_64", "arch": "x86_64",
                       "profile": "production"},
             "boot": {"slot": slot, "confirmed": confirmed, "watchdog_reset": False},
             "workloads": [{"name": n, "version": "1.0", "mode": "container", "state": s,
                            "enabled": True, "restarts": r} for n, s, r in workloads],
             "sync": {"provisioned": True, "state": "idle", "serial": serial, "stale": False}},
            {"uptime_s": 10, "data_free_bytes": 1 << 30})


def _parse_reply(line):
    try:
        return json.loads(line)
    except ValueError:
        return {"unparsed": line}


class Reporter:
    started = []

    @classmethod
    def stop_all(cls):
        for r in cls.started:
            if r.proc.poll() is None:
                r.proc.kill()
                r.proc.wait()

    def __init__(self, exe, cfg, env=None, answer_want=True, stat=None):
        """Starts it. With answer_want, a {"want": "status"} is answered
        with the current status (self.status), as bhd does."""
        Reporter.started.append(self)
        self.cfg = cfg
        self.status = stat or status()
        self.answer_want = answer_want
        self.wlock = threading.Lock()
        self.next_id = 1
        self.proc = subprocess.Popen([exe], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, bufsize=1, env=env,
                                     errors="backslashreplace")
        self.out = Lines(self.proc.stdout, parse=_parse_reply, on_item=self._answer)
        self.err = Lines(self.proc.stderr)
        self.send({"config": cfg})
        self.send_status()

    @property
    def replies(self):
        return self.out.items

    @property
    def log(self):
        return self.err.items

    def _answer(self, msg):
        if msg.get("want") == "status" and self.answer_want:
            self.send_status()

    def send(self, msg):
        with self.wlock:
            try:
                self.proc.stdin.write(json.dumps(msg) + "\n")
                self.proc.stdin.flush()
            except (OSError, ValueError):
                pass

    def send_status(self, stat=None):
        if stat:
            self.status = stat
        self.send({"status": self.status[0], "volatile": self.status[1]})

    def event(self, **fields):
        """Sends an event; returns its id (for the queued_id reply)."""
        i = self.next_id
        self.next_id += 1
        self.send({"event": fields, "id": i})
        return i

    def wait(self, pred, timeout=15, where="replies", start=0):
        """The first reply (or log line) from index start on for which pred
        holds, or None after timeout seconds."""
        return (self.out if where == "replies" else self.err).wait(pred, timeout, start)

    def wait_log(self, text, timeout=15, start=0):
        return self.wait(lambda l: text in l, timeout, "log", start)

    def online(self, timeout=15, start=0):
        return self.wait(lambda m: m.get("connection") == "online", timeout, start=start)

    def count(self, where="replies"):
        return (self.out if where == "replies" else self.err).count()

    def text(self):
        with self.err.cond, self.out.cond:
            return "\n".join(self.log) + "\n" + "\n".join(json.dumps(m) for m in self.replies)

    def stop(self, clean=True, timeout=15):
        """A clean stop ({"stop": true}, as at poweroff), or the end of
        bhd's pipe; returns the exit status."""
        if self.proc.poll() is None:
            if clean:
                self.send({"stop": True})
            else:
                try:
                    self.proc.stdin.close()
                except OSError:
                    pass
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.out.join(5)
        self.err.join(5)
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.out.join(5)
        self.err.join(5)


class Proxy:
    """A TCP forwarder on 127.0.0.1 in front of a broker, whose link the
    test can cut (every connection closed, new ones refused at once) and
    restore: the network cut of a gateway."""

    def __init__(self, target_port):
        import socket
        self.target = target_port
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.up = True
        self.conns = []
        self.lock = threading.Lock()
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        import select
        import socket
        while not self.stopping:
            r, _, _ = select.select([self.sock], [], [], 0.2)
            if not r:
                continue
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            if not self.up:
                c.close()
                continue
            try:
                s = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            except OSError:
                c.close()
                continue
            with self.lock:
                self.conns += [c, s]
            for a, b in ((c, s), (s, c)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    def _pipe(self, a, b):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                b.sendall(data)
        except OSError:
            pass
        for x in (a, b):
            try:
                x.close()
            except OSError:
                pass

    def cut(self):
        import socket
        self.up = False
        with self.lock:
            for c in self.conns:
                try:
                    c.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                c.close()
            self.conns = []

    def restore(self):
        self.up = True

    def stop(self):
        self.stopping = True
        self.cut()
        self.sock.close()


def host_programs(out, *names):
    """The build-host builds of our programs `names` in the O folder out
    (made here when missing: make check's build does not make them), or
    their sanitizer builds in the sanitizer pass (None when absent)."""
    import bhbin
    top = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
    paths = [os.path.join(out, "host", "bin", n) for n in names]
    if not bhbin.sanitized() and not all(os.access(p, os.X_OK) for p in paths):
        subprocess.run(["make", "-s", "-C", top, "O=" + out] + ["host-" + n for n in names],
                       capture_output=True, text=True)
    return [bhbin.program(n, p) for n, p in zip(names, paths)]


class Watch:
    """mosquitto_sub as the operator on `topic`, its lines ("topic retain
    payload") collected by a thread, each with the time it arrived."""

    def __init__(self, broker, topic, *extra):
        self.proc = broker.client("mosquitto_sub", "operator", "-t", topic, "-q", "1", "-F",
                                  "%t %r %p", *extra)
        self.out = Lines(self.proc.stdout)
        time.sleep(0.5)

    @property
    def lines(self):
        return self.out.items

    @property
    def times(self):
        return self.out.times

    def wait(self, pred, timeout=15, start=0):
        return self.out.wait(pred, timeout, start)

    def count(self):
        return self.out.count()

    def payloads(self, topic, start=0):
        with self.out.cond:
            return [l.split(" ", 2)[2] for l in self.lines[start:] if l.startswith(topic + " ")]

    def events(self, topic, start=0):
        """The JSON payloads on topic, parsed."""
        return [json.loads(p) for p in self.payloads(topic, start) if p.startswith("{")]


def retained(broker, topic):
    """[retain flag, payload] of the retained message on topic, as a new
    subscriber gets it (["", ""] when none within 5 s)."""
    p = broker.client("mosquitto_sub", "operator", "-t", topic, "-C", "1", "-W", "5", "-F", "%r %p")
    o = p.communicate(timeout=15)[0].strip()
    return o.split(" ", 1) if " " in o else ["", ""]
