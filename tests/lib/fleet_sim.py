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
