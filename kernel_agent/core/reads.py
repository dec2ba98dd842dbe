"""Where each cell of a notebook reads a path from, in_order: its expected chain.

:func:`.chains.expected` of one reader and one path, for every reader and
path that planning asks about. The writers are found through the graph's
definer index (the cells' records), not an index of every cell built again
for each plan; cells whose effects are not their record's (a predicted
source) come from a small index of their own. A plain name written by one
cell (most names) is found at a dict lookup: no overlap check, no chain to
build. Pure; stdlib only.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Protocol

from .chains import covers
from .definers import ANY_PATH, DefinerIndex
from .overlay import Overlay, Predicted
from .paths import overlaps


class EffectsLike(Protocol):
    """What a cell reads and writes: planning's ``Effects``, or a run record."""

    @property
    def uses(self) -> frozenset[str]: ...
    @property
    def defines(self) -> frozenset[str]: ...
    @property
    def binds(self) -> frozenset[str]: ...
    @property
    def draws(self) -> frozenset[str]: ...


def writes(defines: frozenset[str], path: str) -> bool:
    """Whether a cell defining ``defines`` writes ``path`` (overlap rule)."""
    return ANY_PATH in defines or any(overlaps(d, path) for d in defines)


def rebinds(binds: frozenset[str], path: str) -> bool:
    """Whether rebinding ``binds`` replaces ``path`` whole (:func:`.chains.kills`)."""
    return any(covers(bound, path) for bound in binds)


class Reads:
    """Expected chains over ``effects`` of the cells at ``position``.

    ``index`` holds the definers by their records (``Graph.definers``);
    ``replaced`` names the cells whose ``effects`` are not their record's
    (a :class:`.overlay.Predicted` brings its kept index of them along).
    A cell with neither a record nor a replaced effect writes nothing.
    """

    def __init__(
        self,
        index: DefinerIndex,
        effects: Mapping[str, EffectsLike],
        position: Mapping[str, int],
        replaced: Collection[str] = (),
    ) -> None:
        self._index = index
        self._effects = effects
        self._position = position
        if isinstance(replaced, Predicted):  # kept: its keys are ``effects``' own
            overlay = replaced.overlay()
            self._replaced = set(replaced)
        else:
            self._replaced = {cell_id for cell_id in replaced if cell_id in effects}
            overlay = Overlay().sync({c: effects[c] for c in self._replaced})
        self._overlay = overlay.index
        #: the root names the replaced effects write
        self._replaced_roots = overlay.roots
        #: plain names with one writer (:attr:`DefinerIndex.sole`), unless any may be all
        no_wildcard = not index.wildcard and not self._overlay.wildcard
        self._sole: Mapping[str, str] = index.sole if no_wildcard else {}
        self._chains: dict[tuple[int, str], list[str]] = {}

    @property
    def replaced(self) -> set[str]:
        """The cells whose effects are not their record's. Do not modify."""
        return self._replaced

    def overlay_candidates(self, path: str) -> set[str]:
        """Replaced cells that may write a path overlapping ``path`` (a superset)."""
        return self._overlay.candidates([path]) if self._replaced else set()

    def chain(self, place: int, path: str) -> list[str]:
        """The cells above ``place`` that restart-and-run-all applies to ``path``
        (not ``ANY_PATH``), in notebook order."""
        key = (place, path)
        found = self._chains.get(key)
        if found is None:
            found = self._chains[key] = self._find(place, path)
        return found

    def sources(self, place: int, uses: Collection[str]) -> set[int]:
        """The places of the cells in the chains of ``uses`` (``ANY_PATH`` aside)
        above ``place``. Places, not ids: an int is its own hash, a string's is
        read from the string (in a 10,000-cell notebook, mostly a cache miss)."""
        found: set[int] = set()
        position, sole, replaced = self._position, self._sole, self._replaced
        for path in uses:
            cell_id = sole.get(path)
            if cell_id is not None and not (replaced and self._touched(cell_id, path)):
                at = position.get(cell_id, place)
                if at < place:  # the common case, inline
                    found.add(at)
            elif path != ANY_PATH:
                found.update(map(position.__getitem__, self.chain(place, path)))
        return found

    def reads_any(self, place: int, uses: Collection[str], among: set[int]) -> bool:
        """Whether a chain of ``uses`` (``ANY_PATH`` aside) above ``place`` holds
        a cell at one of the places ``among``."""
        position, sole, replaced = self._position, self._sole, self._replaced
        for path in uses:
            cell_id = sole.get(path)
            if cell_id is not None and not (replaced and self._touched(cell_id, path)):
                at = position.get(cell_id, place)
                if at < place and at in among:
                    return True
            elif path != ANY_PATH and any(position[c] in among for c in self.chain(place, path)):
                return True
        return False

    def _touched(self, cell_id: str, name: str) -> bool:
        """Whether a replaced effect may change who writes the plain ``name``."""
        return cell_id in self._replaced or name in self._replaced_roots

    def _find(self, place: int, path: str) -> list[str]:
        position, effects = self._position, self._effects
        above = self._whole_writers(path)
        if above is not None:
            found = [c for c in above if position.get(c, place) < place]
        else:
            found = [
                c
                for c in self._candidates(path)
                if position.get(c, place) < place and writes(effects[c].defines, path)
            ]
        if len(found) < 2:
            return found  # one writer is its own chain, rebinding or not
        found.sort(key=position.__getitem__, reverse=True)
        for count, cell_id in enumerate(found, 1):
            if rebinds(effects[cell_id].binds, path):
                del found[count:]
                break
        found.reverse()
        return found

    def _whole_writers(self, path: str) -> Collection[str] | None:
        """:meth:`DefinerIndex.exact` over the records and the replaced effects."""
        exact = self._index.exact(path)
        if not self._replaced or exact is None:
            return exact
        if self._overlay.candidates([path]) or not self._replaced.isdisjoint(exact):
            return None
        return exact

    def _candidates(self, path: str) -> set[str]:
        found = self._index.candidates([path])
        if self._replaced:
            found -= self._replaced
            found |= self._overlay.candidates([path])
        return found
