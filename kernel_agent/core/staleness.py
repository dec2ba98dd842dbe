"""Which cells are stale, and the answers kept across changes that cannot move them.

A cell is stale when a path it read was since rewritten by a run that
restart-and-run-all would apply before it (DESIGN §2): under in_order, by the
chains above it (:mod:`.chains`); under any_order, by any later run. Asking
every cell after every run made a run in a big notebook cost every cell, so
:class:`KeptStaleness` keeps each answer until a change of a record it rests
on. Reads the graph through :class:`GraphView`; pure, stdlib only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from . import chains
from .definers import ANY_PATH, DefinerIndex
from .edges import shared_symbols
from .paths import overlaps
from .records import CellRecord, is_history


class GraphView(Protocol):
    """What staleness reads of the graph (:class:`~.graph.Graph`); read-only."""

    @property
    def records(self) -> Mapping[str, CellRecord]: ...
    @property
    def position(self) -> Mapping[str, int]: ...
    @property
    def definers(self) -> DefinerIndex: ...
    @property
    def readers(self) -> DefinerIndex: ...
    @property
    def newest(self) -> float: ...
    def writers_of(self, path: str) -> list[CellRecord]: ...
    def candidate_definers(self, uses: Iterable[str]) -> set[str]: ...


class KeptStaleness:
    """Per cell, whether it is stale and whether a re-run now would read what
    restart-and-run-all gives it, kept until a change can move the answer."""

    def __init__(self) -> None:
        self.stale: dict[str, bool] = {}
        self.unheld: dict[str, bool] = {}

    def forget(
        self,
        graph: GraphView,
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
        defines what ``old`` did. Called before the graph holds ``new``."""
        stale, unheld = self.stale, self.unheld
        unheld.pop(cell_id, None)
        if not stale and not unheld:
            return
        stale.pop(cell_id, None)
        if new is None:
            defined = old.defines if old is not None else frozenset()
        elif old is None or not redefined:  # a re-run keeps its readers
            if old is not None and self._mark(graph, new):
                return
            defined = new.defines
        else:
            defined = old.defines | new.defines
        for reader in graph.readers.candidates(defined) if defined else ():
            stale.pop(reader, None)
            unheld.pop(reader, None)

    def forget_all(self) -> None:
        self.stale.clear()
        self.unheld.clear()

    def _mark(self, graph: GraphView, new: CellRecord) -> bool:
        """After a re-run that alone writes its one plain name and drew no random
        state, the readers of the name: each that ran before it and sits below
        it (or anywhere, under any_order) is stale (:func:`chains.mismatch_one`
        finds the name rewritten since); the others' kept staleness is dropped.
        Known at once, a cascade's next cell is not worked out again (a quarter
        of a 10,000-cell cascade's work). False, having done nothing, otherwise."""
        index = graph.definers
        if len(new.defines) != 1 or new.draws or index.wildcard:
            return False
        cell_id, ts = new.cell_id, new.ts
        (name,) = new.defines
        readers = graph.readers.exact(name)  # then exactly the cells that used it
        if readers is None or index.sole.get(name) != cell_id:
            return False
        stale, records, position = self.stale, graph.records, graph.position
        if self.unheld:
            for reader in readers:
                self.unheld.pop(reader, None)
        at = position.get(cell_id)
        # the newest run of all ran after every reader: their records need no reading
        latest = ts > graph.newest
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

    def is_stale(self, graph: GraphView, cell_id: str) -> bool:
        """Whether ``stale_reasons(graph, cell_id)`` is not empty (stops at the first reason)."""
        known = self.stale.get(cell_id)
        if known is None:
            known = self.stale[cell_id] = has_newer_definer(graph, cell_id)
        return known

    def rerun_unheld(self, graph: GraphView, cell_id: str) -> bool:
        """Whether re-running the cell now, as it is, would read a value that
        restart-and-run-all would not give it (a cell below rewrote it, or the
        cell changes in place what it reads): the cells that make the value must
        run first. False without notebook positions or a record."""
        known = self.unheld.get(cell_id)
        if known is None:
            target = graph.records.get(cell_id)
            known = bool(
                target is not None
                and cell_id in graph.position
                and positional_reasons(graph, target, chains.NOW, True)
            )
            self.unheld[cell_id] = known
        return known


def positional_reasons(
    graph: GraphView, target: CellRecord, before: float, first_only: bool
) -> dict[str, list[str]]:
    """Cells that make ``target``'s reads (as of ``before``) differ from
    restart-and-run-all's, with the paths (:func:`chains.mismatch`)."""
    reasons: dict[str, list[str]] = {}
    cell_id, position, records = target.cell_id, graph.position, graph.records
    place = position[cell_id]
    sole = graph.definers.sole if not graph.definers.wildcard else {}
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
            culprits = chains.mismatch(graph.writers_of(used), position, cell_id, used, before)
        for culprit in culprits:
            reasons.setdefault(culprit, []).append(used)
        if reasons and first_only:
            break
    return reasons


def stale_reasons(graph: GraphView, cell_id: str) -> dict[str, list[str]]:
    """Cells that redefined, after ``cell_id``'s last run, a path it used."""
    target = graph.records.get(cell_id)
    if target is None:
        return {}
    if cell_id in graph.position:
        return positional_reasons(graph, target, target.ts, False)
    reasons: dict[str, list[str]] = {}
    for other_id in graph.candidate_definers(target.uses):
        source = graph.records[other_id]
        if other_id == cell_id or source.ts <= target.ts:
            continue
        symbols = shared_symbols(source, target)
        if symbols:
            reasons[other_id] = symbols
    return reasons


def has_newer_definer(graph: GraphView, cell_id: str) -> bool:
    """:func:`stale_reasons` worked out only as far as its first reason."""
    target = graph.records.get(cell_id)
    if target is None or not target.uses:
        return False
    if cell_id in graph.position:
        return bool(positional_reasons(graph, target, target.ts, True))
    records, since, index = graph.records, target.ts, graph.definers
    if ANY_PATH in target.uses:
        return any(
            other_id != cell_id and source.ts > since and source.defines
            for other_id, source in records.items()
        )
    for other_id in index.wildcard:
        if other_id != cell_id and records[other_id].ts > since:
            return True
    for used in target.uses:
        for bucket in index.buckets(used):
            for other_id in bucket:
                source = records[other_id]
                if (
                    source.ts > since
                    and other_id != cell_id
                    and any(overlaps(d, used) for d in source.defines)
                ):
                    return True
    return False


def overwritten_from_above(graph: GraphView, cell_id: str, position: Mapping[str, int]) -> bool:
    """A cell above ``cell_id`` (notebook ``position``) re-bound, after its run,
    a path it defines, and no cell below it defines that path: it must run
    again so the kernel ends as restart-and-run-all would (``x = 1`` /
    ``x = 2``: the last ``x`` wins). A definition that a cell below replaces
    anyway is left alone (its readers read it from it, unchanged), and so is
    IPython's output history (``_``), which every cell with a result sets."""
    records = graph.records
    target = records.get(cell_id)
    if target is None or cell_id not in position:
        return False
    place = position[cell_id]
    for mine in target.defines:
        if is_history(mine):
            continue
        above = below = False
        for other_id in graph.candidate_definers([mine]):
            source = records[other_id]
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
