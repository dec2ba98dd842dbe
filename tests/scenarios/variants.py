"""Less direct ways real notebooks reach state: functions as values, inheritance, shared
module state (environment, RNG), containers of objects, aliases through attributes."""

from __future__ import annotations

from .table import edit, scenario

SCENARIOS = [
    scenario(
        "function passed to pandas apply reads a global",
        [
            "import pandas as pd",
            'df = pd.DataFrame({"a": [1, 2]})',
            "factor = 2",
            "def scale(v):\n    return v * factor",
            'df["b"] = df["a"].apply(scale)',
            'print(df["b"].tolist())',
        ],
        [edit(2, "factor = 10")],
        {4, 5},
        stdout={5: "[10, 20]\n"},
    ),
    scenario(
        "function passed to map reads a global",
        [
            "factor = 2",
            "def scale(v):\n    return v * factor",
            "out = list(map(scale, [1, 2]))",
            "print(out)",
        ],
        [edit(0, "factor = 3")],
        {2, 3},
        stdout={3: "[3, 6]\n"},
    ),
    scenario(
        "function called through another name",
        ["k = 1", "def base():\n    return k", "op = base", "print(op())"],
        [edit(0, "k = 7")],
        {3},
        stdout={3: "7\n"},
    ),
    scenario(
        "functions kept in a list",
        ["k = 1", "def a():\n    return k", "steps = [a]", "print([s() for s in steps])"],
        [edit(0, "k = 2")],
        {3},
        stdout={3: "[2]\n"},
    ),
    scenario(
        "functools.partial of a notebook function",
        [
            "k = 1",
            "def add(a, b):\n    return a + b + k",
            "import functools\nadd1 = functools.partial(add, 1)",
            "print(add1(1))",
        ],
        [edit(0, "k = 5")],
        {3},
        stdout={3: "7\n"},
    ),
    scenario(
        "inherited method reading a global",
        [
            "greeting = 'hi'",
            "class Base:\n    def hello(self):\n        return greeting",
            "class Child(Base):\n    pass",
            "c = Child()",
            "print(c.hello())",
        ],
        [edit(0, "greeting = 'yo'")],
        {4},
        stdout={4: "yo\n"},
    ),
    scenario(
        "object holding a config object sees its mutation",
        [
            "import types\ncfg = types.SimpleNamespace(lr=0.1)",
            "class Trainer:\n    def __init__(self, cfg):\n        self.cfg = cfg\n"
            "    def rate(self):\n        return self.cfg.lr",
            "t = Trainer(cfg)",
            "cfg.lr = 0.5",
            "print(t.rate())",
        ],
        [edit(3, "cfg.lr = 0.7")],
        {4},
        stdout={4: "0.7\n"},
    ),
    scenario(
        "environment variable set in one cell, read in another",
        ["import os\nos.environ['MODE'] = 'a'", "import os\nprint(os.environ['MODE'])"],
        [edit(0, "import os\nos.environ['MODE'] = 'b'")],
        {1},
        stdout={1: "b\n"},
    ),
    scenario(
        "%env magic and os.getenv",
        ["%env STAGE=dev", "import os\nprint(os.getenv('STAGE'))"],
        [edit(0, "%env STAGE=prod")],
        {1},
        stdout={1: "prod\n"},
    ),
    scenario(
        "seeded draws in a cell that imports numpy itself",
        [
            "import numpy as np\nnp.random.seed(0)",
            "import numpy as np\nprint(np.random.randint(100))",
        ],
        [edit(0, "import numpy as np\nnp.random.seed(1)")],
        {1},
    ),
    scenario(
        "list of dicts: one record's field",
        [
            "rows = [{'n': 1}, {'n': 2}]",
            "rows[1]['n'] = 20",
            "print(rows[0]['n'])",
            "print(rows[1])",
            "print(sum(r['n'] for r in rows))",
        ],
        [edit(1, "rows[1]['n'] = 30")],
        {3, 4},
    ),
    scenario(
        "objects in a dict mutated by a method",
        [
            "class Acc:\n    def __init__(self):\n        self.n = 0\n"
            "    def add(self, v):\n        self.n += v",
            "step = 2",
            "accs = {'a': Acc()}",
            "accs['a'].add(step)",
            "print(accs['a'].n)",
        ],
        [edit(1, "step = 3")],
        {2, 3, 4},  # issue 20: add changes the object in place: its binding re-runs first
    ),
    scenario(
        "element alias of a nested list",
        ["grid = [[0, 0], [0, 0]]", "row = grid[1]", "row[0] = 5", "print(grid)"],
        [edit(2, "row[0] = 6")],
        {3},
        stdout={3: "[[0, 0], [6, 0]]\n"},
    ),
    scenario(
        "list extended with +=",
        ["base = [1]", "extra = base\nextra += [2]", "print(base)"],
        [edit(0, "base = [5]")],
        {1, 2},
        stdout={2: "[5, 2]\n"},
    ),
    scenario(
        "dict merged with |=",
        ["opts = {'a': 1}", "more = {'b': 2}", "opts |= more", "print(opts)"],
        [edit(1, "more = {'b': 3}")],
        {0, 2, 3},  # issue 20: |= changes opts in place, so its binding re-runs first
    ),
    scenario(
        "generator expression consumed by a builtin",
        ["nums = [1, 2, 3]", "total = sum(n * n for n in nums)", "print(total)"],
        [edit(0, "nums = [4]")],
        {1, 2},
    ),
]

SCENARIOS += [
    scenario(
        "class attribute read through an instance",
        ["class Config:\n    lr = 0.1", "inst = Config()", "Config.lr = 0.2", "print(inst.lr)"],
        [edit(2, "Config.lr = 0.3")],
        {3},
        stdout={3: "0.3\n"},
    ),
    scenario(
        "del of an attribute",
        [
            "import types\nobj = types.SimpleNamespace(a=1, b=2)",
            "del obj.a",
            "print(hasattr(obj, 'a'), obj.b)",
        ],
        [edit(0, "import types\nobj = types.SimpleNamespace(a=1, b=3)")],
        {1, 2},
        stdout={2: "False 3\n"},
    ),
    scenario(
        "pandas augmented store through .loc",
        [
            "import pandas as pd",
            'df = pd.DataFrame({"a": [1, 2]})',
            'df.loc[:, "a"] *= 10',
            'print(df["a"].tolist())',
        ],
        [edit(1, 'df = pd.DataFrame({"a": [3, 4]})')],
        {2, 3},
        stdout={3: "[30, 40]\n"},
    ),
    scenario(
        "method of a notebook class appending to a global log",
        [
            "log = []",
            "class Logger:\n    def write(self, msg):\n        log.append(msg)",
            "lg = Logger()",
            "lg.write('hello')",
            "print(log)",
        ],
        [edit(0, "log = ['start']")],
        {3, 4},
        stdout={4: "['start', 'hello']\n"},
    ),
    scenario(
        "lru_cache decorated function reading a global",
        [
            "import functools",
            "base = 1",
            "@functools.lru_cache\ndef f():\n    return base + 1",
            "print(f())",
        ],
        [edit(1, "base = 10")],
        {3},
        oracle_skip={3},
        why="the cache keeps base's old value: re-running print(f()) is what §2 asks, "
        "the stale cache is the user's own (restart-and-run-all starts with an empty one)",
    ),
    scenario(
        "closure returned by a function reads a global late",
        ["k = 1", "def make():\n    return lambda: k * 2", "g = make()", "print(g())"],
        [edit(0, "k = 4")],
        {2, 3},
        stdout={3: "8\n"},
    ),
    scenario(
        "swap of two names",
        ["a, b = 1, 2", "a, b = b, a", "print(a, b)"],
        [edit(0, "a, b = 3, 4")],
        {1, 2},
        stdout={2: "4 3\n"},
    ),
]
