"""The definer index of the graph and the planners: root name and first component.

The index only narrows the candidates; the overlap rule stays in
``kernel_agent.core.paths.overlaps``. So every answer is checked against a brute
force over all pairs of cells, and the candidate sets are checked to be small.
"""

from __future__ import annotations

import itertools
import random

import pytest
from graph_brute_force import brute_edges, shares

from kernel_agent.core.graph import ANY_PATH, CellRecord, DefinerIndex, Graph
from kernel_agent.core.paths import overlaps
from kernel_agent.core.planning import (
    Effects,
    NotebookCell,
    next_downstream,
    plan_downstream,
    plan_upstream,
    topological_order,
)

KEYS = [
    "0", "1", "-1", "-2", "True", "1.0", "-1.0", "0.5", "'a'", "'b'", "None", "b'a'",
    "(0, 1)", "()", "(-1, 2)", "('a', 'x')", "((0, 1), 2)", "k", "a.b", "-0.0",
]  # fmt: skip
PATHS = ["x", "x.a", "x.b", "x.a.b", "x[", "xy", "y", ANY_PATH] + [
    path for key in KEYS for path in (f"x[{key}]", f"x[{key}][0]", f"x[{key}].a")
]


def record(cell_id: str, ts: int, uses: set[str] = set(), defines: set[str] = set()) -> CellRecord:  # noqa: B006
    return CellRecord(cell_id, ts, f"code of {cell_id}", frozenset(uses), frozenset(defines))


def graph_of(*records: CellRecord) -> Graph:
    graph = Graph()
    for rec in records:
        graph.put(rec)
    return graph


# -- brute force: every pair of cells, the rule of DESIGN §2 -------------------


def brute_stale(graph: Graph) -> set[str]:
    records = graph.records.values()
    return {
        t.cell_id
        for t in records
        if any(s.cell_id != t.cell_id and s.ts > t.ts and shares(s, t) for s in records)
    }


def edges_of(graph: Graph) -> list[tuple[str, str, list[str]]]:
    return [(e.source, e.target, e.symbols) for e in graph.edges()]


# -- the index ----------------------------------------------------------------


@pytest.mark.parametrize("defined", PATHS)
def test_index_finds_every_overlapping_definer(defined: str) -> None:
    index = DefinerIndex()
    index.add("c", [defined])
    for used in PATHS:
        if used != ANY_PATH and (defined == ANY_PATH or overlaps(defined, used)):
            assert "c" in index.candidates([used]), used


def test_index_keeps_sibling_keys_apart() -> None:
    index = DefinerIndex()
    index.add("whole", ["d"])
    for i in range(200):
        index.add(f"w{i}", [f"d['k{i}']"])
    assert index.candidates(["d['k5']"]) == {"whole", "w5"}
    assert index.candidates(["d.k5"]) == {"whole", "w5"}  # attribute = str key
    assert index.candidates(["d['k5']['z']"]) == {"whole", "w5"}
    assert len(index.candidates(["d"])) == 201  # the whole dict reads every slot
    assert index.candidates(["e['k5']"]) == set()


def test_index_negative_and_opaque_keys() -> None:
    index = DefinerIndex()
    index.add("pos", ["x[2]"])
    index.add("neg", ["x[-1]"])
    index.add("str", ["x['a']"])
    index.add("flt", ["x[0.5]"])
    index.add("opaque", ["x[k]"])
    index.add("empty", ["x[()]"])
    always = {"opaque", "empty"}
    assert index.candidates(["x[2]"]) == {"pos", "neg"} | always
    assert index.candidates(["x[3]"]) == {"neg"} | always
    assert index.candidates(["x[-3]"]) == {"pos", "neg"} | always  # any int index
    assert index.candidates(["x[2.0]"]) == {"pos"} | always  # equal key, other type
    assert index.candidates(["x[-1.0]"]) == {"neg"} | always
    assert index.candidates(["x['a']"]) == {"str"} | always
    assert index.candidates(["x[(2, 0)]"]) == {"pos", "neg"} | always  # tuple: first key
    assert index.candidates(["x[j]"]) == {"pos", "neg", "str", "flt"} | always


def test_index_discard_cleans_up() -> None:
    index = DefinerIndex()
    index.add("a", ["x", "x[0]", "x.b", "x[-1]", ANY_PATH])
    index.add("b", ["x[0]"])
    index.discard("a", ["x", "x[0]", "x.b", "x[-1]", ANY_PATH])
    assert index.candidates(["x[0]"]) == {"b"}
    assert index.candidates(["x[5]"]) == set()
    assert index.candidates(["x.b"]) == set()
    index.discard("b", ["x[0]"])
    assert index.everything() == set()


# -- the graph: cases of the overlap rule ---------------------------------------


@pytest.mark.parametrize(
    ("used", "defined", "stale"),
    [
        ("x[0]", "x", True),
        ("x", "x[0]", True),
        ("x[0]", "x[1]", False),
        ("d['a']", "d['b']", False),
        ("d['a']", "d['a']", True),
        ("d['a']['z']", "d['a']", True),
        ("d['a']", "d.a", True),
        ("cfg.lr", "cfg.epochs", False),
        ("cfg.lr", "cfg['lr']", True),
        ("cfg.opt.lr", "cfg.opt", True),
        ("x[3]", "x[-1]", True),
        ("x[-1]", "x[3]", True),
        ("x[-1]", "x['a']", False),
        ("d[1]", "d[True]", True),
        ("m[0]", "m[(0, 1)]", True),
        ("m[1]", "m[(0, 1)]", False),
        # a computed key never reaches a path (the path stops before it); if one
        # did, paths.py matches it only with the same spelling
        ("d['a']", "d[k]", False),
        ("d[k]", "d[k]", True),
        ("d", "d[k]", True),
    ],
)
def test_stale_by_overlap(used: str, defined: str, stale: bool) -> None:
    graph = graph_of(record("r", 1, uses={used}), record("w", 2, defines={defined}))
    assert graph.is_stale("r") is stale
    assert graph.stale_cells() == ({"r"} if stale else set())
    assert bool(graph.stale_reasons("r")) is stale
    assert edges_of(graph) == ([("w", "r", [used])] if stale else [])
    assert graph.definers_of([used]) == ({"w"} if stale else set())


def test_remove_and_rerun_leave_the_index() -> None:
    graph = graph_of(
        record("r", 1, uses={"d['a']", "d['b']"}),
        record("w", 2, defines={"d['a']"}),
    )
    assert graph.stale_cells() == {"r"}
    graph.remove("w")  # the cell was deleted
    assert graph.stale_cells() == set()
    assert graph.edges() == []
    graph.put(record("w", 3, defines={"d['c']"}))
    assert graph.stale_cells() == set()
    graph.put(record("w", 4, defines={"d['b']"}))  # re-ran with other code
    assert graph.stale_reasons("r") == {"w": ["d['b']"]}
    graph.put(record("w", 5, defines={"e"}))
    assert graph.stale_cells() == set()
    assert graph.definers_of(["d['b']"]) == set()
    graph.clear()
    assert graph.stale_cells() == set() and graph.edges() == []


def test_cached_answers_follow_changes_and_are_copies() -> None:
    graph = graph_of(record("a", 1, defines={"x"}), record("b", 2, uses={"x"}))
    edges = graph.edges()
    edges.clear()
    assert edges_of(graph) == [("a", "b", ["x"])]
    stale = graph.stale_cells()
    stale.add("junk")
    assert graph.stale_cells() == set()
    graph.put(record("a", 3, defines={"x"}))
    assert graph.stale_cells() == {"b"} and graph.is_stale("b")
    graph.put(record("b", 4, uses={"x"}))
    assert graph.stale_cells() == set() and not graph.is_stale("b")


def test_wildcards() -> None:
    graph = graph_of(
        record("star", 1, uses={ANY_PATH}),
        record("r", 2, uses={"d['a']"}),
        record("w", 3, defines={ANY_PATH}),
        record("empty", 4),
    )
    assert graph.stale_cells() == {"star", "r"}
    assert edges_of(graph) == brute_edges(graph)


def _random_graph(rng: random.Random) -> Graph:
    graph = Graph()
    ids = [f"c{i}" for i in range(rng.randint(1, 8))]
    for ts in range(1, rng.randint(2, 20)):
        cell_id = rng.choice(ids)
        if rng.random() < 0.1:
            graph.remove(cell_id)
            continue
        uses = set(rng.sample(PATHS, rng.randint(0, 3)))
        defines = set(rng.sample(PATHS, rng.randint(0, 3)))
        graph.put(record(cell_id, ts, uses, defines))
        if rng.random() < 0.3:  # cached answers must follow every change
            assert graph.stale_cells() == brute_stale(graph)
    return graph


@pytest.mark.parametrize("seed", range(300))
def test_graph_matches_brute_force(seed: int) -> None:
    graph = _random_graph(random.Random(seed))
    assert graph.stale_cells() == brute_stale(graph)
    assert edges_of(graph) == brute_edges(graph)
    for cell_id in graph.records:
        assert graph.is_stale(cell_id) == (cell_id in brute_stale(graph))


@pytest.mark.parametrize("seed", range(200))
def test_kept_staleness_follows_every_change(seed: int) -> None:
    """Staleness answers are kept across changes that cannot move them: after
    every put or remove, each cell asked (a random part, so some answers are
    kept from before and some are new) agrees with the brute force."""
    rng = random.Random(seed)
    graph = Graph()
    ids = [f"c{i}" for i in range(rng.randint(2, 10))]
    for ts in range(1, 40):
        cell_id = rng.choice(ids)
        if rng.random() < 0.1:
            graph.remove(cell_id)
        else:
            uses = set(rng.sample(PATHS, rng.randint(0, 3)))
            defines = set(rng.sample(PATHS, rng.randint(0, 2)))
            if rng.random() < 0.3 and cell_id in graph.records:  # a re-run
                old = graph.records[cell_id]
                uses, defines = set(old.uses), set(old.defines)
            graph.put(record(cell_id, ts, uses, defines))
        stale = brute_stale(graph)
        for asked in rng.sample(ids, rng.randint(1, len(ids))):
            assert graph.is_stale(asked) == (asked in stale), (seed, ts, asked)


# -- the planners' writer index -------------------------------------------------


def test_planners_keep_sibling_keys_apart() -> None:
    graph = graph_of(
        record("make", 1, defines={"d"}),
        record("wa", 2, defines={"d['a']"}),
        record("wb", 3, defines={"d['b']"}),
        record("ra", 4, uses={"d['a']"}, defines={"ya"}),
        record("rb", 5, uses={"d.b"}, defines={"yb"}),
        record("rneg", 6, uses={"x[-1]"}),
    )
    cells = [NotebookCell(c, f"code of {c}") for c in ("make", "wa", "wb", "ra", "rb", "rneg")]
    assert plan_downstream(graph, cells, ["wa"], {}) == ["ra"]
    assert plan_downstream(graph, cells, ["wb"], {}) == ["rb"]
    assert plan_downstream(graph, cells, ["make"], {}) == ["ra", "rb"]
    predicted = {"rneg": Effects(frozenset({"x[-1]"}), frozenset())}
    cells.insert(0, NotebookCell("x2", "x[2] = 1"))
    predicted["x2"] = Effects(frozenset(), frozenset({"x[2]"}))
    assert plan_upstream(graph, cells, "rneg", predicted) == ["x2"]
    assert plan_upstream(graph, cells, "ra", predicted) == []
    # reversed notebook order, except where a writer must precede its reader
    order = topological_order(graph, list(reversed(cells)), predicted)
    assert order == ["wb", "wa", "make", "rb", "ra", "x2", "rneg"]


def test_next_downstream_positions_like_a_slice() -> None:
    graph = graph_of(
        record("a", 1, defines={"x"}), record("b", 2, uses={"x"}), record("a", 3, defines={"x"})
    )
    cells = [NotebookCell("a", ""), NotebookCell("b", "")]
    for after, expected in [(-1, "b"), (0, "b"), (1, None), (5, None), (-2, "b"), (-5, "b")]:
        assert next_downstream(graph, cells, after, {"a"}) == expected, after


def test_next_downstream_overwritten_from_above() -> None:
    graph = graph_of(
        record("b", 1, defines={"x"}), record("a", 2, defines={"x"}), record("c", 3, uses={"x"})
    )
    cells = [NotebookCell(c, "") for c in ("a", "b", "c")]
    assert next_downstream(graph, cells, 0, {"a"}) == "b"


def test_no_pair_is_compared_twice_on_a_keyed_dict(monkeypatch: pytest.MonkeyPatch) -> None:
    """200 writers of ``d['k<i>']``: each reader meets its own writer only."""
    import kernel_agent.core.graph as graph_module
    import kernel_agent.core.staleness as staleness_module

    calls = itertools.count()
    real = graph_module.overlaps

    def counting(a: str, b: str) -> bool:
        next(calls)
        return real(a, b)

    graph = graph_of(record("make", 0, defines={"d"}))
    for i in range(200):
        graph.put(record(f"w{i}", 2 * i + 1, defines={f"d['k{i}']"}))
        graph.put(record(f"r{i}", 2 * i + 2, uses={f"d['k{i}']"}))
    for module in (graph_module, staleness_module):  # where the overlap rule is applied
        monkeypatch.setattr(module, "overlaps", counting)
    assert len(graph.edges()) == 400
    assert graph.stale_cells() == set()
    assert next(calls) < 2_000
