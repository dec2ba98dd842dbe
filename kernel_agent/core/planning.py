"""Which cells a run should run, and in what order: pure functions, no kernel.

Shared by the server (which schedules cascades) and the agent (``%flow
preview``), so it imports only the standard library and this package.

Inputs are plain data: the dependency :class:`~kernel_agent.core.graph.Graph`
replica, the notebook's code cells in order, and the predicted effects of
sources that have no up-to-date record (never run, or edited since). The
semantics are DESIGN §2, reactive mode.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass

from . import chains
from .graph import ANY_PATH, CellRecord, DefinerIndex, Graph
from .paths import overlaps, root
from .reads import EffectsLike, Reads, writes
from .upstream import Planner

FRESH, STALE, DIRTY, ERROR, NEVER_RUN = "fresh", "stale", "dirty", "error", "never_run"
WAITING = "waiting"
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
    #: the paths it surely rebinds whole (see :mod:`.chains`)
    binds: frozenset[str] = frozenset()
    #: random generator state it draws from (see :func:`.chains.unseeded`)
    draws: frozenset[str] = frozenset()


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


def cell_states(
    graph: Graph, cells: Sequence[NotebookCell], direction: str | None = None
) -> dict[str, str]:
    """Every cell's state, with ``waiting`` (DESIGN §2): not stale itself, but it
    read a path last written by a cell that is stale, dirty, waiting or failed,
    so its output is out of date. In_order, a cell reads through the nearest
    definitions above it; under any_order, from the runs that wrote what it read."""
    arrange(graph, cells, direction)
    states = {cell.id: cell_state(graph, cell) for cell in cells}
    sources = {cell.id: _read_from(graph, cell.id) for cell in cells if states[cell.id] == FRESH}
    changed = True
    while changed:  # in notebook order one pass settles in_order; any_order may need more
        changed = False
        for cell in cells:
            if states[cell.id] == FRESH and any(
                states.get(source) in (STALE, DIRTY, WAITING, ERROR)
                for source in sources.get(cell.id, ())
            ):
                states[cell.id] = WAITING
                changed = True
    return states


def _read_from(graph: Graph, cell_id: str) -> set[str] | frozenset[str]:
    """The cells whose writes ``cell_id``'s last run read (see :func:`cell_states`).

    In_order, that rests only on what the cells read and write and their order,
    so the answer is kept per graph :attr:`~Graph.shape`: a run that changed
    neither does not make every fresh cell's sources be worked out again for the
    graph endpoint (~0.2 s at 3,000 cells)."""
    record = graph.records.get(cell_id)
    if record is None:
        return set()
    position = graph.position
    if position:
        kept = graph.derived("read_from")
        sources: frozenset[str] | None = kept.get(cell_id)
        if sources is None:
            sources = kept[cell_id] = frozenset(_reads_in_order(graph, record))
        return sources
    found: set[str] = set()
    for used in record.uses:
        if used != ANY_PATH:
            writers = [w for w in graph.writers_of(used) if w.cell_id != cell_id]
            found.update(chains.applied(writers, used, record.ts))
    return found


def _reads_in_order(graph: Graph, record: CellRecord) -> set[str]:
    position, cell_id = graph.position, record.cell_id
    found: set[str] = set()
    for used in record.uses:
        if used == ANY_PATH:
            continue
        writers = [w for w in graph.writers_of(used) if w.cell_id != cell_id]
        chain = chains.expected(writers, position, position[cell_id], used)
        found.update(w.cell_id for w in chain)
    return found


def effects_of(graph: Graph, cell: NotebookCell, predicted: Mapping[str, Effects]) -> Effects:
    """A cell's effects: of its current source if predicted, else of its last run."""
    if cell.id in predicted:
        return predicted[cell.id]
    record = graph.records.get(cell.id)
    if record is None:
        return Effects(frozenset(), frozenset())
    return Effects(record.uses, record.defines, record.binds, record.draws)


_NO_EFFECTS = Effects(frozenset(), frozenset())


class _EffectsMap(dict[str, EffectsLike]):
    """:func:`effects_of` by cell id, with no new object a cell: a run record is
    its own effects (building 10,000 of them was 5% of a big plan). Holds the
    records of cells outside the notebook too; ask only of notebook cells."""

    def __missing__(self, cell_id: str) -> EffectsLike:
        return _NO_EFFECTS


def _effects_map(graph: Graph, predicted: Mapping[str, Effects]) -> _EffectsMap:
    found = _EffectsMap(graph.records)
    found.update(predicted)
    return found


def _reads_from(reader: EffectsLike, writer: EffectsLike) -> bool:
    if ANY_PATH in reader.uses or ANY_PATH in writer.defines:
        return bool(writer.defines) and bool(reader.uses)
    return any(overlaps(d, u) for u in reader.uses for d in writer.defines)


class _Writers:
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
        return {c for c in candidates if _reads_from(reader, self._effects[c])}


def needs_run(graph: Graph, cell: NotebookCell) -> bool:
    """Whether running the notebook from the top would run this cell differently.

    A blank cell that never ran is not: frontends never send one (most
    notebooks end with one), and it defines nothing.
    """
    state = cell_state(graph, cell)
    return state != FRESH and not (state == NEVER_RUN and not cell.source.strip())


def any_needs_run(graph: Graph, cells: Sequence[NotebookCell]) -> bool:
    """Whether any of ``cells`` :func:`needs_run` (see :func:`first_needing_run`:
    a notebook whose lower half never ran used to have its upper half's
    staleness worked out after every run, ~9 ms a run at 3,000 cells, profiled).
    """
    return first_needing_run(graph, cells) is not None


def first_needing_run(graph: Graph, cells: Sequence[NotebookCell]) -> int | None:
    """The position of the first of ``cells`` that :func:`needs_run`, or None.

    Staleness (an index walk per cell, though kept by the graph across runs)
    is asked only of the cells above the first that needs a run; whether a
    cell never ran, was edited or failed is a dict lookup.
    """
    records = graph.records
    for position, cell in enumerate(cells):
        record = records.get(cell.id)
        if record is None:
            if cell.source.strip():
                return position
        elif record.code != cell.source or not record.ok or graph.is_stale(cell.id):
            return position
    return None


def _index_of(graph: Graph, cells: Sequence[NotebookCell]) -> Mapping[str, int]:
    """``{cell.id: position}`` of ``cells``: the graph's own position when it was
    arranged from these very cells, in order, with no id twice (it is the same
    map; 10,000 cells cost ~1 ms to map again). Read-only."""
    position = graph.position
    if position and len(position) == len(cells) and graph.arranged_from(cells, None):
        return position
    return {cell.id: i for i, cell in enumerate(cells)}


def _ids_of(graph: Graph, cells: Sequence[NotebookCell]) -> Sequence[str] | None:
    """The ids of ``cells`` in order without reading the cells: the graph's order
    when it was arranged from them, in_order (None otherwise). In a big notebook
    every cell read is a trip to memory: a walk down it reads the ids only."""
    order = graph.order
    if order and len(order) == len(cells) and graph.arranged_from(cells, None):
        return order
    return None


def arrange(graph: Graph, cells: Sequence[NotebookCell], direction: str | None = None) -> None:
    """Give the graph the notebook order its in_order staleness rests on."""
    in_order = None if direction is None else direction != ANY_ORDER
    graph.arrange_cells(cells, in_order)


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
    ``index``: :func:`_index_of` the cells."""
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
    ``index``: :func:`_index_of` the cells."""
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
    index = _index_of(graph, cells)
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
    index = _index_of(graph, cells)
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
    writers = _Writers(effects)
    for cell in above:
        writers.add(cell.id)
    ancestors: set[str] = set()
    frontier = [trigger]
    while frontier:
        found = writers.read_by(frontier.pop()) - ancestors
        ancestors |= found
        frontier.extend(found)
    pulled = _Writers(effects)
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
    the first cells of a notebook, ``index`` the notebook's :func:`_index_of`."""

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
    effects = _effects_map(graph, predicted)
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
    effects = _effects_map(graph, predicted)
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
    index = _index_of(graph, cells)
    above = _pullable(cells, cell_id, IN_ORDER, index)
    return _plan_in_order(graph, cells, cell_id, predicted, above, index, repairs_only=True)


def plan_downstream(
    graph: Graph,
    cells: Sequence[NotebookCell],
    triggers: Sequence[str],
    predicted: Mapping[str, Effects],
) -> list[str]:
    """Cells below the topmost trigger that a run of the triggers would re-run.

    A preview: the runner re-checks staleness after every run, so a cell whose
    inputs turn out unchanged is skipped. Never-run cells stay never-run. A
    cell re-runs when it is stale or reads, through the nearest definitions
    above it (:mod:`.chains`), a path a re-run cell above it writes.
    """
    arrange(graph, cells)
    index = _index_of(graph, cells)
    present = [t for t in triggers if t in index]
    if not present:
        return []
    start = min(index[t] for t in present)
    effects = _effects_map(graph, predicted)
    reads = Reads(graph.definers, effects, index, predicted)
    records, reads_any, ids = graph.records, reads.reads_any, _ids_of(graph, cells)
    unique = len(index) == len(cells)  # then a cell's place is its index in ``cells``
    rerun = {index[t] for t in present}  # by place (see Reads.sources)
    planned: list[str] = []
    for place in range(start, len(cells)):
        cell_id = ids[place] if ids is not None else cells[place].id
        record = records.get(cell_id)
        if record is None or cell_id in present:
            continue
        at = place if unique else index[cell_id]
        # reading a re-run cell is the usual reason in a long cascade: asked first
        uses = predicted[cell_id].uses if cell_id in predicted else record.uses
        if at != place:  # its id comes again below
            fed = _reads_met(effects, cells, index, cell_id, place, rerun)
        else:
            fed = reads_any(at, uses, rerun) or (
                ANY_PATH in uses and _reads_any_path(effects, cells, index, cell_id, rerun)
            )
        if fed or graph.is_stale(cell_id):
            planned.append(cell_id)
            rerun.add(at)
    return planned


def _reads_met(
    effects: Mapping[str, EffectsLike],
    cells: Sequence[NotebookCell],
    index: Mapping[str, int],
    reader: str,
    visit: int,
    among: set[int],
) -> bool:
    """Whether ``reader``, met at ``visit`` while its id comes again below (a
    notebook with an id twice), reads a cell at one of the places ``among``:
    through the chains, above its last place, of the cells met so far."""
    met = {cell.id for cell in cells[:visit]}
    met.discard(reader)
    for used in effects[reader].uses:
        writers = [
            _Written(c, effects[c].binds)
            for c in met
            if effects[c].defines and (used == ANY_PATH or writes(effects[c].defines, used))
        ]
        chain = chains.expected(writers, index, index[reader], used)
        if any(index[w.cell_id] in among for w in chain):
            return True
    return False


def _reads_any_path(
    effects: Mapping[str, EffectsLike],
    cells: Sequence[NotebookCell],
    index: Mapping[str, int],
    reader: str,
    among: set[int],
) -> bool:
    """Whether ``reader``, reading ``ANY_PATH``, reads a cell at one of the places
    ``among``: it may read from every cell above that writes something, down
    from the nearest that rebinds everything."""
    place = index[reader]
    writers = [_Written(c.id, effects[c.id].binds) for c in cells[:place] if effects[c.id].defines]
    chain = chains.expected(writers, index, place, ANY_PATH)
    return any(index[w.cell_id] in among for w in chain)


@dataclass(frozen=True)
class _Written:
    cell_id: str
    binds: frozenset[str]
    ts: int = 0
    prev_ts: int | None = None
    defines: frozenset[str] = frozenset()
    draws: frozenset[str] = frozenset()


class _Positions(Mapping[str, int]):
    """Notebook position by cell id, built on first use: a cascade step that finds
    a stale cell right away does not pay for a map of the whole notebook."""

    def __init__(self, cells: Sequence[NotebookCell]) -> None:
        self._cells = cells
        self._map: dict[str, int] | None = None

    def _built(self) -> dict[str, int]:
        if self._map is None:
            self._map = {cell.id: i for i, cell in enumerate(self._cells)}
        return self._map

    def __getitem__(self, cell_id: str) -> int:
        return self._built()[cell_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self._built())

    def __len__(self) -> int:
        return len(self._built())


def next_downstream(
    graph: Graph,
    cells: Sequence[NotebookCell],
    after: int,
    done: set[str],
    predicted: Mapping[str, Effects] | None = None,
) -> str | None:
    """The first cell below position ``after`` that must run now and has not run yet:
    stale, or re-binding a path a cell above it just redefined, or edited since
    its run with a current source that reads a path a cell of this cascade
    (``done``) wrote (restart-and-run-all runs it with that source)."""
    if not graph.arranged_from(cells, None):  # asked once a cell run: the test inline
        arrange(graph, cells)
    position: Mapping[str, int] = graph.position or _Positions(cells)
    records, ids = graph.records, graph.order or None  # arranged from ``cells`` (above)
    written: set[str] | None = None
    start, stop, _ = slice(after + 1, None).indices(len(cells))  # as cells[after + 1 :]
    for i in range(start, stop):
        cell_id = ids[i] if ids is not None else cells[i].id
        record = records.get(cell_id)
        if record is None or cell_id in done:
            continue
        if predicted is not None and cell_id in predicted and record.code != cells[i].source:
            if written is None:
                written = {d for c in done if c in records for d in records[c].defines}
            if _reads_from(predicted[cell_id], Effects(frozenset(), frozenset(written))):
                return cell_id
            continue
        if graph.is_stale(cell_id) or graph.overwritten_from_above(cell_id, position):
            return cell_id
    return None


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
        root(d) for d in first.defines if _reads_from(second, Effects(frozenset(), frozenset({d})))
    }
    shared |= {
        root(d) for d in second.defines if _reads_from(first, Effects(frozenset(), frozenset({d})))
    }
    return len(shared) == 1


def topological_order(
    graph: Graph, cells: Sequence[NotebookCell], predicted: Mapping[str, Effects]
) -> list[str]:
    """All cells ordered so every writer precedes its readers (any_order mode).

    Ties keep notebook order. Raises CycleError naming the cells on a cycle.
    """
    effects = {cell.id: effects_of(graph, cell, predicted) for cell in cells}
    writers = _Writers(effects)
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
