"""Functions and classes: globals read inside bodies, transitively; definitions as uses."""

from __future__ import annotations

from .table import edit, run, scenario

SCENARIOS = [
    scenario(
        "function reading a global",
        ["k = 2", "def f():\n    return k * 3", "print(f())"],
        [edit(0, "k = 5")],
        {2},
        stdout={2: "15\n"},
    ),
    scenario(
        "edited function body re-runs its callers",
        ["k = 2", "def f():\n    return k * 3", "print(f())", "print(k)"],
        [edit(1, "def f():\n    return k * 4")],
        {2},
    ),
    scenario(
        "global read through a chain of calls",
        ["k = 1", "def g():\n    return k", "def f():\n    return g() + 1", "print(f())"],
        [edit(0, "k = 10")],
        {3},
        stdout={3: "11\n"},
    ),
    scenario(
        "redefined helper re-runs callers of its callers",
        ["def g():\n    return 1", "def f():\n    return g() + 1", "print(f())", "print('x')"],
        [edit(0, "def g():\n    return 100")],
        {2},
        stdout={2: "101\n"},
    ),
    scenario(
        "default argument is read when the def runs",
        ["n = 3", "def f(a=n):\n    return a", "print(f())"],
        [edit(0, "n = 4")],
        {1, 2},
        stdout={2: "4\n"},
    ),
    scenario(
        "function appending to a global list",
        ["items = []", "def add(v):\n    items.append(v)", "add(1)\nadd(2)", "print(items)"],
        [edit(0, "items = [0]")],
        {2, 3},
        stdout={3: "[0, 1, 2]\n"},
    ),
    scenario(
        "object mutated by a function it is passed to",
        ["data = [3, 1, 2]", "def sort_it(xs):\n    xs.sort()", "sort_it(data)", "print(data)"],
        [edit(0, "data = [9, 8, 7]")],
        {2, 3},
        stdout={3: "[7, 8, 9]\n"},
    ),
    scenario(
        "function that does not mutate its argument is not a definer",
        [
            "data = [3, 1, 2]",
            "def peek(xs):\n    return xs[0]",
            "first = peek(data)",
            "print(data)",
            "print(first)",
        ],
        [edit(2, "first = peek(data) * 10")],
        {4},
    ),
    scenario(
        "global statement inside a function",
        [
            "counter = 0",
            "def bump():\n    global counter\n    counter += 10",
            "bump()",
            "print(counter)",
        ],
        [edit(0, "counter = 5")],
        {2, 3},
        stdout={3: "15\n"},
    ),
    scenario(
        "global rebound by a function call is a definition of the caller",
        ["def setup():\n    global ready\n    ready = 'yes'", "setup()", "print(ready)"],
        [edit(0, "def setup():\n    global ready\n    ready = 'no'")],
        {1, 2},
        stdout={2: "no\n"},
    ),
    scenario(
        "nonlocal closure factory",
        [
            "start = 0",
            "def make():\n    n = start\n    def inc():\n        nonlocal n\n        n += 1\n"
            "        return n\n    return inc",
            "inc = make()",
            "print(inc())",
        ],
        [edit(0, "start = 10")],
        {2, 3},
        stdout={3: "11\n"},
    ),
    scenario(
        "lambda reading a global",
        ["rate = 2", "scale = lambda v: v * rate", "print(scale(3))"],
        [edit(0, "rate = 5")],
        {2},
        stdout={2: "15\n"},
    ),
    scenario(
        "lambda as a sort key reading a dict",
        [
            "weights = {'a': 2, 'b': 1}",
            "ranked = sorted(weights, key=lambda k: weights[k])",
            "print(ranked)",
        ],
        [edit(0, "weights = {'a': 1, 'b': 2}")],
        {1, 2},
    ),
    scenario(
        "decorator edited re-runs the decorated definition",
        [
            "def deco(fn):\n    return lambda *a: fn(*a) * 10",
            "@deco\ndef f(x):\n    return x + 1",
            "print(f(1))",
        ],
        [edit(0, "def deco(fn):\n    return lambda *a: fn(*a) * 100")],
        {1, 2},
        stdout={2: "200\n"},
    ),
    scenario(
        "decorator whose wrapper reads a global when called",
        [
            "factor = 2",
            "def deco(fn):\n    def wrapper(x):\n        return fn(x) * factor\n    return wrapper",
            "@deco\ndef f(x):\n    return x + 1",
            "print(f(1))",
        ],
        [edit(0, "factor = 5")],
        {3},
        stdout={3: "10\n"},
    ),
    scenario(
        "decorator with an argument from a global",
        [
            "factor = 2",
            "def times(n):\n    def wrap(fn):\n        return lambda x: fn(x) * n\n    return wrap",
            "@times(factor)\ndef g(x):\n    return x",
            "print(g(5))",
        ],
        [edit(0, "factor = 3")],
        {2, 3},
        stdout={3: "15\n"},
    ),
    scenario(
        "recursive function reading a global",
        [
            "base = 1",
            "def fact(n):\n    return base if n <= 1 else n * fact(n - 1)",
            "print(fact(4))",
        ],
        [edit(0, "base = 2")],
        {2},
        stdout={2: "48\n"},
    ),
    scenario(
        "generator function reading a global",
        ["limit = 3", "def gen():\n    yield from range(limit)", "print(list(gen()))"],
        [edit(0, "limit = 5")],
        {2},
    ),
    scenario(
        "function reading one attribute: a sibling attribute change does not re-run",
        [
            "import types\ncfg = types.SimpleNamespace(lr=0.1, epochs=3)",
            "def lr():\n    return cfg.lr",
            "cfg.epochs = 5",
            "print(lr())",
            "print(cfg.epochs)",
        ],
        [edit(2, "cfg.epochs = 6")],
        {4},
    ),
    scenario(
        "calling an unchanged function again re-runs nothing below",
        ["def f():\n    return 1", "print(f())", "print(f() + 1)"],
        [run(1)],
        set(),
    ),
    scenario(
        "function defined and called in one cell",
        ["m = 3", "def sq():\n    return m * m\nresult = sq()", "print(result)"],
        [edit(0, "m = 4")],
        {1, 2},
        stdout={2: "16\n"},
    ),
    # -- classes ---------------------------------------------------------------
    scenario(
        "method reading a global",
        [
            "factor = 2",
            "class A:\n    def m(self):\n        return factor",
            "a = A()",
            "print(a.m())",
        ],
        [edit(0, "factor = 7")],
        {3},
        stdout={3: "7\n"},
    ),
    scenario(
        "edited class re-runs instances and their users",
        ["class A:\n    def m(self):\n        return 1", "a = A()", "print(a.m())", "print('z')"],
        [edit(0, "class A:\n    def m(self):\n        return 2")],
        {1, 2},
        stdout={2: "2\n"},
    ),
    scenario(
        "__init__ reading a global at construction",
        [
            "scale = 3",
            "class S:\n    def __init__(self):\n        self.v = scale",
            "s = S()",
            "print(s.v)",
        ],
        [edit(0, "scale = 4")],
        {2, 3},
        stdout={3: "4\n"},
    ),
    scenario(
        "class attribute store",
        [
            "class Config:\n    lr = 0.1\n    epochs = 1",
            "Config.lr = 0.2",
            "print(Config.lr)",
            "print(Config.epochs)",
        ],
        [edit(1, "Config.lr = 0.3")],
        {2},
    ),
    scenario(
        "rebuilt instance re-runs the mutating method and the reader",
        [
            "class Model:\n    def __init__(self):\n        self.w = 0\n"
            "    def fit(self, n):\n        self.w += n",
            "m = Model()",
            "m.fit(3)",
            "print(m.w)",
        ],
        [edit(1, "m = Model()\nm.w = 1")],
        {2, 3},
        stdout={3: "4\n"},
    ),
    scenario(
        "dataclass field added",
        [
            "from dataclasses import dataclass",
            "@dataclass\nclass P:\n    x: int\n    y: int = 0",
            "p = P(1)",
            "print(p)",
        ],
        [edit(1, "@dataclass\nclass P:\n    x: int\n    y: int = 0\n    z: int = 9")],
        {2, 3},
    ),
    scenario(
        "subclass of an edited base class",
        [
            "class Base:\n    def name(self):\n        return 'base'",
            "class Child(Base):\n    pass",
            "print(Child().name())",
        ],
        [edit(0, "class Base:\n    def name(self):\n        return 'BASE'")],
        {1, 2},
        stdout={2: "BASE\n"},
    ),
    scenario(
        "property reading another attribute",
        [
            "class Cart:\n    def __init__(self):\n        self.items = []\n"
            "    @property\n    def total(self):\n        return sum(self.items)",
            "cart = Cart()\ncart.items.append(0)",
            "cart.items[0] = 5",
            "print(cart.total)",
        ],
        [edit(2, "cart.items[0] = 7")],
        {3},
        stdout={3: "7\n"},
    ),
    scenario(
        "static and class methods reading globals",
        [
            "unit = 'cm'",
            "class U:\n    @staticmethod\n    def s():\n        return unit\n"
            "    @classmethod\n    def c(cls):\n        return unit * 2",
            "print(U.s(), U.c())",
        ],
        [edit(0, "unit = 'mm'")],
        {2},
    ),
]
