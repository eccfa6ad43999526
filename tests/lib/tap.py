"""Minimal TAP producer for the Python tests: one `ok`/`not ok` line per
check, skips marked `# SKIP reason`, diagnostics as `#` lines. tests/run
counts the lines; a test script's exit status does not hide a failure."""
import sys
import traceback


class Tap:
    def __init__(self):
        self.n = 0
        self.failed = 0

    def ok(self, cond, name, diag=None):
        self.n += 1
        print("%s %d - %s" % ("ok" if cond else "not ok", self.n, name))
        if not cond:
            self.failed += 1
            if diag:
                self.diag(diag)
        sys.stdout.flush()
        return cond

    def skip(self, name, reason):
        self.n += 1
        print("ok %d - %s # SKIP %s" % (self.n, name, reason))
        sys.stdout.flush()

    def diag(self, text):
        for line in str(text).splitlines():
            print("#   " + line)
        sys.stdout.flush()

    def run(self, name, fn, *args):
        """Run fn(*args) as one check: an exception is a failure with its
        message, a return value is the check's result."""
        try:
            result = fn(*args)
        except Exception as e:  # the diagnostics are the point
            return self.ok(False, name, "%s: %s" % (type(e).__name__, e) +
                           ("\n" + traceback.format_exc() if not str(e) else ""))
        if isinstance(result, tuple):
            return self.ok(result[0], name, result[1])
        return self.ok(bool(result), name)

    def done(self):
        print("1..%d" % self.n)
        sys.exit(1 if self.failed else 0)
