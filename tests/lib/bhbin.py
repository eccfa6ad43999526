"""Which build of a Bulkhead program the host tests run.

Normally the one a test finds in an O folder. With BH_SANITIZED_BIN set
(tests/run's second pass of tests/integration), the AddressSanitizer and
UndefinedBehaviorSanitizer build of `make sanitize-tools` in that folder
instead; what such a build cannot do (LeakSanitizer's exit scan under
bhv's seccomp filters) is skipped with its reason, never silently."""
import os

SANITIZED_DIR = os.environ.get("BH_SANITIZED_BIN") or None


def sanitized():
    """True in the sanitizer pass."""
    return SANITIZED_DIR is not None


def program(name, normal):
    """The path of program `name` to run: the sanitizer build in the
    sanitizer pass (None when it was not built: a test skips then), else
    `normal` (a path, or a function returning one, called only then)."""
    if sanitized():
        exe = os.path.join(SANITIZED_DIR, name)
        return exe if os.access(exe, os.X_OK) else None
    return normal() if callable(normal) else normal


def missing_reason(name):
    return "no sanitizer build of %s in %s (make sanitize-tools builds bhv only for a configuration of " \
           "this machine's architecture)" % (name, SANITIZED_DIR)


def skip_leak_check(tap, name, why):
    """In the sanitizer pass, turn LeakSanitizer off for every program this
    test starts from now on, with a counted SKIP for check `name` saying why."""
    if sanitized():
        opts = os.environ.get("ASAN_OPTIONS", "")
        os.environ["ASAN_OPTIONS"] = (opts + ":" if opts else "") + "detect_leaks=0"
        tap.skip(name, "sanitizer build: " + why)



def host_programs(tap, out, *names):
    """The build-host programs `names` of the O folder out (O/host/bin), or
    their sanitizer builds in the sanitizer pass. When one is missing the
    test ends here: a failure normally (the build should have made it), a
    counted skip in the sanitizer pass (it builds only some programs)."""
    paths = [program(n, os.path.join(out, "host", "bin", n)) for n in names]
    missing = [n for n, p in zip(names, paths) if not (p and os.access(p, os.X_OK))]
    if missing:
        what = " and ".join(missing) + " built for the build host"
        why = "; ".join(missing_reason(n) for n in missing) if sanitized() else \
            "not in %s/host/bin" % out
        if sanitized():
            tap.skip(what, why)
        else:
            tap.ok(False, what, why)
        tap.done()
    return paths[0] if len(paths) == 1 else paths
