#!/usr/bin/python3
"""Workloads on the booted image: the demo container and the demo microVM
run side by side and answer HTTP through the gateway's forwarded ports; a
crashed workload is restarted; bundles installed with bhctl run; a bundle
with a flipped byte, one signed by an unknown key and one without an SBOM
are refused with their reason and leave nothing behind; a container can
neither see nor reach bhd's socket; two containers whose manifests name
the same volume get folders of their own and see only their own data; the
SBOMs are stored and verify; and
everything comes back after a reboot.

Production images (no shell): the demo workloads answer HTTP. Debug images:
everything.

Environment: BH_OUTPUT, the O folder of a built image.
"""
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tarfile
import tempfile
import time
import urllib.request

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
sys.path.insert(0, os.path.dirname(__file__))
from tap import Tap  # noqa: E402
from qemu import Machine, Timeout  # noqa: E402
from ports import free_port  # noqa: E402
import image  # noqa: E402
import schemas  # noqa: E402

t = Tap()
out = os.environ["BH_OUTPUT"]
cfg = image.config(out)
debug = cfg["BH_PROFILE"] == "debug"
arm = cfg["BH_ARCH"] == "aarch64"
# A nested Linux guest under TCG is slow, on ARM64 much slower.
VM_BOOT = 600 if arm else 240
if cfg.get("BH_DEMO_WORKLOADS") != "y":
    t.skip("the demo workloads on the booted image",
           "this image has no demo workloads (BH_DEMO_WORKLOADS is off on real hardware's boards)")
    t.done()
images = os.path.join(out, "images")
tmp = tempfile.mkdtemp(prefix="bh-wl-")
bhpack = os.path.join(out, "host", "bin", "bhpack")
key = os.path.join(TOP, "board", "common", "keys", "bulkhead-TEST-ONLY-vendor.key.pem")


web_port, vm_port = free_port(), free_port()


def http(port, timeout=120):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d/" % port, timeout=10) as r:
                return r.read().decode()
        except Exception as e:  # not up yet
            last = e
            time.sleep(2)
    raise Timeout("no HTTP answer on port %d within %ds: %s" % (port, timeout, last))


def wait_log(m, name, pattern, timeout):
    """Until bhctl logs NAME holds a line matching pattern."""
    deadline = time.monotonic() + timeout
    while True:
        st, o = m.shell("bhctl logs %s" % name)
        if re.search(pattern, o):
            return o
        if time.monotonic() > deadline:
            raise Timeout("bhctl logs %s: no %r within %ds: %s" % (name, pattern, timeout, o[-500:]))
        time.sleep(1)


def payload():
    """A squashfs of test bundles, built here with bhpack like a vendor's."""
    v = image.make_vars(out, "TARGET_CC", "TARGET_CFLAGS", "TARGET_LDFLAGS", "DEMO_DIR")
    d = os.path.join(tmp, "payload")
    os.makedirs(d)

    def build(name, manifest, extra, sign_key=key):
        mpath = os.path.join(tmp, name + ".json")
        json.dump(manifest, open(mpath, "w"))
        subprocess.run([bhpack, "build", "--manifest", mpath, "--key", sign_key, "--arch", cfg["BH_ARCH"],
                        "-o", os.path.join(d, name + ".bundle")] + extra, check=True, capture_output=True)

    # A container that probes for bhd's socket from inside.
    probe = os.path.join(tmp, "probe.c")
    open(probe, "w").write(r'''
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>
int main(void) {
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    struct stat st;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0), r;
    setvbuf(stdout, NULL, _IONBF, 0);
    r = stat("/run/bulkhead/bhd.sock", &st);
    printf("probe: stat bhd.sock: %s\n", r == 0 ? "VISIBLE" : strerror(errno));
    strcpy(sa.sun_path, "/run/bulkhead/bhd.sock");
    r = connect(fd, (struct sockaddr *)&sa, sizeof(sa));
    printf("probe: connect bhd.sock: %s\n", r == 0 ? "CONNECTED" : strerror(errno));
    printf("probe: uid %d, done\n", (int)getuid());
    for (;;) pause();
}
''')
    root = os.path.join(tmp, "probe-root", "bin")
    os.makedirs(root)
    cc = v["TARGET_CC"].split()
    subprocess.run(cc + v["TARGET_CFLAGS"].split() + v["TARGET_LDFLAGS"].split() + ["-o", os.path.join(root, "probe"), probe],
                   check=True, capture_output=True)
    build("probe", {"name": "probe", "mode": "container", "container": {"args": ["/bin/probe"]}},
          ["--rootfs", os.path.dirname(root)])
    # Two containers whose manifests name the same volume ("data") at the
    # same path (/vol): each lists /vol when it starts and whenever that
    # changes, and writes its own secret into it.
    volcheck = os.path.join(tmp, "volcheck.c")
    open(volcheck, "w").write(r'''
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
static void list(const char *me, char *seen, size_t len) {
    char now[1024] = "";
    DIR *d = opendir("/vol");
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.' && strlen(now) + strlen(e->d_name) + 2 < sizeof(now)) {
            strcat(now, " ");
            strcat(now, e->d_name);
        }
    if (d)
        closedir(d);
    if (strcmp(now, seen)) {
        printf("volcheck %s: /vol holds:%s\n", me, d ? (*now ? now : " nothing") : " (no /vol)");
        snprintf(seen, len, "%s", now);
    }
}
int main(int argc, char **argv) {
    char path[256], seen[1024] = "-";
    FILE *f;
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc != 2)
        return 2;
    list(argv[1], seen, sizeof(seen));
    snprintf(path, sizeof(path), "/vol/secret-of-%s", argv[1]);
    f = fopen(path, "w");
    printf("volcheck %s: write %s: %s\n", argv[1], path,
           f && fprintf(f, "secret of %s\n", argv[1]) > 0 && fclose(f) == 0 ? "done" : strerror(errno));
    for (;;) {
        list(argv[1], seen, sizeof(seen));
        sleep(1);
    }
}
''')
    root = os.path.join(tmp, "volcheck-root", "bin")
    os.makedirs(root)
    subprocess.run(cc + v["TARGET_CFLAGS"].split() + v["TARGET_LDFLAGS"].split() +
                   ["-o", os.path.join(root, "volcheck"), volcheck], check=True, capture_output=True)
    for name in ("vol-a", "vol-b"):
        build(name, {"name": name, "mode": "container", "container": {"args": ["/bin/volcheck", name]},
                     "volumes": [{"name": "data", "path": "/vol"}]}, ["--rootfs", os.path.dirname(root)])
    # A second VM from the demo's kernel and initramfs, under another name.
    vmdir = os.path.join(v["DEMO_DIR"], "vm")
    vm_manifest = json.load(open(os.path.join(vmdir, "demo-vm.json")))
    vm_manifest.update(name="test-vm", network={"mode": "none"})
    build("test-vm", vm_manifest, ["--kernel", os.path.join(out, "images", image.kernel_name(cfg)),
                                   "--initrd", os.path.join(vmdir, "initrd.gz")])
    # Refused ones: a flipped byte, an unknown key, no SBOM.
    good = os.path.join(d, "probe.bundle")
    data = bytearray(open(good, "rb").read())
    data[len(data) // 2] ^= 1
    open(os.path.join(d, "flipped.bundle"), "wb").write(data)
    subprocess.run([bhpack, "keygen", "--private", os.path.join(tmp, "rogue.pem"), "--public",
                    os.path.join(tmp, "rogue.pub.pem")], check=True, capture_output=True)
    build("rogue", {"name": "rogue", "mode": "container", "container": {"args": ["/bin/probe"]}},
          ["--rootfs", os.path.dirname(root)], sign_key=os.path.join(tmp, "rogue.pem"))
    nosbom = os.path.join(tmp, "nosbom.tar")
    with tarfile.open(good) as tf, tarfile.open(nosbom, "w", format=tarfile.USTAR_FORMAT) as o:
        for m in tf.getmembers():
            if m.name != "sbom.spdx.json":
                o.addfile(m, tf.extractfile(m))
    subprocess.run([bhpack, "sign", "--key", key, nosbom, "-o", os.path.join(d, "nosbom.bundle")],
                   check=True, capture_output=True)
    sq = os.path.join(tmp, "payload.sqfs")
    subprocess.run(["mksquashfs", d, sq, "-quiet", "-no-progress", "-all-root"], check=True, capture_output=True)
    return sq


extra = []
if debug:
    sq = payload()
    extra = ["-drive", "file=%s,if=none,id=payload,format=raw,readonly=on" % sq,
             "-device", "virtio-blk-pci,drive=payload,serial=payload"]
data_img = os.path.join(tmp, "data.img")
env = dict(os.environ, BULKHEAD_DATA=data_img,
           BULKHEAD_HOSTFWD="tcp:127.0.0.1:%d-:8080,tcp:127.0.0.1:%d-:8081" % (web_port, vm_port))

with Machine(images, extra_args=extra, env=env, log_path=os.path.join(out, "e2e-workloads.log")) as m:
    try:
        m.expect(r"bhd: ready", 300)
        m.expect(r"bhd: installed demo-web", 120, since=0)
        m.expect(r"bhd: installed demo-vm", 120, since=0)
        t.ok(True, "bhd installs the image's demo bundles on first boot")
    except Timeout as e:
        t.ok(False, "bhd installs the image's demo bundles on first boot", str(e))
        t.done()
    t.run("the demo container answers HTTP through the forwarded port",
          lambda: "Hello from the Bulkhead demo container" in http(web_port))
    if debug:
        try:
            m.expect(r"demo-vm: hello from the guest kernel 6\.12", VM_BOOT, since=0)
            t.ok(True, "the demo microVM boots its own kernel (its console copied to the debug "
                 "image's console)")
        except Timeout as e:
            t.ok(False, "the demo microVM boots its own kernel (its console copied to the debug "
                 "image's console)", str(e))
    t.run("the demo microVM answers HTTP through the forwarded port",
          lambda: "Hello from the Bulkhead demo VM" in http(vm_port, VM_BOOT))
    if not debug:
        # Issue 17: bhd keeps a workload's output in its log (bhctl logs),
        # and copies it to the console only with --workload-output-console.
        # (The console is read while waiting for bhd's line.)
        try:
            m.expect(r"bhd: started demo-vm", 120, since=0)
        except Timeout:
            pass
        t.ok("hello from the guest kernel" not in m.text() and "bhd: started demo-vm" in m.text(),
             "a production image does not copy the workloads' output to the console",
             "\n".join(l for l in m.text().splitlines() if "demo-vm" in l)[-1500:])
    t.run("and the container still answers: both run at once",
          lambda: "demo container" in http(web_port, 30))
    if debug:
        m.send("\n")
        m.expect(r"# ", 30)
        st, o = m.shell("bhctl list")
        t.ok(re.search(r"demo-web\s+container\s+running", o) and re.search(r"demo-vm\s+vm\s+running", o),
             "bhctl list shows both running", o)
        st, o = m.shell("bhctl logs demo-vm")
        t.ok(st == 0 and "hello from the guest kernel" in o, "bhctl logs shows the VM's console", o[-800:])

        # A crash: the container's program is killed; bhd starts it again.
        pos = m.mark()
        m.shell("kill -9 $(pidof demo-httpd)")
        t.run("a crashed workload is restarted", m.expect, r"bhd: restarting demo-web", 60, pos)
        t.run("and answers again", lambda: "demo container" in http(web_port, 60))

        # Bundles from the payload disk.
        m.shell("mkdir -p /tmp/payload && for d in /sys/class/block/*; do [ \"$(cat $d/serial 2>/dev/null)\" = payload ]"
                " && mount -t squashfs -o ro /dev/${d##*/} /tmp/payload; done")
        for name, reason in (("flipped", "does not match its signed hash|is not .* as its index says|not a bundle"),
                             ("rogue", "signed by an unknown key"),
                             ("nosbom", "has no SBOM")):
            st, o = m.shell("bhctl install /tmp/payload/%s.bundle" % name)
            t.ok(st != 0 and re.search(reason, o), "bundle %s is refused: %s" % (name, reason), o)
        st, o = m.shell("ls -A /data/workloads /data/manifests /data/sbom | sort | tr '\\n' ' '")
        t.ok("rogue" not in o and "probe" not in o and ".tmp" not in o,
             "a refused bundle leaves nothing behind in /data", o)
        pos = m.mark()
        st, o = m.shell("bhctl install /tmp/payload/probe.bundle")
        t.ok(st == 0 and "installed probe" in o, "bhctl install installs a signed container bundle", o)
        m.expect(r"probe: uid \d+, done", 60, pos)
        text = m.text()[pos:]
        t.ok("probe: stat bhd.sock: No such file or directory" in text and
             "probe: connect bhd.sock: No such file or directory" in text,
             "a container cannot see or reach bhd.sock", "\n".join(l for l in text.splitlines() if "probe:" in l))
        pos = m.mark()
        st, o = m.shell("bhctl install /tmp/payload/test-vm.bundle")
        t.ok(st == 0 and "installed test-vm" in o, "bhctl install installs a signed VM bundle", o)
        t.run("the installed VM boots", m.expect, r"test-vm: demo-vm: hello from the guest kernel", VM_BOOT, pos)
        st, o = m.shell("bhctl list")
        running = re.findall(r"^(\S+)\s+\S+\s+running", o, re.M)
        t.ok({"demo-web", "demo-vm", "probe", "test-vm"} <= set(running),
             "two containers and two VMs run side by side", o)

        # Two containers at once whose manifests name the same volume at
        # the same path (issue 17's escape class "volumes not shared"):
        # each gets a folder of its own under /data/volumes/<workload>/,
        # owned by its own uid range, and neither sees or changes the
        # other's data. vol-b starts after vol-a has written its secret.
        vols = {}
        for name in ("vol-a", "vol-b"):
            st, o = m.shell("bhctl install /tmp/payload/%s.bundle" % name)
            t.ok(st == 0 and "installed " + name in o, "bhctl install installs %s (volume data at /vol)" % name, o)
            try:
                wait_log(m, name, r"volcheck %s: write /vol/secret-of-%s: done" % (name, name), 60)
            except Timeout as e:
                t.diag(str(e))
        time.sleep(3)
        for name in ("vol-a", "vol-b"):
            st, vols[name] = m.shell("bhctl logs %s | grep volcheck" % name)
        st, host = m.shell("for w in vol-a vol-b; do d=/data/volumes/$w/data; echo $w $(stat -c '%u:%g' $d) "
                           "$(ls -A $d | tr '\\n' ' '); done")
        seen = {l.split()[0]: (l.split()[1], l.split()[2:]) for l in host.splitlines() if len(l.split()) >= 2}
        t.ok(set(seen) == {"vol-a", "vol-b"} and seen["vol-a"][0] != seen["vol-b"][0]
             and all(seen[w][1] == ["secret-of-" + w] for w in seen),
             "the same volume name gets a host folder of its own per workload (/data/volumes/vol-a/data, "
             "/data/volumes/vol-b/data), owned by each one's uid range, each holding only its own secret", host)
        t.ok("volcheck vol-b: /vol holds: nothing" in vols["vol-b"] and "secret-of-vol-a" not in vols["vol-b"],
             "vol-b, started after vol-a wrote its secret, does not see vol-a's data in its /vol",
             vols["vol-b"])
        # What each one's /vol holds now (its last listing): its own
        # secret, readable, and nothing else.
        last = {w: (re.findall(r"^volcheck %s: /vol holds: (.*)$" % w, vols[w], re.M) or ["no listing"])[-1]
                for w in vols}
        t.ok(last["vol-a"] == "secret-of-vol-a" and "secret-of-vol-b" not in vols["vol-a"],
             "vol-a does not see vol-b's write in its /vol, and still reads its own (%s)" % last["vol-a"],
             vols["vol-a"])
        t.ok(last["vol-b"] == "secret-of-vol-b", "vol-b's /vol holds its own secret only (%s)" % last["vol-b"],
             vols["vol-b"])
        st, o = m.shell("cat /data/volumes/vol-a/data/secret-of-vol-a /data/volumes/vol-b/data/secret-of-vol-b")
        t.ok(o.splitlines() == ["secret of vol-a", "secret of vol-b"], "each one's secret is its own", o)
        # A workload's uid range follows its entry in bhd's table (the
        # first free one): removed (volumes kept) and installed again in
        # the other order, vol-a and vol-b trade ranges. What each left in
        # its volume moves along, so each can still write its own file,
        # and nothing in it stays in the range the other now has.
        st, before = m.shell("stat -c '%u' /data/volumes/vol-a/data /data/volumes/vol-b/data")
        st, o = m.shell("bhctl remove vol-a && bhctl remove vol-b", timeout=120)
        t.ok(st == 0, "bhctl remove vol-a and vol-b (their volumes are kept)", o)
        pos = m.mark()
        for name in ("vol-b", "vol-a"):
            st, o = m.shell("bhctl install /tmp/payload/%s.bundle" % name)
            t.ok(st == 0 and "installed " + name in o, "bhctl install %s again" % name, o)
        writes = {}
        for name in ("vol-a", "vol-b"):
            try:  # up to the line's end: the console arrives in pieces
                w = m.expect(r"volcheck %s: write /vol/secret-of-%s: (\w[^\r\n]*)[\r\n]" % (name, name), 60, pos)
                writes[name] = w.group(1).decode()
            except Timeout:
                writes[name] = "no write seen"
        st, after = m.shell("stat -c '%u' /data/volumes/vol-a/data /data/volumes/vol-b/data; "
                            "stat -c '%n %u:%g' /data/volumes/vol-a/data/* /data/volumes/vol-b/data/*")
        owners = after.splitlines()
        files = dict(l.split() for l in owners[2:] if len(l.split()) == 2)
        moved = len(owners) == 4 and all(
            files.get("/data/volumes/%s/data/secret-of-%s" % (w, w)) == "%s:%s" % (owners[i], owners[i])
            for i, w in enumerate(("vol-a", "vol-b")))
        t.ok(before.splitlines() != owners[:2] and moved,
             "the reinstall gave vol-a and vol-b other uid ranges (%s, then %s), and their files moved along"
             % (" ".join(before.splitlines()), " ".join(owners[:2])), after)
        t.ok(writes == {"vol-a": "done", "vol-b": "done"},
             "after changing ranges each still writes its own file in its volume (%s)" % writes,
             "\n".join(l for l in m.text().splitlines() if "volume data" in l or "volcheck" in l)[-1500:])
        t.ok(re.search(r"bhd: vol-b: volume data: 1 files moved from uid range \d+ to \d+", m.text()) is not None,
             "bhd says it moved vol-b's volume to its new range (vol-b always gets a lower entry)",
             "\n".join(l for l in m.text().splitlines() if "volume data" in l)[-800:])

        # SBOMs: stored, valid, and verified with the image's.
        st, o = m.shell("bhctl sbom demo-web")
        try:
            doc = json.loads(o)
            err = schemas.validate_spdx(doc)
        except ValueError as e:
            err = str(e)
        t.ok(err is None, "a workload's SBOM (bhctl sbom) is valid SPDX 2.3", err)
        st, o = m.shell("ls /data/sbom")
        t.ok(all(n + ".spdx.json" in o for n in ("demo-web", "demo-vm", "probe", "test-vm")),
             "every workload's SBOM is stored in /data/sbom", o)
        st, o = m.shell("bhsbom verify")
        t.ok(st == 0 and re.search(r"0 modified, 0 missing, 0 unlisted", o),
             "bhsbom verify covers the image and the workloads", o[-1500:])
        # The VM's initrd, not a running program (that would be ETXTBSY).
        st, o = m.shell("echo tampered >> /data/workloads/test-vm/initrd")
        t.ok(st == 0, "a workload file can be changed by root (to test detection)", o)
        st, o = m.shell("bhsbom verify")
        t.ok(st == 1 and "modified /data/workloads/test-vm/initrd" in o,
             "a changed workload file is found", o[-800:])

        # Everything comes back after a reboot.
        pos = m.mark()
        m.send("reboot\n")
        t.run("the gateway reboots", m.expect, r"Linux version", 120, pos)
        m.expect(r"bhd: ready", 300)
        t.run("the container is back after the reboot", lambda: "demo container" in http(web_port, 180))
        t.run("the microVM is back after the reboot", lambda: "demo VM" in http(vm_port, VM_BOOT))
        # Issue 17 item 4: the files are checked against the SBOM before the
        # first start after boot; the VM whose initrd was changed above
        # is not started.
        try:
            m.expect(r"bhd: test-vm: not started", 120, pos)
        except Timeout:
            pass
        text = m.text()[pos:]
        costs = re.findall(r"bhd: (\S+): (\d+) files match its SBOM \((\d+) ms\)", text)
        t.diag("checked before the first start: %s" % ", ".join("%s %s files in %s ms" % c for c in costs))
        t.ok({"demo-web", "demo-vm", "probe"} <= {c[0] for c in costs},
             "after a reboot each workload's files are checked against its SBOM before it starts", text[-1500:])
        t.ok(re.search(r"bhd: test-vm: not started: 1 of its files differ from its SBOM "
                       r"\(modified data/workloads/test-vm/initrd\)", text) is not None
             and not re.search(r"bhd: started test-vm", text),
             "a workload whose files were changed offline is not started after the reboot",
             "\n".join(l for l in text.splitlines() if "test-vm" in l)[-1500:])
    m.qmp("quit")
shutil.rmtree(tmp, ignore_errors=True)
t.done()
