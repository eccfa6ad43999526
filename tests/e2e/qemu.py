"""Drive a built Bulkhead image in QEMU: boot it with its own start-qemu-kernel.sh
(or start-qemu.sh),
read the serial console, type into it, and stop the machine over QMP.

A board without a direct kernel boot (no qemu-kernel.args, so no
start-qemu-kernel.sh in its images: real-hardware boards such as
pc-x86_64-efi) is booted from disk.img with start-qemu.sh instead, also
when a test asks for the default script.

Every wait has a timeout; on a timeout the exception carries the last part
of the console so that a failed test shows what the machine printed.
"""
import json
import os
import re
import select
import socket
import subprocess
import tempfile
import time


# The kernel's first line, once per boot: where a boot, or a reboot, begins.
BOOT_LINE = b"] Linux version "


class Timeout(Exception):
    pass


class Machine:
    def __init__(self, images_dir, extra_args=(), log_path=None, env=None, script=None):
        """script: start-qemu-kernel.sh (the default) boots the kernel
        directly (the quick path most tests take); start-qemu.sh boots
        disk.img through UEFI firmware and systemd-boot (env BULKHEAD_DISK:
        a disk to keep). By default, when the board has no
        start-qemu-kernel.sh, start-qemu.sh: self.script says which ran.
        On that path BULKHEAD_DATA means nothing (/data is a partition of
        the disk) and the console starts with the firmware's output."""
        if script is None:
            script = "start-qemu-kernel.sh"
            if not os.path.exists(os.path.join(images_dir, script)):
                script = "start-qemu.sh"
        self.script = script
        self.images = images_dir
        self.tmp = tempfile.mkdtemp(prefix="bh-e2e-")
        self.qmp_path = os.path.join(self.tmp, "qmp.sock")
        self.console = b""
        self.pos = 0  # how far expect() has consumed the console
        self.serial = 0
        self.log = open(log_path, "ab") if log_path else None
        # No port forwards unless the test asks: tests may run side by side.
        env = dict(env if env is not None else os.environ)
        env.setdefault("BULKHEAD_HOSTFWD", "")
        args = [os.path.join(images_dir, script),
                "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path] + list(extra_args)
        self.proc = subprocess.Popen(args, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=subprocess.STDOUT, env=env)
        self.started = time.monotonic()

    # Console ---------------------------------------------------------------

    def _read(self, timeout):
        r, _, _ = select.select([self.proc.stdout], [], [], timeout)
        if not r:
            return False
        data = os.read(self.proc.stdout.fileno(), 65536)
        if not data:
            return None
        self.console += data
        if self.log:
            self.log.write(data)
            self.log.flush()
        return True

    def text(self):
        return self.console.decode("utf-8", "replace")

    def tail(self, n=2000):
        return self.console[-n:].decode("utf-8", "replace")

    def mark(self):
        """A position in the console, for expect(since=...): output that
        arrives while a command is still being typed is not missed."""
        while self._read(0):
            pass
        return len(self.console)

    def expect(self, pattern, timeout=120, since=None):
        """Wait until `pattern` (a regex) appears after what was consumed
        before (or after position `since`); return the match and consume up
        to its end."""
        rx = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        deadline = time.monotonic() + timeout
        start = self.pos if since is None else since
        while True:
            m = rx.search(self.console, start)
            if m:
                self.pos = m.end()
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise Timeout("no %r within %ds; console ends with:\n%s%s"
                              % (pattern, timeout, self.tail(), self.reboots(start)))
            if self._read(min(left, 1.0)) is None:
                raise Timeout("QEMU exited (status %s) before %r; console ends with:\n%s"
                              % (self.proc.wait(), pattern, self.tail()))

    def reboots(self, since=0):
        """What the gateway's kernel and init said last before each new
        boot after console position `since`, and whether the watchdog
        reset it: a gateway that resets during a test (a kernel panic with
        panic=-1, the watchdog) otherwise shows only as a missing answer,
        and the new boot's lines push the cause out of the console's tail.
        Empty when it did not reboot."""
        report = []
        boots = [b.start() for b in re.finditer(re.escape(BOOT_LINE), self.console)]
        # The first boot is the machine's start, not a reboot. The lines
        # before a reboot are read from the boot before it, not from
        # `since`: a panic may come just before the command that misses it.
        for prev, at in zip(boots, boots[1:]):
            if at < since:
                continue
            before = self.console[max(prev, at - 300000):at].decode("utf-8", "replace").splitlines()[:-1]
            # The gateway kernel's own lines ("[   12.345] ...") and init's;
            # workload output (bhd: <name>: ...) is left out.
            own = [l.rstrip("\r") for l in before if re.match(r"\s*\[\s*\d+\.\d+\] |init: ", l)]
            last = own[-60:]
            key = [l for l in last if re.search(r"Kernel panic|BUG|Oops|corrupted|Call Trace", l)]
            if b"the last reset was the watchdog's" in self.console[at:at + 400000]:
                cause = "the watchdog reset it"
            elif key:
                cause = "a kernel panic (panic=-1 reboots at once)"
            else:
                cause = "no panic on the console, not the watchdog (a reset from outside, or a triple fault)"
            report.append("\nTHE GATEWAY REBOOTED at console byte %d: %s; %s\nits kernel and init said last:\n%s"
                          % (at, cause, (key or last[-1:] or ["no kernel line before it"])[0].strip(),
                             "\n".join(last) or "(nothing)"))
        return "".join(report)

    def last_boot(self):
        """The console position where the machine's latest boot began."""
        return self.console.rfind(BOOT_LINE)

    def send(self, text):
        self.proc.stdin.write(text.encode())
        self.proc.stdin.flush()

    def shell(self, command, timeout=60):
        """Run a command in the debug image's shell; return (status, output).

        Services and the kernel write to the same console, so the command's
        output goes to a file first and comes back with every line tagged.
        The tag is assembled by the shell at run time: the echo of the typed
        command never contains it."""
        self.serial += 1
        tag = "Q%dZ" % self.serial
        self.send("( %s ) >/tmp/.bh-out 2>&1; s=$?; t=BH; t=${t}%s; "
                  "sed \"s/^/$t: /\" /tmp/.bh-out; echo \"$t-$s-END\"\n" % (command, tag))
        m = self.expect(r"BH%s-(\d+)-END" % tag, timeout)
        text = self.console[:m.start()].decode("utf-8", "replace")
        prefix = "BH%s: " % tag
        lines = [l.split(prefix, 1)[1].rstrip("\r") for l in text.splitlines() if prefix in l]
        return int(m.group(1)), "\n".join(lines)

    def stop_demo_workloads(self, timeout=300):
        """Stops (and so disables, on this /data) the image's demo workloads
        that bhd installs and starts on a fresh /data; returns bhctl list.
        For tests that run nested guests of their own: under TCG a second
        nested guest starves both (seen on a 2-core CI machine: demo-vm's
        RCU stalls, and test_vm's own guest past its 240 s). Waits for
        bhd's ready line, which follows the installs; consumes nothing."""
        pos = self.pos
        self.expect(r"bhd: ready", timeout, since=0)
        self.pos = max(pos, self.pos)
        # No bhv may be left (counted by its jail uid, 0x20000000 + slot):
        # bhd kills a guest that ignores its power button for 10 s, and its
        # jailed monitor must die with it (it once lived on, orphaned,
        # holding the first jail uid).
        return self.shell("bhctl list | while read name rest; do case $name in demo-*) "
                          "bhctl stop $name;; esac; done; bhctl list; "
                          "jailed() { grep -ls '^Uid:[[:space:]]*5368709' /proc/[0-9]*/status | wc -l; }; "
                          "for i in $(seq 20); do [ $(jailed) = 0 ] && break; sleep 0.5; done; "
                          "echo bhv processes left: $(jailed)", timeout=120)

    # Machine control -------------------------------------------------------

    def qmp(self, command, **arguments):
        s = socket.socket(socket.AF_UNIX)
        s.settimeout(10)
        s.connect(self.qmp_path)
        f = s.makefile("rw")
        json.loads(f.readline())
        for cmd in ({"execute": "qmp_capabilities"},
                    dict({"execute": command}, **({"arguments": arguments} if arguments else {}))):
            f.write(json.dumps(cmd) + "\n")
            f.flush()
            while True:
                reply = json.loads(f.readline())
                if "return" in reply or "error" in reply:
                    break
        f.close()
        s.close()
        return reply

    def qmp_events(self):
        """A QMP connection held open to receive QEMU's events (WATCHDOG,
        RESET, ...) from now on. QEMU serves one QMP client at a time:
        close it before the next qmp()."""
        return QmpEvents(self.qmp_path)

    def wait_exit(self, timeout=60):
        deadline = time.monotonic() + timeout
        while self.proc.poll() is None:
            if time.monotonic() > deadline:
                raise Timeout("QEMU still running after %ds; console ends with:\n%s"
                              % (timeout, self.tail()))
            self._read(0.5)
        while self._read(0.1):
            pass
        return self.proc.returncode

    def kill(self):
        if self.proc.poll() is None:
            try:
                self.qmp("quit")
                self.wait_exit(10)
            except Exception:
                self.proc.kill()
                self.proc.wait()
        if self.log:
            self.log.close()
            self.log = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.kill()
        try:
            os.unlink(self.qmp_path)
        except OSError:
            pass
        os.rmdir(self.tmp)


class QmpEvents:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.settimeout(10)
        self.sock.connect(path)
        self.f = self.sock.makefile("rw")
        json.loads(self.f.readline())
        self.f.write(json.dumps({"execute": "qmp_capabilities"}) + "\n")
        self.f.flush()
        self.seen = []
        while "return" not in self._next(10):
            pass

    def _next(self, timeout):
        self.sock.settimeout(max(timeout, 0.1))
        line = self.f.readline()
        if not line:
            raise EOFError("QMP connection closed")
        msg = json.loads(line)
        if "event" in msg:
            self.seen.append(msg)
        return msg

    def wait(self, name, timeout=30):
        """The first event called name seen since the connection opened, or
        None when none comes within timeout seconds."""
        deadline = time.monotonic() + timeout
        while True:
            for e in self.seen:
                if e["event"] == name:
                    return e
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            try:
                self._next(left)
            except (socket.timeout, EOFError, ValueError):
                return None

    def close(self):
        # The file from makefile() holds the descriptor too: QEMU would
        # keep this client, and the next qmp() would wait for its greeting.
        self.f.close()
        self.sock.close()
