"""Lines a program writes, read by a thread of their own so that a test can
wait for one without blocking the program on a full pipe."""
import threading
import time


class Lines:
    """Every line of a text stream, each passed through parse (default: the
    line without its newline) and kept with the time it arrived. on_item,
    when given, sees each item first, on the reading thread (to answer a
    request at once). The thread ends at the stream's end."""

    def __init__(self, stream, parse=None, on_item=None):
        self.items, self.times = [], []
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._read, args=(stream, parse, on_item), daemon=True)
        self.thread.start()

    def _read(self, stream, parse, on_item):
        for line in stream:
            item = parse(line) if parse else line.rstrip("\n")
            if on_item:
                on_item(item)
            with self.cond:
                self.items.append(item)
                self.times.append(time.time())
                self.cond.notify_all()

    def wait(self, pred, timeout, start=0):
        """The first item from index start on for which pred holds, or None
        after timeout seconds or once the stream has ended without one."""
        deadline = time.time() + timeout
        with self.cond:
            while True:
                for item in self.items[start:]:
                    if pred(item):
                        return item
                left = deadline - time.time()
                # The reader appends only while holding cond, which this
                # loop holds since its scan: a dead reader has no more.
                if left <= 0 or not self.thread.is_alive():
                    return None
                self.cond.wait(min(left, 0.2))

    def count(self):
        with self.cond:
            return len(self.items)

    def join(self, timeout=5):
        self.thread.join(timeout)
