"""Each code cell's state as the REST graph (and the page) shows it, with why.

States come from :func:`kernel_agent.core.planning.cell_states` (``waiting``
included); the runner's queued and running marks win. The reason names the
paths and the cells by their prompt numbers, as the user sees them
("reads x, redefined by [7]").
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from kernel_agent.core.graph import Graph
from kernel_agent.core.planning import (
    DIRTY,
    ERROR,
    FRESH,
    NEVER_RUN,
    STALE,
    WAITING,
    NotebookCell,
    cell_states,
)

from .runner import KernelRunner


def _label(graph: Graph, cell_id: str, index: dict[str, int]) -> str:
    record = graph.records.get(cell_id)
    if record is not None and record.execution_count is not None:
        return f"[{record.execution_count}]"
    return f"cell {index[cell_id] + 1}" if cell_id in index else "a deleted cell"


def _stale_reason(graph: Graph, cell_id: str, index: dict[str, int]) -> str:
    reasons = graph.stale_reasons(cell_id)
    parts = [
        f"reads {', '.join(paths)}, redefined by {_label(graph, culprit, index)}"
        for culprit, paths in sorted(reasons.items(), key=lambda kv: index.get(kv[0], -1))
    ]
    return "; ".join(parts) or "an input changed since it ran"


def _waiting_reason(
    graph: Graph, cell_id: str, states: dict[str, str], index: dict[str, int]
) -> str:
    kept = graph.derived("definers_of_uses")  # per graph shape: a run keeps them
    definers = kept.get(cell_id)
    if definers is None:
        definers = kept[cell_id] = graph.definers_of(graph.records[cell_id].uses)
    for culprit in sorted(definers, key=lambda c: index.get(c, -1)):
        state = states.get(culprit)
        if culprit != cell_id and state in (STALE, DIRTY, WAITING, ERROR):
            label = _label(graph, culprit, index)
            return f"reads from {label}, which is {state.replace('_', ' ')}"
    return "reads from a cell that is out of date"


def reason_for(
    graph: Graph, cell_id: str, states: dict[str, str], index: dict[str, int]
) -> str | None:
    """Why a cell is not fresh, for people; None when there is nothing to say."""
    state = states.get(cell_id)
    if state == STALE:
        return _stale_reason(graph, cell_id, index)
    if state == WAITING:
        return _waiting_reason(graph, cell_id, states, index)
    if state == DIRTY:
        return "edited since it ran"
    if state == NEVER_RUN:
        return None
    if state == ERROR:
        if graph.is_stale(cell_id):
            return "failed; its inputs changed since: " + _stale_reason(graph, cell_id, index)
        return "failed at its last run"
    return None


#: states whose reason is always None (see :func:`reason_for`)
SILENT = frozenset({FRESH, NEVER_RUN})

#: one code cell as the graph shows it: the cell, its index, execution count,
#: state (queued and running win) and reason; equal rows give equal JSON
CellRow = tuple[NotebookCell, int, int | None, str, str | None]


class CellRows:
    """The code cells' rows for one look at a runner, made one by one on demand.

    ``states``: :func:`cell_states` of these cells, when the caller has them.
    """

    def __init__(
        self, runner: KernelRunner, cells: list[NotebookCell], states: dict[str, str] | None = None
    ) -> None:
        state = runner.state
        self.cells, self.graph = cells, state.graph
        self.states = (
            states if states is not None else cell_states(self.graph, cells, runner.direction)
        )
        self.running, self.queued = state.running, set(state.queued)
        self._index: dict[str, int] | None = None  # for reasons only: made at the first one

    def row(self, i: int) -> CellRow:
        """The row of the ``i``-th code cell."""
        cell = self.cells[i]
        record = self.graph.records.get(cell.id)
        shown = self.states[cell.id]
        reason = None
        if shown not in SILENT:
            if self._index is None:
                self._index = {c.id: n for n, c in enumerate(self.cells)}
            reason = reason_for(self.graph, cell.id, self.states, self._index)
        if cell.id == self.running:
            shown = "running"
        elif cell.id in self.queued:
            shown = "queued"
        return cell, i, record.execution_count if record else None, shown, reason

    def __iter__(self) -> Iterator[CellRow]:
        return map(self.row, range(len(self.cells)))


def cell_json(row: CellRow) -> dict[str, Any]:
    """One entry of the REST graph's ``cells``: id, index, source, count, state, reason."""
    cell, index, count, shown, reason = row
    return {
        "id": cell.id,
        "index": index,
        "source": cell.source,
        "execution_count": count,
        "state": shown,
        "reason": reason,
    }


def cells_json(runner: KernelRunner, cells: list[NotebookCell]) -> list[dict[str, Any]]:
    """The ``cells`` list of the REST graph: id, index, source, count, state, reason."""
    return [cell_json(row) for row in CellRows(runner, cells)]
