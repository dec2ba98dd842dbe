"""Symbol paths: overlap (DESIGN §2), roots, and the paths code spells."""

from __future__ import annotations

import ast
from dataclasses import dataclass

import pytest

from kernel_agent.core.paths import any_overlap, const_key, expr_path, overlaps, root


@dataclass
class OverlapCase:
    a: str
    b: str
    expected: bool


OVERLAPS = [
    OverlapCase("x", "x", True),
    OverlapCase("x", "x[0]", True),
    OverlapCase("x", "xy", False),
    OverlapCase("x[0]", "x[1]", False),
    OverlapCase("x.a", "x.a.b", True),
    OverlapCase("x[1]", "x[10]", False),
    OverlapCase("x.a", "x.b", False),
    OverlapCase("a.b[0].c", "a.b", True),
    OverlapCase("a.b[0].c", "a.b[1]", False),
    OverlapCase("d['k']", "d['k']['j']", True),
    OverlapCase("d['k']", "d['j']", False),
    OverlapCase("d['a]']", "d['a']", False),
    # aliases: attribute and str key are one slot (df.col, df['col'])
    OverlapCase("df.col", "df['col']", True),
    OverlapCase("df.col", "df['other']", False),
    # a negative index may be any index of the same list
    OverlapCase("x[-1]", "x[2]", True),
    OverlapCase("x[-1]", "x[-2]", True),
    OverlapCase("x[1]", "x['1']", False),
    # equal keys of different types are one dict key
    OverlapCase("d[1]", "d[True]", True),
    OverlapCase("d[1]", "d[1.0]", True),
    OverlapCase("t[(1, 'a')]", "t[(1, 'a')]", True),
    OverlapCase("t[(1, 'a')]", "t[(1, 'b')]", False),
    # a tuple key is inside the keys it starts with (numpy rows, pandas column groups)
    OverlapCase("m[(0, 1)]", "m[0]", True),
    OverlapCase("m[(0, 1)]", "m[1]", False),
    OverlapCase("m[(0, 1)]", "m[(0, 1, 2)]", True),
    OverlapCase("m[(-1, 1)]", "m[2]", True),
    OverlapCase("df[('a', 'x')]", "df['a']", True),
    OverlapCase("df[('a', 'x')]", "df.a", True),
    OverlapCase("df[('a', 'x')]", "df['b']", False),
    OverlapCase("x", "y", False),
    OverlapCase("*", "x", False),
]


@pytest.mark.parametrize("case", OVERLAPS, ids=lambda c: f"{c.a}~{c.b}")
def test_overlaps_is_symmetric_prefix_at_boundary(case: OverlapCase) -> None:
    assert overlaps(case.a, case.b) is case.expected
    assert overlaps(case.b, case.a) is case.expected


@pytest.mark.parametrize(
    ("path", "expected"),
    [("a", "a"), ("a.b[0]", "a"), ("d['x.y']", "d"), ("x[0].c", "x"), ("*", "*")],
)
def test_root(path: str, expected: str) -> None:
    assert root(path) == expected


def test_any_overlap_returns_the_used_paths_hit() -> None:
    defined = ["x[0]", "cfg.lr", "df"]
    used = ["x", "x[1]", "x[0].a", "cfg", "cfg.bs", "df['a']", "y", "xy"]
    assert any_overlap(defined, used) == {"x", "x[0].a", "cfg", "df['a']"}


def test_any_overlap_with_nothing_defined() -> None:
    assert any_overlap([], ["x"]) == set()


@pytest.mark.parametrize(
    ("source", "key"),
    [
        ("0", "0"),
        ("-1", "-1"),
        ("'k'", "'k'"),
        ('"k"', "'k'"),
        ("1, 'a'", "(1, 'a')"),
        ("b'x'", "b'x'"),
        ("None", "None"),
        ("i", None),
        ("1:3", None),
        ("...", None),
        ("-i", None),
        ("(1, i)", None),
    ],
)
def test_const_key_spells_constants_with_repr(source: str, key: str | None) -> None:
    node = ast.parse(f"x[{source}]", mode="eval").body
    assert isinstance(node, ast.Subscript)
    assert const_key(node.slice) == key


@pytest.mark.parametrize(
    ("source", "parts", "leftovers"),
    [
        ("x", ["x"], []),
        ("a.b.c", ["a", ".b", ".c"], []),
        ("x[0]['k']", ["x", "[0]", "['k']"], []),
        ("a.b[i].c", ["a", ".b"], ["i"]),
        ("a[i][j]", ["a"], ["j", "i"]),
        ("x[1:2]", ["x"], ["1:2"]),
        ("f().a", None, ["f()"]),
    ],
)
def test_expr_path_splits_constant_prefix(
    source: str, parts: list[str] | None, leftovers: list[str]
) -> None:
    found, rest = expr_path(ast.parse(source, mode="eval").body)
    assert found == parts
    assert [ast.unparse(node) for node in rest] == leftovers
