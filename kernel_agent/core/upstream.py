"""The cells to run before a cell, in_order (DESIGN §2, step 1 and step 4).

Restart-and-run-all gives a cell, for each path it reads, the value made by
the chain of cells above it (:mod:`.chains`). Before the cell runs, the
kernel must hold that value. Cells above are pulled when they are ancestors
of the cell (in a chain it reads, transitively) and need a run (never ran,
edited, stale, or read from a pulled cell); and the whole chain of a path is
re-run, in notebook order, when the kernel's value of it was not made that
way (an in-place change applied twice, a value rewritten by a cell below).

Planning simulates the pulled runs on top of the real records, so a cell
below a pulled one sees it as already re-run. Pure; stdlib only.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass

from . import chains
from .graph import ANY_PATH, Graph
from .reads import EffectsLike, Reads, writes


@dataclass(frozen=True)
class Run:
    """A run of a cell, real (a record) or planned, as the chains read it."""

    cell_id: str
    ts: float
    binds: frozenset[str]
    prev_ts: float | None
    defines: frozenset[str]
    draws: frozenset[str] = frozenset()


class Planner:
    """One upstream plan for ``trigger``: see the module docstring.

    ``replaced``: the cells whose ``effects`` are not their records' (predicted).
    ``position``: each cell's place, ``order``'s own or of a notebook it begins.
    The walks work on places, not ids (see :meth:`Reads.sources`).
    """

    def __init__(
        self,
        graph: Graph,
        order: Sequence[str],
        trigger: str,
        effects: Mapping[str, EffectsLike],
        needs_run: Mapping[str, bool],
        replaced: Collection[str] = (),
        position: Mapping[str, int] | None = None,
    ) -> None:
        self.graph = graph
        #: where each cell of ``order`` is; ``position`` may give it (and cells below)
        self.position = position or {cell_id: i for i, cell_id in enumerate(order)}
        self.trigger = trigger
        self.above = list(order[: self.position[trigger]])
        self.effects = effects
        self.needs_run = needs_run
        self._reads = Reads(graph.definers, effects, self.position, replaced)
        self._replaced = self._reads.replaced
        self._any_chains: dict[str, list[str]] = {}
        #: by place: the places of the cells each one reads from (see :meth:`sources`)
        self._sources: dict[int, set[int]] = {}
        self.repairs_only = False
        #: the graph's definers of each path asked (the records do not change here)
        self._recorded_writers: dict[str, set[str]] = {}
        unique = position is not None or len(self.position) == len(order)
        #: the cell at each place up to the trigger's, and the places of ``above``
        #: in its order: ``order`` and its indexes, unless an id comes twice
        self._at: Sequence[str] = order if unique else self._ids_by_place()
        self._above_at: Sequence[int] = (
            range(len(self.above)) if unique else [self.position[c] for c in self.above]
        )

    def _ids_by_place(self) -> list[str]:
        """The id at each place (of its last cell; "" at an earlier one, never asked)."""
        found = [""] * (self.position[self.trigger] + 1)
        for cell_id, place in self.position.items():
            if place < len(found):
                found[place] = cell_id
        return found

    # -- what restart-and-run-all applies ---------------------------------------

    def chain(self, reader: str, path: str) -> list[str]:
        """The cells above ``reader`` that restart-and-run-all applies to ``path``."""
        if path != ANY_PATH:
            return self._reads.chain(self.position[reader], path)
        found = self._any_chains.get(reader)
        if found is None:  # every cell above may write it
            place = self.position[reader]
            writers = [
                Run(c, 0, self.effects[c].binds, None, self.effects[c].defines)
                for c in self.above
                if self.position[c] < place
            ]
            found = [w.cell_id for w in chains.expected(writers, self.position, place, path)]
            self._any_chains[reader] = found
        return found

    def sources(self, place: int) -> set[int]:
        """The places of the cells in the chains of every path the cell at
        ``place`` reads."""
        found = self._sources.get(place)
        if found is None:
            found = self._sources[place] = self._sources_of(place, self._id(place))
        return found

    def _sources_of(self, place: int, reader: str) -> set[int]:
        uses = self.effects[reader].uses
        found = self._reads.sources(place, uses)
        if ANY_PATH in uses:
            found.update(map(self.position.__getitem__, self.chain(reader, ANY_PATH)))
        return found

    def _id(self, place: int) -> str:
        return self._at[place]

    def ancestors(self) -> set[str]:
        """Cells in a chain the trigger reads, transitively."""
        return {self._id(place) for place in self._ancestors()}

    def _ancestors(self) -> set[int]:
        found: set[int] = set()
        frontier = [self.position[self.trigger]]
        known, at, sources_of = self._sources, self._at, self._sources_of
        while frontier:  # each place comes here once: :meth:`sources` inline
            place = frontier.pop()
            mine = known.get(place)
            if mine is None:
                mine = known[place] = sources_of(place, at[place])
            more = mine - found
            if more:
                found |= more
                frontier.extend(more)
        return found

    # -- what the kernel applied ------------------------------------------------

    def _runs_writing(self, path: str, planned: _Ticks) -> list[chains.Writer]:
        """The runs (real or ``planned``) that write a path overlapping ``path``.

        Candidates come from indexes, the graph's definers (kept per path) and
        the replaced effects', not from every run: a plan that pulls most of a
        big notebook asked this of every run for every read (quadratic, 2.8 s
        at 1,000 cells). A planned cell writes what its effects write, which
        is its record's unless replaced."""
        graph = self.graph
        recorded = self._recorded_writers.get(path)
        if recorded is None:
            recorded = graph.definers_of([path]) if path != ANY_PATH else set(graph.records)
            self._recorded_writers[path] = recorded
        candidates = recorded
        if self._replaced:
            more = [c for c in self._reads.overlay_candidates(path) if c in planned]
            candidates = recorded.union(more) if more else recorded
        found = []
        for cell_id in candidates:
            run = self._run(cell_id, planned)
            if run is not None and (path == ANY_PATH or writes(run.defines, path)):
                found.append(run)
        return found

    def _run(self, cell_id: str, planned: _Ticks) -> chains.Writer | None:
        """The cell's latest run: planned (at its clock tick), else its record."""
        record = self.graph.records.get(cell_id)
        tick = planned.get(cell_id)
        if tick is None:
            return record
        mine = self.effects[cell_id]
        earlier = planned.earlier(cell_id)
        if earlier is not None:
            previous: float | None = self._planned_ts(earlier)
        else:
            previous = record.ts if record is not None else None
        return Run(cell_id, self._planned_ts(tick), mine.binds, previous, mine.defines, mine.draws)

    def _planned_ts(self, tick: int) -> float:
        """When the ``tick``-th planned run runs: after every recorded run (only
        the order of runs counts: no matter when exactly)."""
        return max(self.graph.newest, 0) + tick

    def _effects_run(self, cell_id: str) -> Run:
        mine = self.effects[cell_id]
        return Run(cell_id, 0, mine.binds, None, mine.defines, mine.draws)

    def unheld(self, reader: str, planned: _Ticks, before: float) -> set[str]:
        """The chain cells to re-run so that ``reader`` (running at ``before``)
        reads what restart-and-run-all gives it, when the ``planned`` cells run
        first (by id, their clock ticks); empty when it already would.

        Its answer for a path lies within that path's chain, and the plan only
        looks at what it adds to the planned cells: a path whose whole chain
        is planned is skipped (in a big pull, nearly all of them; :meth:`plan`
        skips a reader whose every chain is)."""
        missing: set[str] = set()
        for path in self.effects[reader].uses:
            if path == ANY_PATH:
                continue
            want = self.chain(reader, path)
            if all(w in planned for w in want):
                continue
            writing = self._runs_writing(path, planned)
            if chains.unseeded([self._effects_run(w) for w in want[:1]], writing, path):
                continue  # unseeded random state: nothing to reproduce
            placed = [run for run in writing if run.cell_id in self.graph.position]
            got = chains.applied(placed, path, before, reader)
            ran = [w for w in want if w in planned or w in self.graph.records]
            if ran != got or any(self._ts(w, planned) > before for w in ran):
                missing.update(ran if self.repairs_only else want)
        return missing

    def _ts(self, cell_id: str, planned: _Ticks) -> float:
        tick = planned.get(cell_id)
        return self._planned_ts(tick) if tick is not None else self.graph.records[cell_id].ts

    # -- the plan ---------------------------------------------------------------

    def plan(self, repairs_only: bool = False) -> list[str]:
        """The cells to run before the trigger, in notebook order."""
        self.repairs_only = repairs_only
        ancestors = self._ancestors()
        sources = self._sources  # of the trigger and every ancestor, by _ancestors()
        trigger = self.position[self.trigger]
        required: set[int] = set()
        while True:
            #: planned place -> its run's tick: runs after every record, in this order
            ticks: dict[int, int] = {}
            chosen: set[int] = set()  # the same places, as a set to compare with
            planned: list[int] = []  # in order; an id twice in the notebook runs twice
            earlier: dict[int, int] = {}  # such a cell's tick before its latest
            #: planned cells that read from a cell not planned (its place is above:
            #: known when the cell is); the others' chains run first, whole
            partly: list[int] = []
            for place in self._above_at:
                if place not in ancestors:
                    continue
                mine = sources[place]
                wanted = place in required or (
                    not repairs_only
                    # the cheap test first: most cells of a big pull read a planned one
                    and (
                        (chosen and not chosen.isdisjoint(mine))
                        or self.needs_run.get(self._id(place))
                    )
                )
                if wanted:
                    planned.append(place)
                    if place in ticks:
                        earlier[place] = ticks[place]
                    ticks[place] = len(planned)
                    chosen.add(place)
                    if not mine <= chosen:
                        partly.append(place)
            more: set[int] = set()
            for place in [*partly, trigger]:
                if sources[place] <= chosen:
                    continue  # every cell it reads from runs first: nothing to add
                tick = ticks.get(place)
                before = self._planned_ts(tick) if tick is not None else chains.NOW
                runs = _Ticks(ticks, earlier, self.position)
                more.update(
                    map(self.position.__getitem__, self.unheld(self._id(place), runs, before))
                )
            if more <= chosen:
                # ``required`` only ever holds planned cells, so the next pass
                # would plan these same cells, at the same times, and find the
                # same ``more``: its answer is this one (half the work of a
                # plan that pulls every cell of a big notebook)
                return [self._id(place) for place in planned]
            required |= more


class _Ticks(Mapping[str, int]):
    """The planned cells' clock ticks by id, over the plan's ticks by place."""

    def __init__(
        self, ticks: Mapping[int, int], earlier: Mapping[int, int], position: Mapping[str, int]
    ) -> None:
        self._ticks = ticks
        self._earlier = earlier
        self._position = position

    def earlier(self, cell_id: str) -> int | None:
        """The tick of the cell's planned run before its latest (an id twice)."""
        place = self._position.get(cell_id)
        return None if place is None else self._earlier.get(place)

    def __getitem__(self, cell_id: str) -> int:
        place = self._position.get(cell_id)
        if place is None or place not in self._ticks:
            raise KeyError(cell_id)
        return self._ticks[place]

    def __iter__(self) -> Iterator[str]:
        ids = {place: cell_id for cell_id, place in self._position.items()}
        return (ids[place] for place in self._ticks)

    def __len__(self) -> int:
        return len(self._ticks)
