"""A progress display for training that appears only on runs longer than a few seconds.

With tqdm installed it is a tqdm bar; otherwise one plain line, rewritten in place on a
terminal (and printed once per epoch where the output is a file or a pipe). Both go to
stderr, so the results on stdout stay clean, and both wait ``delay`` seconds before they
show anything: a one-second run needs no bar.
"""

from __future__ import annotations

import sys
import time

__all__ = ["PlainProgress", "progress"]

DELAY_SECONDS = 3.0


class PlainProgress:
    """``epoch 3/30  <summary>`` on one line, shown once ``delay`` seconds have passed.

    Example:
      >>> import io
      >>> stream = io.StringIO()
      >>> bar = PlainProgress(2, delay=0.0, stream=stream)
      >>> bar.update("loss 0.5")
      >>> bar.close()
      >>> stream.getvalue()
      'training: epoch 1/2  loss 0.5\\n'
    """

    def __init__(self, total: int, delay: float = DELAY_SECONDS, stream=None):
        self.total, self.delay = total, delay
        self.stream = sys.stderr if stream is None else stream
        self.done, self.width, self.shown = 0, 0, False
        self.start = time.perf_counter()
        # In place on a terminal; elsewhere '\r' would pile up, so one line per update.
        self.in_place = hasattr(self.stream, "isatty") and self.stream.isatty()

    def update(self, summary: str) -> None:
        """Count one epoch done and show ``summary`` (if the delay has passed)."""
        self.done += 1
        if time.perf_counter() - self.start < self.delay:
            return
        line = f"training: epoch {self.done}/{self.total}  {summary}"
        if self.in_place:
            self.stream.write("\r" + line.ljust(self.width))
            self.width = len(line)
        else:
            self.stream.write(line + "\n")
        self.stream.flush()
        self.shown = True

    def close(self) -> None:
        """End the line (if one was shown on a terminal)."""
        if self.shown and self.in_place:
            self.stream.write("\n")
            self.stream.flush()


class _TqdmProgress:
    """The same interface over a tqdm bar."""

    def __init__(self, tqdm, total: int, delay: float):
        self.bar = tqdm(total=total, desc="training", unit="epoch", delay=delay)

    def update(self, summary: str) -> None:
        self.bar.set_postfix_str(summary, refresh=False)
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()


class _Silent:
    def update(self, summary: str) -> None:
        pass

    def close(self) -> None:
        pass


def progress(total: int, quiet: bool = False, delay: float = DELAY_SECONDS):
    """A progress display over ``total`` epochs: tqdm if installed, else ``PlainProgress``.

    Example:
      >>> bar = progress(3, quiet=True)
      >>> bar.update("loss 1.0"); bar.close()
    """
    if quiet:
        return _Silent()
    try:
        from tqdm.auto import tqdm  # noqa: PLC0415 - an optional dependency
    except ImportError:
        return PlainProgress(total, delay)
    return _TqdmProgress(tqdm, total, delay)
