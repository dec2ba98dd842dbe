"""Which cells a run should run, and in what order: pure functions, no kernel.

Shared by the server (which schedules cascades) and the agent (``%flow
preview``), so it imports only the standard library and this package.

Inputs are plain data: the dependency :class:`~kernel_agent.graph.Graph`
replica, the notebook's code cells in order, and the predicted effects of
sources that have no up-to-date record (never run, or edited since). The
semantics are DESIGN §2, reactive mode.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .graph import ANY_PATH, Graph
from .paths import overlaps

FRESH, STALE, DIRTY, ERROR, NEVER_RUN = "fresh", "stale", "dirty", "error", "never_run"
IN_ORDER, ANY_ORDER = "in_order", "any_order"
REACTIVE, LAZY = "reactive", "lazy"


@dataclass(frozen=True)
class NotebookCell:
    """A code cell as the notebook holds it now."""

    id: str
    source: str


@dataclass(frozen=True)
class Effects:
    """What a piece of code reads and writes at global scope."""

    uses: frozenset[str]
    defines: frozenset[str]


class CycleError(ValueError):
    """The cells form a dependency cycle, so no any_order schedule exists."""


def cell_state(graph: Graph, cell: NotebookCell) -> str:
    """The state of one cell, ignoring the runner's queued/running marks."""
    record = graph.records.get(cell.id)
    if record is None:
        return NEVER_RUN
    if record.code != cell.source:
        return DIRTY
    if not record.ok:
        return ERROR
    return STALE if graph.is_stale(cell.id) else FRESH


def effects_of(graph: Graph, cell: NotebookCell, predicted: Mapping[str, Effects]) -> Effects:
    """A cell's effects: of its current source if predicted, else of its last run."""
    if cell.id in predicted:
        return predicted[cell.id]
    record = graph.records.get(cell.id)
    if record is None:
        return Effects(frozenset(), frozenset())
    return Effects(record.uses, record.defines)


def _reads_from(reader: Effects, writer: Effects) -> bool:
    if ANY_PATH in reader.uses or ANY_PATH in writer.defines:
        return bool(writer.defines) and bool(reader.uses)
    return any(overlaps(d, u) for u in reader.uses for d in writer.defines)


def _needs_run(graph: Graph, cell: NotebookCell) -> bool:
    return cell_state(graph, cell) != FRESH


def plan_upstream(
    graph: Graph,
    cells: Sequence[NotebookCell],
    trigger: str,
    predicted: Mapping[str, Effects],
    direction: str = IN_ORDER,
) -> list[str]:
    """Cells above ``trigger`` it transitively reads from that must run first.

    A cell is pulled when it is stale, dirty, errored or never ran, or when a
    cell it reads from is pulled (its output would change). Under any_order
    the ancestors may sit anywhere and run in topological order.
    """
    index = {cell.id: i for i, cell in enumerate(cells)}
    if trigger not in index:
        return []
    if direction == ANY_ORDER:
        rank = {c: i for i, c in enumerate(topological_order(graph, cells, predicted))}
        above = sorted((c for c in cells if c.id != trigger), key=lambda c: rank[c.id])
    else:
        above = list(cells[: index[trigger]])
    effects = {cell.id: effects_of(graph, cell, predicted) for cell in cells}
    ancestors: set[str] = set()
    frontier = [trigger]
    while frontier:
        reader = effects[frontier.pop()]
        for cell in above:
            if cell.id not in ancestors and _reads_from(reader, effects[cell.id]):
                ancestors.add(cell.id)
                frontier.append(cell.id)
    pulled: list[str] = []
    for cell in above:
        if cell.id not in ancestors:
            continue
        feeds = any(_reads_from(effects[cell.id], effects[p]) for p in pulled)
        if feeds or _needs_run(graph, cell):
            pulled.append(cell.id)
    return pulled


def plan_downstream(
    graph: Graph,
    cells: Sequence[NotebookCell],
    triggers: Sequence[str],
    predicted: Mapping[str, Effects],
) -> list[str]:
    """Cells below the topmost trigger that a run of the triggers would re-run.

    A preview: the runner re-checks staleness after every run, so a cell whose
    inputs turn out unchanged is skipped. Never-run cells stay never-run.
    """
    index = {cell.id: i for i, cell in enumerate(cells)}
    present = [t for t in triggers if t in index]
    if not present:
        return []
    start = min(index[t] for t in present)
    effects = {cell.id: effects_of(graph, cell, predicted) for cell in cells}
    writers = list(present)
    planned: list[str] = []
    for cell in cells[start + 1 :]:
        if cell.id in present or cell.id not in graph.records:
            continue
        fed = any(_reads_from(effects[cell.id], effects[w]) for w in writers)
        if fed or graph.is_stale(cell.id):
            planned.append(cell.id)
            writers.append(cell.id)
    return planned


def next_downstream(
    graph: Graph, cells: Sequence[NotebookCell], after: int, done: set[str]
) -> str | None:
    """The first cell below position ``after`` that is stale now and has not run yet."""
    for cell in cells[after + 1 :]:
        if cell.id not in done and cell.id in graph.records and graph.is_stale(cell.id):
            return cell.id
    return None


def next_any_order(
    graph: Graph, cells: Sequence[NotebookCell], done: set[str], predicted: Mapping[str, Effects]
) -> str | None:
    """The first stale cell in graph order that has not run yet (any_order mode)."""
    for cell_id in topological_order(graph, cells, predicted):
        if cell_id not in done and cell_id in graph.records and graph.is_stale(cell_id):
            return cell_id
    return None


def topological_order(
    graph: Graph, cells: Sequence[NotebookCell], predicted: Mapping[str, Effects]
) -> list[str]:
    """All cells ordered so every writer precedes its readers (any_order mode).

    Ties keep notebook order. Raises CycleError naming the cells on a cycle.
    """
    effects = {cell.id: effects_of(graph, cell, predicted) for cell in cells}
    readers: dict[str, list[str]] = {cell.id: [] for cell in cells}
    indegree = dict.fromkeys(readers, 0)
    for writer in cells:
        for reader in cells:
            if reader.id != writer.id and _reads_from(effects[reader.id], effects[writer.id]):
                readers[writer.id].append(reader.id)
                indegree[reader.id] += 1
    ready = [cell.id for cell in cells if indegree[cell.id] == 0]
    position = {cell.id: i for i, cell in enumerate(cells)}
    order: list[str] = []
    while ready:
        ready.sort(key=position.__getitem__)
        current = ready.pop(0)
        order.append(current)
        for reader_id in readers[current]:
            indegree[reader_id] -= 1
            if indegree[reader_id] == 0:
                ready.append(reader_id)
    if len(order) < len(cells):
        stuck = [cell.id for cell in cells if indegree[cell.id] > 0]
        raise CycleError(f"cells {', '.join(stuck)} depend on each other in a cycle")
    return order
