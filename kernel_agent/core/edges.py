"""The graph's edges, definer → user, kept up to date as records change.

Who reads from whom rests only on what each cell's latest run read and
defined, so a change of one record moves only the edges into that cell and
out of it. Working every edge out when asked cost ~60 ms at 10,000 cells,
each time a record's shape changed (a first run, an edit); kept per target
here, a change costs the cells it touches. Pure data, stdlib only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from .definers import ANY_PATH, DefinerIndex
from .paths import overlaps


class Shape(Protocol):
    """The parts of a run record the edges rest on."""

    @property
    def cell_id(self) -> str: ...
    @property
    def uses(self) -> frozenset[str]: ...
    @property
    def defines(self) -> frozenset[str]: ...


@dataclass
class Edge:
    """``target``'s latest run used ``symbols`` that ``source``'s defined."""

    # kept for every edge of the graph now: no per-object dict (less memory to walk)
    __slots__ = ("source", "target", "symbols")

    source: str
    target: str
    symbols: list[str]


def shared_symbols(source: Shape, target: Shape) -> list[str]:
    """Paths ``target`` used that ``source`` defined (overlap rule of DESIGN §2)."""
    if ANY_PATH in target.uses or ANY_PATH in source.defines:
        return sorted(source.defines if ANY_PATH in target.uses else target.uses)
    defines = source.defines
    return sorted(
        used for used in target.uses if used in defines or any(overlaps(d, used) for d in defines)
    )


def _place(edges: Sequence[Edge], source_id: str) -> int:
    """Where the edge from ``source_id`` is or would go (``bisect_left`` by source;
    its ``key=`` needs Python 3.10, and the agent runs on 3.9 kernels too)."""
    low, high = 0, len(edges)
    while low < high:
        middle = (low + high) // 2
        if edges[middle].source < source_id:
            low = middle + 1
        else:
            high = middle
    return low


class EdgeStore:
    """The edges into each cell, ordered by source id.

    Told of every change of a record *after* the graph's records and both of
    its indexes (by defined and by used paths) hold the new state. Each cell's
    edges are a tuple, replaced on a change: a copy shares them all.
    """

    def __init__(self) -> None:
        self._incoming: dict[str, tuple[Edge, ...]] = {}

    def clear(self) -> None:
        self._incoming.clear()

    def copy(self) -> EdgeStore:
        """The same edges (shared: they are never changed, only replaced)."""
        other = EdgeStore()
        other._incoming = dict(self._incoming)
        return other

    def ordered(self, targets: Iterable[str]) -> list[Edge]:
        """Every edge, the targets in the order given, each one's by source id."""
        found: list[Edge] = []
        incoming = self._incoming
        for target in targets:
            edges = incoming.get(target)
            if edges:
                found.extend(edges)
        return found

    def put(
        self,
        records: Mapping[str, Shape],
        definers: DefinerIndex,
        readers: DefinerIndex,
        old: Shape | None,
        new: Shape,
    ) -> None:
        """``new`` replaced ``old`` (None: the cell had no record)."""
        cell_id = new.cell_id
        if old is None or old.uses != new.uses:
            self._incoming[cell_id] = self._edges_into(records, definers, new)
        if old is None or old.defines != new.defines:
            touched = new.defines if old is None else old.defines | new.defines
            for target in readers.candidates(touched) if touched else ():
                if target != cell_id:
                    self._relink(new, records[target])

    def remove(self, readers: DefinerIndex, old: Shape) -> None:
        """The cell of ``old`` left the graph."""
        cell_id = old.cell_id
        self._incoming.pop(cell_id, None)
        for target in readers.candidates(old.defines) if old.defines else ():
            if target != cell_id:
                self._relink(old, None, target)

    def _edges_into(
        self, records: Mapping[str, Shape], definers: DefinerIndex, target: Shape
    ) -> tuple[Edge, ...]:
        uses = target.uses
        candidates = set(records) if ANY_PATH in uses else definers.candidates(uses)
        found = []
        for source_id in sorted(candidates):
            if source_id != target.cell_id:
                symbols = shared_symbols(records[source_id], target)
                if symbols:
                    found.append(Edge(source_id, target.cell_id, symbols))
        return tuple(found)

    def _relink(self, source: Shape, target: Shape | None, target_id: str = "") -> None:
        """Put the edge ``source`` → ``target`` as it is now, or drop it (``target``
        None: the source left; ``target_id`` names the target)."""
        target_id = target.cell_id if target is not None else target_id
        edges = self._incoming.get(target_id, ())
        at = _place(edges, source.cell_id)
        end = at + 1 if at < len(edges) and edges[at].source == source.cell_id else at
        symbols = shared_symbols(source, target) if target is not None else None
        if symbols:
            self._incoming[target_id] = (
                *edges[:at],
                Edge(source.cell_id, target_id, symbols),
                *edges[end:],
            )
        elif end > at:
            self._incoming[target_id] = edges[:at] + edges[end:]
