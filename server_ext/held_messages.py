"""A cascade's kernel messages to a JupyterLab / Notebook 7 page, held while cells sent ahead run.

While a batch of cells sent ahead runs (``KernelRunner._run_steps``), the kernel
finishes a cell every few milliseconds and each cell's status, input and output
reach every page as frames of their own. Spaced out like that, the page handles
each one as it comes and paints after it (its kernel indicator flips busy and
idle per cell, and the favicon with it): most of what the page paints during a
cascade, and on two cores that is CPU the kernel and the server wait for.
These pages show cascaded outputs from the shared document, which holds its
writes as long (:data:`server_ext.notebook.HOLD_SECONDS`), so the messages wait
with them and go out together: the page handles them back to back and paints
once. The batch's last cell, what the user waits for, is not held: its first
message takes everything held along (as does the end of a batch that stopped
early, ``KernelRunner.held``), so a client that sees the cascade end has its
messages as before. Nothing is reordered: anything not held (another channel,
a page's own run) first sends what is held. Of the kernel's ``status``
messages in what is held only the last goes: the page handles the held
messages back to back, with nothing painted in between, so it shows the state
the burst ends in either way, yet each status flips its busy state, toolbar,
status bar and tab icon (a request for the icon each); in a 20-cell chain
they were 38 of the page's 80 kernel messages. A/B in one Lab page, 20-cell
chain, 20 interleaved runs each: 0.75× stock's Run All with only the last,
0.86× with all of them, 0.87× keeping the first and the last (the one flip
per burst that the first adds costs as much as all of them). Every other
message goes. nbclassic pages hold a cascade's messages themselves
(``frontend/nbextension``). Only browsers' sockets hold (their handshake's
User-Agent): a program does not paint, and one that reads a cascade's messages
the moment the cascade shows as done must have them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Any

from . import codec
from .notebook import HOLD_SECONDS

log = logging.getLogger(__name__)

Forward = Callable[[Any, tuple[Any, ...]], None]


class HeldMessages:
    """One connection's held kernel→page messages, sent in order by ``forward``."""

    def __init__(self, forward: Forward) -> None:
        self._forward = forward
        self._held: list[tuple[Any, tuple[Any, ...]]] = []
        self._timer: asyncio.TimerHandle | None = None

    def send(self, stream: Any, message: tuple[Any, ...], hold: bool) -> None:
        """Hold the message (sent within :data:`HOLD_SECONDS`), or send it now after
        everything held."""
        if not hold:
            self.flush()
            self._forward(stream, message)
            return
        self._held.append((stream, message))
        if self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(HOLD_SECONDS, self.flush)

    def flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        held, self._held = _last_status_only(self._held), []
        for stream, message in held:
            try:
                self._forward(stream, message)
            except Exception:  # one message must not keep the others from the page
                log.exception("cascade: sending a held kernel message failed")

    def drop(self) -> None:
        """The connection closed: nobody is left to send them to."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._held.clear()


def _last_status_only(
    held: list[tuple[Any, tuple[Any, ...]]],
) -> list[tuple[Any, tuple[Any, ...]]]:
    """``held`` without its status messages but the last (see above)."""
    statuses = [i for i, (_, message) in enumerate(held) if _is_status(message)]
    if len(statuses) <= 1:
        return held
    dropped = set(statuses[:-1])
    return [item for i, item in enumerate(held) if i not in dropped]


def _is_status(message: tuple[Any, ...]) -> bool:
    return bool(message) and isinstance(message[0], list) and codec.is_status(message[0])
