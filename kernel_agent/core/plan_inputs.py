"""What planning is given, and how it reads it: the notebook's code cells, the
effects of each (its run record, or a prediction for a source without an
up-to-date one), the direction and mode names, and the graph arranged in the
notebook's order. Pure; stdlib only.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from .graph import ANY_PATH, Graph
from .paths import overlaps
from .reads import EffectsLike

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


def effects_map(graph: Graph, predicted: Mapping[str, Effects]) -> _EffectsMap:
    """Every cell's effects by id, as :func:`effects_of` gives them (see :class:`_EffectsMap`)."""
    found = _EffectsMap(graph.records)
    found.update(predicted)
    return found


def reads_from(reader: EffectsLike, writer: EffectsLike) -> bool:
    """Whether ``reader`` reads a path ``writer`` writes (overlap rule, DESIGN §2)."""
    if ANY_PATH in reader.uses or ANY_PATH in writer.defines:
        return bool(writer.defines) and bool(reader.uses)
    return any(overlaps(d, u) for u in reader.uses for d in writer.defines)


def index_of(graph: Graph, cells: Sequence[NotebookCell]) -> Mapping[str, int]:
    """``{cell.id: position}`` of ``cells``: the graph's own position when it was
    arranged from these very cells, in order, with no id twice (it is the same
    map; 10,000 cells cost ~1 ms to map again). Read-only."""
    position = graph.position
    if position and len(position) == len(cells) and graph.arranged_from(cells, None):
        return position
    return {cell.id: i for i, cell in enumerate(cells)}


def ids_of(graph: Graph, cells: Sequence[NotebookCell]) -> Sequence[str] | None:
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
