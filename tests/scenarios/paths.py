"""Symbol paths: subscripts, attribute chains, in-place methods, aliases, deletions."""

from __future__ import annotations

from .table import edit, scenario

NS = "import types\n"

SCENARIOS = [
    scenario(
        "list slot: only the reader of that slot re-runs",
        ["x = [1, 2]", "x[1] = 20", "print(x[0])", "print(x[1])"],
        [edit(1, "x[1] = 30")],
        {3},
        stdout={3: "30\n"},
    ),
    scenario(
        "list rebind re-runs every slot reader and writer",
        ["x = [1, 2]", "x[1] = 20", "print(x[0])", "print(x[1])"],
        [edit(0, "x = [5, 6]")],
        {1, 2, 3},
    ),
    scenario(
        "a slot store re-runs readers of the whole container",
        ["x = [1, 2]", "x[0] = 9", "print(x)", "print(len(x))"],
        [edit(1, "x[0] = 8")],
        {2, 3},
    ),
    scenario(
        "dict key: sibling keys do not re-run",
        ['d = {"a": 1, "b": 2}', 'd["b"] = 3', 'print(d["a"])', 'print(d["b"])', "print(d)"],
        [edit(1, 'd["b"] = 4')],
        {3, 4},
    ),
    scenario(
        "dict key written with a computed key re-runs every key reader",
        ['d = {"a": 1, "b": 2}', 'key = "a"', "d[key] = 10", 'print(d["a"])', 'print(d["b"])'],
        [edit(2, "d[key] = 11")],
        {3, 4},
    ),
    scenario(
        "nested dict keys",
        [
            'cfg = {"model": {"lr": 0.1, "layers": 2}, "seed": 0}',
            'cfg["model"]["lr"] = 0.01',
            'print(cfg["model"]["layers"])',
            'print(cfg["model"])',
            'print(cfg["seed"])',
            'print(cfg["model"]["lr"])',
        ],
        [edit(1, 'cfg["model"]["lr"] = 0.02')],
        {3, 5},
    ),
    scenario(
        "attribute chain cfg.a.b",
        [
            NS + "cfg = types.SimpleNamespace(a=types.SimpleNamespace(b=1, c=2), lr=0.1)",
            "cfg.a.b = 5",
            "print(cfg.a.b)",
            "print(cfg.a.c)",
            "print(cfg.lr)",
            "print(vars(cfg.a))",
        ],
        [edit(1, "cfg.a.b = 7")],
        {2, 5},
        stdout={2: "7\n"},
    ),
    scenario(
        "attribute rebind of the root re-runs attribute readers",
        [
            NS + "cfg = types.SimpleNamespace(lr=0.1, epochs=3)",
            "print(cfg.lr)",
            "print(cfg.epochs)",
        ],
        [edit(0, NS + "cfg = types.SimpleNamespace(lr=0.2, epochs=3)")],
        {1, 2},
    ),
    scenario(
        "attribute store on a sibling attribute does not re-run",
        [
            NS + "cfg = types.SimpleNamespace(lr=0.1, epochs=3)",
            "cfg.epochs = 5",
            "print(cfg.lr)",
            "print(cfg.epochs * 2)",
        ],
        [edit(1, "cfg.epochs = 6")],
        {3},
    ),
    scenario(
        "augmented assignment to a slot",
        [
            "counts = {'a': 0, 'b': 0}",
            "counts['a'] += 5",
            "print(counts['a'])",
            "print(counts['b'])",
        ],
        [edit(0, "counts = {'a': 1, 'b': 0}")],
        {1, 2, 3},
        stdout={2: "6\n"},
    ),
    scenario(
        "negative index overlaps positive ones",
        ["xs = [1, 2, 3]", "xs[2] = 30", "print(xs[-1])", "print(xs[0])"],
        [edit(1, "xs[2] = 40")],
        {2},
    ),
    scenario(
        "list.append re-runs readers of the list",
        ["lst = []", "lst.append(1)", "print(lst)", "print(len(lst))", "other = 5\nprint(other)"],
        [edit(0, "lst = [0]")],
        {1, 2, 3},
        stdout={2: "[0, 1]\n"},
    ),
    scenario(
        "in-place methods of dict, set and list",
        [
            "d = {}\ns = set()\nl = [3, 1, 2]",
            "d.update(a=1)",
            "s.add(4)",
            "l.sort()",
            "print(d)",
            "print(s)",
            "print(l)",
        ],
        [edit(0, "d = {'z': 0}\ns = {9}\nl = [5, 4]")],
        {1, 2, 3, 4, 5, 6},
    ),
    scenario(
        "in-place method on a nested attribute",
        [
            NS + "cfg = types.SimpleNamespace(layers=[16], lr=0.1)",
            "cfg.layers.append(32)",
            "print(cfg.layers)",
            "print(cfg.lr)",
        ],
        [edit(0, NS + "cfg = types.SimpleNamespace(layers=[8], lr=0.1)")],
        {1, 2, 3},
        stdout={2: "[8, 32]\n"},
    ),
    scenario(
        "setdefault and pop are mutations",
        ["reg = {'a': [1]}", "reg.setdefault('b', []).append(2)", "reg.pop('a')", "print(reg)"],
        [edit(0, "reg = {'a': [1], 'c': [3]}")],
        {1, 2, 3},
    ),
    scenario(
        "sorted() does not mutate its argument",
        ["vals = [3, 1, 2]", "ordered = sorted(vals)", "print(vals)", "print(ordered)"],
        [edit(1, "ordered = sorted(vals, reverse=True)")],
        {3},
    ),
    scenario(
        "del of a name",
        ["tmp = [1, 2, 3]", "total = sum(tmp)\ndel tmp", "print(total)"],
        [edit(0, "tmp = [4, 5]")],
        {1, 2},
        stdout={2: "9\n"},
    ),
    scenario(
        "del of a dict key re-runs readers of the dict",
        ["d = {'a': 1, 'b': 2, 'c': 3}", "del d['b']", "print(sorted(d))", "print(d['a'])"],
        [edit(0, "d = {'a': 5, 'b': 2, 'e': 3}")],
        {1, 2, 3},
    ),
    scenario(
        "mutation through an alias",
        ["a = [1, 2]", "b = a", "b[0] = 100", "print(a[0])", "print(a)"],
        [edit(2, "b[0] = 200")],
        {3, 4},
        stdout={3: "200\n"},
    ),
    scenario(
        "in-place call through an alias",
        ["a = [1, 2]", "b = a", "b.append(3)", "print(a)"],
        [edit(0, "a = [7]")],
        {1, 2, 3},
        stdout={3: "[7, 3]\n"},
    ),
    scenario(
        "setattr and getattr with constant names",
        [
            NS + "obj = types.SimpleNamespace(a=1, b=2)",
            "setattr(obj, 'a', 10)",
            "print(getattr(obj, 'a'))",
            "print(obj.b)",
        ],
        [edit(1, "setattr(obj, 'a', 11)")],
        {2},
    ),
    scenario(
        "tuple index of a nested list",
        ["grid = [[0, 0], [0, 0]]", "grid[1][0] = 5", "print(grid[1])", "print(grid[0])"],
        [edit(1, "grid[1][0] = 6")],
        {2},
    ),
]
