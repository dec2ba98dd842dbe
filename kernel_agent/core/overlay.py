"""The writers among cells whose effects are predicted, kept from plan to plan.

Every plan reads chains through :class:`.reads.Reads`, which must know which
cells without an up-to-date record (never run, or edited) write what. In a
big notebook that mostly never ran that is nearly every cell: indexing 3,000
of them took ~5 ms of the server's event loop per plan, and a run makes two
plans. A :class:`Predicted` mapping carries an :class:`Overlay` its maker
keeps; the index is brought up to date by difference (a run moves one cell
out), not built again. Pure; stdlib only.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Protocol, TypeVar

from .definers import DefinerIndex
from .paths import root


class Writes(Protocol):
    @property
    def defines(self) -> frozenset[str]: ...


_W = TypeVar("_W", bound=Writes)


class Overlay:
    """A :class:`DefinerIndex` of some cells' effects and the root names they write.

    Good until the next :meth:`sync`: build a plan on it within one call
    (plans are synchronous), not across an ``await``.
    """

    __slots__ = ("index", "_effects", "_roots")

    def __init__(self) -> None:
        self.index = DefinerIndex()
        self._effects: dict[str, Writes] = {}
        #: root name -> how many indexed cells write below it
        self._roots: Counter[str] = Counter()

    @property
    def roots(self) -> Iterable[str]:
        """The root names the indexed effects write. Do not modify."""
        return self._roots.keys()

    def sync(self, effects: Mapping[str, Writes]) -> Overlay:
        """Index exactly ``effects``: cells gone or changed out, new ones in.

        A kept prediction is the same object from plan to plan, so most cells
        are passed over at an identity check.
        """
        kept = self._effects
        for cell_id, was in list(kept.items()):
            now = effects.get(cell_id)
            if now is None or (now is not was and now.defines != was.defines):
                self._drop(cell_id, was)
        for cell_id, now in effects.items():
            if cell_id not in kept:
                self._add(cell_id, now)
            else:
                kept[cell_id] = now  # equal writes: the newer object, for the identity check
        return self

    def unindexed(self, cell_ids: Iterable[str]) -> int:
        """How many of ``cell_ids`` are not indexed yet."""
        kept = self._effects
        return sum(1 for cell_id in cell_ids if cell_id not in kept)

    def add(self, cell_id: str, effects: Writes) -> None:
        """Index one more cell (building an overlay a part at a time)."""
        if cell_id not in self._effects:
            self._add(cell_id, effects)

    def _add(self, cell_id: str, effects: Writes) -> None:
        self._effects[cell_id] = effects
        self.index.add(cell_id, effects.defines)
        self._roots.update({root(d) for d in effects.defines})

    def _drop(self, cell_id: str, effects: Writes) -> None:
        del self._effects[cell_id]
        self.index.discard(cell_id, effects.defines)
        for name in {root(d) for d in effects.defines}:
            self._roots[name] -= 1
            if not self._roots[name]:
                del self._roots[name]


class Predicted(dict[str, _W]):
    """Predicted effects by cell id, with the :class:`Overlay` of whoever keeps
    predicting them (a kernel's runner): the plans over it index only what
    changed since the last. Change entries freely before planning."""

    def __init__(self, effects: Mapping[str, _W], overlay: Overlay) -> None:
        super().__init__(effects)
        self._overlay = overlay

    def overlay(self) -> Overlay:
        """The kept overlay, brought up to date with these effects."""
        return self._overlay.sync(self)
