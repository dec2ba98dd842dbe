"""The cell dependency graph: run records per cell, staleness and edges.

Pure data, stdlib only. The agent fills it in the kernel and reports records;
the server keeps a replica built from the same records, so both sides compute
staleness and edges with this one implementation.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .paths import overlaps, root

#: A use of this path means "may read anything" (exec, star-import, ...).
ANY_PATH = "*"


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

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.cell_id,
            "ts": self.ts,
            "code": self.code,
            "uses": sorted(self.uses),
            "defines": sorted(self.defines),
            "ok": self.ok,
            "execution_count": self.execution_count,
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
        )


@dataclass
class Edge:
    source: str
    target: str
    symbols: list[str]


@dataclass
class Graph:
    """Latest run record of every cell, indexed by the root names it defines."""

    records: dict[str, CellRecord] = field(default_factory=dict)
    _definers: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    _wildcard_definers: set[str] = field(default_factory=set)

    def put(self, record: CellRecord) -> None:
        """Replace a cell's record (a new run supersedes the old one)."""
        self.remove(record.cell_id)
        self.records[record.cell_id] = record
        for path in record.defines:
            if path == ANY_PATH:
                self._wildcard_definers.add(record.cell_id)
            else:
                self._definers[root(path)].add(record.cell_id)

    def remove(self, cell_id: str) -> None:
        old = self.records.pop(cell_id, None)
        if old is None:
            return
        self._wildcard_definers.discard(cell_id)
        for path in old.defines:
            self._definers.get(root(path), set()).discard(cell_id)

    def clear(self) -> None:
        self.records.clear()
        self._definers.clear()
        self._wildcard_definers.clear()

    def _candidate_definers(self, uses: Iterable[str]) -> set[str]:
        if ANY_PATH in uses:
            return set(self.records)
        found = set(self._wildcard_definers)
        for path in uses:
            found |= self._definers.get(root(path), set())
        return found

    def shared_symbols(self, source: CellRecord, target: CellRecord) -> list[str]:
        """Paths ``target`` used that ``source`` defined (overlap rule of DESIGN §2)."""
        if ANY_PATH in target.uses or ANY_PATH in source.defines:
            return sorted(source.defines if ANY_PATH in target.uses else target.uses)
        return sorted(
            used for used in target.uses if any(overlaps(d, used) for d in source.defines)
        )

    def stale_reasons(self, cell_id: str) -> dict[str, list[str]]:
        """Cells that redefined, after ``cell_id``'s last run, a path it used."""
        target = self.records.get(cell_id)
        if target is None:
            return {}
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
        a path it defines: it must run again so the cells below it read its value,
        as restart-and-run-all would (``x = 1`` / ``x = 2`` / ``print(x)``)."""
        target = self.records.get(cell_id)
        if target is None or cell_id not in position:
            return False
        for other_id in self._candidate_definers(target.defines):
            source = self.records[other_id]
            if (
                other_id != cell_id
                and source.ts > target.ts
                and position.get(other_id, len(position)) < position[cell_id]
                and any(overlaps(d, mine) for d in source.defines for mine in target.defines)
            ):
                return True
        return False

    def is_stale(self, cell_id: str) -> bool:
        return bool(self.stale_reasons(cell_id))

    def stale_cells(self) -> set[str]:
        return {cell_id for cell_id in self.records if self.is_stale(cell_id)}

    def edges(self) -> list[Edge]:
        """Definer → user edges between the cells' latest runs (any direction)."""
        found: list[Edge] = []
        for target in self.records.values():
            for source_id in sorted(self._candidate_definers(target.uses)):
                if source_id == target.cell_id:
                    continue
                symbols = self.shared_symbols(self.records[source_id], target)
                if symbols:
                    found.append(Edge(source_id, target.cell_id, symbols))
        return found

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
