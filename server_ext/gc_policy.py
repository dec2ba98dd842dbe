"""Keep the server's long-lived heap out of full garbage collections.

A full collection walks every tracked object of the process (~1 µs each on
the bench VM) while holding the interpreter: with jupyter_server's start-up
heap (~190,000 objects, half of them an extension's parse trees) and a
3,000-cell notebook's kept analyses, each one held the event loop 90-300 ms,
and they were what was left of the server's stalls while a big notebook got
its first runs, and most of a push's latency at 3,000 cells (bench/README,
session 14). Objects that live as long as the server (its start-up heap) or as
long as an open notebook (the analyses of all its sources) are moved to the
permanent generation with :func:`gc.freeze`, which the collector skips; they
are still freed by reference counting as before. What the collector cannot
find any more is cyclic garbage that existed at a freeze: young garbage is
collected just before it (generation 1, a few ms), so that is what reached
the oldest generation since the last full collection, once per freeze.

``c.Cascade.freeze_gc = False`` turns this off.
"""

from __future__ import annotations

import gc
import logging

#: never more often than this many seconds apart (a freeze is cheap, its leak is not)
MIN_INTERVAL = 30.0


class Freezer:
    """Freezes the heap after start-up and after a big notebook's analyses."""

    def __init__(self, enabled: bool, log: logging.Logger) -> None:
        self.enabled = enabled
        self._log = log
        self._last: float | None = None

    def after_start(self) -> None:
        """The server is up: its start-up heap lives as long as it does."""
        if self.enabled:
            gc.collect()  # once, before the first request is served
            self._freeze()

    def after_long_lived(self, now: float) -> None:
        """Many objects that live as long as a notebook was made (its analyses)."""
        if self.enabled and (self._last is None or now - self._last >= MIN_INTERVAL):
            gc.collect(1)
            self._freeze(now)

    def _freeze(self, now: float | None = None) -> None:
        gc.freeze()
        self._last = now if now is not None else self._last
        # Not gc.get_freeze_count(): it walks every frozen object (25-160 ms of the loop
        # at 3,000 cells, profiled), and jupyter_server's logger takes debug records
        # (its handler drops them), so a count for this message was paid on every freeze.
        self._log.debug("cascade: the heap so far is kept out of full collections")
