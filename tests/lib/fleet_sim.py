"""A simulated fleet for tests/integration/test_fleet_sim.py and
tests/bench/bench_fleet.py: N gateways, each `bhsync agent` (the device's
own poll code, built for the build host) with its own state folder,
polling one registry. Each agent prints a line per poll:
  t=<ms> outcome=<ready|unchanged|failed> serial=<n> requests=<n> bytes=<n> [error=...]
Agents are processes this module started; they are stopped by their PIDs.
"""
import json
import os
import re
import subprocess
import threading
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
KEYS = os.path.join(TOP, "board", "common", "keys")

LINE = re.compile(r"t=(\d+) outcome=(\w+) serial=(\d+) requests=(\d+) bytes=(\d+)(?: error=(.*))?")


class Agent:
    def __init__(self, bhsync, d, config, seconds):
        self.dir = d
        self.polls = []  # (wall time, outcome, serial, requests, bytes, error)
        self.lock = threading.Lock()
        os.makedirs(d, exist_ok=True)
        self.log = open(os.path.join(d, "agent.log"), "w")
        self.proc = subprocess.Popen([bhsync, "agent", "--dir", d, "--config", config,
                                      "--seconds", str(seconds)], stdout=subprocess.PIPE,
                                     stderr=self.log, text=True)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()

    def _read(self):
        for line in self.proc.stdout:
            m = LINE.match(line.strip())
            if m:
                with self.lock:
                    self.polls.append((time.time(), m.group(2), int(m.group(3)), int(m.group(4)),
                                       int(m.group(5)), m.group(6) or ""))

    def serial(self):
        """The serial of the last state this agent converged to."""
        with self.lock:
            ready = [p for p in self.polls if p[1] == "ready"]
        return ready[-1][2] if ready else 0

    def converged_at(self, serial):
        with self.lock:
            for p in self.polls:
                if p[1] == "ready" and p[2] == serial:
                    return p[0]
        return None

    def unchanged_since(self, since):
        with self.lock:
            return [p for p in self.polls if p[1] == "unchanged" and p[0] >= since]

    def errors(self):
        with self.lock:
            return [p[5] for p in self.polls if p[1] == "failed"]

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        self.log.close()


class Fleet:
    def __init__(self, bhsync, root, registry, repository, group, ca, user, password, keys_dir,
                 n, interval=10, seconds=600):
        os.makedirs(root, exist_ok=True)
        config = os.path.join(root, "request.json")
        with open(config, "w") as f:
            json.dump({"config": {"registry": registry, "repository": repository, "group": group,
                                  "ca_file": ca, "client_cert": "", "client_key": "",
                                  "client_key_pem": "", "username": user, "password": password,
                                  "poll_interval": interval},
                       "keys_dir": keys_dir, "work_dir": "", "settled": "", "force": False,
                       "applied_serial": 0, "running_version": "sim", "update_allowed": False,
                       "failed_updates": [], "have": []}, f)
        self.agents = []
        for i in range(n):
            self.agents.append(Agent(bhsync, os.path.join(root, "gw-%04d" % i), config, seconds))
            time.sleep(interval / max(n, 1) / 2)  # spread the first polls a little

    def wait_serial(self, serial, timeout):
        """Seconds until every agent converged to serial, or None."""
        end = time.time() + timeout
        while time.time() < end:
            if all(a.serial() >= serial for a in self.agents):
                return True
            if any(a.proc.poll() is not None for a in self.agents):
                return False
            time.sleep(0.5)
        return False

    def stop(self):
        for a in self.agents:
            a.stop()


class Publisher:
    """Builds, signs and pushes with bhpack what a simulated fleet pulls:
    bundles of random bytes and signed states of one group."""

    def __init__(self, bhpack, tmp, reg, pki, password, group):
        self.bhpack, self.tmp, self.reg, self.pki, self.group = bhpack, tmp, reg, pki, group
        self.env = dict(os.environ, BHPACK_REGISTRY_PASSWORD=password)

    def bh(self, *args):
        r = subprocess.run([self.bhpack] + list(args), capture_output=True, text=True,
                           env=self.env, timeout=1800)
        if r.returncode != 0:
            raise RuntimeError("bhpack %s: %s" % (args[0], r.stderr.strip()))
        return r.stdout.strip()

    def bundle(self, name, size):
        """A container bundle holding size random bytes, pushed: its digest."""
        root = os.path.join(self.tmp, "root-" + name)
        os.makedirs(os.path.join(root, "usr", "bin"))
        with open(os.path.join(root, "usr", "bin", "app"), "wb") as f:
            for _ in range(max(size >> 20, 1)):
                f.write(os.urandom(min(size, 1 << 20)))
        manifest = os.path.join(self.tmp, name + ".json")
        with open(manifest, "w") as f:
            json.dump({"name": name, "version": "1.0", "mode": "container",
                       "container": {"args": ["/usr/bin/app"]}}, f)
        path = os.path.join(self.tmp, name + ".bundle")
        self.bh("build", "--manifest", manifest, "--rootfs", root, "--arch", "x86_64", "--key",
                os.path.join(KEYS, "bulkhead-TEST-ONLY-vendor.key.pem"), "-o", path)
        return self.push(path, name)

    def push(self, path, tag):
        return self.bh("push", "--ca", self.pki.ca, "--user", "gw", path,
                       "%s/fleet:%s" % (self.reg.host, tag))

    def state(self, serial, workloads, interval=10):
        """Signs and publishes the group's state: workloads [(name, digest)]."""
        out = os.path.join(self.tmp, "s.state")
        args = ["state", "--key", os.path.join(KEYS, "bulkhead-TEST-ONLY-state.key.pem"),
                "--group", self.group, "--serial", str(serial), "--valid-days", "1",
                "--poll-interval", str(interval), "-o", out]
        for name, d in workloads:
            args += ["--workload", "%s=1.0@%s" % (name, d)]
        self.bh(*args)
        self.bh("push", "--ca", self.pki.ca, "--user", "gw", "--state", out,
                "%s/fleet:group-%s" % (self.reg.host, self.group))
