"""What the benchmarks (tests/bench/bench_*) share: timing a step, the
median of runs with their spread, a value against its target, and the
verdict. A benchmark promises comparisons (against a target or a named
peer); one it cannot make (the peer does not run, nothing was built, the
image does not come up) fails it as a missed target does, so that
`make bench` never ends green without its numbers."""
import statistics
import sys
import time


def timed(fn, *args, **kw):
    """(fn's result, seconds it took)."""
    start = time.monotonic()
    r = fn(*args, **kw)
    return r, time.monotonic() - start


def describe(values, unit="ms", digits=1):
    """"median 12.3 ms (min 11.0, max 15.2, n=20)"."""
    f = "%%.%df" % digits
    return ("median " + f + " %s (min " + f + ", max " + f + ", n=%d)") % (
        statistics.median(values), unit, min(values), max(values), len(values))


class Verdict:
    """Collects what a benchmark promised and could not deliver; exit()
    ends the benchmark with status 1 if anything is there."""

    def __init__(self, name):
        self.name = name
        self.failures = []

    def target(self, what, value, target, unit=""):
        """Prints value against an upper bound and records a miss; returns
        whether the target was met."""
        met = value <= target
        print("%s: %.2f%s (target <= %g%s: %.2f of target, %s)"
              % (what, value, unit, target, unit, value / target if target else 0, "met" if met else "MISSED"))
        if not met:
            self.failures.append("%s missed its target" % what)
        sys.stdout.flush()
        return met

    def missed(self, what):
        self.failures.append(what)

    def not_measured(self, what, why):
        """A promised measurement or comparison that could not be made."""
        print("%s: not measured: %s" % (what, why))
        sys.stdout.flush()
        self.failures.append("%s: not measured" % what)

    def exit(self):
        if self.failures:
            print("%s: FAILED: %s" % (self.name, "; ".join(self.failures)))
        sys.exit(1 if self.failures else 0)
