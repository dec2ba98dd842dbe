"""A cascade's next steps, planned past the cell about to run.

A cascade runs one cell, reads what it really did (the agent's report), and
only then picks the next: the kernel idles while the reply crosses to the
server and the next request crosses back. Planned ahead, the steps the
one-at-a-time loop would take if every run reads and writes what its last
run did are sent together; each carries what the run before it must have done
(``kernel_agent.runtime.ahead``), so a step whose plan turns out wrong is
aborted by the kernel and the cascade plans again from what really happened.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kernel_agent.core.graph import CellRecord, Graph, effects_signature, reads_history
from kernel_agent.core.planning import (
    ANY_ORDER,
    Effects,
    NotebookCell,
    next_any_order,
    next_downstream,
    plan_repairs,
)

#: planned ahead only up to this many records: the plan works on a copy of the
#: graph (~2 ms at 1,000 records, ~30 ms at 10,000, which would hold the server)
MAX_RECORDS = 2000


@dataclass(frozen=True)
class Step:
    """One cell a cascade runs."""

    cell: NotebookCell
    #: the stale cell the loop looked for (False: a repair run just before it)
    stale: bool
    #: :func:`effects_signature` its run must have for the steps after it to hold;
    #: None: not foreseeable (never run, or edited), so no step follows it
    expected: str | None


def next_cell(
    graph: Graph,
    cells: Sequence[NotebookCell],
    position: int,
    done: set[str],
    predicted: Mapping[str, Effects],
    direction: str,
) -> str | None:
    """The next stale cell of a cascade (below ``position`` under in_order)."""
    if direction == ANY_ORDER:
        return next_any_order(graph, cells, done, predicted)
    return next_downstream(graph, cells, position, done, predicted)


def repairs(
    graph: Graph,
    cells: Sequence[NotebookCell],
    cell_id: str,
    done: set[str],
    predicted: Mapping[str, Effects],
    direction: str,
) -> list[str]:
    """Cells to re-run before ``cell_id`` so it changes in place what
    restart-and-run-all would (the binding and the changes above it)."""
    if direction == ANY_ORDER:
        return []
    planned = plan_repairs(graph, cells, cell_id, predicted)
    # a cell of the chain ran in this cascade already: a part of the chain
    # alone would apply the rest twice; leave the chain as it is
    return [] if done.intersection(planned) else planned


def plan_steps(
    graph: Graph,
    cells: Sequence[NotebookCell],
    position: int,
    done: set[str],
    predicted: Mapping[str, Effects],
    direction: str,
    ahead: int,
) -> list[Step]:
    """The next stale cell with its repairs, then up to ``ahead`` more the same way.

    The first group is what the one-at-a-time loop runs now, whatever each of
    its runs does; the rest is what it would run next if each run reads and
    writes what it did last time, and stops after a run that cannot be
    foreseen. ``ahead`` 0, a notebook where a cell reads IPython's output
    history (whose names change with every run), or a graph of more than
    :data:`MAX_RECORDS` records plans the first group only.
    """
    by_id = {cell.id: cell for cell in cells}
    group = _group(graph, cells, position, done, predicted, direction, by_id)
    steps = list(group)
    if not steps or ahead <= 0 or any(s.expected is None for s in steps):
        return steps
    if len(graph.records) > MAX_RECORDS:
        return steps
    if _reads_history(graph):
        return steps
    planning, done = graph.copy(), set(done)
    clock = max((record.ts for record in graph.records.values()), default=0)
    for _ in range(ahead):
        for step in group:
            done.add(step.cell.id)
            clock += 1
            planning.put(_as_run(planning, step.cell, clock))
        position = _index(cells, group[-1].cell.id, position)
        group = _group(planning, cells, position, done, predicted, direction, by_id)
        cut = next((i for i, s in enumerate(group) if s.expected is None), None)
        steps.extend(group if cut is None else group[: cut + 1])
        if not group or cut is not None:
            break
    return steps


def _group(
    graph: Graph,
    cells: Sequence[NotebookCell],
    position: int,
    done: set[str],
    predicted: Mapping[str, Effects],
    direction: str,
    by_id: Mapping[str, NotebookCell],
) -> list[Step]:
    """The next stale cell and the repairs before it."""
    next_id = next_cell(graph, cells, position, done, predicted, direction)
    if next_id is None:
        return []
    ids = [*repairs(graph, cells, next_id, done, predicted, direction), next_id]
    return [
        Step(by_id[cell_id], cell_id == next_id, _expected(graph, by_id[cell_id]))
        for cell_id in ids
    ]


def _foreseen(graph: Graph, cell: NotebookCell) -> Effects | None:
    """What a run of ``cell`` will read and write: what its last run of this
    source did. None for a cell never run or edited since: the analysis of its
    source is a guess, and the agent's record of a run adds what it saw."""
    record = graph.records.get(cell.id)
    if record is None or record.code != cell.source:
        return None
    return Effects(record.uses, record.defines, record.binds, record.draws)


def _expected(graph: Graph, cell: NotebookCell) -> str | None:
    effects = _foreseen(graph, cell)
    return None if effects is None else effects_signature(_record(cell, effects, 0, None))


def _as_run(graph: Graph, cell: NotebookCell, ts: int) -> CellRecord:
    """The record a foreseen run of ``cell`` leaves, at clock ``ts``."""
    effects = _foreseen(graph, cell)
    assert effects is not None  # planned ahead only after foreseen runs
    previous = graph.records.get(cell.id)
    return _record(cell, effects, ts, previous.ts if previous is not None else None)


def _record(cell: NotebookCell, effects: Effects, ts: int, prev_ts: int | None) -> CellRecord:
    return CellRecord(
        cell_id=cell.id,
        ts=ts,
        code=cell.source,
        uses=effects.uses,
        defines=effects.defines,
        binds=effects.binds,
        prev_ts=prev_ts,
        draws=effects.draws,
    )


def _reads_history(graph: Graph) -> bool:
    """:func:`reads_history`, once per graph shape (what cells read moves it)."""
    kept = graph.derived("lookahead")
    if "reads_history" not in kept:
        kept["reads_history"] = reads_history(graph.records.values())
    return bool(kept["reads_history"])


def _index(cells: Sequence[NotebookCell], cell_id: str, default: int) -> int:
    return next((i for i, cell in enumerate(cells) if cell.id == cell_id), default)
