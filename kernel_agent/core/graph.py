"""The cell dependency graph: run records per cell, staleness and edges.

Pure data, stdlib only. The agent fills it in the kernel and reports records;
the server keeps a replica built from the same records, so both sides compute
staleness and edges with this one implementation.
"""

from __future__ import annotations

import hashlib
import json
import operator
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import chains
from .definers import ANY_PATH, DefinerIndex
from .edges import Edge, EdgeStore, shared_symbols
from .paths import overlaps

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


def _is_history(path: str) -> bool:
    """IPython's output history: ``_``, ``__``, ``___``, ``_N``, ``Out[N]``."""
    return path.startswith("Out[") or (path.startswith("_") and path.strip("_0123456789") == "")


@dataclass
class CellRecord:
    """What the last run of one cell read and wrote, and when."""

    cell_id: str
    ts: int
    code: str
    uses: frozenset[str]
    defines: frozenset[str]
    ok: bool = True
    execution_count: int | None = None
    #: paths this run rebound whole (a subset of ``defines``): see :func:`kills`
    binds: frozenset[str] = frozenset()
    #: when the cell ran before this run (an in-place change applied twice shows here)
    prev_ts: int | None = None
    #: random generator state this run drew from (see :func:`chains.unseeded`)
    draws: frozenset[str] = frozenset()

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.cell_id,
            "ts": self.ts,
            "code": self.code,
            "uses": sorted(self.uses),
            "defines": sorted(self.defines),
            "ok": self.ok,
            "execution_count": self.execution_count,
            "binds": sorted(self.binds),
            "prev_ts": self.prev_ts,
            "draws": sorted(self.draws),
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> CellRecord:
        return cls(
            cell_id=str(data["id"]),
            ts=int(data["ts"]),
            code=str(data["code"]),
            uses=frozenset(data["uses"]),
            defines=frozenset(data["defines"]),
            ok=bool(data.get("ok", True)),
            execution_count=data.get("execution_count"),
            binds=frozenset(data.get("binds") or ()),
            prev_ts=data.get("prev_ts"),
            draws=frozenset(data.get("draws") or ()),
        )


def effects_signature(record: CellRecord) -> str:
    """What a run read and wrote, as planning sees it, in one short string.

    IPython's output history is left out: its names carry the execution count,
    which differs on every run (planning ahead is off where a cell reads it).
    """
    parts = [
        sorted(record.uses),
        sorted(path for path in record.defines if not _is_history(path)),
        sorted(path for path in record.binds if not _is_history(path)),
        sorted(record.draws),
    ]
    return hashlib.sha1(json.dumps(parts).encode()).hexdigest()[:20]


def reads_history(records: Iterable[CellRecord]) -> bool:
    """Whether a run read IPython's output history (``_``, ``Out[3]``)."""
    return any(_is_history(path) for record in records for path in record.uses)


@dataclass
class Graph:
    """Latest run record of every cell, indexed by the paths it defines.

    ``records`` is read-only from outside: change it through ``put``,
    ``remove`` and ``clear``, which also drop the cached answers.
    """

    records: dict[str, CellRecord] = field(default_factory=dict)
    _index: DefinerIndex = field(default_factory=DefinerIndex, repr=False, compare=False)
    #: the same index over the paths each cell *used*: who reads what a cell defines
    _readers: DefinerIndex = field(default_factory=DefinerIndex, repr=False, compare=False)
    #: staleness per cell, kept across changes that cannot move it (see _forget_staleness)
    _stale: dict[str, bool] = field(default_factory=dict, repr=False, compare=False)
    # Answers for the current records, dropped on every change.
    _stale_set: set[str] | None = field(default=None, repr=False, compare=False)
    _edges: list[Edge] | None = field(default=None, repr=False, compare=False)
    #: the edges into each cell, kept up to date at every change (see edges.py)
    _edge_store: EdgeStore = field(default_factory=EdgeStore, repr=False, compare=False)
    #: no record ran later than this (a new record at or after it is stale in no
    #: cell's eyes under any_order: see put)
    _newest: float = field(default=float("-inf"), repr=False, compare=False)
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
    #: per cell: would re-running it now read what restart-and-run-all gives it
    _unheld: dict[str, bool] = field(default_factory=dict, repr=False, compare=False)
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
    def definers(self) -> DefinerIndex:
        """The cells by the paths their latest runs defined. Read-only."""
        return self._index

    @property
    def order(self) -> tuple[str, ...]:
        """The code cells' ids as last arranged, in notebook order (empty under any_order)."""
        return self._order or ()

    @property
    def newest(self) -> float:
        """No record ran later than this (-inf before the first)."""
        return self._newest

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
        self._forget_all_staleness()
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

    def _forget_staleness(
        self,
        cell_id: str,
        old: CellRecord | None,
        new: CellRecord | None,
        redefined: bool = True,
    ) -> None:
        """Drop the kept staleness a change of ``cell_id``'s record (``old`` to
        ``new``) can move: its own, and that of every cell reading a path
        either record defined. A cell is stale when a newer record defines what
        it read, so no other answer depends on this record. Keeping the rest
        makes a run in a big notebook cost its readers, not every cell
        (~4 ms a run at 1,000 cells, profiled). ``redefined`` False: ``new``
        defines what ``old`` did."""
        stale, unheld = self._stale, self._unheld
        unheld.pop(cell_id, None)
        if not stale and not unheld:
            return
        stale.pop(cell_id, None)
        if new is None:
            defined = old.defines if old is not None else frozenset()
        elif old is None or not redefined:  # a re-run keeps its readers
            if old is not None and self._mark_stale(new):
                return
            defined = new.defines
        else:
            defined = old.defines | new.defines
        for reader in self._readers.candidates(defined) if defined else ():
            stale.pop(reader, None)
            unheld.pop(reader, None)

    def _forget_all_staleness(self) -> None:
        self._stale.clear()
        self._unheld.clear()

    def _mark_stale(self, new: CellRecord) -> bool:
        """After a re-run that alone writes its one plain name and drew no random
        state, the readers of the name: each that ran before it and sits below
        it (or anywhere, under any_order) is stale (:func:`chains.mismatch_one`
        finds the name rewritten since); the others' kept staleness is dropped.
        Known at once, a cascade's next cell is not worked out again (a quarter
        of a 10,000-cell cascade's work). False, having done nothing, otherwise."""
        if len(new.defines) != 1 or new.draws or self._index.wildcard:
            return False
        cell_id, ts = new.cell_id, new.ts
        (name,) = new.defines
        readers = self._readers.exact(name)  # then exactly the cells that used it
        if readers is None or self._index.sole.get(name) != cell_id:
            return False
        stale, records, position = self._stale, self.records, self.position
        if self._unheld:
            for reader in readers:
                self._unheld.pop(reader, None)
        at = position.get(cell_id)
        # the newest run of all ran after every reader: their records need no reading
        latest = ts > self._newest
        for reader in readers:
            place = position.get(reader)
            if (
                reader != cell_id
                and (place is None or at is None or at < place)
                and (latest or records[reader].ts < ts)
            ):
                stale[reader] = True
            else:
                stale.pop(reader, None)
        return True

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
            self._forget_staleness(cell_id, old, record, new_defines)
        self.records[cell_id] = record
        if new_defines:  # a re-run keeps its index entries
            if old is not None:
                self._index.discard(cell_id, old.defines)
            self._index.add(cell_id, record.defines)
        if new_uses:
            if old is not None:
                self._readers.discard(cell_id, old.uses)
            self._readers.add(cell_id, record.uses)
        if keep and (new_defines or new_uses):
            self._edge_store.put(self.records, self._index, self._readers, old, record)
        if record.ts >= self._newest:
            self._newest = record.ts
            if keep and cell_id not in self.position:
                # any_order, a cell is stale when a later run defined what it read:
                # none ran later than the newest (a fresh graph's staleness is known
                # as it is built, not worked out cell by cell when first asked)
                self._stale[cell_id] = False
        self._changed(old is None or new_defines or new_uses or old.binds != record.binds)

    def remove(self, cell_id: str) -> None:
        old = self.records.get(cell_id)
        if old is None:
            return
        self._forget_staleness(cell_id, old, None)
        del self.records[cell_id]
        self._index.discard(cell_id, old.defines)
        self._readers.discard(cell_id, old.uses)
        self._edge_store.remove(self._readers, old)
        self._changed()

    def clear(self) -> None:
        self._newest = float("-inf")
        self.records.clear()
        self._index.clear()
        self._readers.clear()
        self._forget_all_staleness()
        self._edge_store.clear()
        self._changed()

    def writers_of(self, path: str) -> list[CellRecord]:
        """Records whose run defined a path overlapping ``path``."""
        records = self.records
        exact = self._index.exact(path)
        if exact is not None:  # they all define it (a plain name of whole definitions)
            return [records[c] for c in exact]
        found = [records[c] for c in self._index.wildcard]
        for bucket in self._index.buckets(path):
            for cell_id in bucket:
                record = records[cell_id]
                if any(overlaps(d, path) for d in record.defines):
                    found.append(record)
        return found

    def _positional_reasons(
        self, target: CellRecord, before: float, first_only: bool
    ) -> dict[str, list[str]]:
        """Cells that make ``target``'s reads (as of ``before``) differ from
        restart-and-run-all's, with the paths (:func:`chains.mismatch`)."""
        reasons: dict[str, list[str]] = {}
        cell_id, position, records = target.cell_id, self.position, self.records
        place = position[cell_id]
        sole = self._index.sole if not self._index.wildcard else {}
        for used in sorted(target.uses) if not first_only else target.uses:
            writer = records[sole[used]] if used in sole else None
            if writer is not None and not writer.draws:  # its one writer: most paths
                culprits = chains.mismatch_one(writer, position, cell_id, place, used, before)
            elif used == ANY_PATH:
                culprits = [
                    other_id
                    for other_id, source in records.items()
                    if other_id != cell_id
                    and source.defines
                    and source.ts > target.ts
                    and position.get(other_id, -1) < place
                ]
            else:
                culprits = chains.mismatch(self.writers_of(used), position, cell_id, used, before)
            for culprit in culprits:
                reasons.setdefault(culprit, []).append(used)
            if reasons and first_only:
                break
        return reasons

    def rerun_unheld(self, cell_id: str) -> bool:
        """Whether re-running the cell now, as it is, would read a value that
        restart-and-run-all would not give it (a cell below rewrote it, or the
        cell changes in place what it reads): the cells that make the value must
        run first. False without notebook positions or a record."""
        known = self._unheld.get(cell_id)
        if known is None:
            target = self.records.get(cell_id)
            known = bool(
                target is not None
                and cell_id in self.position
                and self._positional_reasons(target, chains.NOW, True)
            )
            self._unheld[cell_id] = known
        return known

    def _candidate_definers(self, uses: Iterable[str]) -> set[str]:
        if not isinstance(uses, (set, frozenset, list, tuple)):
            uses = list(uses)
        if ANY_PATH in uses:
            return set(self.records)
        return self._index.candidates(uses)

    def shared_symbols(self, source: CellRecord, target: CellRecord) -> list[str]:
        """Paths ``target`` used that ``source`` defined (overlap rule of DESIGN §2)."""
        return shared_symbols(source, target)

    def stale_reasons(self, cell_id: str) -> dict[str, list[str]]:
        """Cells that redefined, after ``cell_id``'s last run, a path it used."""
        target = self.records.get(cell_id)
        if target is None:
            return {}
        if cell_id in self.position:
            return self._positional_reasons(target, target.ts, False)
        reasons: dict[str, list[str]] = {}
        for other_id in self._candidate_definers(target.uses):
            source = self.records[other_id]
            if other_id == cell_id or source.ts <= target.ts:
                continue
            symbols = self.shared_symbols(source, target)
            if symbols:
                reasons[other_id] = symbols
        return reasons

    def overwritten_from_above(self, cell_id: str, position: Mapping[str, int]) -> bool:
        """A cell above ``cell_id`` (notebook ``position``) re-bound, after its run,
        a path it defines, and no cell below it defines that path: it must run
        again so the kernel ends as restart-and-run-all would (``x = 1`` /
        ``x = 2``: the last ``x`` wins). A definition that a cell below replaces
        anyway is left alone (its readers read it from it, unchanged), and so is
        IPython's output history (``_``), which every cell with a result sets."""
        target = self.records.get(cell_id)
        if target is None or cell_id not in position:
            return False
        place = position[cell_id]
        for mine in target.defines:
            if _is_history(mine):
                continue
            above = below = False
            for other_id in self._candidate_definers([mine]):
                source = self.records[other_id]
                if other_id == cell_id or not any(overlaps(d, mine) for d in source.defines):
                    continue
                other = position.get(other_id, len(position))
                if other > place and other_id in position:
                    below = True
                    break
                if source.ts > target.ts and other < place:
                    above = True
            if above and not below:
                return True
        return False

    def is_stale(self, cell_id: str) -> bool:
        """Whether ``stale_reasons(cell_id)`` is not empty (stops at the first reason)."""
        known = self._stale.get(cell_id)
        if known is None:
            known = self._stale[cell_id] = self._has_newer_definer(cell_id)
        return known

    def _has_newer_definer(self, cell_id: str) -> bool:
        target = self.records.get(cell_id)
        if target is None or not target.uses:
            return False
        if cell_id in self.position:
            return bool(self._positional_reasons(target, target.ts, True))
        records, since = self.records, target.ts
        if ANY_PATH in target.uses:
            return any(
                other_id != cell_id and source.ts > since and source.defines
                for other_id, source in records.items()
            )
        for other_id in self._index.wildcard:
            if other_id != cell_id and records[other_id].ts > since:
                return True
        for used in target.uses:
            for bucket in self._index.buckets(used):
                for other_id in bucket:
                    source = records[other_id]
                    if (
                        source.ts > since
                        and other_id != cell_id
                        and any(overlaps(d, used) for d in source.defines)
                    ):
                        return True
        return False

    def stale_cells(self) -> set[str]:
        if self._stale_set is None:
            known = self._stale  # most cells' staleness is kept: asked without a call
            self._stale_set = {
                cell_id
                for cell_id in self.records
                if (known[cell_id] if cell_id in known else self.is_stale(cell_id))
            }
        return set(self._stale_set)

    def edges(self) -> list[Edge]:
        """Definer → user edges between the cells' latest runs (any direction),
        by target in record order, each target's by source id.

        Kept up to date at every change (edges.py) and listed once per
        :attr:`shape`; the list is a copy, the edges in it are shared with the
        cache: read them, do not modify them."""
        if self._edges is None:
            self._edges = self._edge_store.ordered(self.records)
        return list(self._edges)

    def definers_of(self, uses: Iterable[str]) -> set[str]:
        """Cells whose latest run defined a path overlapping one of ``uses``."""
        uses = list(uses)
        return {
            cell_id
            for cell_id in self._candidate_definers(uses)
            if any(
                used == ANY_PATH or d == ANY_PATH or overlaps(d, used)
                for d in self.records[cell_id].defines
                for used in uses
            )
        }
