"""IPython syntax (magics, ``!shell``) and what analysis must treat conservatively."""

from __future__ import annotations

from .table import edit, run, scenario

SCENARIOS = [
    scenario(
        "%time line magic runs code in the namespace",
        ["n = 10", "%time total = sum(range(n))", "print(total)"],
        [edit(0, "n = 20")],
        {1, 2},
        stdout={2: "190\n"},
    ),
    scenario(
        "%%time cell magic",
        ["n = 10", "%%time\ntotal = sum(range(n))\nprint('in', total)", "print(total)"],
        [edit(0, "n = 5")],
        {1, 2},
        stdout={2: "10\n"},
    ),
    scenario(
        "%timeit reads but does not define",
        ["n = 10", "%timeit -n 1 -r 1 sum(range(n))", "print(n)"],
        [edit(0, "n = 11")],
        {1, 2},
    ),
    scenario(
        "!echo expands a global",
        ["word = 'hi'", "!echo {word}", "print('unrelated')"],
        [edit(0, "word = 'bye'")],
        {1},
    ),
    scenario(
        "captured shell output defines a name",
        ["tag = 'x'", "out = !echo {tag}-$tag", "print(out[0])"],
        [edit(0, "tag = 'y'")],
        {1, 2},
        stdout={2: "y-y\n"},
    ),
    scenario(
        "%%capture binds its output name",
        ["msg = 'a'", "%%capture cap\nprint(msg)", "print(cap.stdout.strip())"],
        [edit(0, "msg = 'b'")],
        {1, 2},
        stdout={2: "b\n"},
    ),
    scenario(
        "magic cells that touch nothing do not re-run",
        ["x = 1", "%time y = 2", "!echo static", "print(x)"],
        [edit(0, "x = 3")],
        {3},
    ),
    # -- conservative cases ----------------------------------------------------------
    scenario(
        "exec defining a name",
        ["exec('q = 5')", "print(q)"],
        [edit(0, "exec('q = 6')")],
        {1},
        stdout={1: "6\n"},
    ),
    scenario(
        "exec of a computed string",
        ["code = 'r = 1'", "exec(code)", "print(r)"],
        [edit(0, "code = 'r = 2'")],
        {1, 2},
        stdout={2: "2\n"},
    ),
    scenario(
        "exec reading a global",
        ["a = 1", "exec('print(a)')", "print('other')"],
        [edit(0, "a = 2")],
        {1},
        stdout={1: "2\n"},
    ),
    scenario(
        "eval of a constant expression",
        ["a = 1", "b = eval('a + 1')", "print(b)"],
        [edit(0, "a = 5")],
        {1, 2},
        stdout={2: "6\n"},
    ),
    scenario(
        "globals() store with a constant key",
        ["globals()['k'] = 3", "print(k)"],
        [edit(0, "globals()['k'] = 4")],
        {1},
    ),
    scenario(
        "globals() store with a computed key",
        ["name = 'dyn'", "globals()[name] = 1", "print(dyn)"],
        [edit(1, "globals()[name] = 2")],
        {2},
        stdout={2: "2\n"},
    ),
    scenario(
        "globals().update in a function",
        ["def load():\n    globals().update(alpha=1, beta=2)", "load()", "print(alpha + beta)"],
        [edit(0, "def load():\n    globals().update(alpha=10, beta=2)")],
        {1, 2},
        stdout={2: "12\n"},
    ),
    scenario(
        "exec mutating a list in place",
        ["box = [0]", "exec('box.append(1)')", "print(box)"],
        [edit(0, "box = [5]")],
        {1, 2},
        stdout={2: "[5, 1]\n"},
    ),
    scenario(
        "star import",
        ["from math import *", "print(floor(2.5))"],
        [edit(0, "from math import *\nfloor = ceil")],
        {1},
        stdout={1: "3\n"},
    ),
    scenario(
        "star import re-run re-runs its readers",
        ["from math import *", "print(floor(2.5))", "print('x')"],
        [run(0)],
        {1},
    ),
    scenario(
        "getattr with a computed attribute name",
        [
            "import types\nobj = types.SimpleNamespace(a=1, b=2)",
            "attr = 'a'",
            "print(getattr(obj, attr))",
        ],
        [edit(1, "attr = 'b'")],
        {2},
        stdout={2: "2\n"},
    ),
]
