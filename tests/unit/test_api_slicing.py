"""The state API's pure parts: reaching definitions, slices, statement facts (no kernel)."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from kernel_agent.core.analysis import FunctionSummary
from kernel_agent.core.graph import ANY_PATH, CellRecord
from kernel_agent.features.slicing import (
    History,
    Timestamp,
    defining_statement,
    format_slice,
    notebook_numbers,
    statements_of,
)


@dataclass
class Run:
    cell: str
    code: str = ""
    uses: set[str] = field(default_factory=set)
    defines: set[str] = field(default_factory=set)


def history(runs: list[Run]) -> History:
    return History(
        [
            CellRecord(
                r.cell, ts, r.code or f"code of {r.cell}", frozenset(r.uses), frozenset(r.defines)
            )
            for ts, r in enumerate(runs, start=1)
        ]
    )


@dataclass
class ReachCase:
    name: str
    runs: list[Run]
    path: str
    expected: list[int]  # history indices, newest first


REACH_CASES = [
    ReachCase(
        "a rebind hides older runs", [Run("a", defines={"x"}), Run("b", defines={"x"})], "x", [1]
    ),
    ReachCase(
        "slot stores add to the container",
        [
            Run("a", defines={"x"}),
            Run("b", uses={"x[0]"}, defines={"x[0]"}),
            Run("c", uses={"x[1]"}, defines={"x[1]"}),
        ],
        "x",
        [2, 1, 0],
    ),
    ReachCase(
        "a sibling slot is not a definition",
        [
            Run("a", defines={"x"}),
            Run("b", uses={"x[0]"}, defines={"x[0]"}),
            Run("c", uses={"x[1]"}, defines={"x[1]"}),
        ],
        "x[0]",
        [1],
    ),
    ReachCase(
        "a whole rebind reaches a slot",
        [Run("a", defines={"x"}), Run("c", uses={"x[1]"}, defines={"x[1]"})],
        "x[0]",
        [0],
    ),
    ReachCase(
        "attribute chains",
        [
            Run("a", defines={"cfg"}),
            Run("b", uses={"cfg.lr"}, defines={"cfg.lr"}),
            Run("c", defines={"other"}),
        ],
        "cfg.lr",
        [1],
    ),
    ReachCase("never defined", [Run("a", defines={"x"})], "y", []),
]


@pytest.mark.parametrize("case", REACH_CASES, ids=lambda c: c.name)
def test_reaching_definitions(case: ReachCase) -> None:
    assert history(case.runs).reaching(case.path) == case.expected


def test_reaching_before_a_run_ignores_later_runs() -> None:
    runs = history(
        [Run("a", defines={"x"}), Run("b", uses={"x"}, defines={"y"}), Run("a", defines={"x"})]
    )
    assert runs.reaching("x", before=1) == [0]
    assert runs.last_definer("x") == 2


def test_closure_follows_uses_transitively_and_skips_unrelated_runs() -> None:
    runs = history(
        [
            Run("a", defines={"x"}),
            Run("u", defines={"unrelated"}),
            Run("b", uses={"x"}, defines={"y"}),
            Run("c", uses={"y"}, defines={"z"}),
        ]
    )
    assert runs.closure([3]) == {0, 2, 3}


def test_a_run_that_may_read_anything_depends_on_every_earlier_definition() -> None:
    runs = history(
        [Run("a", defines={"x"}), Run("b", defines={"y"}), Run("c", uses={ANY_PATH}, defines={"z"})]
    )
    assert runs.closure([2]) == {0, 1, 2}


def test_slice_is_in_notebook_order_with_cell_numbers() -> None:
    runs = history(
        [
            Run("lower", "y = x + 1", uses={"x"}, defines={"y"}),
            Run("upper", "x = 1", defines={"x"}),
            Run("upper", "x = 1", defines={"x"}),
        ]
    ).records
    numbers = notebook_numbers(["upper", "middle", "lower"], runs)
    assert format_slice(runs, numbers) == "# Cell 1\nx = 1\n\n# Cell 3\ny = x + 1"


def test_slice_shows_each_distinct_code_of_a_cell_in_run_order() -> None:
    runs = history([Run("a", "x = [1]"), Run("a", "x.append(2)")]).records
    assert format_slice(runs, {"a": 1}) == "# Cell 1\nx = [1]\n\n# Cell 1\nx.append(2)"


def test_cells_outside_the_known_order_are_numbered_by_first_run() -> None:
    runs = history([Run("b"), Run("z"), Run("a"), Run("z")]).records
    assert notebook_numbers([], runs) == {"b": 1, "z": 2, "a": 3}
    assert notebook_numbers(["a"], runs) == {"a": 1, "b": 2, "z": 3}


def test_statements_are_analysed_one_by_one() -> None:
    statements = statements_of("x = 1\ny = x + 1\nprint(y)")
    assert [s.text for s in statements] == ["x = 1", "y = x + 1", "print(y)"]
    assert statements[1].uses({}) == {"x"}, "in isolation a statement's reads are uses"
    assert defining_statement(statements, "y", {}) == 1


def test_memoize_cells_are_looked_through() -> None:
    transformed = "get_ipython().run_cell_magic('memoize', '--quiet', 'a = 1\\nb = a * 2\\n')\n"
    statements = statements_of(transformed)
    assert [s.text for s in statements] == ["a = 1", "b = a * 2"]
    assert defining_statement(statements, "b", {}) == 1


@pytest.mark.parametrize(
    ("code", "path", "expected"),
    [
        ("x = 1\nx = 2\ny = 3", "x", 1),  # the last definition wins
        ("cfg = C()\ncfg.lr = 0.5", "cfg.lr", 1),
        ("cfg = C()\ncfg.lr = 0.5", "cfg", 1),  # a slot store changes the whole too
        ("cfg = C()\ncfg.lr = 0.5\ncfg.n = 2", "cfg.lr", 1),  # not the sibling
        (
            "a = 1\nfill(model)\nb = 2",
            "model",
            1,
        ),  # seen at run time: the statement that touched it
        ("a = 1\nb = 2", "mystery", 1),  # unknown: the last statement
    ],
)
def test_defining_statement(code: str, path: str, expected: int) -> None:
    assert defining_statement(statements_of(code), path, {}) == expected


def test_statement_uses_include_globals_read_by_called_functions() -> None:
    summaries = {"f": FunctionSummary(uses={"k"}, defines={"counter"})}
    statement = statements_of("y = f()")[0]
    assert statement.uses(summaries) == {"f", "k"}
    assert statement.defines(summaries) == {"y", "counter"}


def test_timestamp_reads_like_ipyflows() -> None:
    assert repr(Timestamp(3, 0)) == "Timestamp(cell_num=3, stmt_num=0)"


def test_unparsable_code_has_no_statements() -> None:
    assert statements_of("x = (") == []
    assert defining_statement([], "x", {}) == 0
