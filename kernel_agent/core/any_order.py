"""Any_order mode: the graph's topological order, its cycles, and a cascade's
next cell in it. Cells may read from cells anywhere in the notebook; writers
run before their readers, ties in notebook order. Pure; stdlib only.
"""

from __future__ import annotations

import heapq
from collections.abc import Mapping, Sequence

from .definers import DefinerIndex
from .graph import Graph
from .paths import root
from .plan_inputs import Effects, NotebookCell, effects_of, reads_from


class CycleError(ValueError):
    """The cells form a dependency cycle, so no any_order schedule exists."""


class Writers:
    """Cells indexed by the paths they define (root name and first component):
    finds who a reader reads from without comparing it to every cell, nor a
    reader of ``d['a']`` to every writer of ``d[...]`` (planning stays near-linear)."""

    def __init__(self, effects: Mapping[str, Effects]) -> None:
        self._effects = effects
        self._index = DefinerIndex()

    def add(self, cell_id: str) -> None:
        self._index.add(cell_id, self._effects[cell_id].defines)

    def read_by(self, reader_id: str) -> set[str]:
        """The indexed cells ``reader_id`` reads from (overlap rule), itself excluded."""
        reader = self._effects[reader_id]
        candidates = self._index.candidates(reader.uses)
        candidates.discard(reader_id)
        return {c for c in candidates if reads_from(reader, self._effects[c])}


def next_any_order(
    graph: Graph, cells: Sequence[NotebookCell], done: set[str], predicted: Mapping[str, Effects]
) -> str | None:
    """The first stale cell in graph order that has not run yet (any_order mode)."""
    for cell_id in topological_order(graph, cells, predicted):
        if cell_id not in done and cell_id in graph.records and graph.is_stale(cell_id):
            return cell_id
    return None


def _one_object(first: Effects, second: Effects) -> bool:
    """Whether two cells that read each other's writes do so through one root
    name only (``lst.append(3)`` and ``lst.append(4)``): no real cycle."""
    shared = {
        root(d) for d in first.defines if reads_from(second, Effects(frozenset(), frozenset({d})))
    }
    shared |= {
        root(d) for d in second.defines if reads_from(first, Effects(frozenset(), frozenset({d})))
    }
    return len(shared) == 1


def topological_order(
    graph: Graph, cells: Sequence[NotebookCell], predicted: Mapping[str, Effects]
) -> list[str]:
    """All cells ordered so every writer precedes its readers (any_order mode).

    Ties keep notebook order. Raises CycleError naming the cells on a cycle.
    """
    effects = {cell.id: effects_of(graph, cell, predicted) for cell in cells}
    writers = Writers(effects)
    for cell in cells:
        writers.add(cell.id)
    readers: dict[str, list[str]] = {cell.id: [] for cell in cells}
    indegree = dict.fromkeys(readers, 0)
    position = {cell.id: i for i, cell in enumerate(cells)}
    read_by = {cell.id: writers.read_by(cell.id) for cell in cells}
    for reader in cells:
        for writer_id in read_by[reader.id]:
            if (
                position[writer_id] > position[reader.id]
                and reader.id in read_by[writer_id]
                and _one_object(effects[writer_id], effects[reader.id])
            ):
                continue  # both change one object (lst.append twice): notebook order decides
            readers[writer_id].append(reader.id)
            indegree[reader.id] += 1
    ready = [(position[cell.id], cell.id) for cell in cells if indegree[cell.id] == 0]
    heapq.heapify(ready)
    order: list[str] = []
    while ready:
        _, current = heapq.heappop(ready)
        order.append(current)
        for reader_id in readers[current]:
            indegree[reader_id] -= 1
            if indegree[reader_id] == 0:
                heapq.heappush(ready, (position[reader_id], reader_id))
    if len(order) < len(cells):
        stuck = [cell.id for cell in cells if indegree[cell.id] > 0]
        raise CycleError(f"cells {', '.join(stuck)} depend on each other in a cycle")
    return order
