#!/usr/bin/python3
"""The escape probes (tests/escape/probes.c) on the build host.

1. The positive control: in a deliberately weak runc container (every
   capability, no seccomp, no masks, a writable root, the host's pid and
   network namespaces: tests/escape/bhctest.py weak_bundle) every probe
   must fire, so that none of them is a probe that cannot fail. Probes
   whose kernel feature this machine lacks are skipped by name, here and
   in 3.
2. The probe program refuses to run outside a container.
3. Inside a container made with `bhc spec` defaults every probe must print
   BLOCKED, and their number must be the program's own total less the
   skipped ones.
4. Probes the runner makes, with a runc control each: a #!/proc/self/exe
   script as process.args[0] must not run the runtime's binary in the
   container (shebang_proc_self_exe), and /proc/self/fd/N as
   process.args[0] must not run any file the runtime has open
   (args0_proc_self_fd), two containers at once must map disjoint
   host uid and gid ranges (two_containers_uid_ranges), and bhc kill and
   delete must not signal a host process that reused the pid of a
   container's init (signal_reused_pid; its control signals the recorded
   pid, as a naive runtime would), and bhc's own write of a sysctl must
   not land in a host file bound as /proc or over the sysctl's file
   (procfs_redirect_sysctl; runc refuses such configs, so no control),
   and a mount target that another container swaps for a symlink out of
   the rootfs during set-up must not get the mount or its folder outside
   (mount_target_symlink_swap; the control is a naive runtime's mount
   step, tests/escape/naive_mount.c, since this machine's runc has the
   fix).

The host side is set up so that an escape would be seen: a listening
control socket at /run/bulkhead/bhd.sock and an abstract one, a secret
file in another container's rootfs, the test's own pid, an inherited fd
(runc --preserve-fds) in the control, and a pty as the runtime's
controlling terminal and stdin (tests/escape/withpty.c), as when a
person starts a container from a shell. Probes of a known gap in bhc
(bhctest.known_open) may print ESCAPED under bhc: a skip naming the gap,
and a failure once they print BLOCKED."""
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.path.insert(0, os.path.join(TOP, "tests", "escape"))
from tap import Tap  # noqa: E402
import bhctest  # noqa: E402



def weak_userns_bundle(runc, path, rootfs):
    """`runc spec` with a user namespace that maps host ids 100000-165535,
    whoever else maps them: a runtime that gives every container the same
    range. Its process sleeps."""
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    subprocess.run([runc, "spec"], cwd=path, check=True)
    with open(os.path.join(path, "config.json")) as f:
        cfg = json.load(f)
    cfg["root"] = {"path": os.path.realpath(rootfs), "readonly": True}
    cfg["process"].update(terminal=False, args=["/bin/sleep", "60"])
    cfg["linux"]["namespaces"].append({"type": "user"})
    cfg["linux"]["uidMappings"] = cfg["linux"]["gidMappings"] = [{"containerID": 0, "hostID": 100000,
                                                                   "size": 65536}]
    with open(os.path.join(path, "config.json"), "w") as f:
        json.dump(cfg, f)
    return path


def reuse_pid(pid, path):
    """Kills the process pid (a container's init, not our child) and
    starts a host process (the bait) with the same pid, through the pid
    namespace's ns_last_pid; the bait creates path + ".ready", then
    path + ".got" when it gets SIGWINCH. The bait's Popen, or None when
    another process took the pid first (or the kernel has no
    ns_last_pid)."""
    try:
        os.kill(pid, signal.SIGKILL)
    except OSError:
        return None
    deadline = time.monotonic() + 10
    while os.path.exists("/proc/%d" % pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    code = ("import os, signal, time\n"
            "signal.signal(signal.SIGWINCH, lambda *a: open(%r, 'w').close())\n"
            "open(%r, 'w').close()\n"
            "time.sleep(60)\n" % (path + ".got", path + ".ready"))
    for _ in range(5):
        try:
            with open("/proc/sys/kernel/ns_last_pid", "w") as f:
                f.write(str(pid - 1))
        except OSError:
            return None
        p = subprocess.Popen([sys.executable, "-c", code])
        if p.pid == pid:
            while not os.path.exists(path + ".ready") and p.poll() is None:
                time.sleep(0.05)
            return p if p.poll() is None else None
        p.kill()
        p.wait()
    return None


t = Tap()
tmp = tempfile.mkdtemp(prefix="bhc-esc-")
ready, why = bhctest.prepare(t, tmp, probe_files=True)
if not ready:
    t.skip("escape probes on the build host", why)
    t.done()
bhc, rootfs, out = ready
pub = tempfile.mkdtemp(prefix="bhc-esc-pub-")
root = os.path.join(tmp, "state")
probe = os.path.join(rootfs, "bin", "bhc-probes")

# Bait on the host.
secret_dir = os.path.join(tmp, "other-container", "rootfs")
os.makedirs(secret_dir)
secret = os.path.join(secret_dir, "secret")
with open(secret, "w") as f:
    f.write("host secret\n")
made_run = not os.path.exists("/run/bulkhead")
os.makedirs("/run/bulkhead", exist_ok=True)
sock_path = "/run/bulkhead/bhd.sock"
own_sock = not os.path.exists(sock_path)
ctl = socket.socket(socket.AF_UNIX)
if own_sock:
    ctl.bind(sock_path)
    ctl.listen(8)
abstract = "bhc-probe-%d" % os.getpid()
abs_sock = socket.socket(socket.AF_UNIX)
abs_sock.bind("\0" + abstract)
abs_sock.listen(8)

# What this machine's kernel cannot do, for the control and bhc alike.
kconfig = bhctest.read_kernel_config()
if kconfig is None:
    t.diag("no kernel config to read (/proc/config.gz, /boot/config-%s): every probe must fire"
           % os.uname().release)
absent = bhctest.absent_probes(kconfig, running=True, probe=probe)
gaps = bhctest.known_open(kconfig, running=True)
bait = ["BHC_PROBE_HOST_PID=%d" % os.getpid(), "BHC_PROBE_SECRET=" + secret, "BHC_PROBE_ABSTRACT=" + abstract,
        "BHC_PROBE_SKIP=" + " ".join(sorted(absent)), "BHC_PROBE_TTY=0"]
withpty = bhctest.build_static(out, "withpty.c", os.path.join(tmp, "bhc-withpty"))

try:
    # 1. The positive control. Never on the bare host: only in a container
    # of its own mount, uts and ipc namespaces, and every probe is harmless
    # when it works (tests/escape/probes.c).
    runc = shutil.which("runc")
    if runc:
        # fd 3, a folder of the host, handed to the container. runc hands
        # a container in the foreground pipes, not its own stdin: tiocsti
        # runs on its own in a detached one below, which gets the pty.
        runc_state = os.path.join(tmp, "runc-state")
        fg = dict(absent, tiocsti="run on its own in a detached container (runc gives one in the foreground "
                                  "pipes, not its tty)")
        wb = bhctest.weak_bundle(runc, os.path.join(tmp, "weak-bundle"), rootfs,
                                 [e for e in bait if not e.startswith("BHC_PROBE_SKIP=")] +
                                 ["BHC_PROBE_SKIP=" + " ".join(sorted(fg))])
        p = subprocess.run(["sh", "-c", 'exec 3<"$1"; shift; exec "$@"', "sh", tmp, runc, "--root", runc_state,
                            "run", "--preserve-fds", "1", "--bundle", wb, "bhc-weak-%d" % os.getpid()],
                           capture_output=True, text=True, timeout=300)
        t.diag("control: runc exited with status %d" % p.returncode)
        bhctest.check_escaped(t, p.stdout + p.stderr, fg)
        # Detached, runc hands the container its own stdio: the pty. The
        # output is read until the container has closed it.
        name = "bhc-weak-tty-%d" % os.getpid()
        wb = bhctest.weak_bundle(runc, os.path.join(tmp, "weak-tty-bundle"), rootfs, bait,
                                 args=["/bin/bhc-probes", "tiocsti"])
        p = subprocess.run([withpty, runc, "--root", runc_state, "run", "--detach", "--bundle", wb, name],
                           capture_output=True, text=True, timeout=300)
        subprocess.run([runc, "--root", runc_state, "delete", "--force", name], capture_output=True, timeout=60)
        bhctest.check_escaped(t, p.stdout + p.stderr, {k: v for k, v in absent.items() if k == "tiocsti"})
        # The probes the runner makes. A #!/proc/self/exe entrypoint: the
        # kernel runs the runtime's binary (runc's copy of itself) in the
        # container; runc is dynamically linked, so the rootfs gets its
        # libraries, as a distribution's image has them.
        bhctest.add_libraries(rootfs, runc)
        wb = bhctest.weak_bundle(runc, os.path.join(tmp, "weak-selfexe"), rootfs, bait, args=["/bin/bhc-selfexe"])
        p = subprocess.run([runc, "--root", runc_state, "run", "--bundle", wb, "bhc-weak-x-%d" % os.getpid()],
                           capture_output=True, text=True, timeout=120)
        m = bhctest.RUNTIME_RAN.search(p.stdout)
        t.ok(m is not None, "control: probe shebang_proc_self_exe fires in a weak container%s"
             % (" (the runtime's binary ran in it: %s)" % p.stdout.splitlines()[0] if m else ""),
             p.stdout + p.stderr)
        # process.args[0] /proc/self/fd/3: a file of the host that the
        # runtime left open in the container's init (here handed on on
        # purpose) runs there.
        os.makedirs(os.path.join(tmp, "host-bin"))
        host_bin = shutil.copy(probe, os.path.join(tmp, "host-bin", "bhc-probes"))
        wb = bhctest.weak_bundle(runc, os.path.join(tmp, "weak-fd"), rootfs, bait,
                                 args=["/proc/self/fd/3", "--list"])
        p = subprocess.run(["sh", "-c", 'exec 3<"$1"; shift; exec "$@"', "sh", host_bin, runc, "--root",
                            runc_state, "run", "--preserve-fds", "1", "--bundle", wb, "bhc-weak-f-%d" % os.getpid()],
                           capture_output=True, text=True, timeout=120)
        t.ok(bhctest.PROBES_RAN.search(p.stdout) is not None, "control: probe args0_proc_self_fd fires in a weak "
             "container%s" % (" (/proc/self/fd/3, a host file, ran in it)" if bhctest.PROBES_RAN.search(p.stdout)
                              else ""), p.stdout[-1000:] + p.stderr)
        # Two containers at once whose user namespaces map the same host
        # ids: each one's root owns the other's files and processes.
        # Their root must reach the rootfs: not below the test's 0700 tmp.
        os.chmod(pub, 0o755)
        userns_rootfs = bhctest.make_rootfs(os.path.join(pub, "rootfs"), bhctest.busybox(out))
        pids = []
        for n in ("a", "b"):
            wb = weak_userns_bundle(runc, os.path.join(tmp, "weak-userns-" + n), userns_rootfs)
            name = "bhc-weak-u%s-%d" % (n, os.getpid())
            with open(os.path.join(tmp, "weak-userns-%s.log" % n), "w") as log:
                subprocess.run([runc, "--root", runc_state, "run", "--detach", "--bundle", wb, name],
                               stdin=subprocess.DEVNULL, stdout=log, stderr=log, timeout=120)
            st = subprocess.run([runc, "--root", runc_state, "state", name], capture_output=True, text=True)
            pids.append((name, json.loads(st.stdout)["pid"] if st.returncode == 0 else 0))
        try:
            shared = bhctest.shared_ids(*[bhctest.id_ranges(pid) for _, pid in pids]) if all(
                pid for _, pid in pids) else []
        except OSError:
            shared = []
        t.ok(bool(shared), "control: probe two_containers_uid_ranges fires in weak containers%s"
             % (" (both map host %s)" % ", ".join(shared) if shared else ""), str(pids))
        for name, _ in pids:
            subprocess.run([runc, "--root", runc_state, "delete", "--force", name], capture_output=True, timeout=60)
    else:
        t.skip("control: every probe fires in a weak container",
               "runc is not installed (support/host-tools.sh installs it)")

    # 2.
    p = subprocess.run([probe], capture_output=True, text=True, timeout=10)
    t.ok(p.returncode == 2 and "refusing" in p.stderr, "the probe program refuses to run on the bare host")

    # 3.
    b = bhctest.make_bundle(bhc, os.path.join(tmp, "bundle"), rootfs, ["/bin/bhc-probes"],
                            lambda c: c["process"]["env"].extend(bait))
    p = subprocess.run([withpty, bhc, "--root", root, "run", "--bundle", b, "probes"], capture_output=True,
                       text=True, timeout=300)
    open_now = bhctest.check_blocked(t, "", p.stdout + p.stderr, absent, gaps)
    t.ok(p.returncode == (1 if open_now else 0), "bhc run of the probes exits %d (%s)"
         % (1 if open_now else 0, "only known gaps escaped" if open_now else "no escape"), p.stderr)
    # 4. The probes the runner makes, under bhc.
    b = bhctest.make_bundle(bhc, os.path.join(tmp, "bundle-selfexe"), rootfs, ["/bin/bhc-selfexe"])
    p = subprocess.run([bhc, "--root", root, "run", "--bundle", b, "selfexe"], capture_output=True, text=True,
                       timeout=120)
    m = bhctest.RUNTIME_RAN.search(p.stdout)
    bhctest.check_runner_probe(t, "", "shebang_proc_self_exe", m is not None,
                               "the runtime's binary ran in the container: %s" % p.stdout.splitlines()[0] if m
                               else p.stdout + p.stderr, gaps)
    ran = []
    for n in range(3, 10):
        b = bhctest.make_bundle(bhc, os.path.join(tmp, "bundle-fd%d" % n), rootfs, ["/proc/self/fd/%d" % n,
                                                                                  "--list"])
        p = subprocess.run([bhc, "--root", root, "run", "--bundle", b, "fd%d" % n], capture_output=True, text=True,
                           timeout=120)
        if p.stdout.strip():
            ran.append("/proc/self/fd/%d: %s" % (n, p.stdout.strip().splitlines()[0]))
    bhctest.check_runner_probe(t, "", "args0_proc_self_fd", bool(ran),
                               "; ".join(ran) or "none of /proc/self/fd/3..9 ran as process.args[0]", gaps)
    pids = []
    for n in ("a", "b"):
        b = bhctest.make_bundle(bhc, os.path.join(tmp, "bundle-two-" + n), rootfs, ["sleep", "60"])
        subprocess.run([bhc, "--root", root, "run", "--detach", "--bundle", b, "two-" + n], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
        st = subprocess.run([bhc, "--root", root, "state", "two-" + n], capture_output=True, text=True)
        pids.append(json.loads(st.stdout).get("pid", 0) if st.returncode == 0 else 0)
    t.ok(all(pids), "two bhc containers run at once (pids %s)" % pids)
    shared = bhctest.shared_ids(*[bhctest.id_ranges(pid) for pid in pids]) if all(pids) else ["none read"]
    bhctest.check_runner_probe(t, "", "two_containers_uid_ranges", bool(shared),
                               "both map host %s" % ", ".join(shared) if shared else "disjoint host id ranges", gaps)
    for n in ("a", "b"):
        subprocess.run([bhc, "--root", root, "delete", "--force", "two-" + n], capture_output=True, timeout=60)
    # Procfs redirection of the runtime's own writes (the CVE-2025-52881
    # class): a config whose /proc, or whose sysctl's file in it, is a
    # bind of a host file. bhc's write of the sysctl must reach the
    # kernel's sysctl (in the container's own network namespace) or be
    # refused, never land in that file. runc refuses both configs (no
    # mounts on or inside /proc but procfs), so there is no runc control:
    # bhc at the time of writing is its own (the write lands).
    redirected = []
    for how in ("proc", "file"):
        fake = os.path.join(pub, "fakeproc-" + how)
        target = os.path.join(fake, "sys", "net", "ipv4", "ip_forward")
        os.makedirs(os.path.dirname(target))
        with open(target, "w") as f:
            f.write("untouched\n")
        # Writable by anyone: a file the container's root could write too.
        os.chmod(target, 0o666)

        def redirect(c, how=how, fake=fake, target=target):
            if how == "proc":
                c["mounts"] = [m for m in c["mounts"] if m["destination"] != "/proc"] + [
                    {"destination": "/proc", "type": "bind", "source": fake, "options": ["rbind", "rw"]}]
            else:
                c["mounts"].append({"destination": "/proc/sys/net/ipv4/ip_forward", "type": "bind",
                                    "source": target, "options": ["bind", "rw"]})
            c["linux"]["sysctl"] = {"net.ipv4.ip_forward": "1"}
        b = bhctest.make_bundle(bhc, os.path.join(tmp, "bundle-redirect-" + how), rootfs, ["true"], redirect)
        subprocess.run([bhc, "--root", root, "run", "--bundle", b, "redirect-" + how], capture_output=True,
                       timeout=120)
        with open(target) as f:
            if f.read() != "untouched\n":
                redirected.append("a bind of a host file %s" % ("as /proc" if how == "proc" else
                                                                "over /proc/sys/net/ipv4/ip_forward"))
    bhctest.check_runner_probe(t, "", "procfs_redirect_sysctl", bool(redirected),
                               "bhc's write of net.ipv4.ip_forward landed in " + " and in ".join(redirected)
                               if redirected else "bhc's sysctl write never landed in a host file", gaps)
    # A mount target swapped for a symlink during set-up (the
    # CVE-2021-30465 class). Container A can write a folder that is also
    # part of container B's rootfs (A's volume, B's image on the same
    # disk); it swaps shared/link, the parent of B's mount targets, with
    # a symlink to a host folder outside B's rootfs as fast as it can
    # (tests/escape/swapper.c) while B is started again and again. No
    # mount, and no folder made for one, may land in that host folder.
    # runc on this machine has the fix, so the control is a naive
    # runtime's mount step (tests/escape/naive_mount.c: check the target,
    # then mkdir -p and mount by path, in a mount namespace of its own)
    # against the same race.
    os.chmod(pub, 0o755)
    bhctest.build_static(out, "swapper.c", os.path.join(rootfs, "bin", "bhc-swapper"))
    naive = bhctest.build_static(out, "naive_mount.c", os.path.join(tmp, "bhc-naive-mount"))
    os.makedirs(os.path.join(rootfs, "race-shared"), exist_ok=True)
    b_rootfs = bhctest.make_rootfs(os.path.join(pub, "race-b-rootfs"), bhctest.busybox(out))
    shared = os.path.join(b_rootfs, "shared")
    os.makedirs(shared)
    os.chmod(shared, 0o777)
    bind_src = os.path.join(pub, "race-bind-src")
    os.makedirs(bind_src)
    race = {}
    for phase in ("control", "bhc"):
        outside = os.path.join(pub, "outside-" + phase)
        os.makedirs(outside)
        for f in ("stop", "link.swap"):
            if os.path.lexists(os.path.join(shared, f)):
                os.unlink(os.path.join(shared, f))
        shutil.rmtree(os.path.join(shared, "link"), ignore_errors=True)
        name = "race-a-" + phase
        b = bhctest.make_bundle(bhc, os.path.join(tmp, "bundle-" + name), rootfs,
                                ["/bin/bhc-swapper", "/race-shared", outside, "120"],
                                lambda c: c["mounts"].append({"destination": "/race-shared", "type": "bind",
                                                              "source": shared, "options": ["rbind", "rw"]}))
        log = open(os.path.join(tmp, name + ".log"), "w+")
        swap = subprocess.Popen([bhc, "--root", root, "run", "--bundle", b, name], stdin=subprocess.DEVNULL,
                                stdout=log, stderr=log)
        deadline = time.monotonic() + 30
        while not os.path.lexists(os.path.join(shared, "link.swap")) and swap.poll() is None and \
                time.monotonic() < deadline:
            time.sleep(0.05)
        starts, refused, errors = 0, 0, {}
        if phase == "control":
            p = subprocess.run([naive, b_rootfs, "/shared/link/mnt", "20000"], capture_output=True, text=True,
                               timeout=300)
            race["landed"] = p.stdout.strip() + p.stderr.strip()
        else:
            bb = bhctest.make_bundle(bhc, os.path.join(tmp, "bundle-race-b"), b_rootfs, ["true"], lambda c: c[
                "mounts"].extend([{"destination": "/shared/link/mnt", "type": "tmpfs", "source": "tmpfs",
                                   "options": ["nosuid", "size=64k"]},
                                  {"destination": "/shared/link/vol", "type": "bind", "source": bind_src,
                                   "options": ["bind", "ro"]}]))
            deadline = time.monotonic() + 60
            while starts < 200 and time.monotonic() < deadline and not os.listdir(outside):
                r = subprocess.run([bhc, "--root", root, "run", "--bundle", bb, "race-b-%d" % starts],
                                   stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)
                starts += 1
                if r.returncode != 0:
                    refused += 1
                    why = (r.stderr.strip().splitlines() or ["status %d" % r.returncode])[-1].replace(
                        "'race-b-%d'" % (starts - 1), "B")
                    errors[why] = errors.get(why, 0) + 1
        open(os.path.join(shared, "stop"), "w").close()
        try:
            swap.wait(timeout=60)
        except subprocess.TimeoutExpired:
            subprocess.run([bhc, "--root", root, "delete", "--force", name], capture_output=True, timeout=60)
            swap.wait()
        log.seek(0)
        swaps = log.read()
        log.close()
        made = sorted(os.listdir(outside))
        with open("/proc/self/mountinfo") as f:
            mounted = [l for l in f if " %s" % outside in l]
        t.diag("%s: %s; made in %s on the host: %s" % (phase, swaps.strip().splitlines()[-1:] or "no swapper output",
                                                       outside, made))
        if phase == "control":
            t.ok(race["landed"].startswith("LANDED") and made, "control: probe mount_target_symlink_swap fires "
                 "for a naive runtime (%s; %s made outside the rootfs)" % (race["landed"], made),
                 race["landed"] + swaps)
        else:
            t.diag("B started %d times, %d refused: %s" % (starts, refused, errors))
            bhctest.check_runner_probe(
                t, "", "mount_target_symlink_swap", bool(made or mounted),
                "bhc made %s in %s on the host%s" % (made, outside, " and mounted there" if mounted else "")
                if made or mounted else "in %d starts of B, no mount or folder landed outside its rootfs" % starts,
                gaps)
            # The race ran: B met the symlink (its set-up refused) and the
            # folder (it started), each at least once.
            t.ok(refused > 0 and starts > refused and all("/shared/link" in e for e in errors),
                 "the race was run: B met the symlink in %d and the folder in %d of %d starts, and was refused "
                 "only for what it met at /shared/link" % (refused, starts - refused, starts), str(errors) + swaps)
    # A signal to a reused pid: the container's init dies behind bhc's
    # back and a host process (the bait) gets its pid. bhc kill and bhc
    # delete --force must not reach it; a runtime that signals the pid it
    # recorded does (the control). The signal is SIGWINCH, which any
    # other process ignores.
    b = bhctest.make_bundle(bhc, os.path.join(tmp, "bundle-reuse"), rootfs, ["sleep", "60"])
    subprocess.run([bhc, "--root", root, "run", "--detach", "--bundle", b, "reuse"], stdin=subprocess.DEVNULL,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=120)
    st = subprocess.run([bhc, "--root", root, "state", "reuse"], capture_output=True, text=True)
    pid = json.loads(st.stdout).get("pid", 0) if st.returncode == 0 else 0
    bait_proc = reuse_pid(pid, os.path.join(tmp, "reuse-bait")) if pid > 1 else None
    if not bait_proc:
        t.skip("probe signal_reused_pid", "the bait did not get the container's pid %d (another process took it)"
               % pid)
    else:
        got = os.path.join(tmp, "reuse-bait.got")
        subprocess.run([bhc, "--root", root, "kill", "reuse", "WINCH"], capture_output=True, timeout=60)
        subprocess.run([bhc, "--root", root, "delete", "--force", "reuse"], capture_output=True, timeout=60)
        time.sleep(0.5)
        reached = os.path.exists(got) or bait_proc.poll() is not None
        bhctest.check_runner_probe(t, "", "signal_reused_pid", reached,
                                   "bhc kill or delete reached the host process that reused the init's pid %d" % pid
                                   if reached else "the host process with the reused pid %d was not signalled" % pid,
                                   gaps)
        # The control: signal the recorded pid, as a naive runtime does.
        os.kill(pid, signal.SIGWINCH)
        deadline = time.monotonic() + 5
        while not os.path.exists(got) and time.monotonic() < deadline:
            time.sleep(0.05)
        t.ok(os.path.exists(got), "control: probe signal_reused_pid fires for a runtime that signals the pid it "
             "recorded (pid %d, now a host process)" % pid)
        bait_proc.kill()
        bait_proc.wait()
    subprocess.run([bhc, "--root", root, "delete", "--force", "reuse"], capture_output=True, timeout=60)
    t.ok(subprocess.run(["hostname"], capture_output=True, text=True).stdout.strip() != "bhc-escaped",
         "the host's hostname is unchanged")
finally:
    ctl.close()
    abs_sock.close()
    if own_sock:
        os.unlink(sock_path)
    if made_run:
        shutil.rmtree("/run/bulkhead", ignore_errors=True)
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.rmtree(pub, ignore_errors=True)
t.done()
