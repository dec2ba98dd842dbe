"""Plain names: chains, diamonds, unrelated cells, redefinitions, cascade order and reach."""

from __future__ import annotations

from .table import edit, run, scenario

SCENARIOS = [
    scenario(
        "edit upstream re-runs the reader",
        ["x = 1", "y = x + 1\nprint(y)", "z = 100\nprint(z)"],
        [edit(0, "x = 41")],
        {1},
        stdout={1: "42\n"},
    ),
    scenario(
        "chain four levels deep",
        ["a = 1", "b = a * 10", "c = b + 1", "d = c * 2", "print(d)"],
        [edit(0, "a = 2")],
        {1, 2, 3, 4},
        stdout={4: "42\n"},
    ),
    scenario(
        "diamond re-runs both branches and the join once",
        ["base = 2", "left = base + 1", "right = base * 3", "print(left + right)"],
        [edit(0, "base = 5")],
        {1, 2, 3},
        stdout={3: "21\n"},
    ),
    scenario(
        "middle of a chain re-runs only what is below",
        ["a = 1", "b = a + 1", "c = b * 100", "print(a, c)"],
        [edit(1, "b = a + 2")],
        {2, 3},
        stdout={3: "1 300\n"},
    ),
    scenario(
        "unrelated cells do not re-run",
        ["p = 1", "q = 2", "print(p)", "print(q)", "r = q + 1\nprint(r)"],
        [edit(0, "p = 10")],
        {2},
    ),
    scenario(
        "re-running an unchanged definer re-runs its readers",
        ["x = 1", "print(x)", "print('other')"],
        [run(0)],
        {1},
    ),
    scenario(
        "redefinition with the same value still re-runs the reader",
        ["x = 1", "y = x * 0", "print(y)"],
        [edit(0, "x = 2")],
        {1, 2},
        stdout={2: "0\n"},
    ),
    scenario(
        "a cell that only reads re-runs nothing",
        ["x = 1", "print(x)", "print(x * 2)"],
        [run(1)],
        set(),
    ),
    scenario(
        "self update in a downstream cell",
        ["x = 0", "x = x + 1", "print(x)"],
        [edit(0, "x = 10")],
        {1, 2},
        stdout={2: "11\n"},
    ),
    scenario(
        "tuple assignment defines every target",
        ["a, b = 1, 2", "print(a)", "print(b)", "print('c')"],
        [edit(0, "a, b = 1, 3")],
        {1, 2},
    ),
    scenario(
        "chained assignment defines both names",
        ["u = v = 0", "print(u)", "print(v)"],
        [edit(0, "u = v = 7")],
        {1, 2},
    ),
    scenario(
        "a later definer shadows the trigger for the cells below it",
        ["x = 1", "x = 2", "print(x)"],
        [edit(0, "x = 5")],
        {1, 2},
        stdout={2: "2\n"},
    ),
    scenario(
        "reader above the trigger is not re-run (in_order)",
        ["y = 0", "print(y)", "y = 5", "print(y + 1)"],
        [edit(2, "y = 6")],
        {3},
    ),
    scenario(
        "cells below that never ran stay never-run",
        ["n = 1", "m = n + 1\nprint(m)", "print(n * 100)"],
        [run(0), run(1), edit(0, "n = 2")],
        {1},
        run_all=False,
    ),
    scenario(
        "two triggers of one name: readers follow the last definer",
        ["k = 1", "print(k)", "k = 2", "print(k)"],
        [edit(2, "k = 3")],
        {3},
        stdout={1: "1\n", 3: "3\n"},
    ),
    scenario(
        "duplicate reader cells both re-run",
        ["w = 1", "print(w)", "print(w)"],
        [edit(0, "w = 2")],
        {1, 2},
    ),
    scenario(
        "long fan-out re-runs every reader",
        ["s = 'a'", "print(s * 1)", "print(s * 2)", "t = s.upper()", "print(t)", "print(len(s))"],
        [edit(0, "s = 'b'")],
        {1, 2, 3, 4, 5},
    ),
    scenario(
        "conditional definition",
        ["flag = True", "if flag:\n    v = 1\nelse:\n    v = 2", "print(v)"],
        [edit(0, "flag = False")],
        {1, 2},
        stdout={2: "2\n"},
    ),
    scenario(
        "boolean result that does not change still cascades",
        ["limit = 10", "big = limit > 5", "print(big)"],
        [edit(0, "limit = 20")],
        {1, 2},
    ),
    scenario(
        "annotated assignment",
        ["x: int = 5", "print(x + 1)", "y: float"],
        [edit(0, "x: int = 6")],
        {1},
    ),
    scenario(
        "expression statement shows an execute_result",
        ["items = [3, 1, 2]", "sorted(items)", "len(items)"],
        [edit(0, "items = [9, 8]")],
        {1, 2},
    ),
]
