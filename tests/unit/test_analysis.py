"""What one cell's code defines and uses (kernel_agent.core.analysis), table-driven.

Each case lists only the fields it is about; ``None`` means "not checked".
"""

from __future__ import annotations

import sys
import types
from collections.abc import Set
from dataclasses import dataclass

import pytest

from kernel_agent.core.analysis import (
    CellAnalysis,
    FunctionSummary,
    analyze,
    calls_conservative,
    close_over_calls,
)


@dataclass
class Case:
    code: str
    defines: Set[str]
    uses: Set[str]
    calls: Set[str] | None = None
    maybe: Set[str] | None = None
    receivers: Set[str] | None = None
    conservative: bool = False
    min_python: tuple[int, int] = (3, 9)


NOTHING: Set[str] = frozenset()

CASES = {
    # -- reads, in statement order ------------------------------------------
    "read after define": Case("x = 1\nprint(x)", {"x"}, NOTHING),
    "read before define": Case("print(x)\nx = 1", {"x"}, {"x"}),
    "self update": Case("x = x + 1", {"x"}, {"x"}),
    "constant index": Case("y = x[0]", {"y"}, {"x[0]"}),
    "str key canonical quotes": Case('y = d["k"]', {"y"}, {"d['k']"}),
    "attribute": Case("y = cfg.lr", {"y"}, {"cfg.lr"}),
    "attribute chain": Case("y = a.b.c", {"y"}, {"a.b.c"}),
    "computed index": Case("y = x[i]", {"y"}, {"x", "i"}),
    "slice": Case("y = x[1:n]", {"y"}, {"x", "n"}),
    "negative index": Case("y = x[-1]", {"y"}, {"x[-1]"}),
    "tuple key": Case("y = t[1, 'a']", {"y"}, {"t[(1, 'a')]"}),
    "builtins are not uses": Case("print(len(xs))", NOTHING, {"xs"}, calls=NOTHING),
    "covered by earlier define": Case("x = [1]\nprint(x[0])", {"x"}, NOTHING),
    "sibling slot still used": Case("x[0] = 1\nprint(x[0], x[1])", {"x[0]"}, {"x[0]", "x[1]"}),
    "f-string": Case("print(f'{x} {y!r:>{w}}')", NOTHING, {"x", "y", "w"}),
    "conditional expression": Case("y = -x if c else z", {"y"}, {"x", "c", "z"}),
    # -- method calls ---------------------------------------------------------
    "unknown method": Case(
        "obj.attr.m(1)", NOTHING, {"obj.attr"}, maybe={"obj"}, receivers={"obj"}
    ),
    "unknown method args": Case(
        "n = s.count(a)", {"n"}, {"s", "a"}, maybe={"s", "a"}, receivers={"s"}
    ),
    "append mutates": Case("lst.append(1)", {"lst"}, {"lst"}, maybe=NOTHING, receivers=NOTHING),
    "inplace=True mutates": Case("df.drop(columns=['a'], inplace=True)", {"df"}, {"df"}),
    "mutated attribute path": Case("cfg.items.append(v)", {"cfg.items"}, {"cfg.items", "v"}),
    "mutated element": Case("x[0].sort()", {"x[0]"}, {"x[0]"}),
    "mutated computed element": Case("x[i].sort()", {"x"}, {"x", "i"}),
    "more in-place methods": Case(
        "q.put(item)\ns.discard(3)\nd.setdefault('k', [])", {"q", "s", "d"}, {"q", "s", "d", "item"}
    ),
    "inplace flag unknown": Case(
        "df.fillna(0, inplace=flag)", NOTHING, {"df", "flag"}, maybe={"df", "flag"}
    ),
    "receiver is a call result": Case("f().append(1)", NOTHING, {"f"}, calls={"f"}),
    "constant receiver": Case("s = ', '.join(names)", {"s"}, {"names"}, maybe=NOTHING),
    "module imported here": Case(
        "import numpy as np\nb = np.append(a, 1)", {"np", "b"}, {"a"}, maybe={"a"}
    ),
    "module unknown without namespace": Case(
        "np.random.shuffle(x)", NOTHING, {"np.random", "x"}, maybe={"np", "x"}, receivers={"np"}
    ),
    # -- plain calls ------------------------------------------------------------
    "call": Case("f(x, y=z)", NOTHING, {"f", "x", "z"}, calls={"f"}, maybe={"x", "z"}),
    "instantiate with stars": Case(
        "r = C(a, *args, **kw)", {"r"}, {"C", "a", "args", "kw"}, {"C"}, {"a", "args", "kw"}
    ),
    "expression argument": Case("f(x + 1)", NOTHING, {"f", "x"}, maybe=NOTHING),
    "call through subscript": Case("fs[0](x)", NOTHING, {"fs[0]", "x"}, NOTHING, {"x"}),
    "rebound builtin": Case("print(sum)\nsum = 0", {"sum"}, {"sum"}),
    "builtin call": Case("total = sum(xs)", {"total"}, {"xs"}, calls=NOTHING, maybe=NOTHING),
    # -- stores -----------------------------------------------------------------
    "index store": Case("x[0] = 1", {"x[0]"}, {"x[0]"}),
    "computed index store": Case("x[i] = 1", {"x"}, {"x", "i"}),
    "attribute store": Case("x.a = 1", {"x.a"}, {"x.a"}),
    "slice store": Case("x[1:3] = [0]", {"x"}, {"x"}),
    "deep store": Case("a.b[0].c = v", {"a.b[0].c"}, {"a.b[0].c", "v"}),
    "store into fresh object": Case("x = []\nx[0] = 1", {"x", "x[0]"}, NOTHING),
    "class attribute after class": Case("class C:\n    pass\nC.n = 0", {"C", "C.n"}, NOTHING),
    "unpacking": Case("a, (b, *c) = t", {"a", "b", "c"}, {"t"}),
    "list unpacking": Case("[p, q] = r", {"p", "q"}, {"r"}),
    "chained": Case("a = b = c", {"a", "b"}, {"c"}),
    "augmented": Case("x += 1", {"x"}, {"x"}),
    "augmented slot": Case("x[0] += 1", {"x[0]"}, {"x[0]"}),
    "augmented attribute": Case("cfg.n -= k", {"cfg.n"}, {"cfg.n", "k"}),
    "annotated": Case("x: int = 1", {"x"}, NOTHING),
    "bare annotation": Case("x: int", NOTHING, NOTHING),
    "annotation is read": Case("x: MyType = v", {"x"}, {"MyType", "v"}),
    "global at module level": Case("global x\nx = 1", {"x"}, NOTHING),
    # -- del ----------------------------------------------------------------------
    "del name": Case("del x", {"x"}, NOTHING),
    "del int index shifts": Case("del x[0]", {"x"}, {"x"}),
    "del key and attribute": Case("del d['k'], e.f", {"d['k']", "e.f"}, {"d['k']", "e.f"}),
    "del computed": Case("del x[i]", {"x"}, {"x", "i"}),
    # -- imports -------------------------------------------------------------------
    "import": Case("import os", {"os"}, NOTHING),
    "import dotted": Case("import a.b", {"a"}, NOTHING),
    "import dotted as": Case("import a.b as c", {"c"}, NOTHING),
    "from import as": Case("from m import a as b, c", {"b", "c"}, NOTHING),
    "star import": Case("from m import *", {"*"}, NOTHING),
    # -- definitions -----------------------------------------------------------------
    "def reads decorators defaults annotations": Case(
        "@dec(k)\ndef f(a=dflt, *, b: T = v) -> R:\n    return a + g",
        {"f"},
        {"dec", "k", "dflt", "T", "v", "R"},
    ),
    "async def": Case("async def f():\n    await g()", {"f"}, NOTHING, calls=NOTHING),
    "class header and body run now": Case(
        "class C(Base, metaclass=M):\n    k = K", {"C"}, {"Base", "M", "K"}
    ),
    "named lambda": Case("f = lambda v: v + k", {"f"}, NOTHING),
    "inline lambda": Case("ys = sorted(xs, key=lambda v: w[v])", {"ys"}, {"xs", "w"}),
    "def then read": Case("x = 1\ndef f():\n    return x\nprint(x)", {"x", "f"}, NOTHING),
    # -- control flow -------------------------------------------------------------------
    "for": Case("for i in xs:\n    total = total + i", {"i", "total"}, {"xs", "total"}),
    "for target after loop": Case("for i in xs:\n    pass\nprint(i)", {"i"}, {"xs", "i"}),
    "while read before assign": Case("while c:\n    print(x)\n    x = 1", {"x"}, {"c", "x"}),
    "while assign before read": Case("while c:\n    x = 1\n    print(x)", {"x"}, {"c"}),
    "if one branch": Case("if c:\n    x = 1\nprint(x)", {"x"}, {"c", "x"}),
    "if both branches": Case("if c:\n    x = 1\nelse:\n    x = 2\nprint(x)", {"x"}, {"c"}),
    "elif missing": Case("if c:\n    x = 1\nelif d:\n    x = 2\nprint(x)", {"x"}, {"c", "d", "x"}),
    "with as": Case(
        "with open(p) as fh:\n    data = fh.read()\nprint(data)",
        {"fh", "data"},
        {"p"},
        receivers={"fh"},
    ),
    "with tuple target": Case("with ctx() as (a, b):\n    pass", {"a", "b"}, {"ctx"}, {"ctx"}),
    "try all paths define": Case(
        "try:\n    v = f()\nexcept E as e:\n    v = None\nprint(v, e)",
        {"v", "e"},
        {"f", "E", "e"},
    ),
    "try handler skips": Case(
        "try:\n    v = f()\nexcept E:\n    pass\nprint(v)", {"v"}, {"f", "E", "v"}
    ),
    "finally always runs": Case("try:\n    pass\nfinally:\n    z = 1\nprint(z)", {"z"}, NOTHING),
    "match patterns": Case(
        "match cmd:\n    case Point(x=px, y=0):\n        print(px)\n    case [a, *rest]:\n"
        "        pass\n    case {'k': kk, **rr}:\n        pass\n    case Color.RED:\n        pass",
        {"px", "a", "rest", "kk", "rr"},
        {"cmd", "Point", "Color.RED"},
        min_python=(3, 10),
    ),
    "match case may not run": Case(
        "match v:\n    case 1:\n        y = 1\nprint(y)", {"y"}, {"v", "y"}, min_python=(3, 10)
    ),
    # -- comprehensions and walrus ---------------------------------------------------------
    "comprehension locals": Case("y = [i * k for i in lst if i > t]", {"y"}, {"k", "lst", "t"}),
    "dict comprehension": Case("y = {k: v for k, v in d.items()}", {"y"}, {"d"}, receivers={"d"}),
    "nested generators": Case("y = [j for i in a for j in i]", {"y"}, {"a"}),
    "comprehension walrus binds outside": Case("y = [(z := i) for i in r]", {"y", "z"}, {"r"}),
    "first iterable is outer": Case("g = (x for x in x)", {"g"}, {"x"}),
    "mutation in comprehension": Case("y = [lst.append(i) for i in r]", {"y", "lst"}, {"lst", "r"}),
    "walrus in test": Case("if (n := len(a)) > 1:\n    print(n)", {"n"}, {"a"}),
    "walrus may not run": Case("ok = flag or (m := 1)\nprint(m)", {"ok", "m"}, {"flag", "m"}),
    # -- conservative -------------------------------------------------------------------------
    "exec of constant code is read": Case("exec('x = y + 1')", {"x"}, {"y"}),
    "exec of computed code": Case("exec(code)", {"*"}, {"code"}, conservative=True),
    "exec with its own globals": Case("exec('x = 1', ns)", NOTHING, {"ns"}, maybe={"x", "ns"}),
    "eval of constant code": Case("y = eval('a + 1')", {"y"}, {"a"}),
    "eval": Case("y = eval(s)", {"y"}, {"s"}, conservative=True),
    "globals": Case("globals()['x'] = 1", {"x"}, NOTHING),
    "globals computed key": Case("globals()[k] = 1", {"*"}, {"k"}),
    "globals update keywords": Case("globals().update(a=1, b=v)", {"a", "b"}, {"v"}),
    "globals update mapping": Case("globals().update(d)", {"*"}, {"d"}),
    "globals read": Case("n = len(globals())", {"n"}, NOTHING, conservative=True),
    "vars without args": Case("v = vars()", {"v"}, NOTHING, conservative=True),
    "vars of object": Case("v = vars(o)", {"v"}, {"o"}),
    "__import__": Case("m = __import__('os')", {"m"}, NOTHING, conservative=True),
    "setattr on module": Case(
        "setattr(sys.modules[__name__], 'x', 1)",
        {"sys.modules", "*"},
        {"sys.modules"},
        conservative=True,
    ),
    # -- getattr / setattr --------------------------------------------------------------------
    "setattr constant": Case("setattr(o, 'a', 1)", {"o.a"}, {"o.a"}),
    "getattr constant": Case("x = getattr(o, 'a', None)", {"x"}, {"o.a"}),
    "setattr computed": Case("setattr(o, name, v)", {"o"}, {"o", "name", "v"}),
    # -- IPython's transformed magics -----------------------------------------------------
    "%time": Case(
        "get_ipython().run_line_magic('time', 'x = f(y)')",
        {"x"},
        {"f", "y"},
        calls={"f"},
        maybe={"y"},
    ),
    "%%time": Case(
        "get_ipython().run_cell_magic('time', '', 'a = b\\nc = a\\n')", {"a", "c"}, {"b"}
    ),
    "%%capture": Case(
        "get_ipython().run_cell_magic('capture', 'out --no-stderr', 'x = 1\\n')",
        {"out", "x"},
        NOTHING,
    ),
    "%timeit keeps no bindings": Case(
        "get_ipython().run_line_magic('timeit', '-n 10 -r 3 y = f(x)')",
        NOTHING,
        {"f", "x"},
        maybe={"x", "y"},
    ),
    "shell expansion": Case("get_ipython().system('ls $d {e}')", NOTHING, {"d", "e"}),
    "getoutput": Case("files = get_ipython().getoutput('ls')", {"files"}, NOTHING),
    "harmless magic": Case(
        "get_ipython().run_line_magic('matplotlib', 'inline')", NOTHING, NOTHING, NOTHING
    ),
    "%run": Case(
        "get_ipython().run_line_magic('run', 'script.py')", {"*"}, NOTHING, conservative=True
    ),
    "shell namespace method": Case(
        "get_ipython().push({'a': 1})", {"*"}, NOTHING, conservative=True
    ),
    "magic body we cannot parse": Case(
        "get_ipython().run_cell_magic('time', '', '%pip list\\n')",
        NOTHING,
        NOTHING,
        conservative=True,
    ),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_cell(case: Case) -> None:
    if sys.version_info < case.min_python:
        pytest.skip("syntax needs a newer Python")
    found = analyze(case.code)
    assert not found.syntax_error
    assert found.defines == case.defines
    assert found.uses == case.uses
    assert found.conservative is case.conservative
    if case.calls is not None:
        assert found.calls == case.calls
    if case.maybe is not None:
        assert found.maybe_mutated == case.maybe
    if case.receivers is not None:
        assert found.method_receivers == case.receivers


def test_table_is_large() -> None:
    assert len(CASES) >= 60


# -- function and class summaries ------------------------------------------------------


@dataclass
class FnCase:
    code: str
    name: str
    uses: Set[str]
    defines: Set[str] = NOTHING
    calls: Set[str] | None = None
    conservative: bool = False


FUNCTIONS = {
    "globals read and called": FnCase(
        "def f():\n    return g(x) + cfg.lr", "f", {"g", "x", "cfg.lr"}, calls={"g"}
    ),
    "parameters are local": FnCase(
        "def f(a, /, p, *args, b=1, **kw):\n    return a + p + b + args + kw + z", "f", {"z"}
    ),
    "assigned is local": FnCase("def f():\n    y = 1\n    return y", "f", NOTHING),
    "assigned later is local": FnCase("def f():\n    print(y)\n    y = 1", "f", NOTHING),
    "global rebinding": FnCase("def f():\n    global g\n    g = 1", "f", NOTHING, {"g"}),
    "global augmented": FnCase("def f():\n    global g\n    g += 1", "f", {"g"}, {"g"}),
    "global mutations": FnCase(
        "def f():\n    lst.append(1)\n    d['k'] = 1\n    o.a = 1",
        "f",
        {"lst", "d['k']", "o.a"},
        {"lst", "d['k']", "o.a"},
    ),
    "local mutations": FnCase("def f(lst):\n    lst.append(1)\n    lst[0] = 2", "f", NOTHING),
    "comprehension in body": FnCase("def f():\n    return [i * k for i in xs]", "f", {"k", "xs"}),
    "closures": FnCase(
        "def outer():\n    y = 1\n    def inner():\n        nonlocal y\n        y = 2\n"
        "        return y + z\n    return inner",
        "outer",
        {"z"},
    ),
    "global in nested def": FnCase(
        "def f():\n    def g():\n        global G\n        G = 1\n    return g", "f", NOTHING, {"G"}
    ),
    "local import": FnCase("def f():\n    import os\n    return os.getcwd()", "f", NOTHING),
    "except name": FnCase(
        "def f():\n    try:\n        pass\n    except E as e:\n        return e", "f", {"E"}
    ),
    "loop and with targets": FnCase(
        "def f():\n    for i in r:\n        pass\n    with c() as w:\n        return w, i",
        "f",
        {"r", "c"},
        calls={"c"},
    ),
    "exec inside": FnCase("def f():\n    return exec(s)", "f", {"s"}, {"*"}, conservative=True),
    "named lambda": FnCase("f = lambda v: v + k + g(v)", "f", {"k", "g"}, calls={"g"}),
    "class": FnCase(
        "class C:\n    k = K\n    def m(self):\n        self.x = G\n        lst.append(1)\n"
        "        return helper() + k",
        "C",
        {"K", "G", "lst", "helper", "k"},
        {"lst"},
        calls={"helper"},
    ),
    "class body runs in order": FnCase(
        "class C:\n    a = b\n    b = 1\n    c = b + [b for _ in r]", "C", {"b", "r"}
    ),
    "self attributes are not globals": FnCase(
        "class C:\n    def __init__(self, v):\n        self.v = v\n    def total(self):\n"
        "        return sum(self.v) + offset",
        "C",
        {"offset"},
        calls=NOTHING,
    ),
    "annotated local": FnCase("def f():\n    x: int\n    return x", "f", NOTHING),
    "default is not a body use": FnCase("def f(x=default):\n    return x", "f", NOTHING),
    "builtin call": FnCase("def f():\n    return sum(xs)", "f", {"xs"}, calls=NOTHING),
    "builtin rebound by the cell": FnCase(
        "sum = 0\ndef f():\n    return sum(xs)", "f", {"sum", "xs"}, calls={"sum"}
    ),
    "class in def": FnCase("def f():\n    class K:\n        a = A\n    return K", "f", {"A"}),
    "recursion": FnCase("def f(n):\n    return f(n - 1)", "f", {"f"}, calls={"f"}),
    "async def": FnCase("async def f():\n    async with L:\n        await g()", "f", {"L", "g"}),
}


@pytest.mark.parametrize("case", FUNCTIONS.values(), ids=FUNCTIONS.keys())
def test_function_summary(case: FnCase) -> None:
    summary = analyze(case.code).functions[case.name]
    assert summary.uses == case.uses
    assert summary.defines == case.defines
    assert summary.conservative is case.conservative
    if case.calls is not None:
        assert summary.calls == case.calls


def test_every_top_level_definition_has_a_summary() -> None:
    code = "def f():\n    pass\nclass C:\n    pass\ng = lambda: 0\nif c:\n    def h(): pass"
    assert set(analyze(code).functions) == {"f", "C", "g", "h"}


def test_nested_definitions_have_no_summary_of_their_own() -> None:
    code = "def f():\n    def inner():\n        pass\nclass C:\n    def m(self):\n        pass"
    assert set(analyze(code).functions) == {"f", "C"}


def test_body_of_def_is_not_a_cell_use() -> None:
    found = analyze("def f():\n    return secret")
    assert found.uses == set()
    assert found.functions["f"].uses == {"secret"}


# -- transitive closure ------------------------------------------------------------------


def test_close_over_calls_follows_cycles() -> None:
    summaries = {
        "f": FunctionSummary(uses={"a"}, defines=set(), calls={"g"}),
        "g": FunctionSummary(uses={"b", "f"}, defines={"c"}, calls={"f", "h"}),
        "h": FunctionSummary(uses={"d[0]"}, defines={"e.x"}, calls={"g"}),
    }
    cell = CellAnalysis(calls={"f"})
    assert close_over_calls(cell, summaries) == ({"a", "b", "f", "d[0]"}, {"c", "e.x"})


def test_close_over_calls_ignores_unknown_names() -> None:
    assert close_over_calls(CellAnalysis(calls={"print", "mystery"}), {}) == (set(), set())


def test_cell_functions_win_over_stored_summaries() -> None:
    found = analyze("def f():\n    return new\nf()")
    stale = {"f": FunctionSummary(uses={"old"}, defines=set(), calls=set())}
    assert close_over_calls(found, stale) == ({"new"}, set())
    assert close_over_calls(found, {**stale, **found.functions}) == ({"new"}, set())


def test_closure_over_cell_that_defines_and_calls() -> None:
    found = analyze("def f():\n    return g() + x\ndef g():\n    lst.append(y)\nr = f()")
    uses, defines = close_over_calls(found, found.functions)
    assert uses == {"g", "x", "lst", "y"}
    assert defines == {"lst"}


def test_method_receivers_keyed_in_summaries_are_followed() -> None:
    found = analyze("model.fit(X)")
    summaries = {"model": FunctionSummary(uses={"cfg"}, defines={"log"}, calls=set())}
    assert close_over_calls(found, summaries) == ({"cfg"}, {"log"})


def test_calls_conservative_through_summaries() -> None:
    found = analyze("def f():\n    exec(s)\ndef g():\n    return f()\ng()")
    assert not found.conservative
    assert calls_conservative(found, found.functions)
    assert not calls_conservative(analyze("h()"), found.functions)


# -- namespace-aware guesses -------------------------------------------------------------


def _fake_numpy() -> types.ModuleType:
    numpy = types.ModuleType("numpy")
    numpy.random = types.ModuleType("numpy.random")  # type: ignore[attr-defined]
    return numpy


def test_namespace_makes_rebound_builtins_uses() -> None:
    assert analyze("print(sum)", {"sum": 0}).uses == {"sum"}
    assert analyze("print(sum)", {}).uses == set()


def test_module_function_named_like_a_list_method_is_not_a_mutation() -> None:
    namespace = {"np": _fake_numpy()}
    found = analyze("b = np.append(a, 1)", namespace)
    assert found.defines == {"b"}
    assert found.maybe_mutated == {"a"}
    assert found.method_receivers == set()
    assert analyze("b = np.append(a, 1)").defines == {"b", "np"}  # without it: a guess


def test_namespace_is_ignored_for_names_the_cell_rebinds() -> None:
    found = analyze("np = []\nnp.append(1)", {"np": _fake_numpy()})
    assert found.defines == {"np"}  # rebinding; the append then changes the new list
    assert analyze("np = []\nnp.append(1)").defines == {"np"}


def test_submodule_receiver_is_not_maybe_mutated() -> None:
    found = analyze("np.random.shuffle(x)", {"np": _fake_numpy()})
    assert found.uses == {"np.random", "x"}
    assert found.maybe_mutated == {"x"}


def test_module_summary_with_namespace() -> None:
    found = analyze("def f(a):\n    return np.append(a, 1)", {"np": _fake_numpy()})
    assert found.functions["f"].defines == set()


# -- robustness ----------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["x = (", "def f(:\n", "\0"])
def test_syntax_error_tracks_nothing(code: str) -> None:
    assert analyze(code) == CellAnalysis(syntax_error=True)


def test_empty_cell() -> None:
    assert analyze("") == CellAnalysis()


# -- pure methods of pandas and numpy objects ----------------------------------------------


def _notebook_function(value: object) -> object:
    return value


_notebook_function.__module__ = "__main__"  # as if defined in the notebook


class _Model:
    def sum(self) -> int:  # a user method named like a pure one may do anything
        return 0


def _data_namespace() -> dict[str, object]:
    np = pytest.importorskip("numpy")
    pd = pytest.importorskip("pandas")

    class SubFrame(pd.DataFrame):  # type: ignore[misc]
        pass

    return {
        "np": np,
        "pd": pd,
        "df": pd.DataFrame({"k": [1, 2, 1], "v": [1.0, 2.0, 3.0]}),
        "other": pd.DataFrame({"k": [1], "w": [0.5]}),
        "obj": pd.DataFrame({"k": [[1], [2]]}),  # object column: copies share the lists
        "sub": SubFrame({"a": [1]}),
        "arr": np.arange(6.0),
        "cfg": types.SimpleNamespace(df=pd.DataFrame({"a": [1.0]})),
        "scale": _notebook_function,
        "fns": [_notebook_function],
        "model": _Model(),
        "lst": [3, 1, 2],
        "cols": ["k"],
    }


PURE_READS = {
    "groupby sum, kept": 'g = df.groupby("k")["v"].sum()',
    "groupby sum, shown": 'df.groupby("k")["v"].sum()',
    "view printed": "print(df.head())",
    "view shown": "df.head()",
    "describe": "d = df.describe()",
    "sort_values without inplace": 'y = df.sort_values("v")',
    "inplace=False": 'y = df.sort_values("v", inplace=False)',
    "merge: the other frame is only read": 'm = df.merge(other, on="k")',
    "query": 'q = df.query("v > 1 and k == 1")',
    "column": 'y = df["v"].mean()',
    "column attribute": "y = df.v.mean() + df.k.max()",
    "loc with a mask": "y = df.loc[df.v > 1].sum()",
    "loc with a lambda": "y = df.loc[lambda d: d.v > 1].sum()",
    "numpy reduction": "y = arr.sum()",
    "reshape then reduce": "y = arr.reshape(2, 3).sum(axis=0)",
    "transpose copied": "y = arr.T.copy()",
    "lambda of arithmetic": "y = df.apply(lambda r: r.v * 2 + r.k, axis=1)",
    "aggregations by name": 'y = df.agg(["sum", "mean"])',
    "named aggregation": 'y = df.groupby("k").agg(total=("v", "sum"))',
    "numpy callback": "y = df.apply(np.sqrt)",
    "grouping by a list": "y = df.groupby(cols).sum()",
    "to_csv": 'df.to_csv("out.csv")',
    "through a plain attribute": "y = cfg.df.sum()",
    "condition": "if df.v.sum() > 0:\n    flag = 1",
    "f-string": "print(f'{df.v.max():.2f}')",
}


@pytest.mark.parametrize("code", PURE_READS.values(), ids=PURE_READS.keys())
def test_pure_methods_of_data_are_reads(code: str) -> None:
    namespace = _data_namespace()
    found = analyze(code, namespace)
    watched = found.method_receivers | found.maybe_mutated
    assert not watched & {"df", "arr", "other", "cfg"}, watched
    assert {path.split(".")[0].split("[")[0] for path in found.uses} & {"df", "arr", "cfg"}
    assert not {"df", "arr"} & found.defines
    analysis_without_namespace = analyze(code)  # the server's prediction: conservative
    if "df." in code and ".to_csv" not in code:
        assert analysis_without_namespace.method_receivers


STILL_WATCHED = {
    "view kept": ("x = df.head()", "df"),
    "view changed in place": ("df.head().fillna(0, inplace=True)", "df"),
    "sorted through a view": ("arr.reshape(-1).sort()", "arr"),
    "stored through a view": ("arr.reshape(-1)[0] = 5", "arr"),
    "view kept (numpy)": ("x = arr.reshape(-1)", "arr"),
    "view iterated": ("for row in arr.reshape(3, 2):\n    row[0] = 1", "arr"),
    "view passed on": ("f(arr.ravel())", "arr"),
    "notebook function as callback": ("df.apply(scale)", "df"),
    "notebook function in a lambda": ("y = df.apply(lambda r: scale(r), axis=1)", "df"),
    "lambda mutating its argument": ("df.apply(lambda c: c.fillna(0, inplace=True))", "df"),
    "mutator by name": ('df.agg("pop", "k")', "df"),
    "view by name kept": ('y = df.agg("head")', "df"),
    "identity lambda kept": ("y = df.apply(lambda c: c)", "df"),
    "a frame's first rows kept": ("y = df.last(2)", "df"),
    "list of notebook functions": ("df.agg(fns)", "df"),
    "groupby apply with a notebook function": ('g = df.groupby("k").apply(scale)', "df"),
    "positional inplace (old pandas)": ('y = df.sort_values("v", 0, True, True)', "df"),
    "inplace unknown": ("df.fillna(0, inplace=flag)", "df"),
    "keyword arguments unknown": ("df.fillna(0, **opts)", "df"),
    "query calling a function": ('y = df.query("@scale(v) > 1")', "df"),
    "shallow copy kept": ("y = df.copy(deep=False)", "df"),
    "copy=False kept": ("y = df.astype(float, copy=False)", "df"),
    "to_numpy kept": ("y = df.to_numpy()", "df"),
    "groupby object kept": ('g = df.groupby("k")', "df"),
    "object column kept": ("y = obj.describe()", "obj"),
    "out=": ("y = arr.sum(out=z)", "arr"),
    "not pandas: a list": ("y = lst.copy()", "lst"),
    "not pandas: a user object": ("y = model.sum()", "model"),
    "a DataFrame subclass": ("y = sub.sum()", "sub"),
    "rebound by the cell": ("df = make()\ny = df.head()", None),
    "unknown method": ("df.custom_mutator()", "df"),
    "callable key: pandas calls it with the frame": ("y = df[scale].sum()", "df"),
}


@pytest.mark.parametrize(("code", "receiver"), STILL_WATCHED.values(), ids=STILL_WATCHED.keys())
def test_other_calls_keep_the_receiver_watched(code: str, receiver: str | None) -> None:
    found = analyze(code, _data_namespace())
    if receiver is not None:
        assert receiver in found.method_receivers | found.maybe_mutated | found.defines


MUTATORS = {
    "inplace=True": ('df.sort_values("v", inplace=True)', "df"),
    "insert": ('df.insert(0, "z", 1)', "df"),
    "pop": ('df.pop("k")', "df"),
    "update": ("df.update(other)", "df"),
    "setflags": ("arr.setflags(write=False)", "arr"),
    "sort": ("arr.sort()", "arr"),
    "fill": ("arr.fill(0)", "arr"),
    "resize": ("arr.resize(10, refcheck=False)", "arr"),
    "item store": ('df["z"] = 1', "df['z']"),
    "loc store": ('df.loc[0, "v"] = 1', "df"),
}


@pytest.mark.parametrize(("code", "path"), MUTATORS.values(), ids=MUTATORS.keys())
def test_mutators_of_data_define_the_receiver(code: str, path: str) -> None:
    assert path in analyze(code, _data_namespace()).defines


def test_object_columns_are_reads_only_when_nothing_is_kept() -> None:
    namespace = _data_namespace()
    assert "obj" not in analyze("print(obj.describe())", namespace).method_receivers
    assert "obj" in analyze("y = obj.describe()", namespace).method_receivers
