"""The pure scheduler and graph, table-driven, without a kernel (DESIGN §2)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from kernel_agent.core.graph import ANY_PATH, CellRecord, Graph
from kernel_agent.core.planning import (
    CycleError,
    Effects,
    NotebookCell,
    any_needs_run,
    cell_state,
    first_needing_run,
    needs_run,
    next_downstream,
    plan_downstream,
    plan_upstream,
    topological_order,
)


@dataclass
class Run:
    """One recorded run: cell, what it used and defined (in run order)."""

    cell: str
    uses: set[str] = field(default_factory=set)
    defines: set[str] = field(default_factory=set)
    ok: bool = True


def build(runs: list[Run]) -> Graph:
    graph = Graph()
    for ts, run in enumerate(runs, start=1):
        graph.put(
            CellRecord(
                run.cell,
                ts,
                f"code of {run.cell}",
                frozenset(run.uses),
                frozenset(run.defines),
                run.ok,
            )
        )
    return graph


def notebook(*ids: str, edited: dict[str, str] | None = None) -> list[NotebookCell]:
    edited = edited or {}
    return [NotebookCell(i, edited.get(i, f"code of {i}")) for i in ids]


@dataclass
class StaleCase:
    name: str
    runs: list[Run]
    stale: set[str]


STALE_CASES = [
    StaleCase(
        "reader after writer is fresh", [Run("a", defines={"x"}), Run("b", uses={"x"})], set()
    ),
    StaleCase(
        "writer re-ran after reader",
        [Run("a", defines={"x"}), Run("b", uses={"x"}), Run("a", defines={"x"})],
        {"b"},
    ),
    StaleCase(
        "disjoint subscripts do not overlap",
        [Run("a", defines={"x"}), Run("b", uses={"x[0]"}), Run("c", defines={"x[1]"})],
        set(),
    ),
    StaleCase(
        "prefix overlaps",
        [Run("a", defines={"x"}), Run("b", uses={"x[0]"}), Run("c", defines={"x"})],
        {"b"},
    ),
    StaleCase(
        "attribute paths",
        [Run("b", uses={"cfg.lr"}), Run("c", defines={"cfg.epochs"}), Run("d", defines={"cfg.lr"})],
        {"b"},
    ),
    StaleCase(
        "sibling dict keys do not overlap, an attribute is the str key",
        [
            Run("b", uses={"d['a']"}),
            Run("c", uses={"d['b']"}),
            Run("e", uses={"d"}),
            Run("w", defines={"d.a"}),
        ],
        {"b", "e"},
    ),
    StaleCase(
        "a negative index may be any index",
        [Run("b", uses={"x[3]"}), Run("c", uses={"x[-2]"}), Run("w", defines={"x[-1]"})],
        {"b", "c"},
    ),
    StaleCase(
        "own redefinition is not staleness",
        [Run("a", uses={"x"}, defines={"x"}), Run("a", uses={"x"}, defines={"x"})],
        set(),
    ),
    StaleCase(
        "wildcard reader is stale after any write",
        [Run("a", uses={ANY_PATH}), Run("b", defines={"q"})],
        {"a"},
    ),
    StaleCase(
        "wildcard writer makes every earlier reader stale",
        [Run("a", uses={"x"}), Run("b", defines={ANY_PATH})],
        {"a"},
    ),
]


@pytest.mark.parametrize("case", STALE_CASES, ids=lambda c: c.name)
def test_stale_cells(case: StaleCase) -> None:
    assert build(case.runs).stale_cells() == case.stale


def test_states_of_cells() -> None:
    graph = build(
        [Run("a", defines={"x"}), Run("b", uses={"x"}, ok=False), Run("a", defines={"x"})]
    )
    cells = notebook("a", "b", "c", edited={"a": "x = 2"})
    assert [cell_state(graph, cell) for cell in cells] == ["dirty", "error", "never_run"]
    graph.put(CellRecord("b", 9, "code of b", frozenset({"x"}), frozenset(), True))
    assert cell_state(graph, cells[1]) == "fresh"


@dataclass
class DownCase:
    name: str
    runs: list[Run]
    order: tuple[str, ...]
    trigger: str
    expected: list[str]


DOWN_CASES = [
    DownCase(
        "chain below the trigger",
        [Run("a", defines={"x"}), Run("b", {"x"}, {"y"}), Run("c", {"y"}), Run("d", {"z"})],
        ("a", "b", "c", "d"),
        "a",
        ["b", "c"],
    ),
    DownCase(
        "cells above never cascade in order",
        [Run("b", {"x"}), Run("a", defines={"x"})],
        ("b", "a"),
        "a",
        [],
    ),
    DownCase(
        "never-run cells stay never-run",
        [Run("a", defines={"x"})],
        ("a", "b"),
        "a",
        [],
    ),
    DownCase(
        "precision: other subscript",
        [Run("a", defines={"x[1]"}), Run("b", {"x[0]"}), Run("c", {"x[1]"})],
        ("a", "b", "c"),
        "a",
        ["c"],
    ),
    DownCase(
        "precision: other dict key, through a chain",
        [
            Run("a", defines={"d['k1']"}),
            Run("b", {"d['k2']"}, {"y"}),
            Run("c", {"d['k1']"}, {"z"}),
            Run("e", {"z"}),
            Run("f", {"y"}),
        ],
        ("a", "b", "c", "e", "f"),
        "a",
        ["c", "e"],
    ),
]


@pytest.mark.parametrize("case", DOWN_CASES, ids=lambda c: c.name)
def test_plan_downstream(case: DownCase) -> None:
    graph = build(case.runs)
    assert plan_downstream(graph, notebook(*case.order), [case.trigger], {}) == case.expected


def test_next_downstream_is_dynamic() -> None:
    graph = build([Run("a", defines={"x"}), Run("b", {"x"}, {"y"}), Run("c", {"y"})])
    cells = notebook("a", "b", "c")
    graph.put(CellRecord("a", 10, "code of a", frozenset(), frozenset({"x"})))
    assert next_downstream(graph, cells, 0, {"a"}) == "b"
    # b re-ran and defined y again: c becomes stale next
    graph.put(CellRecord("b", 11, "code of b", frozenset({"x"}), frozenset({"y"})))
    assert next_downstream(graph, cells, 1, {"a", "b"}) == "c"
    assert next_downstream(graph, cells, 2, {"a", "b", "c"}) is None


def test_plan_upstream_pulls_never_run_and_stale_ancestors() -> None:
    graph = build([Run("b", {"x"}, {"y"}), Run("d", defines={"unrelated"})])
    cells = notebook("a", "b", "d", "c")
    predicted = {
        "a": Effects(frozenset(), frozenset({"x"})),
        "c": Effects(frozenset({"y"}), frozenset()),
    }
    # a never ran and defines x, which b (which c reads) used: both run first
    assert plan_upstream(graph, cells, "c", predicted) == ["a", "b"]


def test_plan_upstream_skips_fresh_ancestors() -> None:
    graph = build([Run("a", defines={"x"}), Run("b", {"x"}, {"y"})])
    cells = notebook("a", "b", "c")
    predicted = {"c": Effects(frozenset({"y"}), frozenset())}
    assert plan_upstream(graph, cells, "c", predicted) == []


def test_a_blank_cell_that_never_ran_needs_no_run_but_a_cleared_one_does() -> None:
    graph = build([Run("a", defines={"x"}), Run("b", {"x"}, {"y"})])
    blank_below = notebook("a", "b", "c", edited={"c": "  \n"})
    assert [needs_run(graph, cell) for cell in blank_below] == [False, False, False]
    cleared = notebook("a", "b", edited={"a": ""})  # ran as "code of a", now blank
    assert [needs_run(graph, cell) for cell in cleared] == [True, False]


@pytest.mark.parametrize(
    ("name", "cells", "expected"),
    [
        ("all fresh", notebook("a", "c"), False),
        ("stale only", notebook("b", "c"), True),  # b read x before a redefined it
        ("never run below", [*notebook("a", "b", "c"), NotebookCell("d", "y = 1")], True),
        ("blank never run", [*notebook("a", "c"), NotebookCell("d", " \n")], False),
        ("edited", notebook("a", "c", edited={"c": "other"}), True),
        ("failed", notebook("a", "e"), True),
        ("never run above stale", [NotebookCell("d", "y = 1"), *notebook("a", "b")], True),
        ("edited above stale", notebook("c", "a", "b", edited={"a": "x = 2"}), True),
    ],
)
def test_any_needs_run_agrees_with_needs_run_cell_by_cell(
    name: str, cells: list[NotebookCell], expected: bool
) -> None:
    graph = build(
        [
            Run("b", uses={"x"}),
            Run("a", defines={"x"}),
            Run("c", defines={"z"}),
            Run("e", ok=False),
        ]
    )
    assert any(needs_run(graph, cell) for cell in cells) is expected
    assert any_needs_run(graph, cells) is expected
    first = next((i for i, cell in enumerate(cells) if needs_run(graph, cell)), None)
    assert first_needing_run(graph, cells) == first


def test_plan_upstream_runs_dirty_ancestor_and_what_it_feeds() -> None:
    graph = build([Run("a", defines={"x"}), Run("b", {"x"}, {"y"})])
    cells = notebook("a", "b", "c", edited={"a": "x = 5"})
    predicted = {
        "a": Effects(frozenset(), frozenset({"x"})),
        "c": Effects(frozenset({"y"}), frozenset()),
    }
    assert plan_upstream(graph, cells, "c", predicted) == ["a", "b"]


def test_topological_order_and_cycles() -> None:
    graph = build([Run("b", {"x"}, {"y"}), Run("a", defines={"x"})])
    assert topological_order(graph, notebook("b", "a"), {}) == ["a", "b"]
    cyclic = build([Run("a", {"y"}, {"x"}), Run("b", {"x"}, {"y"})])
    with pytest.raises(CycleError, match="cycle"):
        topological_order(cyclic, notebook("a", "b"), {})


def test_edges_carry_symbols() -> None:
    graph = build([Run("a", defines={"x", "w"}), Run("b", {"x[0]"})])
    edges = [(e.source, e.target, e.symbols) for e in graph.edges()]
    assert edges == [("a", "b", ["x[0]"])]
