"""Which cells above a trigger run before it (DESIGN §2, steps 1 and 4): the
entry points of an upstream plan. They decide whether a pull can run anything
without predicting a source, then hand the in_order plan to
:class:`.upstream.Planner`; any_order pulls the trigger's ancestors in the
graph's topological order. Pure; stdlib only.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from .any_order import Writers, topological_order
from .graph import Graph
from .plan_inputs import (
    ANY_ORDER,
    IN_ORDER,
    Effects,
    NotebookCell,
    arrange,
    effects_map,
    effects_of,
    index_of,
)
from .states import ERROR, FRESH, NEVER_RUN, any_needs_run, cell_state, needs_run
from .upstream import Planner


def _worth_pulling(graph: Graph, cell: NotebookCell) -> bool:
    """A cell above that a pull runs when the trigger reads from it: it never ran,
    was edited, or is stale. A failed cell whose inputs did not change is not: it
    would fail again the same way (and stock would not run it either)."""
    state = cell_state(graph, cell)
    if state == ERROR:
        return graph.is_stale(cell.id)
    return state != FRESH and not (state == NEVER_RUN and not cell.source.strip())


def _trigger_unheld(
    graph: Graph,
    cells: Sequence[NotebookCell],
    trigger: str,
    predicted: Mapping[str, Effects],
    index: Mapping[str, int],
) -> bool:
    """Whether the trigger may read a value restart-and-run-all would not give it.
    ``index``: :func:`index_of` the cells."""
    record = graph.records.get(trigger)
    if record is None or trigger in predicted:
        return trigger in predicted  # a new cell in the middle; known once predicted
    if len(index) == len(cells):  # no id twice: found at its place, not by a walk
        source = cells[index[trigger]].source if trigger in index else None
    else:
        source = next((c.source for c in cells if c.id == trigger), None)
    return source != record.code or graph.rerun_unheld(trigger)


def _pullable(
    cells: Sequence[NotebookCell], trigger: str, direction: str, index: Mapping[str, int]
) -> list[NotebookCell]:
    """The cells a pull before ``trigger`` may run: those above it (under
    any_order, every other cell); none when ``trigger`` is not a cell here.
    ``index``: :func:`index_of` the cells."""
    if trigger not in index:
        return []
    if direction == ANY_ORDER:
        return [c for c in cells if c.id != trigger]
    return list(cells[: index[trigger]])


def may_pull(
    graph: Graph, cells: Sequence[NotebookCell], trigger: str, direction: str = IN_ORDER
) -> bool:
    """Whether :func:`plan_upstream` can pull anything: a cell it may run needs a run.

    Needs no effects: the server asks before predicting what never-run cells
    read, which in a big notebook means analysing every one of them.
    """
    arrange(graph, cells, direction)
    index = index_of(graph, cells)
    if any_needs_run(graph, _pullable(cells, trigger, direction, index)):
        return True
    return direction != ANY_ORDER and _trigger_unheld(graph, cells, trigger, {}, index)


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
    arrange(graph, cells, direction)
    index = index_of(graph, cells)
    above = _pullable(cells, trigger, direction, index)
    if direction != ANY_ORDER:
        return _plan_in_order(graph, cells, trigger, predicted, above, index, repairs_only=False)
    # only a cell that needs a run starts a pull: with none, skip the effects
    if not any_needs_run(graph, above):
        return []
    if direction == ANY_ORDER:
        rank = {c: i for i, c in enumerate(topological_order(graph, cells, predicted))}
        above.sort(key=lambda c: rank[c.id])
    effects = {cell.id: effects_of(graph, cell, predicted) for cell in cells}
    writers = Writers(effects)
    for cell in above:
        writers.add(cell.id)
    ancestors: set[str] = set()
    frontier = [trigger]
    while frontier:
        found = writers.read_by(frontier.pop()) - ancestors
        ancestors |= found
        frontier.extend(found)
    pulled = Writers(effects)
    plan: list[str] = []
    for cell in above:
        if cell.id in ancestors and (pulled.read_by(cell.id) or needs_run(graph, cell)):
            plan.append(cell.id)
            pulled.add(cell.id)
    return plan


class _Worth(Mapping[str, bool]):
    """:func:`_worth_pulling` of the cells above, worked out when asked: the
    planner asks only of ancestors that read no planned cell (staleness of
    every cell above was ~40% of a 10,000-cell pull, profiled). ``above`` is
    the first cells of a notebook, ``index`` the notebook's :func:`index_of`."""

    def __init__(
        self, graph: Graph, above: Sequence[NotebookCell], index: Mapping[str, int]
    ) -> None:
        self._graph = graph
        self._above = above
        self._index = index
        self._known: dict[str, bool] = {}

    def __getitem__(self, cell_id: str) -> bool:
        known = self._known.get(cell_id)
        if known is None:
            known = self._known[cell_id] = _worth_pulling(self._graph, self._cell(cell_id))
        return known

    def _cell(self, cell_id: str) -> NotebookCell:
        above = self._above
        place = self._index.get(cell_id, len(above))
        if place < len(above):
            return above[place]
        # an id twice in the notebook, once above and once below: the one above
        cell = next((c for c in reversed(above) if c.id == cell_id), None)
        if cell is None:
            raise KeyError(cell_id)
        return cell

    def __iter__(self) -> Iterator[str]:
        return iter({cell.id: None for cell in self._above})

    def __len__(self) -> int:
        return len({cell.id for cell in self._above})


def _plan_in_order(
    graph: Graph,
    cells: Sequence[NotebookCell],
    trigger: str,
    predicted: Mapping[str, Effects],
    above: Sequence[NotebookCell],
    index: Mapping[str, int],
    repairs_only: bool,
) -> list[str]:
    if not above:
        return []
    if (repairs_only or not any_needs_run(graph, above)) and not _trigger_unheld(
        graph, cells, trigger, predicted, index
    ):
        return []
    effects = effects_map(graph, predicted)
    worth = _Worth(graph, above, index)
    upto = len(above) + 1  # and the trigger, the cell below those above
    if index is graph.position:  # the graph's order is these cells' ids
        order: Sequence[str] = graph.order[:upto]
        position: Mapping[str, int] | None = index
    else:
        order, position = [c.id for c in cells[:upto]], None
    planner = Planner(graph, order, trigger, effects, worth, predicted, position)
    return planner.plan(repairs_only)


def ancestors(
    graph: Graph, cells: Sequence[NotebookCell], cell_id: str, predicted: Mapping[str, Effects]
) -> list[str]:
    """The cells above ``cell_id`` whose definitions it reads, transitively, through
    the nearest definition above each reader (in_order), in notebook order."""
    ids = [cell.id for cell in cells]
    if cell_id not in ids:
        return []
    upto = cells[: ids.index(cell_id) + 1]
    effects = effects_map(graph, predicted)
    found = Planner(graph, [c.id for c in upto], cell_id, effects, {}, predicted).ancestors()
    return [c.id for c in upto if c.id in found]


def plan_repairs(
    graph: Graph,
    cells: Sequence[NotebookCell],
    cell_id: str,
    predicted: Mapping[str, Effects],
) -> list[str]:
    """Cells above ``cell_id`` a cascade must re-run before it (in notebook order)
    so that it reads what restart-and-run-all gives it: the binding and every
    in-place change of an object it changes in place again (DESIGN §2 step 4)."""
    arrange(graph, cells)
    index = index_of(graph, cells)
    above = _pullable(cells, cell_id, IN_ORDER, index)
    return _plan_in_order(graph, cells, cell_id, predicted, above, index, repairs_only=True)
