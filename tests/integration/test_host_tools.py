#!/usr/bin/python3
"""Every program the build and the tests call is installed by
support/host-tools.sh or comes with every Debian (its essential set).

It also reads the kernel fragments: the compressor that CONFIG_KERNEL_*
names is called by the kernel's own build (a fresh machine had no zstd).

A fresh machine has only Debian's essential packages; a developer's machine
has whatever was once installed by hand. So this reads the commands that
the recipes (*.mk), the shell scripts and the Python scripts of the tree
call, finds the Debian package that provides each one on this machine
(dpkg -S), and requires that package to be one host-tools.sh installs or
an essential one. tests/fresh/run proves the same on a clean Debian root;
this is its cheap, static half for make check.

What it reads:
- recipe lines and $(shell ...) of every .mk file and the Makefile, and
  every shell script (*.sh, *.sh.in, the extensionless ones that start with
  #!/bin/sh): each word in command position (start of a command, after
  && || ; | ( $( ` and the shell keywords);
- Python: the first element of a list literal passed to subprocess.run,
  Popen, check_output, check_call, call, and the name given to
  shutil.which.
Shell functions defined in a script, make's own functions, case patterns,
heredoc bodies and quoted text are not commands.
"""
import glob
import os
import re
import shutil
import subprocess
import sys

TOP = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(TOP, "tests", "lib"))
from tap import Tap  # noqa: E402

KEYWORDS = set("if then else elif fi for while until do done case esac in function "
               "time ! { } [[ ]] select".split())
BUILTINS = set(". : [ alias bg bind break builtin caller cd command compgen complete "
               "continue declare dirs disown echo enable eval exec exit export false fc "
               "fg getopts hash help history jobs kill let local logout mapfile popd "
               "printf pushd pwd read readarray readonly return set shift shopt source "
               "suspend test times trap true type typeset ulimit umask unalias unset "
               "wait".split())
# Words after which the next word is a command again.
PREFIXES = {"exec", "xargs", "command", "nice", "env", "sudo", "$sudo", "faketime",
            "timeout", "flock", "then", "do", "else", "time", "!"}
MAKE_FUNCTIONS = set("abspath addprefix addsuffix and basename call dir error eval file "
                     "filter filter-out findstring firstword foreach guile if info "
                     "join lastword notdir or origin patsubst realpath shell sort strip "
                     "subst suffix value warning wildcard word wordlist words".split())
# The tree's own folders: scripts here are the project's, not host tools.
# tests/fresh/ sets up its own root; the OCI fixtures' regenerate scripts
# are run by hand, with runc, containerd and podman that neither the build
# nor the tests need (they say so at their top): neither is make's.
SKIP_DIRS = ("/output", "/.git/", "/tests/fresh/", "/tests/fixtures/oci/regenerate")


def shell_commands(text):
    """Words in command position of shell `text` (heredocs, comments and
    single-quoted text already removed by the caller)."""
    toks = re.findall(r'\$\(\(|\)\)|\$\(|\)|&&|\|\||;;|[;|&(){}`\n]|"|[^\s;|&(){}`"]+', text)
    out, cmdpos, quoted, arith = [], True, False, 0
    for i, tk in enumerate(toks):
        if tk == "$((":
            arith += 1
            continue
        if tk == "))" and arith:
            arith -= 1
            continue
        if arith:
            continue
        if tk == '"':
            quoted = not quoted
            cmdpos = False
            continue
        if tk in ("$(", "`"):
            cmdpos = True
            continue
        if quoted:
            continue
        if tk in ("&&", "||", ";", ";;", "|", "&", "(", "{", "\n"):
            cmdpos = True
            continue
        if tk in (")", "}"):
            cmdpos = False
            continue
        if not cmdpos:
            continue
        nxt = toks[i + 1] if i + 1 < len(toks) else ""
        if nxt == ")" or tk.endswith(")"):  # a case pattern
            cmdpos = False
            continue
        if tk in ("for", "case", "select"):
            cmdpos = False  # a variable or a word follows, not a command
            continue
        if tk in KEYWORDS and tk not in PREFIXES:
            continue
        if re.match(r"^[A-Za-z_][A-Za-z0-9_]*\+?=", tk) or re.match(r"^[0-9]*[<>]", tk):
            continue
        cmdpos = tk in PREFIXES
        if not cmdpos:
            out.append(tk)
    return out


def strip_quotes_and_comments(text):
    """Shell text without comments and single-quoted strings (outside
    double quotes, where a ' is only a character)."""
    out, i, dq = [], 0, False
    while i < len(text):
        c = text[i]
        if c == "\\":
            out.append(text[i:i + 2])
            i += 2
            continue
        if c == '"':
            dq = not dq
        elif not dq and c == "'":
            j = text.find("'", i + 1)
            out.append("''")
            i = len(text) if j < 0 else j + 1
            continue
        elif not dq and c == "#" and (i == 0 or text[i - 1] in " \t\n;"):
            j = text.find("\n", i)
            i = len(text) if j < 0 else j
            continue
        out.append(c)
        i += 1
    return "".join(out)


def strip_shell(text):
    """Remove heredoc bodies, comments and single-quoted strings."""
    out, heredoc = [], None
    for line in text.split("\n"):
        if heredoc:
            if line.strip() == heredoc:
                heredoc = None
            continue
        m = re.search(r"<<-?\s*'?\"?([A-Za-z_]+)", line)
        if m:
            heredoc = m.group(1)
        out.append(line)
    return strip_quotes_and_comments("\n".join(out))


def make_shell(path):
    """The shell text of a makefile: its recipe lines and $(shell ...) calls,
    with make's own syntax taken out."""
    text = open(path).read().replace("\\\n", " ")
    parts = [line[1:] for line in text.split("\n") if line.startswith("\t")]
    parts += [m.group(1) for m in re.finditer(r"\$\(shell ([^\n]*)", text)]
    s = "\n".join(parts).replace("$$", "\0")
    s = re.sub(r"\$\(foreach [^,]*,[^,]*,", "(", s)       # a foreach body is a command list
    s = re.sub(r"\$\((?:" + "|".join(MAKE_FUNCTIONS) + r") ", "$(:", s)
    s = s.replace("\0", "$")
    s = re.sub(r"^[@+-]+", "", s, flags=re.M)
    return strip_shell(s.replace("$(Q)", ""))


def python_commands(text):
    rx = r"subprocess\.(?:run|Popen|check_output|check_call|call)\(\s*\[\s*\"([A-Za-z0-9_.+-]+)\""
    return re.findall(rx, text) + re.findall(r"shutil\.which\(\"([^\"]+)\"\)", text)


def is_shell_script(path):
    try:
        with open(path, "rb") as f:
            return re.match(rb"#!\s*/bin/(ba)?sh", f.readline() or b"") is not None
    except OSError:
        return False


def calls():
    """{command: set of files that call it}"""
    found = {}
    tracked = subprocess.run(["git", "-C", TOP, "ls-files"], capture_output=True,
                             text=True).stdout.split()
    files = [os.path.join(TOP, f) for f in tracked]
    files += [f for f in glob.glob(os.path.join(TOP, "**", "*"), recursive=True)
              if os.path.isfile(f) and os.path.relpath(f, TOP) not in tracked]
    for path in sorted(set(files)):
        rel = "/" + os.path.relpath(path, TOP)
        if any(d in rel for d in SKIP_DIRS) or not os.path.isfile(path):
            continue
        name = os.path.basename(path)
        if name.endswith(".mk") or name == "Makefile":
            words = shell_commands(make_shell(path))
        elif name.endswith((".sh", ".sh.in")) or is_shell_script(path):
            text = strip_shell(open(path, errors="replace").read())
            functions = set(re.findall(r"^\s*([A-Za-z_][A-Za-z0-9_]*)\s*\(\)", text, re.M))
            words = [w for w in shell_commands(text) if w not in functions]
        elif name.endswith(".py") or open(path, "rb").readline().startswith(b"#!/usr/bin/python"):
            words = python_commands(open(path, errors="replace").read())
        else:
            continue
        for w in words:
            if w in BUILTINS or w in MAKE_FUNCTIONS or not re.match(r"^(/usr)?[a-z/][A-Za-z0-9_./+-]*$", w):
                continue
            if "/" in w and not w.startswith("/usr/bin/"):
                continue  # the project's own scripts and programs
            if len(w) == 1:
                continue  # a loop variable of $(foreach)
            found.setdefault(w, set()).add(os.path.relpath(path, TOP))
    return found


def host_tools():
    """(probes, packages) listed by support/host-tools.sh."""
    text = open(os.path.join(TOP, "support", "host-tools.sh")).read()
    block = re.search(r"^tools='\n(.*?)^'", text, re.M | re.S).group(1)
    pairs = [line.split() for line in block.splitlines() if line.strip()]
    return {p[0] for p in pairs}, {p[1] for p in pairs}


def with_dependencies(packages):
    """The packages and everything they depend on, as installed here:
    installing a package installs those too."""
    seen, todo = set(), list(packages)
    while todo:
        pkg = todo.pop()
        if pkg in seen:
            continue
        seen.add(pkg)
        out = subprocess.run(["dpkg-query", "-W", "-f", "${Depends}, ${Pre-Depends}", pkg],
                             capture_output=True, text=True).stdout
        for alt in out.split(","):
            for dep in alt.split("|"):
                name = dep.strip().split(" ")[0].split(":")[0]
                if name:
                    todo.append(name)
    return seen


def essential_packages():
    out = subprocess.run(["dpkg-query", "-W", "-f", "${Package} ${Essential}\n"],
                         capture_output=True, text=True, check=True).stdout
    return {line.split()[0] for line in out.splitlines() if line.endswith(" yes")}


def package_of(path):
    p = subprocess.run(["dpkg", "-S", os.path.realpath(path)], capture_output=True, text=True)
    if p.returncode != 0:
        # A merged /usr: the package may list /bin/x for /usr/bin/x.
        alt = re.sub(r"^/usr/", "/", os.path.realpath(path))
        p = subprocess.run(["dpkg", "-S", alt], capture_output=True, text=True)
    if p.returncode != 0:
        return None
    return {w.split(":")[0] for w in p.stdout.split(": ", 1)[0].split(", ")}


# Programs the kernel's own build calls, chosen by our configuration rather
# than written in our recipes: the compressor of the kernel image.
KERNEL_COMPRESSORS = {"GZIP": "gzip", "BZIP2": "bzip2", "LZMA": "lzma", "XZ": "xz",
                      "LZO": "lzop", "LZ4": "lz4", "ZSTD": "zstd"}


def kernel_calls(found):
    for frag in sorted(glob.glob(os.path.join(TOP, "board", "*", "linux*.fragment"))):
        with open(frag) as f:
            for m in re.finditer(r"^CONFIG_KERNEL_([A-Z0-9]+)=y", f.read(), re.M):
                if m.group(1) in KERNEL_COMPRESSORS:
                    found.setdefault(KERNEL_COMPRESSORS[m.group(1)], set()).add(
                        "the kernel's build (CONFIG_KERNEL_%s in %s)"
                        % (m.group(1), os.path.relpath(frag, TOP)))


t = Tap()
found = calls()
kernel_calls(found)
probes, packages = host_tools()
essential = essential_packages()
installed = with_dependencies(packages)
t.ok(len(found) >= 40, "the scan finds the build's commands (%d)" % len(found),
     "too few: the scanner is broken")
for must in ("make", "mksquashfs", "veritysetup", "sfdisk", "qemu-img", "rsync"):
    t.ok(must in probes, "host-tools.sh lists %s" % must)
problems = []
for cmd in sorted(found):
    where = ", ".join(sorted(found[cmd])[:3])
    if cmd in probes:
        continue
    path = shutil.which(cmd)
    if not path:
        problems.append("%s (called by %s) is not installed here, and host-tools.sh "
                        "does not list it" % (cmd, where))
        continue
    pkgs = package_of(path)
    if not pkgs:
        problems.append("%s (%s, called by %s) belongs to no Debian package"
                        % (cmd, path, where))
    elif not pkgs & (installed | essential):
        problems.append("%s (Debian package %s, called by %s) is neither essential nor "
                        "installed by support/host-tools.sh" % (cmd, "/".join(sorted(pkgs)), where))
t.ok(not problems, "every command the build and the tests call (%d) comes from host-tools.sh "
     "or Debian's essential set" % len(found), "\n".join(problems))
t.done()
