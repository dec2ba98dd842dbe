"""Which cells below a run re-run after it, in_order (DESIGN §2, step 3): the
preview of a whole cascade, and the cascade's next cell as the runner asks for
it after every run. Pure; stdlib only.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from . import chains
from .graph import ANY_PATH, Graph
from .plan_inputs import Effects, NotebookCell, arrange, effects_map, ids_of, index_of, reads_from
from .reads import EffectsLike, Reads, writes


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
    index = index_of(graph, cells)
    present = [t for t in triggers if t in index]
    if not present:
        return []
    start = min(index[t] for t in present)
    effects = effects_map(graph, predicted)
    reads = Reads(graph.definers, effects, index, predicted)
    records, reads_any, ids = graph.records, reads.reads_any, ids_of(graph, cells)
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
        if at != place:  # its id comes again below: it reads from the cells met so far
            met = {cell.id for cell in cells[:place]}
            met.discard(cell_id)
            fed = _reads_among(effects, index, cell_id, uses, met, rerun)
        else:  # a reader of ANY_PATH may read from every cell above that writes
            fed = reads_any(at, uses, rerun) or (
                ANY_PATH in uses
                and _reads_among(
                    effects, index, cell_id, [ANY_PATH], [c.id for c in cells[:at]], rerun
                )
            )
        if fed or graph.is_stale(cell_id):
            planned.append(cell_id)
            rerun.add(at)
    return planned


def _reads_among(
    effects: Mapping[str, EffectsLike],
    index: Mapping[str, int],
    reader: str,
    paths: Iterable[str],
    writers: Collection[str],
    among: set[int],
) -> bool:
    """Whether ``reader`` reads one of ``paths`` from a cell at one of the places
    ``among``: through the chain (:func:`.chains.expected`), above ``reader``'s
    place, that the cells ``writers`` make of each path. For the cases
    :class:`.reads.Reads` does not answer: an id twice, a reader of ``ANY_PATH``."""
    place = index[reader]
    for used in paths:
        chain = chains.expected(
            [
                _Written(c, effects[c].binds)
                for c in writers
                if effects[c].defines and (used == ANY_PATH or writes(effects[c].defines, used))
            ],
            index,
            place,
            used,
        )
        if any(index[w.cell_id] in among for w in chain):
            return True
    return False


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
            if reads_from(predicted[cell_id], Effects(frozenset(), frozenset(written))):
                return cell_id
            continue
        if graph.is_stale(cell_id) or graph.overwritten_from_above(cell_id, position):
            return cell_id
    return None
