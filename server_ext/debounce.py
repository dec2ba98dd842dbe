"""Coalescing bursts of widget updates (a slider drag) into one cascade."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

#: updates closer together than this make one batch
WIDGET_DEBOUNCE_SECONDS = 0.15


class Debouncer:
    """Collects keys; calls ``on_settled(keys)`` once no new key came for ``delay``."""

    def __init__(
        self, on_settled: Callable[[list[str]], None], delay: float = WIDGET_DEBOUNCE_SECONDS
    ) -> None:
        self._on_settled = on_settled
        self._delay = delay
        self._keys: set[str] = set()
        self._timer: asyncio.TimerHandle | None = None

    def add(self, key: str) -> bool:
        """Note a key; True when it starts a new batch."""
        self._keys.add(key)
        starts = self._timer is None
        if self._timer is not None:
            self._timer.cancel()
        self._timer = asyncio.get_running_loop().call_later(self._delay, self._fire)
        return starts

    def _fire(self) -> None:
        keys, self._keys, self._timer = sorted(self._keys), set(), None
        self._on_settled(keys)
