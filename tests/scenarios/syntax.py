"""Statement forms: walrus, unpacking, with/for/except targets, match, comprehensions, imports."""

from __future__ import annotations

from .table import edit, scenario

SCENARIOS = [
    scenario(
        "augmented assignment downstream",
        ["x = 1", "x += 10", "print(x)"],
        [edit(0, "x = 2")],
        {1, 2},
        stdout={2: "12\n"},
    ),
    scenario(
        "walrus in an if",
        ["data = [1, 2, 3]", "if (n := len(data)) > 2:\n    print('big')", "print(n)"],
        [edit(0, "data = [1]")],
        {1, 2},
        stdout={2: "1\n"},
    ),
    scenario(
        "walrus inside a comprehension binds in the cell",
        ["data = [1, 2, 3]", "evens = [y for v in data if (y := v * 2) > 2]", "print(y)"],
        [edit(0, "data = [4, 5]")],
        {1, 2},
        stdout={2: "10\n"},
    ),
    scenario(
        "star unpacking",
        ["first, *rest = [1, 2, 3]", "print(rest)", "print(first)"],
        [edit(0, "first, *rest = [1, 5, 6, 7]")],
        {1, 2},
    ),
    scenario(
        "nested unpacking in a for target",
        ["pairs = [(1, (2, 3))]", "for a, (b, c) in pairs:\n    pass", "print(a, b, c)"],
        [edit(0, "pairs = [(4, (5, 6))]")],
        {1, 2},
        stdout={2: "4 5 6\n"},
    ),
    scenario(
        "with target",
        [
            "import io",
            "src = 'hello'",
            "with io.StringIO(src) as fh:\n    text = fh.read()",
            "print(text)",
        ],
        [edit(1, "src = 'bye'")],
        {2, 3},
        stdout={3: "bye\n"},
    ),
    scenario(
        "for loop target and accumulator",
        ["nums = [1, 2, 3]", "total = 0\nfor i in nums:\n    total += i", "print(total, i)"],
        [edit(0, "nums = [10, 20]")],
        {1, 2},
        stdout={2: "30 20\n"},
    ),
    scenario(
        "while loop",
        ["goal = 3", "count = 0\nwhile count < goal:\n    count += 1", "print(count)"],
        [edit(0, "goal = 5")],
        {1, 2},
    ),
    scenario(
        "except target",
        [
            "divisor = 0",
            "try:\n    r = 1 / divisor\nexcept ZeroDivisionError as e:\n    r = str(e)",
            "print(r)",
        ],
        [edit(0, "divisor = 4")],
        {1, 2},
        stdout={2: "0.25\n"},
    ),
    scenario(
        "try/finally",
        ["val = 1", "try:\n    out = val * 2\nfinally:\n    done = True", "print(out, done)"],
        [edit(0, "val = 3")],
        {1, 2},
    ),
    scenario(
        "match statement with capture patterns",
        [
            "point = (1, 2)",
            "match point:\n    case (x, y):\n        label = f'{x},{y}'\n"
            "    case _:\n        label = '?'",
            "print(label)",
        ],
        [edit(0, "point = (3, 4)")],
        {1, 2},
        stdout={2: "3,4\n"},
    ),
    scenario(
        "match on a mapping with a guard reading a global",
        [
            "threshold = 5",
            "event = {'kind': 'click', 'n': 7}",
            "match event:\n    case {'kind': 'click', 'n': n} if n > threshold:\n"
            "        verdict = 'many'\n    case _:\n        verdict = 'few'",
            "print(verdict)",
        ],
        [edit(0, "threshold = 10")],
        {2, 3},
        stdout={3: "few\n"},
    ),
    scenario(
        "match class pattern against a notebook class",
        [
            "class Pt:\n    __match_args__ = ('x',)\n"
            "    def __init__(self, x):\n        self.x = x",
            "p = Pt(3)",
            "match p:\n    case Pt(x=0):\n        kind = 'origin'\n    case Pt():\n"
            "        kind = 'other'",
            "print(kind)",
        ],
        [edit(1, "p = Pt(0)")],
        {2, 3},
        stdout={3: "origin\n"},
    ),
    scenario(
        "f-string with a format spec from a global",
        ["name = 'a'", "width = 5", "print(f'{name:>{width}}|')"],
        [edit(1, "width = 3")],
        {2},
        stdout={2: "  a|\n"},
    ),
    scenario(
        "list comprehension reading a global",
        ["k = 2", "sq = [i * k for i in range(3)]", "print(sq)"],
        [edit(0, "k = 3")],
        {1, 2},
    ),
    scenario(
        "comprehension variable does not leak",
        ["i = 100", "vals = [i for i in range(3)]", "print(i)", "print(vals)"],
        [edit(1, "vals = [i * 2 for i in range(3)]")],
        {3},
        stdout={2: "100\n"},
    ),
    scenario(
        "dict and set comprehensions and a generator",
        [
            "src = [1, 2, 2]",
            "d = {v: v * v for v in src}",
            "s = {v for v in src}",
            "g = sum(v for v in src)",
            "print(d, s, g)",
        ],
        [edit(0, "src = [3]")],
        {1, 2, 3, 4},
    ),
    scenario(
        "nested comprehension reading two globals",
        [
            "rows = 2",
            "cols = 3",
            "grid = [[r * c for c in range(cols)] for r in range(rows)]",
            "print(grid)",
        ],
        [edit(1, "cols = 2")],
        {2, 3},
    ),
    scenario(
        "import defines the module name",
        ["import math", "print(math.sqrt(16))", "print('no math')"],
        [edit(0, "import math\nimport os")],
        {1},
    ),
    scenario(
        "from-import alias",
        ["from math import sqrt as root", "print(root(9))"],
        [edit(0, "from math import floor as root")],
        {1},
        stdout={1: "9\n"},
    ),
    scenario(
        "import inside a function is local",
        ["def f():\n    import math\n    return math.pi", "math = 'mine'", "print(f(), math)"],
        [edit(1, "math = 'yours'")],
        {2},
    ),
    scenario(
        "assert reads globals",
        ["ok = True", "assert ok, 'not ok'\nstatus = 'fine'", "print(status)"],
        [edit(0, "ok = 1")],
        {1, 2},
    ),
    scenario(
        "string methods do not mutate",
        ["s = 'abc'", "u = s.upper()", "print(s)", "print(u)"],
        [edit(1, "u = s.upper() + '!'")],
        {3},
    ),
    scenario(
        "global name read in a class body",
        ["default = 1", "class K:\n    value = default + 1", "print(K.value)"],
        [edit(0, "default = 5")],
        {1, 2},
        stdout={2: "6\n"},
    ),
    scenario(
        "async function awaited at top level",
        [
            "delay = 0",
            "import asyncio\nasync def wait():\n    await asyncio.sleep(delay)\n    return delay",
            "print(await wait())",
        ],
        [edit(0, "delay = 0.01")],
        {2},
    ),
]
