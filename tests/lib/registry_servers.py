"""Registry fixtures for the fleet tests, all on 127.0.0.1 and all started
and stopped by the test that uses them:

- Pki: a test CA (openssl) and certificates signed by it: the server's
  (localhost, 127.0.0.1), one for another host name, a client certificate,
  and a second CA nobody trusts.
- Registry: Debian's docker-registry (distribution 2.8) with TLS and
  htpasswd or token auth, on a free port.
- TokenIssuer: the token endpoint of the Bearer flow (RS256 JWTs that
  distribution checks against the issuer's certificate).
- Front: an HTTPS proxy in front of a registry that records every request
  and can inject faults (a status, a trickle, a cut, a changed byte, an
  oversized manifest, a redirect of blobs to a BlobStore on another port).
- BlobStore: the "other host" of a redirect; records the headers it gets.
- TcpCounter: a byte-counting TCP relay (TLS included) for poll costs.

Processes are stopped by the PID this module started, with bounded waits.
"""
import base64
import hashlib
import http.client
import http.server
import json
import os
import socket
import socketserver
import ssl
import subprocess
import threading
import time
import urllib.parse
import uuid

from ports import free_port  # noqa: F401 (tests import it from here too)


def wait_port(port, proc=None, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError("process exited with %s before listening" % proc.returncode)
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("nothing listens on port %d after %d s" % (port, timeout))


def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError("%s: %s" % (" ".join(cmd), r.stderr.strip()))
    return r.stdout


class Pki:
    def __init__(self, d, server_san="DNS:localhost,IP:127.0.0.1"):
        """server_san: the names of the server certificate (a gateway in
        QEMU reaches the host's loopback as 10.0.2.2)."""
        self.d = d
        os.makedirs(d, exist_ok=True)
        self.ca_key, self.ca = self._ca("ca", "Bulkhead test CA")
        self.other_ca_key, self.other_ca = self._ca("other-ca", "Untrusted test CA")
        self.server_key, self.server = self._leaf("server", "localhost", server_san, "serverAuth")
        self.wrong_key, self.wrong = self._leaf("wrong", "wrong.example", "DNS:wrong.example",
                                                "serverAuth")
        self.client_key, self.client = self._leaf("client", "gateway-0001", None, "clientAuth")

    def p(self, name):
        return os.path.join(self.d, name)

    def _ca(self, name, cn):
        run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-days", "2", "-subj", "/CN=%s" % cn, "-keyout", self.p(name + ".key"),
             "-out", self.p(name + ".crt")])
        return self.p(name + ".key"), self.p(name + ".crt")

    def _leaf(self, name, cn, san, usage):
        ext = self.p(name + ".ext")
        with open(ext, "w") as f:
            f.write("basicConstraints=CA:FALSE\nextendedKeyUsage=%s\n" % usage)
            if san:
                f.write("subjectAltName=%s\n" % san)
        run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
             "-nodes", "-subj", "/CN=%s" % cn, "-keyout", self.p(name + ".key"),
             "-out", self.p(name + ".csr")])
        run(["openssl", "x509", "-req", "-in", self.p(name + ".csr"), "-CA", self.ca,
             "-CAkey", self.ca_key, "-CAcreateserial", "-days", "2", "-extfile", ext,
             "-out", self.p(name + ".crt")])
        return self.p(name + ".key"), self.p(name + ".crt")

    def server_context(self, cert=None, key=None, client_ca=None):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert or self.server, key or self.server_key)
        if client_ca:
            ctx.load_verify_locations(client_ca)
            ctx.verify_mode = ssl.CERT_REQUIRED
        return ctx

    def client_context(self):
        ctx = ssl.create_default_context(cafile=self.ca)
        return ctx


class Registry:
    """docker-registry serve, with TLS and htpasswd (users={name: pw}) or
    token auth (token=TokenIssuer)."""

    def __init__(self, d, pki, users=None, token=None):
        self.d = d
        self.port = free_port()
        os.makedirs(os.path.join(d, "storage"), exist_ok=True)
        auth = ""
        if users:
            with open(os.path.join(d, "htpasswd"), "w") as f:
                for u, pw in users.items():
                    f.write(run(["htpasswd", "-Bbn", u, pw]).strip() + "\n")
            auth = "auth:\n  htpasswd:\n    realm: bulkhead-test\n    path: %s\n" % \
                os.path.join(d, "htpasswd")
        elif token:
            auth = ("auth:\n  token:\n    realm: %s\n    service: %s\n    issuer: %s\n"
                    "    rootcertbundle: %s\n" % (token.realm, token.service, token.issuer,
                                                  token.cert))
        cfg = os.path.join(d, "config.yml")
        with open(cfg, "w") as f:
            f.write("version: 0.1\nlog:\n  level: warn\n  accesslog:\n    disabled: true\n"
                    "storage:\n  filesystem:\n    rootdirectory: %s\n  delete:\n    enabled: true\n"
                    "http:\n  addr: 127.0.0.1:%d\n  tls:\n    certificate: %s\n    key: %s\n%s"
                    % (os.path.join(d, "storage"), self.port, pki.server, pki.server_key, auth))
        self.log = open(os.path.join(d, "registry.log"), "w")
        self.proc = subprocess.Popen(["docker-registry", "serve", cfg], stdout=self.log,
                                     stderr=subprocess.STDOUT)
        try:
            wait_port(self.port, self.proc)
        except Exception:
            self.stop()
            raise
        self.host = "127.0.0.1:%d" % self.port

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        self.log.close()

    def cpu_seconds(self):
        """User+system CPU time of the registry process (Linux /proc)."""
        with open("/proc/%d/stat" % self.proc.pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        tick = os.sysconf("SC_CLK_TCK")
        return (int(fields[11]) + int(fields[12])) / tick


class _Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def _serve(handler_cls, ctx, owner):
    port = free_port()
    srv = _Server(("127.0.0.1", port), handler_cls)
    srv.owner = owner
    srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    return srv, port


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


class TokenIssuer:
    """The Bearer flow's token endpoint: GET /token?service=&scope= with
    Basic credentials (users) answers {"token": JWT}."""

    def __init__(self, d, pki, users):
        self.d, self.users = d, users
        os.makedirs(d, exist_ok=True)
        self.service, self.issuer = "bulkhead-test-registry", "bulkhead-test-issuer"
        self.key, self.cert = os.path.join(d, "token.key"), os.path.join(d, "token.crt")
        run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
             "-subj", "/CN=token issuer", "-keyout", self.key, "-out", self.cert])
        der = subprocess.run(["openssl", "x509", "-in", self.cert, "-outform", "DER"],
                             capture_output=True, check=True).stdout
        self.x5c = base64.b64encode(der).decode()
        self.requests = []
        owner = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                owner.requests.append({"path": self.path, "headers": dict(self.headers)})
                user = owner.check_basic(self.headers.get("Authorization"))
                if user is False:
                    body = b'{"errors":[{"code":"UNAUTHORIZED","message":"bad credentials"}]}'
                    self.send_response(401)
                else:
                    q = dict(x.split("=", 1) for x in self.path.split("?", 1)[1].split("&")) \
                        if "?" in self.path else {}
                    scope = urllib.parse.unquote(q.get("scope", ""))
                    body = json.dumps({"token": owner.jwt(user or "", scope),
                                       "expires_in": 300}).encode()
                    self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.srv, self.port = _serve(H, pki.server_context(), self)
        self.realm = "https://127.0.0.1:%d/token" % self.port

    def check_basic(self, h):
        """None: anonymous, False: wrong, else the user name."""
        if not h:
            return None
        try:
            u, pw = base64.b64decode(h.split(" ", 1)[1]).decode().split(":", 1)
        except Exception:
            return False
        return u if self.users.get(u) == pw else False

    def jwt(self, user, scope):
        access = []
        for s in scope.split(" "):
            parts = s.split(":")
            if len(parts) == 3 and parts[0] == "repository" and user:
                access.append({"type": "repository", "name": parts[1],
                               "actions": parts[2].split(",")})
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256", "x5c": [self.x5c]}
        claims = {"iss": self.issuer, "sub": user, "aud": self.service, "exp": now + 300,
                  "nbf": now - 10, "iat": now, "jti": uuid.uuid4().hex, "access": access}
        signing = (b64url(json.dumps(header).encode()) + "." +
                   b64url(json.dumps(claims).encode())).encode()
        sig = subprocess.run(["openssl", "dgst", "-sha256", "-sign", self.key], input=signing,
                             capture_output=True, check=True).stdout
        return signing.decode() + "." + b64url(sig)

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


class BlobStore:
    """The other host a registry redirects blobs to: serves what it was
    given and records the headers of every request."""

    def __init__(self, pki):
        self.blobs, self.requests = {}, []
        owner = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def do_GET(self):
                owner.requests.append({"path": self.path, "headers": dict(self.headers)})
                data = owner.blobs.get(self.path.rsplit("/", 1)[-1])
                self.send_response(200 if data is not None else 404)
                data = data if data is not None else b""
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self.srv, self.port = _serve(H, pki.server_context(), self)
        # Another host name as well as another port: localhost, not 127.0.0.1.
        self.base = "https://localhost:%d/blobs" % self.port

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


class Front:
    """An HTTPS proxy in front of a registry. `fault(front, req)` (set by
    the test) may answer a request itself: req has method, path, headers
    and a reply(status, headers, body, trickle=0, cut_after=None)
    function; returning False passes the request to the registry.
    Every request is recorded in `requests`."""

    def __init__(self, pki, upstream_port, client_ca=None, cert=None, key=None):
        self.upstream_port = upstream_port
        self.ctx_up = pki.client_context()
        self.requests = []
        self.fault = None
        self.lock = threading.Lock()
        owner = self

        class H(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *a):
                pass

            def _any(self):
                n = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(n) if n else b""
                req = _Req(self, body)
                with owner.lock:
                    owner.requests.append({"method": self.command, "path": self.path,
                                           "headers": dict(self.headers)})
                if owner.fault and owner.fault(owner, req):
                    return
                status, headers, data = owner.forward(self.command, self.path,
                                                      dict(self.headers), body)
                req.reply(status, headers, data, head=self.command == "HEAD")

            do_GET = do_HEAD = do_PUT = do_POST = do_PATCH = do_DELETE = _any

        self.srv, self.port = _serve(H, pki.server_context(cert, key, client_ca), self)
        self.host = "127.0.0.1:%d" % self.port

    def forward(self, method, path, headers, body):
        """The registry's answer to this request (Host rewritten so that
        the Locations it sends point back at the front)."""
        c = http.client.HTTPSConnection("127.0.0.1", self.upstream_port, context=self.ctx_up,
                                        timeout=60)
        h = {k: v for k, v in headers.items() if k.lower() not in ("host", "connection")}
        h["Host"] = "127.0.0.1:%d" % self.port
        c.request(method, path, body=body or None, headers=h)
        r = c.getresponse()
        data = r.read()
        hdrs = [(k, v) for k, v in r.getheaders()
                if k.lower() not in ("connection", "transfer-encoding", "content-length")]
        if method == "HEAD":
            hdrs.append(("Content-Length", r.getheader("Content-Length") or "0"))
        c.close()
        return r.status, hdrs, data

    def count(self, method=None, contains=""):
        with self.lock:
            return sum(1 for r in self.requests
                       if (method is None or r["method"] == method) and contains in r["path"])

    def stop(self):
        self.srv.shutdown()
        self.srv.server_close()


class _Req:
    def __init__(self, h, body):
        self.h, self.body = h, body
        self.method, self.path, self.headers = h.command, h.path, h.headers

    def reply(self, status, headers, body, head=False, trickle=0, cut_after=None,
              length=None):
        h = self.h
        h.send_response(status)
        have_len = False
        for k, v in headers:
            if k.lower() == "content-length":
                have_len = True
            h.send_header(k, v)
        if not have_len:
            h.send_header("Content-Length", str(length if length is not None else len(body)))
        if cut_after is not None:
            h.send_header("Connection", "close")
        h.end_headers()
        if head:
            return
        try:
            if trickle:
                for i in range(len(body)):
                    h.wfile.write(body[i:i + 1])
                    h.wfile.flush()
                    time.sleep(trickle)
            elif cut_after is not None:
                h.wfile.write(body[:cut_after])
                h.wfile.flush()
                h.close_connection = True
                # An abortive close: the client sees the connection cut.
                h.connection.shutdown(socket.SHUT_RDWR)
            else:
                h.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError, ssl.SSLError, OSError):
            h.close_connection = True


class TcpCounter:
    """A TCP relay to 127.0.0.1:upstream counting connections and bytes
    in both directions (TLS handshakes included)."""

    def __init__(self, upstream):
        self.upstream = upstream
        self.connections, self.up, self.down = 0, 0, 0
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.host = "127.0.0.1:%d" % self.port
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while not self.stopping:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            u = socket.create_connection(("127.0.0.1", self.upstream))
            with self.lock:
                self.connections += 1
            threading.Thread(target=self._pipe, args=(c, u, "up"), daemon=True).start()
            threading.Thread(target=self._pipe, args=(u, c, "down"), daemon=True).start()

    def _pipe(self, a, b, way):
        try:
            while True:
                d = a.recv(65536)
                if not d:
                    break
                with self.lock:
                    setattr(self, way, getattr(self, way) + len(d))
                b.sendall(d)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def snapshot(self):
        with self.lock:
            return self.connections, self.up, self.down

    def stop(self):
        self.stopping = True
        self.sock.close()


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return "sha256:" + h.hexdigest()
