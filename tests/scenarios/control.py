"""Upstream pulls (never-run, dirty, stale cells above), errors stopping cascades, direction."""

from __future__ import annotations

from .table import edit, run, save, scenario

SCENARIOS = [
    # -- never-run cells above are pulled -------------------------------------------
    scenario(
        "never-run chain above is pulled",
        ["base = 3", "double = base * 2", "print('result', double + 1)"],
        [run(2)],
        {0, 1},
        run_all=False,
        stdout={2: "result 7\n"},
    ),
    scenario(
        "only the never-run cells the trigger needs are pulled",
        ["base = 3", "other = 5\nprint(other)", "print(base)"],
        [run(2)],
        {0},
        run_all=False,
    ),
    scenario(
        "pull reaches a function's global through its definition",
        ["k = 4", "def f():\n    return k + 1", "print(f())"],
        [run(2)],
        {0, 1},
        run_all=False,
        stdout={2: "5\n"},
    ),
    scenario(
        "pull of an import and a frame",
        ["import pandas as pd", 'df = pd.DataFrame({"a": [1, 2]})', 'print(df["a"].sum())'],
        [run(2)],
        {0, 1},
        run_all=False,
        stdout={2: "3\n"},
    ),
    scenario(
        "pull runs only the never-run cell when the rest are fresh",
        ["a = 1", "b = 2", "print(a + b)"],
        [run(0), run(2)],
        {1},
        run_all=False,
        stdout={2: "3\n"},
    ),
    scenario(
        "pulled cells then cascade down",
        ["x = 1", "y = x + 1", "print(y)", "print(x * 100)"],
        [run(3), run(2)],
        {1},
        run_all=False,
    ),
    scenario(
        "fresh cells above are not re-run",
        ["a = 1", "b = a + 1", "print(b)"],
        [run(2)],
        set(),
    ),
    # -- dirty cells above ---------------------------------------------------------
    scenario(
        "dirty upstream cell runs before the trigger",
        ["x = 1", "y = x * 2", "print(y)"],
        [save(0, "x = 5"), run(2)],
        {0, 1},
        stdout={2: "10\n"},
    ),
    scenario(
        "dirty upstream cell also cascades below the trigger",
        ["x = 1", "print(x)", "print(x + 1)"],
        [save(0, "x = 5"), run(1)],
        {0, 2},
        stdout={1: "5\n", 2: "6\n"},
    ),
    scenario(
        "dirty cell the trigger does not read is left alone",
        ["x = 1", "z = 2", "print(x)"],
        [save(1, "z = 3"), run(2)],
        set(),
        oracle_skip={1},
        why="a dirty cell the trigger does not depend on is not run (§2: only cells C depends on)",
    ),
    scenario(
        "dirty cell below the trigger runs with its new code when stale",
        ["x = 1", "print(x)"],
        [save(1, "print(x * 2)"), edit(0, "x = 3")],
        {1},
        stdout={1: "6\n"},
    ),
    scenario(
        "dirty upstream cell with new reads runs alone when they are fresh",
        ["p = 2", "q = 1", "r = q * 10", "print(r)"],
        [save(2, "r = q * p"), run(3)],
        {2},
        stdout={3: "2\n"},
    ),
    # -- errors -----------------------------------------------------------------------
    scenario(
        "an error stops the cascade",
        ["n = 1", "m = 10 // n", "print('m', m)", "print('n', n)"],
        [edit(0, "n = 0")],
        {1},
        oracle_skip={2, 3},
        why="§2: a cell that raises stops the cascade; the cells below stay stale",
    ),
    scenario(
        "a failing trigger cascades nothing",
        ["v = 1", "print(v)"],
        [edit(0, "v = 2\nraise RuntimeError('boom')")],
        set(),
        oracle_skip={1},
        why="§2: the trigger raised, so nothing cascades and the reader stays stale",
    ),
    scenario(
        "a fixed cell re-runs what the error left stale",
        ["n = 1", "m = 10 // n", "print('m', m)"],
        [edit(0, "n = 0"), edit(1, "m = 10 // (n + 1)")],
        {2},
        stdout={2: "m 10\n"},
    ),
    scenario(
        "fixing the upstream value resumes the stale cells",
        ["n = 1", "m = 10 // n", "print('m', m)", "print('n', n)"],
        [edit(0, "n = 0"), edit(0, "n = 2")],
        {1, 2, 3},
        stdout={2: "m 5\n", 3: "n 2\n"},
    ),
    scenario(
        "a failing upstream pull still runs the trigger",
        ["x = 1 / 0", "print(x)"],
        [run(1)],
        {0},
        run_all=False,
    ),
    scenario(
        "an error in an unrelated cell does not block",
        ["a = 1", "boom = 1 / 0", "print(a)"],
        [edit(0, "a = 2")],
        {2},
        stdout={2: "2\n"},
    ),
    # -- direction -------------------------------------------------------------------
    scenario(
        "a reader above the writer reads the binding above it",
        ["vals = []", "print(len(vals))", "vals.append(1)"],
        [run(1)],
        # issue 20: the kernel's vals came from the append below; restart-and-run-all
        # gives the reader the binding above, so it is pulled, and the append re-runs
        {0, 2},
    ),
    scenario(
        "a lower definer does not re-run an upper reader",
        ["print(total)", "total = 5"],
        [edit(1, "total = 6")],
        set(),
    ),
    scenario(
        "a cascade never goes upward",
        ["a = 1", "c = b + 1", "b = a + 1", "print(c)"],
        [edit(0, "a = 5")],
        {2},
        oracle_skip={1, 3},
        why="cell 1 reads b, defined below it (§2 in_order: never re-run from below); "
        "restart-and-run-all fails there, the session pulled it when cell 3 first ran",
    ),
]

SCENARIOS += [
    scenario(
        "never-run mutating cell above is pulled",
        ["lst = []", "lst.append(1)", "print(lst)"],
        [run(0), run(2)],
        {1},
        run_all=False,
        stdout={2: "[1]\n"},
    ),
    scenario(
        "never-run import and class above are pulled",
        [
            "import math",
            "class Circle:\n    def area(self, r):\n        return math.pi * r * r",
            "print(round(Circle().area(1), 2))",
        ],
        [run(2)],
        {0, 1},
        run_all=False,
        stdout={2: "3.14\n"},
    ),
    scenario(
        "never-run magic cell above is pulled",
        ["%time base = 7", "print(base)"],
        [run(1)],
        {0},
        run_all=False,
    ),
    scenario(
        "error in a cascaded cell leaves later independent cells stale",
        ["v = 1", "w = 1 // (v - 2)", "print('w', w)", "print('v', v)"],
        [edit(0, "v = 2")],
        {1},
        oracle_skip={2, 3},
        why="§2: the cascade stops at the cell that raises; the cells below stay stale",
    ),
]
