"""What big notebooks keep between questions (session 14) answers as if asked afresh."""

from __future__ import annotations

import random

from kernel_agent.core import planning
from kernel_agent.core.graph import CellRecord, Graph
from kernel_agent.core.planning import NotebookCell


def _chain(size: int) -> tuple[Graph, list[NotebookCell]]:
    graph, cells = Graph(), []
    for i in range(size):
        uses = frozenset() if i == 0 else frozenset({f"v{i - 1}", f"v{i // 2}"})
        code = f"v{i} = f({', '.join(sorted(uses))})"
        graph.put(
            CellRecord(f"c{i}", i + 1, code, uses, frozenset({f"v{i}"}), binds=frozenset({f"v{i}"}))
        )
        cells.append(NotebookCell(f"c{i}", code))
    return graph, cells


def test_a_list_of_cells_seen_before_keeps_the_order_and_a_new_one_is_read() -> None:
    graph, cells = _chain(6)
    planning.arrange(graph, cells)
    version = graph.version
    planning.arrange(graph, cells)
    assert graph.version == version  # the same list: nothing read again
    moved = [cells[1], cells[0], *cells[2:]]
    planning.arrange(graph, moved)
    assert graph.position["c1"] == 0 and graph.position["c0"] == 1
    planning.arrange(graph, cells[:-1])  # a shorter list
    assert "c5" not in graph.position
    graph.arrange([c.id for c in cells])  # ids given directly: the list is forgotten
    planning.arrange(graph, moved)
    assert graph.position["c1"] == 0


def test_edges_and_sources_are_kept_over_a_rerun_and_follow_a_new_shape() -> None:
    graph, cells = _chain(8)
    planning.arrange(graph, cells)
    edges = graph.edges()
    shape = graph.shape
    record = graph.records["c3"]
    graph.put(CellRecord("c3", 100, record.code, record.uses, record.defines, binds=record.binds))
    assert graph.shape == shape
    assert [(e.source, e.target) for e in graph.edges()] == [(e.source, e.target) for e in edges]
    graph.put(CellRecord("c3", 101, "w = 1", frozenset(), frozenset({"w"}), binds=frozenset({"w"})))
    assert graph.shape != shape
    assert all(e.source != "c3" for e in graph.edges())
    fresh = Graph()
    for kept in graph.records.values():
        fresh.put(kept)
    assert planning.cell_states(graph, cells) == planning.cell_states(fresh, cells)


def test_kept_answers_match_a_fresh_graph_over_random_histories() -> None:
    rng = random.Random(14)
    for _ in range(30):
        graph, cells = _chain(12)
        clock = 100
        for _ in range(25):
            cell = rng.choice(cells)
            i = int(cell.id[1:])
            uses = frozenset(rng.sample([f"v{j}" for j in range(12) if j != i], rng.randint(0, 2)))
            defines = frozenset({f"v{i}"} | ({"extra"} if rng.random() < 0.2 else set()))
            binds = defines if rng.random() < 0.7 else frozenset()
            clock += 1
            graph.put(CellRecord(cell.id, clock, cell.source, uses, defines, binds=binds))
            fresh = Graph()
            for record in graph.records.values():
                fresh.put(record)
            assert planning.cell_states(graph, cells) == planning.cell_states(fresh, cells)
            trigger = rng.choice(cells).id
            assert planning.plan_upstream(graph, cells, trigger, {}) == planning.plan_upstream(
                fresh, cells, trigger, {}
            )
            assert sorted((e.source, e.target, tuple(e.symbols)) for e in graph.edges()) == sorted(
                (e.source, e.target, tuple(e.symbols)) for e in fresh.edges()
            )
