"""What test_mqtt.py runs against: a test PKI made with openssl, Debian's
mosquitto on a free loopback port with its own configuration (mutual TLS,
the certificate's CN as user name, a per-device ACL, a CRL), a fake broker
speaking TLS that sends what the test asks, and the device program
(tests/helpers/mqtt_device.c) built with ASan and UBSan. Every process started here
is stopped here, by its own PID."""
import os
import select
import socket
import ssl
import subprocess
import threading
import time

from ports import free_port  # noqa: F401 (tests import it from here too)
from line_reader import Lines

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
MOSQUITTO = "/usr/sbin/mosquitto"


def run(*cmd, **kw):
    return subprocess.run(list(cmd), check=True, capture_output=True, text=True, **kw)


class Pki:
    """A device CA and a broker certificate for localhost, device
    certificates issued with `openssl ca` (so that one can be revoked in a
    CRL and one can have expired), and a second, unrelated CA."""

    def __init__(self, d, server_san="DNS:localhost,IP:127.0.0.1"):
        """server_san: the names of the broker's certificate (a gateway in
        QEMU reaches the host's loopback as 10.0.2.2)."""
        self.d = d
        self.server_san = server_san
        os.makedirs(d, exist_ok=True)
        self.ca = self._ca("ca", "Bulkhead Test Device CA")
        self.other_ca = self._ca("other-ca", "Some Other CA")
        self.broker = self.issue("broker", "localhost", server=True)
        self.other_broker = self.issue("other-broker", "localhost", server=True, ca="other-ca")

    def path(self, name):
        return os.path.join(self.d, name)

    def _ca(self, name, cn):
        d = self.path(name + ".db")
        os.makedirs(d, exist_ok=True)
        open(os.path.join(d, "index.txt"), "w").close()
        with open(os.path.join(d, "serial"), "w") as f:
            f.write("1000\n")
        with open(os.path.join(d, "crlnumber"), "w") as f:
            f.write("01\n")
        with open(self.path(name + ".cnf"), "w") as f:
            f.write("""[ca]
default_ca = ca_section
[ca_section]
dir = {d}
database = {d}/index.txt
serial = {d}/serial
crlnumber = {d}/crlnumber
new_certs_dir = {d}
certificate = {pem}
private_key = {key}
default_md = sha256
default_days = 30
default_crl_days = 30
policy = any
copy_extensions = none
unique_subject = no
[any]
commonName = supplied
[device]
basicConstraints = CA:false
keyUsage = digitalSignature
extendedKeyUsage = clientAuth
[server]
basicConstraints = CA:false
keyUsage = digitalSignature
extendedKeyUsage = serverAuth
subjectAltName = {san}
""".format(d=d, pem=self.path(name + ".pem"), key=self.path(name + ".key"), san=self.server_san))
        run("openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", self.path(name + ".key"), "-out", self.path(name + ".pem"), "-days", "30",
            "-subj", "/CN=" + cn, "-addext", "basicConstraints=critical,CA:true",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign")
        return self.path(name + ".pem")

    def issue(self, name, cn, server=False, ca="ca", start=None, end=None):
        """Key and certificate for `name`; start/end (YYYYMMDDHHMMSSZ) set
        its validity, for an expired one."""
        key, csr, pem = self.path(name + ".key"), self.path(name + ".csr"), self.path(name + ".pem")
        run("openssl", "req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
            "-keyout", key, "-out", csr, "-subj", "/CN=" + cn)
        cmd = ["openssl", "ca", "-batch", "-config", self.path(ca + ".cnf"), "-extensions",
               "server" if server else "device", "-in", csr, "-out", pem, "-notext"]
        if start:
            cmd += ["-startdate", start, "-enddate", end]
        run(*cmd)
        return pem, key

    def revoke(self, name):
        run("openssl", "ca", "-config", self.path("ca.cnf"), "-revoke", self.path(name + ".pem"))

    def crl(self):
        run("openssl", "ca", "-config", self.path("ca.cnf"), "-gencrl", "-out", self.path("crl.pem"))
        return self.path("crl.pem")


ACL = """# Each device writes only under its own topics and reads its cmd topic;
# the operator reads everything.
pattern write bulkhead/%u/#
pattern read bulkhead/%u/cmd

user operator
topic read bulkhead/#
topic write bulkhead/+/cmd
"""


class Mosquitto:
    """Debian's mosquitto with mutual TLS on 127.0.0.1:port."""

    def __init__(self, d, pki, port=None, cert=None, crl=None):
        self.pki = pki
        self.port = port or free_port()
        d = self.d = os.path.join(d, "mosquitto-%d" % self.port)
        os.makedirs(d, exist_ok=True)
        self.log = os.path.join(d, "log")
        conf = os.path.join(d, "mosquitto.conf")
        with open(os.path.join(d, "acl"), "w") as f:
            f.write(ACL)
        cert = cert or pki.broker
        lines = ["per_listener_settings false", "allow_anonymous false", "persistence false",
                 "log_dest file " + self.log, "log_type all", "connection_messages true",
                 "acl_file " + os.path.join(d, "acl"),
                 "listener %d 127.0.0.1" % self.port, "cafile " + pki.ca, "certfile " + cert[0],
                 "keyfile " + cert[1], "require_certificate true", "use_identity_as_username true"]
        if crl:
            lines.append("crlfile " + crl)
        with open(conf, "w") as f:
            f.write("\n".join(lines) + "\n")
        # Started as root, mosquitto reads its files as user mosquitto:
        # test keys only, in folders of this test (and the test's own
        # temporary folder above them).
        for folder in (os.path.dirname(d), os.path.dirname(pki.d)):
            os.chmod(folder, 0o755)
        for folder in (d, pki.d):
            os.chmod(folder, 0o755)
            for n in os.listdir(folder):
                if os.path.isfile(os.path.join(folder, n)):
                    os.chmod(os.path.join(folder, n), 0o644)
        open(self.log, "a").close()
        os.chmod(self.log, 0o666)
        self.proc = subprocess.Popen([MOSQUITTO, "-c", conf], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 10
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError("mosquitto exited: " + self.proc.stderr.read() + self.read_log())
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("mosquitto did not listen on port %d" % self.port)

    def read_log(self):
        try:
            with open(self.log) as f:
                return f.read()
        except OSError:
            return ""

    def stop(self):
        """Stops the clients started through client(), then the broker."""
        for p in getattr(self, "clients", []) + [self.proc]:
            if p.poll() is None:
                p.terminate()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()

    def client(self, tool, name, *args):
        """mosquitto_sub or mosquitto_pub with identity `name` (its user
        name; the client id is unique, or the broker would drop the other
        connection of that name), started."""
        pem, key = self.pki.path(name + ".pem"), self.pki.path(name + ".key")
        self.clients = getattr(self, "clients", [])
        p = subprocess.Popen([tool, "-h", "localhost", "-p", str(self.port), "-V", "mqttv311",
                              "--cafile", self.pki.ca, "--cert", pem, "--key", key,
                              "-i", "%s-%s-%d" % (name, os.path.basename(tool), len(self.clients) + 1)]
                             + list(args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.clients.append(p)
        return p


class Device:
    """The device program, fed commands on stdin; its stdout lines are
    collected by a thread so that a test can wait for one. Device.kill_all()
    ends every one still running (a test's cleanup)."""
    started = []

    @classmethod
    def kill_all(cls):
        for d in cls.started:
            if d.proc.poll() is None:
                d.proc.kill()
                d.proc.wait()

    def __init__(self, exe, port, pki, name, *extra, ca=None):
        Device.started.append(self)
        self.proc = subprocess.Popen(
            [exe, "--host", "127.0.0.1", "--server-name", "localhost", "--port", str(port),
             "--ca", ca or pki.ca, "--cert", pki.path(name + ".pem"), "--key", pki.path(name + ".key"),
             "--id", name] + list(extra),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1,
            errors="backslashreplace")  # a broker's topic may be any bytes
        self.out = Lines(self.proc.stdout)

    @property
    def lines(self):
        return self.out.items

    def send(self, line):
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def wait_for(self, pred, timeout=10, start=0):
        """The first line from index `start` on for which pred(line) holds,
        or None after timeout seconds."""
        return self.out.wait(pred, timeout, start)

    def count(self):
        return self.out.count()

    def output(self):
        with self.out.cond:
            return "\n".join(self.lines)

    def stop(self, timeout=10):
        """Ends the program (disconnect on stdin's end) and returns its exit status."""
        if self.proc.poll() is None:
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
        return self.proc.returncode

    def stderr(self):
        return self.proc.stderr.read() if self.proc.poll() is not None else ""


def build_device(work, output):
    """Builds tests/helpers/mqtt_device.c with ASan and UBSan against libbulkhead's
    MQTT sources and the configuration's host build of mbedTLS."""
    make = ["make", "-s", "-C", TOP, "--no-print-directory", "O=" + output]
    prefix = run(*make, "printvars", "VARS=HOST_MBEDTLS_PREFIX").stdout.strip().split("=", 1)[1]
    if not os.path.exists(os.path.join(prefix, ".published")):
        run(*(make + ["host-mbedtls"]))
    lib = os.path.join(TOP, "firmware", "lib")
    sources = sorted(os.path.join(lib, f) for f in os.listdir(lib)
                     if f.startswith("mqtt_") and f.endswith(".c"))
    sources += [os.path.join(lib, f) for f in ("tls_client.c", "backoff.c", "error.c")]
    exe = os.path.join(work, "mqtt_device")
    run("gcc", "-O1", "-g", "-std=c11", "-D_GNU_SOURCE", "-Wall", "-Wextra", "-Werror", "-Wno-unused-parameter",
        "-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer",
        "-I" + os.path.join(TOP, "include"), "-I" + os.path.join(prefix, "include"), "-o", exe,
        os.path.join(TOP, "tests", "helpers", "mqtt_device.c"), *sources,
        "-Wl,--start-group", *[os.path.join(prefix, "lib", a) for a in
                               ("libmbedtls.a", "libmbedx509.a", "libmbedcrypto.a")], "-Wl,--end-group")
    return exe


class FakeBroker:
    """A TLS server on loopback with the real broker certificate that
    accepts one connection at a time and hands it to script(conn): the test
    decides what a misbehaving broker sends."""

    def __init__(self, pki, script):
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(*pki.broker)
        self.ctx.load_verify_locations(pki.ca)
        self.ctx.verify_mode = ssl.CERT_REQUIRED
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(4)
        self.port = self.sock.getsockname()[1]
        self.script = script
        self.errors = []
        self.connections = 0
        self.stopping = False
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while not self.stopping:
            r, _, _ = select.select([self.sock], [], [], 0.2)
            if not r:
                continue
            try:
                raw, _ = self.sock.accept()
                conn = self.ctx.wrap_socket(raw, server_side=True)
            except (OSError, ssl.SSLError) as e:
                self.errors.append(str(e))
                continue
            self.connections += 1
            try:
                conn.settimeout(10)
                self.script(conn, self.connections)
            except (OSError, ssl.SSLError) as e:
                self.errors.append(str(e))
            finally:
                try:
                    conn.close()
                except OSError:
                    pass

    def stop(self):
        self.stopping = True
        self.thread.join(15)
        self.sock.close()


def read_packet(conn):
    """One MQTT packet from a socket: (first byte, body), or None at its end."""
    first = conn.recv(1)
    if not first:
        return None
    n, shift = 0, 0
    while True:
        b = conn.recv(1)[0]
        n |= (b & 0x7f) << shift
        shift += 7
        if not b & 0x80:
            break
    body = b""
    while len(body) < n:
        chunk = conn.recv(n - len(body))
        if not chunk:
            return None
        body += chunk
    return first[0], body
