"""Shared helpers for bhc's tests: find the built bhc, build the static
escape-probe program and payloads with the target's musl compiler, and
make container bundles from the image's own static BusyBox.

Used by tests/integration/test_bhc_* (build host) and tests/e2e/
test_container.py (payload disk for the booted image)."""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
import bhbin  # noqa: E402


def make_vars(out, *names):
    p = subprocess.run(["make", "-s", "--no-print-directory", "-C", TOP, "O=" + out, "printvars",
                        "VARS=" + " ".join(names)], capture_output=True, text=True, check=True)
    return dict(line.split("=", 1) for line in p.stdout.splitlines() if "=" in line)


def build_bhc(out):
    """Builds bhc (the target build: a static musl binary that also runs on
    an x86_64 build host) and returns its path."""
    subprocess.run(["make", "-s", "-C", TOP, "O=" + out, "bhc"], check=True, capture_output=True)
    return os.path.join(out, "build", "programs", "bhc", "bhc")


def target_cc(out):
    return make_vars(out, "TARGET_CC")["TARGET_CC"].split()


def busybox(out):
    return os.path.join(make_vars(out, "BUSYBOX_PREFIX")["BUSYBOX_PREFIX"], "target", "bin", "busybox")


def build_static(out, source, dest, extra=()):
    """Compiles one C file of tests/escape into a static binary."""
    cmd = target_cc(out) + ["-static", "-O2", "-Wall", "-Wextra", "-Werror", "-o", dest,
                            os.path.join(HERE, source)] + list(extra)
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    return dest


def make_rootfs(path, bb, binaries=(), probe_files=False):
    """A minimal rootfs: BusyBox with every applet, the mount points bhc
    needs, and the given static binaries in /bin. With probe_files, also
    what the probes rootfs_device_nodes and rootfs_setuid_file look for:
    device nodes in /bhc-probe-dev and a setuid copy of bhc-probes (one of
    the binaries) owned by uid 1234, and the script /bin/bhc-selfexe
    (#!/proc/self/exe) that the runner's shebang_proc_self_exe starts."""
    shutil.rmtree(path, ignore_errors=True)
    for d in ("bin", "proc", "sys", "dev", "tmp", "etc", "run"):
        os.makedirs(os.path.join(path, d), exist_ok=True)
    shutil.copy(bb, os.path.join(path, "bin", "busybox"))
    # The applet names come from BusyBox's own install tree (symlinks next
    # to the binary), not from running it: the target may be another arch.
    target = os.path.dirname(os.path.dirname(os.path.abspath(bb)))
    applets = sorted({n for d in ("bin", "sbin", "usr/bin", "usr/sbin")
                      if os.path.isdir(os.path.join(target, d))
                      for n in os.listdir(os.path.join(target, d)) if n != "busybox"})
    if not applets:
        raise RuntimeError("no BusyBox applet links next to %s" % bb)
    for a in applets:
        link = os.path.join(path, "bin", a)
        if not os.path.lexists(link):
            os.symlink("busybox", link)
    for b in binaries:
        shutil.copy(b, os.path.join(path, "bin", os.path.basename(b)))
    with open(os.path.join(path, "etc", "passwd"), "w") as f:
        f.write("root:x:0:0:root:/:/bin/sh\nnobody:x:65534:65534::/:/bin/false\n")
    if probe_files:
        add_probe_files(path)
    return path


def add_probe_files(path):
    dev = os.path.join(path, "bhc-probe-dev")
    os.makedirs(dev)
    os.mknod(os.path.join(dev, "kmsg"), 0o600 | stat.S_IFCHR, os.makedev(1, 11))
    with open("/proc/partitions") as f:
        nums = [l.split()[:2] for l in f if len(l.split()) == 4 and l.split()[0].isdigit()]
    if nums:
        os.mknod(os.path.join(dev, "disk"), 0o600 | stat.S_IFBLK, os.makedev(int(nums[0][0]), int(nums[0][1])))
    # process.args[0] for shebang_proc_self_exe: the kernel runs the
    # binary of whoever execs it, the runtime, with --version.
    with open(os.path.join(path, "bin", "bhc-selfexe"), "w") as f:
        f.write("#!/proc/self/exe --version\n")
    os.chmod(os.path.join(path, "bin", "bhc-selfexe"), 0o755)
    suid = os.path.join(path, "bin", "bhc-probes-suid")
    shutil.copy(os.path.join(path, "bin", "bhc-probes"), suid)
    os.chown(suid, 1234, 1234)
    os.chmod(suid, 0o4755)


def make_bundle(bhc, path, rootfs, args, edit=None):
    """A bundle whose config.json is `bhc spec`'s, with args and an optional
    edit(config) applied; rootfs is linked in."""
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    os.symlink(rootfs, os.path.join(path, "rootfs"))
    subprocess.run([bhc, "spec", "--bundle", path, "--"] + list(args), check=True)
    if edit:
        with open(os.path.join(path, "config.json")) as f:
            cfg = json.load(f)
        edit(cfg)
        write_config(path, cfg)
    return path


def bhc_files(bhc, root, *args, timeout=60):
    """bhc --root root args, with stdout and stderr in files (a created
    container keeps them open, so pipes would never reach EOF):
    (status, stdout, stderr)."""
    with tempfile.TemporaryFile("w+") as o, tempfile.TemporaryFile("w+") as e:
        p = subprocess.run([bhc, "--root", root] + list(args), stdin=subprocess.DEVNULL, stdout=o, stderr=e,
                           timeout=timeout)
        o.seek(0)
        e.seek(0)
        return p.returncode, o.read(), e.read()


def write_config(bundle, cfg):
    with open(os.path.join(bundle, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2)


# Issue 20's configs written by other tools (tests/fixtures/oci,
# regenerate.sh), and the device rules `ctr run` adds to `ctr oci spec`'s
# (containerd's WithDefaultUnixDevices: the minimal /dev, and /dev/net/tun).
OCI_FIXTURES = ("runc-spec.json", "ctr-spec.json")
CTR_RUN_DEVICES = [{"allow": True, "type": "c", "major": a, "minor": b, "access": "rwm"}
                   for a, b in ((1, 3), (1, 8), (1, 7), (5, 0), (1, 5), (1, 9), (5, 1))] + [
    {"allow": True, "type": "c", "major": 136, "access": "rwm"},
    {"allow": True, "type": "c", "major": 5, "minor": 2, "access": "rwm"},
    {"allow": True, "type": "c", "major": 10, "minor": 200, "access": "rwm"}]


# The warnings bhc prints for each fixture as it is, wherever it runs: the
# field and words each line holds. `runc spec` lists ambient capabilities
# that are not inheritable, which the kernel does not raise (runc leaves
# them out too; issue 20 item 8).
OCI_FIXTURE_WARNINGS = {
    "runc-spec.json": [("$.process.capabilities.ambient: CAP_KILL, CAP_NET_BIND_SERVICE, CAP_AUDIT_WRITE: "
                        "not raised: an ambient capability must be in the permitted and inheritable sets")],
    "ctr-spec.json": [],
    "podman-config.json": [],
}


def fixture_warnings(name, text, extra=()):
    """Checks the `bhc: warning: ` lines of text against a fixture's
    expected ones (OCI_FIXTURE_WARNINGS) plus extra (words a line holds):
    (True, "") when each expected one is there once and nothing else, else
    (False, what differs)."""
    lines = [l for l in text.splitlines() if "bhc: warning: " in l]
    want = list(OCI_FIXTURE_WARNINGS[name]) + list(extra)
    left = list(lines)
    missing = []
    for w in want:
        hit = [l for l in left if w in l]
        if len(hit) != 1:
            missing.append(w)
        else:
            left.remove(hit[0])
    if missing or left:
        return False, "expected %s; missing %s; unexpected %s" % (want, missing, left)
    return True, ""


def oci_fixture(name):
    with open(os.path.join(TOP, "tests", "fixtures", "oci", name)) as f:
        return json.load(f)


def parse_probes(text):
    """The probe program's report: ({name: (status, detail)}, summary) with
    status BLOCKED, ESCAPED, SKIPPED or BROKEN, and the summary line's
    counts as a dict ("probes", "blocked", ...) or None."""
    probes, summary = {}, None
    for line in text.splitlines():
        m = re.match(r"(BLOCKED|ESCAPED|SKIPPED|BROKEN) (\w+)(?:: (.*))?$", line.strip())
        if m:
            probes[m.group(2)] = (m.group(1), m.group(3) or "")
        m = re.match(r"probes: (\d+)((?:, \w+: \d+)*)$", line.strip())
        if m:
            summary = dict(probes=int(m.group(1)),
                           **{k: int(v) for k, v in re.findall(r"(\w+): (\d+)", m.group(2))})
    return probes, summary


# Kernel options a probe needs (any one of them). A kernel without them
# cannot do what the probe tries, hardened or not: the probe is skipped by
# name, not counted as BLOCKED.
PROBE_FEATURES = {
    "keyctl": ["CONFIG_KEYS"],
    "bpf": ["CONFIG_BPF_SYSCALL"],
    "open_by_handle_at_shocker": ["CONFIG_FHANDLE"],
    "proc_sysrq_trigger": ["CONFIG_MAGIC_SYSRQ"],
    "proc_kcore": ["CONFIG_PROC_KCORE"],
    "module_loading": ["CONFIG_MODULES"],
    "kexec": ["CONFIG_KEXEC", "CONFIG_KEXEC_FILE"],
    "io_uring": ["CONFIG_IO_URING"],
    "userfaultfd": ["CONFIG_USERFAULTFD"],
    "af_alg": ["CONFIG_CRYPTO_USER_API"],
    "af_vsock": ["CONFIG_VSOCKETS"],
    "perf_event_open": ["CONFIG_PERF_EVENTS"],
    "swapon": ["CONFIG_SWAP"],
    # x86_64's other entry points; an ARM64 kernel has neither, so there
    # these two are skipped by name too.
    "ia32_syscalls": ["CONFIG_IA32_EMULATION"],
    "x32_syscalls": ["CONFIG_X86_X32_ABI"],
    "process_vm_readv_writev": ["CONFIG_CROSS_MEMORY_ATTACH"],
    "kcmp": ["CONFIG_KCMP"],
    "sys_host_info": ["CONFIG_DMIID", "CONFIG_X86_THERMAL_VECTOR"],
}
# Switches of a running kernel that turn a probe's feature off for
# everyone, root included (the positive control on the build host).
PROBE_SWITCHES = {
    "kexec": ("kernel/kexec_load_disabled", "1"),
    "module_loading": ("kernel/modules_disabled", "1"),
    "io_uring": ("kernel/io_uring_disabled", "2"),
    "ptrace": ("kernel/yama/ptrace_scope", "3"),
}


def read_kernel_config(path=None):
    """A kernel's options as {CONFIG_X: value}: the file at path, else the
    running kernel's (/proc/config.gz, /boot/config-RELEASE); None when
    there is none to read."""
    import gzip
    cands = [path] if path else ["/proc/config.gz", "/boot/config-" + os.uname().release]
    for c in cands:
        try:
            with (gzip.open(c, "rt") if c.endswith(".gz") else open(c)) as f:
                return dict(re.findall(r"^(CONFIG_\w+)=(.*)$", f.read(), re.M))
        except OSError:
            continue
    return None


def block_device_refused():
    """Why root on this machine cannot open its own first block device
    (some sandboxes refuse it), or None: then no container can either."""
    try:
        with open("/proc/partitions") as f:
            names = [l.split()[3] for l in f if len(l.split()) == 4 and l.split()[0].isdigit()]
    except OSError:
        names = []
    if not names:
        return "this machine has no block device"
    try:
        os.close(os.open("/dev/" + names[0], os.O_RDONLY | os.O_NONBLOCK))
    except OSError as e:
        return "root on this machine cannot open /dev/%s itself (%s)" % (names[0], e.strerror)
    return None


def entry_points(probe):
    """{"ia32": bool, "x32": bool}: which of x86_64's other syscall entry
    points this machine's kernel answers (the probe program's
    --entry-points, a getpid through each: no probe)."""
    p = subprocess.run([probe, "--entry-points"], capture_output=True, text=True, timeout=30)
    return {k: v == "yes" for k, v in re.findall(r"^(\w+) (yes|no)$", p.stdout, re.M)}


def absent_probes(kconfig, running=False, probe=None):
    """{probe: why it is skipped} for a kernel with options kconfig; with
    running=True also what this machine's running kernel turns off for
    everyone, root included (probe: the probe program, built for this
    machine, which says which syscall entry points the kernel answers)."""
    absent = {}
    for name, opts in PROBE_FEATURES.items():
        if kconfig is not None and not any(kconfig.get(o) in ("y", "m") for o in opts):
            absent[name] = "the kernel has no %s" % " or ".join(opts)
    for name, (sysctl, off) in PROBE_SWITCHES.items() if running else ():
        try:
            if open("/proc/sys/" + sysctl).read().strip() == off and name not in absent:
                absent[name] = "%s = %s on this machine" % (sysctl.replace("/", "."), off)
        except OSError:
            pass
    why = block_device_refused() if running else None
    if why:
        absent["mknod_block_device"] = why
    for abi, points in (entry_points(probe) if running and probe else {}).items():
        name = abi + "_syscalls"
        if not points and name not in absent:
            absent[name] = "this machine's kernel does not answer syscalls through its %s entry point" % abi
    if running and "sys_host_info" not in absent and not any(os.path.exists(p) for p in SYS_HOST_INFO):
        absent["sys_host_info"] = "this machine has none of %s" % ", ".join(SYS_HOST_INFO)
    return absent


# What the probe sys_host_info looks for (besides the thermal_throttle
# folders of the other CPUs).
SYS_HOST_INFO = ["/sys/class/dmi/id/product_uuid", "/sys/class/dmi/id/product_serial",
                 "/sys/class/dmi/id/board_serial", "/sys/devices/system/cpu/cpu0/thermal_throttle"]


def known_open(kconfig, running=False):
    """{probe: why} for gaps in bhc that are known and being fixed: there
    such a probe may print ESCAPED, which is reported as a skip that names
    the gap, not a failure. Once the probe prints BLOCKED the runner fails
    until its entry here is removed, so that the gap cannot reopen
    unseen."""
    gaps = {"shebang_proc_self_exe": "bhc's init execs the entrypoint from bhc's own binary, so a "
                                     "#!/proc/self/exe script runs the host's bhc inside the container, where "
                                     "its /proc/<pid>/exe is the host file (not in issue 17: a new finding)"}
    # The sanitizer build of bhc is linked dynamically: the kernel finds
    # none of its libraries in the container's rootfs, so there the probe
    # is BLOCKED for that reason alone, and the gap is not claimed closed.
    if bhbin.sanitized():
        del gaps["shebang_proc_self_exe"]
    return gaps


def check_blocked(t, where, text, absent, gaps=None):
    """TAP for a hardened container's probe report: every probe BLOCKED but
    those skipped by name (exactly the ones in absent) and those of a
    known gap (known_open) that print ESCAPED, and BLOCKED equal to the
    program's own total less those. Returns the names of the known gaps
    that escaped."""
    gaps = gaps or {}
    probes, summary = parse_probes(text)
    t.ok(summary is not None and summary["probes"] == len(probes),
         "%sthe probe program reports every probe it ran (%s)" % (where, summary), text[-3000:])
    skipped = {n for n, (st, _) in probes.items() if st == "SKIPPED"}
    t.ok(skipped == set(absent), "%sthe probes skipped are those whose kernel feature is absent" % where,
         "skipped %s, absent %s" % (sorted(skipped), sorted(absent)))
    open_now = set()
    for name, (st, why) in sorted(probes.items()):
        if st == "SKIPPED":
            t.skip("%sprobe %s" % (where, name), absent.get(name, "skipped without a reason"))
        elif name in gaps and st == "ESCAPED":
            open_now.add(name)
            t.skip("%sprobe %s" % (where, name), "ESCAPED, a known gap: %s; it printed: %s" % (gaps[name], why))
        elif name in gaps:
            t.ok(False, "%s%s %s, a known gap: take it off bhctest.known_open now" % (where, st, name),
                 gaps[name])
        else:
            t.ok(st == "BLOCKED", "%s%s %s" % (where, st, name), why)
    blocked = sum(1 for st, _ in probes.values() if st == "BLOCKED")
    total = summary["probes"] if summary else -1
    t.ok(blocked == total - len(skipped) - len(open_now),
         "%s%d of the program's %d probes BLOCKED, %d skipped, %d known gaps open" % (
             where, blocked, total, len(skipped), len(open_now)))
    return open_now


# What a runtime's binary prints for --version: run inside the container
# by a #!/proc/self/exe entrypoint, it reached the runtime's own binary.
RUNTIME_RAN = re.compile(r"^(bhc|runc|crun) version", re.M)
# What `bhc-probes --list` prints first: the file ran.
PROBES_RAN = re.compile(r"^inherited_fds$", re.M)


def add_libraries(rootfs, program):
    """Copies the shared libraries of a host program (ldd) into rootfs at
    their own paths, as a distribution's image carries them: so that the
    host's dynamically linked runc can run inside it, as the kernel does
    for a #!/proc/self/exe entrypoint."""
    p = subprocess.run(["ldd", program], capture_output=True, text=True)
    for lib in re.findall(r"(/\S+) \(0x", p.stdout):
        dest = os.path.join(rootfs, lib.lstrip("/"))
        os.makedirs(os.path.dirname(dest), exist_ok=True)
        shutil.copy(lib, dest)


def id_ranges(pid):
    """The host ids a process's user namespace maps: [(uid|gid, first, end)]."""
    ranges = []
    for kind in ("uid", "gid"):
        with open("/proc/%d/%s_map" % (pid, kind)) as f:
            for line in f:
                inside, outside, count = map(int, line.split())
                ranges.append((kind, outside, outside + count))
    return ranges


def shared_ids(a, b):
    """The host id ranges that two lists of id_ranges have in common, in words."""
    return ["%s %d-%d" % (k, max(f, g), min(e, h) - 1) for k, f, e in a for l, g, h in b
            if k == l and f < h and g < e]


def check_runner_probe(t, where, name, escaped, detail, gaps):
    """TAP for a probe that the runner makes (a container's config or its
    rootfs, not the probe program): as check_blocked for one probe."""
    if name in gaps and escaped:
        t.skip("%sprobe %s" % (where, name), "ESCAPED, a known gap: %s; it printed: %s" % (gaps[name], detail))
    elif name in gaps:
        t.ok(False, "%sBLOCKED %s, a known gap: take it off bhctest.known_open now" % (where, name), gaps[name])
    else:
        t.ok(not escaped, "%s%s %s" % (where, "ESCAPED" if escaped else "BLOCKED", name), detail)


def check_escaped(t, text, absent):
    """TAP for the positive control: in a weak container every probe but
    those skipped by name fires."""
    probes, summary = parse_probes(text)
    t.ok(summary is not None and summary["probes"] == len(probes) and len(probes) > 0,
         "control: the probe program reports every probe it ran (%s)" % summary, text[-3000:])
    for name, (st, why) in sorted(probes.items()):
        if st == "SKIPPED":
            t.skip("control: probe %s fires in a weak container" % name, absent.get(name, "?"))
        else:
            t.ok(st == "ESCAPED", "control: probe %s fires in a weak container%s"
                 % (name, " (%s)" % why if st == "ESCAPED" else ""), "%s %s" % (st, why))
    skipped = {n for n, (st, _) in probes.items() if st == "SKIPPED"}
    t.ok(skipped == set(absent), "control: the probes skipped are those whose kernel feature is absent",
         "skipped %s, absent %s" % (sorted(skipped), sorted(absent)))


# Capability names in the order of their bits.
CAPS = ["CAP_" + c for c in (
    "CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID KILL SETGID SETUID SETPCAP LINUX_IMMUTABLE "
    "NET_BIND_SERVICE NET_BROADCAST NET_ADMIN NET_RAW IPC_LOCK IPC_OWNER SYS_MODULE SYS_RAWIO "
    "SYS_CHROOT SYS_PTRACE SYS_PACCT SYS_ADMIN SYS_BOOT SYS_NICE SYS_RESOURCE SYS_TIME "
    "SYS_TTY_CONFIG MKNOD LEASE AUDIT_WRITE AUDIT_CONTROL SETFCAP MAC_OVERRIDE MAC_ADMIN SYSLOG "
    "WAKE_ALARM BLOCK_SUSPEND AUDIT_READ PERFMON BPF CHECKPOINT_RESTORE").split()]


def own_capabilities():
    """Every capability this process may hand on (its bounding set)."""
    bnd = int(re.search(r"^CapBnd:\s*([0-9a-f]+)", open("/proc/self/status").read(), re.M).group(1), 16)
    return [c for i, c in enumerate(CAPS) if bnd >> i & 1]


def weak_bundle(runc, path, rootfs, env, args=("/bin/bhc-probes",)):
    """A runc bundle as weak as a container gets, so that every probe has
    something to find: all capabilities (that the test holds), no seccomp, no masked or
    read-only paths, a writable root, no_new_privs off, every device
    allowed and the host's /dev, /sys and cgroups writable, and the
    host's pid and network namespaces (the probes looking for host
    processes, the runtime, /proc/1/root, abstract sockets and host
    interfaces need them). Its own mount, uts and ipc namespaces keep
    the probes' mounts and hostname off the host."""
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    subprocess.run([runc, "spec"], cwd=path, check=True)
    cfgp = os.path.join(path, "config.json")
    with open(cfgp) as f:
        cfg = json.load(f)
    cfg["root"] = {"path": os.path.realpath(rootfs), "readonly": False}
    proc = cfg["process"]
    proc.update(terminal=False, args=list(args), noNewPrivileges=False)
    proc["env"] = proc.get("env", []) + ["BHC_PROBE_NOT_PID1=1"] + list(env)
    proc["capabilities"] = {k: own_capabilities() for k in ("bounding", "effective", "permitted", "inheritable",
                                                        "ambient")}
    proc.pop("rlimits", None)
    lx = cfg["linux"]
    lx.update(maskedPaths=[], readonlyPaths=[])
    lx.pop("seccomp", None)
    lx["namespaces"] = [{"type": n} for n in ("mount", "uts", "ipc")]
    lx.setdefault("resources", {})["devices"] = [{"allow": True, "access": "rwm"}]
    mounts = []
    for m in cfg["mounts"]:
        if m["destination"].startswith("/dev"):
            continue
        if m["type"] in ("sysfs", "cgroup"):
            m["options"] = [o for o in m.get("options", []) if o != "ro"] + ["rw"]
        mounts.append(m)
    mounts.append({"destination": "/dev", "type": "bind", "source": "/dev", "options": ["rbind", "rw"]})
    cfg["mounts"] = mounts
    with open(cfgp, "w") as f:
        json.dump(cfg, f, indent=1)
    return path


def arch_of(out):
    try:
        with open(os.path.join(out, ".config")) as f:
            for line in f:
                if line.startswith("BH_ARCH="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return None


def host_output():
    """A built O folder whose target is the build host's architecture, so
    that its static bhc and BusyBox run here: BH_OUTPUT if it fits, else
    another configuration that tests/run built, or None."""
    import platform
    machine = platform.machine()
    cands = [os.environ.get("BH_OUTPUT", "")]
    tests_out = os.environ.get("BH_TESTS_OUTPUT")
    if tests_out:
        cands += [os.path.join(tests_out, n) for n in ("qemu_x86_64_debug", "qemu_x86_64", "qemu_aarch64_debug",
                                                        "qemu_aarch64")]
    for c in cands:
        if c and arch_of(c) == machine:
            return c
    return None


def prepare_or_skip(tap, tmp, what, probe_files=False):
    """prepare(), or a counted skip of `what` with its reason and the end
    of the test."""
    ready, why = prepare(tap, tmp, probe_files)
    if not ready:
        tap.skip(what, why)
        tap.done()
    return ready


def prepare(tap, tmp, probe_files=False):
    """Everything a host test needs, or a skip reason: (bhc, rootfs, out);
    probe_files as for make_rootfs."""
    if os.geteuid() != 0:
        return None, "needs root (namespaces, id maps)"
    out = host_output()
    if not out:
        return None, "no built configuration for this machine's architecture"
    bhc = bhbin.program("bhc", lambda: build_bhc(out))
    if not bhc:
        return None, bhbin.missing_reason("bhc")
    subprocess.run(["make", "-s", "-C", TOP, "O=" + out, "busybox"], check=True, capture_output=True)
    probe = build_static(out, "probes.c", os.path.join(tmp, "bhc-probes"))
    rootfs = make_rootfs(os.path.join(tmp, "rootfs"), busybox(out), [probe], probe_files)
    return (bhc, rootfs, out), None


PODMAN_FIXTURE = os.path.join(TOP, "tests", "fixtures", "oci", "podman-config.json")
PODMAN_TMP = "/var/tmp/bhc-podman/"
PODMAN_SCRIPT = ("cat /proc/mounts; cat /var/cache/keep/file; cat /data/from-host; echo hostname $(hostname); "
                 "cat /etc/hostname; echo pids.max $(cat /sys/fs/cgroup/pids.max)")


def podman_config_for(where, dest):
    """podman's config.json (tests/fixtures/oci) moved to `where` in the
    booted image, as a user moving the bundle would: root.path
    (<where>/rootfs, or <where>/scratch with only /bin), process.args, the
    host paths of its volume and of podman's own files (<where>/host/...),
    and cgroupsPath (podman's is outside /workloads). Written to
    dest/full.json and dest/scratch.json; returns the fixture."""
    with open(PODMAN_FIXTURE) as f:
        fixture = json.load(f)
    os.makedirs(dest, exist_ok=True)
    for name, rootfs in (("full", "rootfs"), ("scratch", "scratch")):
        cfg = json.loads(json.dumps(fixture))
        cfg["root"]["path"] = "%s/%s" % (where, rootfs)
        cfg["process"]["args"] = ["/bin/sh", "-c", PODMAN_SCRIPT]
        cfg["linux"]["cgroupsPath"] = "/workloads/pm-" + name
        for m in cfg["mounts"]:
            if m.get("source", "").startswith(PODMAN_TMP):
                m["source"] = "%s/host/%s" % (where, os.path.basename(m["source"]))
        with open(os.path.join(dest, name + ".json"), "w") as f:
            json.dump(cfg, f)
    return fixture
