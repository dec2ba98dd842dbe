"""What the graph keeps up to date as records change answers as a recomputation.

The graph keeps, across changes, the edges into each cell (edges.py), the one
writer of each plain name (``DefinerIndex.sole``), a lone definer as a tuple,
and the staleness of each cell, which a re-run settles for the readers of what
it rewrote (``KeptStaleness._mark``); planning finds chains through that index
(reads.py) and a path's one writer without building chains
(``chains.mismatch_one``). Each is checked against a brute force over all
cells, or a graph built afresh from the same records, after random re-runs,
edits, deletions and moves of cells.
"""

from __future__ import annotations

import random

from graph_brute_force import brute_edges, shares

from kernel_agent.core import chains
from kernel_agent.core.definers import ANY_PATH, DefinerIndex
from kernel_agent.core.graph import CellRecord, Graph
from kernel_agent.core.overlay import Overlay, Predicted
from kernel_agent.core.paths import overlaps, root
from kernel_agent.core.planning import (
    Effects,
    NotebookCell,
    ancestors,
    cell_states,
    next_downstream,
    plan_downstream,
    plan_upstream,
)
from kernel_agent.core.reads import EffectsLike, Reads

NAMES = ["a", "b", "c", "x", "lst"]
PARTS = ["", "", "", "[0]", "[1]", "[-1]", ".a", "['k']"]


def _path(rng: random.Random, plain: bool) -> str:
    name = rng.choice(NAMES)
    return name if plain else name + rng.choice(PARTS)


def _paths(rng: random.Random, most: int, plain: bool, anything: float = 0.0) -> frozenset[str]:
    found = {_path(rng, plain) for _ in range(rng.randint(0, most))}
    if rng.random() < anything:
        found.add(ANY_PATH)
    return frozenset(found)


class History:
    """A random notebook and its runs, kept in a graph as the runner keeps it."""

    def __init__(self, seed: int, plain: bool) -> None:
        self.rng = random.Random(seed)
        self.plain = plain
        self.cells = [NotebookCell(f"c{i}", f"src{i}") for i in range(self.rng.randint(3, 10))]
        self.graph = Graph()
        self.in_order = True  # the direction the graph was last arranged in
        self.clock = 0
        for cell in self.cells:
            if self.rng.random() < 0.9:
                self.edit(cell.id)

    def record(self, cell_id: str, effects: Effects, prev_ts: int | None) -> CellRecord:
        self.clock += 1
        return CellRecord(
            cell_id,
            self.clock,
            f"src{cell_id[1:]}",
            effects.uses,
            effects.defines,
            binds=effects.binds,
            prev_ts=prev_ts,
            draws=effects.draws,
        )

    def effects(self) -> Effects:
        rng, plain = self.rng, self.plain
        defines = _paths(rng, 2, plain, 0.0 if plain else 0.03)
        binds = frozenset(p for p in defines if p != ANY_PATH and rng.random() < 0.6)
        draws = frozenset({"rng"}) if not plain and rng.random() < 0.05 else frozenset()
        return Effects(_paths(rng, 2, plain, 0.0 if plain else 0.03), defines | draws, binds, draws)

    def edit(self, cell_id: str) -> None:
        old = self.graph.records.get(cell_id)
        self.graph.put(self.record(cell_id, self.effects(), old.ts if old else None))

    def rerun(self, cell_id: str, late: bool = False) -> None:
        """A run that read and wrote what the last did; ``late``: a record that
        arrives after newer ones (its time is not the newest)."""
        old = self.graph.records.get(cell_id)
        if old is not None:
            same = Effects(old.uses, old.defines, old.binds, old.draws)
            record = self.record(cell_id, same, old.ts)
            if late:
                record.ts = self.rng.randint(1, self.clock)
            self.graph.put(record)

    def step(self) -> None:
        rng, ids = self.rng, [cell.id for cell in self.cells]
        kind = rng.random()
        if kind < 0.05:
            self.graph = self.graph.copy()  # its records put again, not in time order
        elif kind < 0.4:
            self.rerun(rng.choice(ids), late=rng.random() < 0.2)
        elif kind < 0.55:
            self.cascade(rng.choice(ids))
        elif kind < 0.7:
            self.edit(rng.choice(ids))
        elif kind < 0.8 and len(self.cells) > 2:
            gone = self.cells.pop(rng.randrange(len(self.cells)))
            self.graph.remove(gone.id)
        else:
            cells = list(self.cells)
            cell = cells.pop(rng.randrange(len(cells)))
            cells.insert(rng.randrange(len(cells) + 1), cell)
            self.cells = cells
        if rng.random() < 0.3:
            self.in_order = rng.random() < 0.8
            self.graph.arrange([cell.id for cell in self.cells], self.in_order)

    def cascade(self, trigger: str) -> None:
        """Re-run ``trigger``, then every cell below that becomes stale, as the runner does."""
        self.rerun(trigger)
        ids = [cell.id for cell in self.cells]
        done, after = {trigger}, ids.index(trigger)
        while (found := next_downstream(self.graph, self.cells, after, done)) is not None:
            done.add(found)
            after = ids.index(found)
            self.rerun(found)

    def fresh(self) -> Graph:
        """A graph of the same records and order, with nothing kept."""
        return rebuilt(self.graph, self.in_order)


def rebuilt(graph: Graph, in_order: bool = True) -> Graph:
    """A graph of the same records, order and direction, with nothing kept."""
    fresh = Graph()
    for kept in graph.records.values():
        fresh.put(kept)
    fresh.arrange(list(graph.order), in_order)
    return fresh


# -- brute forces: every cell against every other ------------------------------


def _writes(defines: frozenset[str], path: str) -> bool:
    return ANY_PATH in defines or any(overlaps(d, path) for d in defines)


def brute_stale(graph: Graph, cell_id: str) -> bool:
    """Staleness from every record, through the chains (no index, no one-writer path)."""
    target = graph.records.get(cell_id)
    if target is None or not target.uses:
        return False
    others = [r for r in graph.records.values() if r.cell_id != cell_id]
    if cell_id not in graph.position:
        return any(r.ts > target.ts and shares(r, target) for r in others)
    place = graph.position[cell_id]
    for used in target.uses:
        if used == ANY_PATH:
            if any(
                r.defines and r.ts > target.ts and graph.position.get(r.cell_id, -1) < place
                for r in others
            ):
                return True
            continue
        writers = [r for r in graph.records.values() if _writes(r.defines, used)]
        if writers and chains._mismatch_chains(
            writers, graph.position, cell_id, place, used, target.ts
        ):
            return True
    return False


# -- the tests ------------------------------------------------------------------


def test_edges_kept_at_every_change_are_the_brute_force_ones() -> None:
    for seed in range(60):
        history = History(seed, plain=seed % 2 == 0)
        for _ in range(30):
            history.step()
            edges = [(e.source, e.target, e.symbols) for e in history.graph.edges()]
            assert edges == brute_edges(history.graph), seed
        history.graph.clear()
        assert history.graph.edges() == []


def test_kept_staleness_is_a_fresh_graphs_and_the_brute_force() -> None:
    for seed in range(80):
        history = History(seed, plain=seed % 3 != 0)
        for _ in range(30):
            history.step()
            graph, fresh = history.graph, history.fresh()
            ids = list(graph.records)
            kept = {c: graph.is_stale(c) for c in ids}
            assert kept == {c: fresh.is_stale(c) for c in ids}, seed
            assert kept == {c: brute_stale(fresh, c) for c in ids}, seed
            assert graph.stale_cells() == {c for c in ids if kept[c]}
            assert {c: graph.rerun_unheld(c) for c in ids} == {
                c: fresh.rerun_unheld(c) for c in ids
            }
            assert cell_states(graph, history.cells) == cell_states(fresh, history.cells)


def test_a_rerun_marks_exactly_the_readers_it_made_stale() -> None:
    """A chain of plain names, re-run top down: each re-run's readers below it are
    known stale at once, the rest stay as a fresh graph finds them."""
    graph = Graph()
    for i in range(30):
        uses = frozenset({f"v{i - 1}", f"v{i // 2}"}) if i else frozenset()
        graph.put(CellRecord(f"c{i}", i + 1, "", uses, frozenset({f"v{i}"})))
    graph.arrange([f"c{i}" for i in range(30)])
    assert graph.stale_cells() == set()
    for ts, i in enumerate([0, 1, 2, 3, 7, 20], start=100):
        old = graph.records[f"c{i}"]
        graph.put(CellRecord(old.cell_id, ts, "", old.uses, old.defines, prev_ts=old.ts))
        assert graph.stale_cells() == rebuilt(graph).stale_cells()
        assert graph.stale_cells() == {c for c in graph.records if brute_stale(graph, c)}


def test_one_writer_mismatch_is_the_chains_answer() -> None:
    rng = random.Random(7)
    for _ in range(3000):
        writer_id = rng.choice(["w", "r", "gone"])
        path = rng.choice(["x", "x[0]", "x.a"])
        binds = frozenset(rng.sample(["x", "x[0]", "x.a", "y"], rng.randint(0, 2)))
        ts = rng.randint(0, 6)
        prev_ts = rng.choice([None, rng.randint(0, 6)])
        writer = CellRecord(writer_id, ts, "", frozenset(), frozenset({path}) | binds, binds=binds)
        writer.prev_ts = prev_ts
        position = {"r": 2, "w": rng.choice([0, 1, 3])}
        before = rng.choice([rng.randint(0, 6), chains.NOW])
        assert chains.mismatch_one(writer, position, "r", 2, path, before) == (
            chains._mismatch_chains([writer], position, "r", 2, path, before)
        )


def test_chains_found_through_the_graphs_index_are_the_brute_force_ones() -> None:
    for seed in range(60):
        history = History(seed, plain=seed % 2 == 0)
        for _ in range(10):
            history.step()
        rng, graph, cells = history.rng, history.graph, history.cells
        predicted = {c.id: history.effects() for c in cells if rng.random() < 0.25}
        effects = _effects_seen(graph, cells, predicted)
        position = {c.id: i for i, c in enumerate(cells)}
        reads = Reads(graph.definers, effects, position, predicted)
        for place, cell in enumerate(cells):
            for path in {*effects[cell.id].uses, *NAMES} - {ANY_PATH}:
                writers = [
                    chains_writer(c.id, effects[c.id].binds)
                    for c in cells[:place]
                    if _writes(effects[c.id].defines, path)
                ]
                expected = [w.cell_id for w in chains.expected(writers, position, place, path)]
                assert reads.chain(place, path) == expected, (seed, cell.id, path)
            uses = effects[cell.id].uses
            sources = {position[c] for path in uses - {ANY_PATH} for c in reads.chain(place, path)}
            assert reads.sources(place, uses) == sources
            among = set(rng.sample(range(len(cells)), rng.randint(0, len(cells))))
            assert reads.reads_any(place, uses, among) == bool(sources & among)


def _effects_seen(
    graph: Graph, cells: list[NotebookCell], predicted: dict[str, Effects]
) -> dict[str, EffectsLike]:
    """What a plan takes each cell to do: its prediction, else its record, else nothing."""
    return {
        c.id: predicted.get(c.id) or graph.records.get(c.id) or Effects(frozenset(), frozenset())
        for c in cells
    }


def test_a_kept_overlay_of_predicted_cells_answers_as_one_built_afresh() -> None:
    """The runner keeps one :class:`Overlay` per kernel and brings it up to date
    by difference at each plan; chains through it are those of a fresh index."""
    for seed in range(60):
        history = History(seed, plain=seed % 2 == 0)
        overlay = Overlay()
        predicted: dict[str, Effects] = {}
        for _ in range(12):
            history.step()
            rng, graph, cells = history.rng, history.graph, history.cells
            # most predictions are the same objects as the last plan's (kept), some
            # are new or gone, some equal but new objects, some write something else
            predicted = {
                c.id: _next_prediction(history, predicted.get(c.id))
                for c in cells
                if rng.random() < (0.9 if c.id in predicted else 0.3)
            }
            effects = _effects_seen(graph, cells, predicted)
            position = {c.id: i for i, c in enumerate(cells)}
            fresh = Reads(graph.definers, effects, position, predicted)
            kept = Reads(graph.definers, effects, position, Predicted(predicted, overlay))
            for place, cell in enumerate(cells):
                uses = effects[cell.id].uses
                for path in {*uses, *NAMES} - {ANY_PATH}:
                    assert kept.chain(place, path) == fresh.chain(place, path), (seed, path)
                assert kept.sources(place, uses) == fresh.sources(place, uses)
                among = set(rng.sample(range(len(cells)), rng.randint(0, len(cells))))
                assert kept.reads_any(place, uses, among) == fresh.reads_any(place, uses, among)


def _next_prediction(history: History, last: Effects | None) -> Effects:
    roll = history.rng.random()
    if last is None or roll < 0.2:
        return history.effects()
    if roll < 0.3:
        return Effects(last.uses, last.defines, last.binds, last.draws)
    return last


def chains_writer(cell_id: str, binds: frozenset[str]) -> CellRecord:
    return CellRecord(cell_id, 0, "", frozenset(), frozenset(), binds=binds)


def test_the_one_writer_of_each_name_is_kept_through_adds_and_discards() -> None:
    rng = random.Random(3)
    index, defined = DefinerIndex(), dict[str, frozenset[str]]()
    for _ in range(3000):
        cell_id = f"c{rng.randrange(8)}"
        if cell_id in defined:
            index.discard(cell_id, defined.pop(cell_id))
        if rng.random() < 0.7:
            defined[cell_id] = _paths(rng, 3, rng.random() < 0.5, 0.02)
            index.add(cell_id, defined[cell_id])
        whole: dict[str, set[str]] = {}
        parts = {root(p) for paths in defined.values() for p in paths if p != root(p)}
        for other, paths in defined.items():
            for path in paths - {ANY_PATH}:
                if path == root(path):
                    whole.setdefault(path, set()).add(other)
        assert index.sole == {
            name: next(iter(cells))
            for name, cells in whole.items()
            if len(cells) == 1 and name not in parts
        }
        wildcard = {c for c, paths in defined.items() if ANY_PATH in paths}
        for name in NAMES:
            exact = index.exact(name)
            if wildcard or name in parts:
                assert exact is None
            else:
                assert exact is not None and set(exact) == whole.get(name, set())
            for path in (name, name + "[0]", name + ".a"):
                brute = {c for c, paths in defined.items() if _writes(paths, path)}
                assert brute <= index.candidates([path])


def test_an_id_twice_in_the_notebook_plans_as_before() -> None:
    """Not a valid notebook, but the answers stay those of the walk by ids."""
    graph = Graph()
    runs = [("a", "", "x"), ("b", "x", "y"), ("c", "y", "z"), ("d", "yz", ""), ("a", "", "x")]
    for ts, (cell_id, uses, defines) in enumerate(runs, 1):
        binds = frozenset(defines)
        graph.put(CellRecord(cell_id, ts, f"code {cell_id}", frozenset(uses), binds, binds=binds))
    cells = [NotebookCell(c, f"code {c}") for c in ("a", "b", "c", "b", "d")]
    assert plan_upstream(graph, cells, "d", {}) == ["b", "c", "b"]
    assert plan_downstream(graph, cells, ["a"], {}) == ["b", "c", "b", "d"]
    assert ancestors(graph, cells, "d", {}) == ["a", "b", "c", "b"]
