"""Moments of a run on the server's wall clock, for the browser bench's stage table.

The bench puts the page's, the kernel's and the server's clocks on one time
line (``bench/browser/stages.py``); these lines are the server's part: when a
page's execute_request came, when its reply went back, and when a cascade's
write went into the shared document. Nothing is written unless the logger
``server_ext.timeline`` is set to DEBUG (the bench's server sets it through
``logging_config``); otherwise a note costs one level check.
"""

from __future__ import annotations

import logging
import time

log = logging.getLogger("server_ext.timeline")


def on() -> bool:
    """Whether notes are written (callers skip gathering what a note would name)."""
    return log.isEnabledFor(logging.DEBUG)


def note(what: str, *ids: str) -> None:
    """One line ``<epoch seconds> <what> <ids…>``, when the logger is on."""
    if on():
        log.debug("%.6f %s %s", time.time(), what, " ".join(ids))
