"""When a live (collaboration) document's code changed, without reading it.

A settled notebook lets requests skip admission only while its code cells are
what they were (see ``KernelRunner.forward_at_once``). For the saved file an
``os.stat`` tells; a live document changes with every keystroke of every
collaborator, so a watch counts the changes that matter to planning.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

#: Keys of a cell whose change changes what the cell runs or whether it is code.
_CODE_KEYS = frozenset({"source", "cell_type", "id"})


class SourceWatch:
    """Counts changes to a YNotebook's code: cells added, removed or moved, and
    edits of a cell's source or type. Outputs, execution counts and metadata do
    not count: the browser writes those after every run."""

    def __init__(self, document: Any) -> None:
        self.version = 0
        #: (version, what a reader made of the cells at it): kept while no code
        #: changes, as reading every cell's id, type and source through pycrdt
        #: on each step of a cascade was ~15% of the server's time in one
        self.kept: tuple[int, Any] | None = None
        #: told when code changes (a cascade with cells sent ahead listens)
        self.listener: Callable[[], None] | None = None
        self._cells = document.ycells
        self._subscription = self._cells.observe_deep(self._changed)

    def stamp(self) -> tuple[SourceWatch, int]:
        """Equal to a later stamp while no code changed in between."""
        return (self, self.version)

    def _changed(self, events: list[Any]) -> None:
        try:
            changed = any(_changes_code(event) for event in events)
        except Exception:  # an event we cannot read: assume the code changed
            changed = True
        if changed:
            self.version += 1
            if self.listener is not None:
                self.listener()

    def close(self) -> None:
        try:
            self._cells.unobserve(self._subscription)
        except Exception:  # the document is gone already
            log.debug("cascade: source watch already detached", exc_info=True)


def _changes_code(event: Any) -> bool:
    path = list(event.path)
    if not path:  # the cells array itself: cells added, removed or moved
        return True
    if len(path) >= 2 and path[1] == "source":  # typing in a cell
        return True
    keys = getattr(event, "keys", None) or ()
    return len(path) == 1 and not _CODE_KEYS.isdisjoint(keys)
