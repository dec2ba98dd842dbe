"""The cell dependency graph: the latest run record per cell, indexed, in order.

Pure data, stdlib only. The agent fills it in the kernel and reports records;
the server keeps a replica built from the same records, so both sides compute
staleness and edges with this one implementation. The graph stores and
indexes the records and keeps its edges (:mod:`.edges`) and staleness
(:mod:`.staleness`) up to date as they change; a record is :mod:`.records`.
"""

from __future__ import annotations

import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .definers import ANY_PATH, DefinerIndex
from .edges import Edge, EdgeStore, shared_symbols
from .paths import overlaps
from .records import CellRecord, effects_signature, reads_history
from .staleness import KeptStaleness, overwritten_from_above, stale_reasons

__all__ = [
    "ANY_PATH",
    "CellRecord",
    "DefinerIndex",
    "Edge",
    "Graph",
    "effects_signature",
    "reads_history",
]


_ID = operator.attrgetter("id")


@dataclass
class Graph:
    """Latest run record of every cell, indexed by the paths it defines.

    ``records``, ``definers``, ``readers`` and ``newest`` are read-only from
    outside: change them through ``put``, ``remove`` and ``clear``, which also
    drop the cached answers.
    """

    records: dict[str, CellRecord] = field(default_factory=dict)
    #: the cells by the paths their latest runs defined
    definers: DefinerIndex = field(
        default_factory=DefinerIndex, init=False, repr=False, compare=False
    )
    #: the same index over the paths each cell *used*: who reads what a cell defines
    readers: DefinerIndex = field(
        default_factory=DefinerIndex, init=False, repr=False, compare=False
    )
    #: staleness per cell, kept across changes that cannot move it (see staleness.py)
    _kept: KeptStaleness = field(
        default_factory=KeptStaleness, init=False, repr=False, compare=False
    )
    # Answers for the current records, dropped on every change.
    _stale_set: set[str] | None = field(default=None, repr=False, compare=False)
    _edges: list[Edge] | None = field(default=None, repr=False, compare=False)
    #: the edges into each cell, kept up to date at every change (see edges.py)
    _edge_store: EdgeStore = field(default_factory=EdgeStore, repr=False, compare=False)
    #: no record ran later than this, -inf before the first (a new record at or
    #: after it is stale in no cell's eyes under any_order: see put)
    newest: float = field(default=float("-inf"), init=False, repr=False, compare=False)
    #: False while :meth:`copy` fills a graph: the kept answers come whole after
    _keeping: bool = field(default=True, repr=False, compare=False)
    #: moves on every change: answers derived from the records can be keyed by it
    version: int = field(default=0, repr=False, compare=False)
    #: moves only when what cells read and write, or their order, changes (not on a
    #: re-run that reads and writes what it did): edges and who reads from whom
    shape: int = field(default=0, repr=False, compare=False)
    _derived: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    #: notebook position of each code cell (in_order); empty: any_order rules
    position: dict[str, int] = field(default_factory=dict, repr=False, compare=False)
    _order: tuple[str, ...] | None = field(default=None, repr=False, compare=False)
    _in_order: bool = field(default=True, repr=False, compare=False)
    #: the sequence of cells the order was last read from, and its length
    _arranged_from: tuple[object, int] | None = field(default=None, repr=False, compare=False)

    def _changed(self, reshaped: bool = True) -> None:
        self.version += 1
        self._stale_set = None
        if reshaped:
            self.shape += 1
            self._edges = None
            self._derived.clear()

    def copy(self) -> Graph:
        """A graph of the same records and order, to plan on without touching this one."""
        other = Graph(_keeping=False)  # nothing kept yet: nothing to update
        for record in self.records.values():
            other.put(record)
        other._keeping = True
        other._edge_store = self._edge_store.copy()  # the same edges, not worked out again
        if self._order is not None:
            other.arrange(list(self._order), self._in_order)
        return other

    @property
    def order(self) -> tuple[str, ...]:
        """The code cells' ids as last arranged, in notebook order (empty under any_order)."""
        return self._order or ()

    def derived(self, name: str) -> dict[Any, Any]:
        """A cache for answers that depend only on the graph's :attr:`shape`,
        emptied when it moves (``name`` keeps one user's answers apart)."""
        found = self._derived.get(name)
        if found is None:
            found = self._derived[name] = {}
        return found

    def arrange(self, order: Sequence[str], in_order: bool | None = None) -> None:
        """Tell the graph the notebook's code cell order (DESIGN §2: under in_order
        only a definer above a cell makes it stale; under any_order, any later one).
        ``in_order`` None keeps the direction last given."""
        self._arranged_from = None
        if in_order is not None:
            self._in_order = in_order
        key = tuple(order) if self._in_order else ()
        if key == self._order:
            return
        self._order = key
        self.position = dict(zip(key, range(len(key))))  # noqa: B905 (3.9)
        self._kept.forget_all()
        self._changed()

    def arranged_from(self, cells: Sequence[Any], in_order: bool | None) -> bool:
        """Whether the order was last given from this very sequence of cells (of
        the same length, in the same direction): then it holds already.

        Planning arranges the graph on every call, and a cascade asks for its
        next cell once per cell run: reading 10,000 ids each time made a
        10,000-cell cascade quadratic (2.2 s). A caller that reorders a list
        of cells in place must give a new list instead (none does)."""
        kept = self._arranged_from
        return (
            kept is not None
            and kept[0] is cells
            and kept[1] == len(cells)
            and (in_order is None or in_order == self._in_order)
        )

    def arrange_cells(self, cells: Sequence[Any], in_order: bool | None = None) -> None:
        """:meth:`arrange` from cells that carry an ``id``, remembered by
        :meth:`arranged_from`."""
        if not self.arranged_from(cells, in_order):
            self.arrange(list(map(_ID, cells)), in_order)  # the walk in C: 10,000 cells
            self._arranged_from = (cells, len(cells))

    def put(self, record: CellRecord) -> None:
        """Replace a cell's record (a new run supersedes the old one)."""
        cell_id, keep = record.cell_id, self._keeping
        old = self.records.get(cell_id)
        # ``is`` first: a re-run often carries its last run's very set (the agent
        # keeps what a source reads); then it is not read at all
        new_defines = old is None or (
            old.defines is not record.defines and old.defines != record.defines
        )
        new_uses = old is None or (old.uses is not record.uses and old.uses != record.uses)
        if keep:
            self._kept.forget(self, cell_id, old, record, new_defines)
        self.records[cell_id] = record
        if new_defines:  # a re-run keeps its index entries
            if old is not None:
                self.definers.discard(cell_id, old.defines)
            self.definers.add(cell_id, record.defines)
        if new_uses:
            if old is not None:
                self.readers.discard(cell_id, old.uses)
            self.readers.add(cell_id, record.uses)
        if keep and (new_defines or new_uses):
            self._edge_store.put(self.records, self.definers, self.readers, old, record)
        if record.ts >= self.newest:
            self.newest = record.ts
            if keep and cell_id not in self.position:
                # any_order, a cell is stale when a later run defined what it read:
                # none ran later than the newest (a fresh graph's staleness is known
                # as it is built, not worked out cell by cell when first asked)
                self._kept.stale[cell_id] = False
        self._changed(old is None or new_defines or new_uses or old.binds != record.binds)

    def remove(self, cell_id: str) -> None:
        old = self.records.get(cell_id)
        if old is None:
            return
        self._kept.forget(self, cell_id, old, None)
        del self.records[cell_id]
        self.definers.discard(cell_id, old.defines)
        self.readers.discard(cell_id, old.uses)
        self._edge_store.remove(self.readers, old)
        self._changed()

    def clear(self) -> None:
        self.newest = float("-inf")
        self.records.clear()
        self.definers.clear()
        self.readers.clear()
        self._kept.forget_all()
        self._edge_store.clear()
        self._changed()

    def writers_of(self, path: str) -> list[CellRecord]:
        """Records whose run defined a path overlapping ``path``."""
        records = self.records
        exact = self.definers.exact(path)
        if exact is not None:  # they all define it (a plain name of whole definitions)
            return [records[c] for c in exact]
        found = [records[c] for c in self.definers.wildcard]
        for bucket in self.definers.buckets(path):
            for cell_id in bucket:
                record = records[cell_id]
                if any(overlaps(d, path) for d in record.defines):
                    found.append(record)
        return found

    def candidate_definers(self, uses: Iterable[str]) -> set[str]:
        """Cells that may have defined a path overlapping one of ``uses``: the
        index narrows them, :meth:`definers_of` applies the overlap rule."""
        if not isinstance(uses, (set, frozenset, list, tuple)):
            uses = list(uses)
        if ANY_PATH in uses:
            return set(self.records)
        return self.definers.candidates(uses)

    def definers_of(self, uses: Iterable[str]) -> set[str]:
        """Cells whose latest run defined a path overlapping one of ``uses``."""
        uses = list(uses)
        return {
            cell_id
            for cell_id in self.candidate_definers(uses)
            if any(
                used == ANY_PATH or d == ANY_PATH or overlaps(d, used)
                for d in self.records[cell_id].defines
                for used in uses
            )
        }

    def shared_symbols(self, source: CellRecord, target: CellRecord) -> list[str]:
        """Paths ``target`` used that ``source`` defined (overlap rule of DESIGN §2)."""
        return shared_symbols(source, target)

    def edges(self) -> list[Edge]:
        """Definer → user edges between the cells' latest runs (any direction),
        by target in record order, each target's by source id.

        Kept up to date at every change (edges.py) and listed once per
        :attr:`shape`; the list is a copy, the edges in it are shared with the
        cache: read them, do not modify them."""
        if self._edges is None:
            self._edges = self._edge_store.ordered(self.records)
        return list(self._edges)

    def is_stale(self, cell_id: str) -> bool:
        """Whether :meth:`stale_reasons` is not empty (stops at the first reason)."""
        known = self._kept.stale.get(cell_id)  # kept for most cells: no call
        return self._kept.is_stale(self, cell_id) if known is None else known

    def stale_reasons(self, cell_id: str) -> dict[str, list[str]]:
        """Cells that redefined, after ``cell_id``'s last run, a path it used."""
        return stale_reasons(self, cell_id)

    def stale_cells(self) -> set[str]:
        if self._stale_set is None:
            known = self._kept.stale  # most cells' staleness is kept: asked without a call
            self._stale_set = {
                cell_id
                for cell_id in self.records
                if (known[cell_id] if cell_id in known else self.is_stale(cell_id))
            }
        return set(self._stale_set)

    def rerun_unheld(self, cell_id: str) -> bool:
        """Whether re-running the cell now, as it is, would read a value that
        restart-and-run-all would not give it (see :meth:`KeptStaleness.rerun_unheld`)."""
        known = self._kept.unheld.get(cell_id)
        return self._kept.rerun_unheld(self, cell_id) if known is None else known

    def overwritten_from_above(self, cell_id: str, position: Mapping[str, int]) -> bool:
        """Whether a cell above re-bound a path ``cell_id`` defines, which no cell
        below defines, so it must run again (see :func:`.staleness.overwritten_from_above`)."""
        return overwritten_from_above(self, cell_id, position)
