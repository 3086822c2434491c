"""A small progress bar with ETA for long benchmark loops (stderr)."""

import sys
import time


class Progress:
    """`with Progress(total, "label") as p: ... p.step("what")`."""

    def __init__(self, total, label, stream=None):
        self.total, self.label, self.done = max(int(total), 1), label, 0
        self.stream = stream or sys.stderr
        self.start = time.perf_counter()

    def step(self, what="", amount=1):
        self.done += amount
        elapsed = time.perf_counter() - self.start
        eta = elapsed / self.done * (self.total - self.done) if self.done else 0.0
        filled = int(30 * self.done / self.total)
        bar = "#" * filled + "." * (30 - filled)
        self.stream.write(f"\r{self.label} [{bar}] {self.done}/{self.total} "
                          f"{elapsed:5.0f}s elapsed, ETA {eta:4.0f}s  {what[:40]:40s}")
        self.stream.flush()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stream.write("\n")
        self.stream.flush()
