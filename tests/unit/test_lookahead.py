"""Planning a cascade's steps ahead, and the kernel-side guard that checks them."""

from __future__ import annotations

import pytest

from kernel_agent.core.graph import CellRecord, Graph, effects_signature
from kernel_agent.core.planning import IN_ORDER, NotebookCell
from kernel_agent.runtime.ahead import AheadGuard
from server_ext import lookahead
from server_ext.lookahead import plan_steps


def _chain(n: int, *, reader: str | None = None) -> tuple[Graph, list[NotebookCell]]:
    """``v0 = 1``, ``v1 = v0 + 1`` ... all run once in order; then v0 re-ran."""
    graph, cells = Graph(), []
    for i in range(n):
        uses = frozenset({f"v{i - 1}"} if i else set())
        if reader is not None and i == n - 1:
            uses |= {reader}
        source = f"v{i} = ..."
        cells.append(NotebookCell(f"c{i}", source))
        graph.put(CellRecord(f"c{i}", i + 1, source, uses, frozenset({f"v{i}"})))
    graph.put(CellRecord("c0", n + 1, "v0 = ...", frozenset(), frozenset({"v0"}), prev_ts=1))
    return graph, cells


def _plan(graph: Graph, cells: list[NotebookCell], ahead: int) -> list[str]:
    steps = plan_steps(graph, cells, 0, {"c0"}, {}, IN_ORDER, ahead)
    return [step.cell.id for step in steps]


def test_a_chain_is_planned_to_its_end() -> None:
    graph, cells = _chain(20)
    assert _plan(graph, cells, 32) == [f"c{i}" for i in range(1, 20)]
    assert graph.stale_cells() == {"c1"}, "planning leaves the graph as it was"


def test_ahead_limits_the_cells_planned_past_the_first() -> None:
    graph, cells = _chain(20)
    assert _plan(graph, cells, 0) == ["c1"]
    assert _plan(graph, cells, 3) == ["c1", "c2", "c3", "c4"]


def test_a_big_graph_plans_one_step(monkeypatch: pytest.MonkeyPatch) -> None:
    graph, cells = _chain(20)
    monkeypatch.setattr(lookahead, "MAX_RECORDS", 19)
    assert _plan(graph, cells, 32) == ["c1"]


def test_a_reader_of_output_history_plans_one_step() -> None:
    graph, cells = _chain(5, reader="_")
    assert _plan(graph, cells, 32) == ["c1"]


def test_an_edited_cell_ends_the_plan() -> None:
    graph, cells = _chain(6)
    cells[3] = NotebookCell("c3", "v3 = v2 * 2")
    steps = plan_steps(graph, cells, 0, {"c0"}, {}, IN_ORDER, 32)
    assert [step.cell.id for step in steps][-1] == "c3"
    assert steps[-1].expected is None


def test_each_step_expects_the_record_of_its_last_run() -> None:
    graph, cells = _chain(4)
    steps = plan_steps(graph, cells, 0, {"c0"}, {}, IN_ORDER, 32)
    assert [s.expected for s in steps] == [
        effects_signature(graph.records[s.cell.id]) for s in steps
    ]


def _record(cell_id: str, count: int, defines: set[str], ok: bool = True) -> CellRecord:
    return CellRecord(cell_id, count, "", frozenset(), frozenset(defines), ok, count)


def _ahead(cell: str, effects: str | None, batch: str = "b") -> dict[str, object]:
    return {"cascade": {"ahead": {"batch": batch, "after": {"cell": cell, "effects": effects}}}}


def test_the_guard_runs_a_step_only_after_the_run_it_follows_did_as_planned() -> None:
    last: list[CellRecord | None] = [_record("a", 7, {"x", "_7", "Out[7]"})]
    count = [8]
    guard = AheadGuard(lambda: last[0], lambda: count[0])
    planned = effects_signature(_record("a", 3, {"x", "_3"}))
    assert guard.allows({"cellId": "b"}), "a request not sent ahead always runs"
    assert guard.allows(_ahead("a", planned)), "output history does not count"
    assert guard.allows(_ahead("a", None)), "None: only success and order count"
    assert not guard.allows(_ahead("a", effects_signature(_record("a", 3, {"y"}))))
    assert not guard.allows(_ahead("other", planned)), "another cell ran last"
    count[0] = 9
    assert not guard.allows(_ahead("a", planned)), "a counted run came between"
    count[0] = 8
    last[0] = _record("a", 7, {"x"}, ok=False)
    assert not guard.allows(_ahead("a", planned)), "it failed"
    last[0] = _record("a", 7, {"x"})
    guard.cancel("b")
    assert not guard.allows(_ahead("a", planned)), "the server cancelled the batch"
    assert guard.allows(_ahead("a", planned, batch="next"))
