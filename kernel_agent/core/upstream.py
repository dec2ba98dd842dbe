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

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from . import chains
from .graph import ANY_PATH, DefinerIndex, Graph
from .paths import overlaps


@dataclass(frozen=True)
class Run:
    """A run of a cell, real (a record) or planned, as the chains read it."""

    cell_id: str
    ts: float
    binds: frozenset[str]
    prev_ts: float | None
    defines: frozenset[str]
    draws: frozenset[str] = frozenset()


class _Effects(Protocol):
    """What a cell's current source reads and writes (the planner's ``Effects``)."""

    @property
    def uses(self) -> frozenset[str]: ...
    @property
    def defines(self) -> frozenset[str]: ...
    @property
    def binds(self) -> frozenset[str]: ...
    @property
    def draws(self) -> frozenset[str]: ...


def _writes(defines: frozenset[str], path: str) -> bool:
    return ANY_PATH in defines or any(overlaps(d, path) for d in defines)


class Planner:
    """One upstream plan for ``trigger``: see the module docstring."""

    def __init__(
        self,
        graph: Graph,
        order: Sequence[str],
        trigger: str,
        effects: Mapping[str, _Effects],
        needs_run: Mapping[str, bool],
    ) -> None:
        self.graph = graph
        self.position = {cell_id: i for i, cell_id in enumerate(order)}
        self.trigger = trigger
        self.above = list(order[: self.position[trigger]])
        self.effects = effects
        self.needs_run = needs_run
        self._chain_index = DefinerIndex()
        for cell_id in self.above:
            self._chain_index.add(cell_id, effects[cell_id].defines)
        self._chain_cache: dict[tuple[str, str], list[str]] = {}
        self._clock = 0
        self.repairs_only = False
        #: the graph's definers of each path asked (the records do not change here)
        self._recorded_writers: dict[str, set[str]] = {}
        #: the cells planned in the current pass, by the paths they define
        self._planned_index = DefinerIndex()

    # -- what restart-and-run-all applies ---------------------------------------

    def chain(self, reader: str, path: str) -> list[str]:
        """The cells above ``reader`` that restart-and-run-all applies to ``path``."""
        key = (reader, path)
        found = self._chain_cache.get(key)
        if found is None:
            place = self.position[reader]
            candidates = self._chain_index.candidates([path]) if path != ANY_PATH else set()
            if path == ANY_PATH:
                candidates = set(self.above)
            writers = [
                Run(c, 0, self.effects[c].binds, None, self.effects[c].defines)
                for c in candidates
                if self.position[c] < place
                and (path == ANY_PATH or _writes(self.effects[c].defines, path))
            ]
            found = [w.cell_id for w in chains.expected(writers, self.position, place, path)]
            self._chain_cache[key] = found
        return found

    def ancestors(self) -> set[str]:
        """Cells in a chain the trigger reads, transitively."""
        found: set[str] = set()
        frontier = [self.trigger]
        while frontier:
            reader = frontier.pop()
            for path in self.effects[reader].uses:
                for cell_id in self.chain(reader, path):
                    if cell_id not in found:
                        found.add(cell_id)
                        frontier.append(cell_id)
        return found

    # -- what the kernel applied ------------------------------------------------

    def _runs_writing(self, path: str, runs: Mapping[str, Run]) -> list[Run]:
        """The runs (real or planned) that write a path overlapping ``path``.

        Candidates come from indexes, the graph's definers (kept per path) and
        the planned cells', not from every run: a plan that pulls most of a big
        notebook asked this of every run for every read (quadratic, 2.8 s at
        1,000 cells)."""
        graph = self.graph
        recorded = self._recorded_writers.get(path)
        if recorded is None:
            recorded = graph.definers_of([path]) if path != ANY_PATH else set(graph.records)
            self._recorded_writers[path] = recorded
        planned = self._planned_index.candidates([path])
        candidates = recorded | planned if planned else recorded
        found = []
        for cell_id in candidates:
            run = runs.get(cell_id)
            if run is not None and (path == ANY_PATH or _writes(run.defines, path)):
                found.append(run)
        return found

    def _effects_run(self, cell_id: str) -> Run:
        mine = self.effects[cell_id]
        return Run(cell_id, 0, mine.binds, None, mine.defines, mine.draws)

    def unheld(self, reader: str, runs: Mapping[str, Run], before: float) -> set[str]:
        """The chain cells to re-run so that ``reader`` (running at ``before``)
        reads what restart-and-run-all gives it; empty when it already would."""
        missing: set[str] = set()
        for path in self.effects[reader].uses:
            if path == ANY_PATH:
                continue
            want = self.chain(reader, path)
            writing = self._runs_writing(path, runs)
            if chains.unseeded([self._effects_run(w) for w in want[:1]], writing, path):
                continue  # unseeded random state: nothing to reproduce
            placed = [run for run in writing if run.cell_id in self.graph.position]
            got = chains.applied(placed, path, before, reader)
            ran = [w for w in want if w in runs]
            if ran != got or any(runs[w].ts > before for w in ran):
                missing.update(ran if self.repairs_only else want)
        return missing

    # -- the plan ---------------------------------------------------------------

    def plan(self, repairs_only: bool = False) -> list[str]:
        """The cells to run before the trigger, in notebook order."""
        records = self.graph.records
        self.repairs_only = repairs_only
        self._clock = max((r.ts for r in records.values()), default=0)
        ancestors = self.ancestors()
        required: set[str] = set()
        while True:
            runs = {
                c: Run(c, r.ts, r.binds, r.prev_ts, r.defines, r.draws) for c, r in records.items()
            }
            planned: list[str] = []
            chosen: set[str] = set()
            self._planned_index = DefinerIndex()
            clock = float(self._clock)
            for cell_id in self.above:
                if cell_id not in ancestors:
                    continue
                wanted = cell_id in required or (
                    not repairs_only
                    # the cheap test first: most cells of a big pull read a planned one
                    and (self._reads_planned(cell_id, chosen) or self.needs_run.get(cell_id))
                )
                if not wanted:
                    continue
                clock += 1
                previous = runs.get(cell_id)
                mine = self.effects[cell_id]
                runs[cell_id] = Run(
                    cell_id,
                    clock,
                    mine.binds,
                    previous.ts if previous else None,
                    mine.defines,
                    mine.draws,
                )
                planned.append(cell_id)
                chosen.add(cell_id)
                self._planned_index.add(cell_id, mine.defines)
            more: set[str] = set()
            for reader in [*planned, self.trigger]:
                before = runs[reader].ts if reader in chosen else chains.NOW
                more |= self.unheld(reader, runs, before)
            if more <= chosen:
                # ``required`` only ever holds planned cells, so the next pass
                # would plan these same cells, at the same times, and find the
                # same ``more``: its answer is this one (half the work of a
                # plan that pulls every cell of a big notebook)
                return planned
            required |= more

    def _reads_planned(self, cell_id: str, chosen: set[str]) -> bool:
        if not chosen:
            return False
        return any(
            chosen.intersection(self.chain(cell_id, path)) for path in self.effects[cell_id].uses
        )
