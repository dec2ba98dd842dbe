"""What the namespace before a run tells analysis: computed attributes, aliases, module state."""

from __future__ import annotations

import types
from typing import Any

import pytest

from kernel_agent.analysis import analyze
from kernel_agent.namespace import Aliases, refine, resolve, split


class Cart:
    def __init__(self) -> None:
        self.items: list[int] = []

    @property
    def total(self) -> int:
        return sum(self.items)

    def describe(self) -> str:
        return "cart"


class Frame:
    """Behaves like a pandas object: columns through __getattr__, guarded __setattr__."""

    def __init__(self) -> None:
        object.__setattr__(self, "_data", {"a": [1]})

    def __getattr__(self, name: str) -> Any:
        return self._data[name]

    def __setattr__(self, name: str, value: Any) -> None:
        self._data[name] = value

    @property
    def loc(self) -> Any:
        return self


class Slotted:
    __slots__ = ("x",)


class Defaults:
    rate = 0.1


NS = types.SimpleNamespace


def namespace() -> dict[str, object]:
    grid = [[0, 0], [1, 1]]
    shared = [1, 2]
    return {
        "cfg": NS(a=NS(b=1), lr=0.1),
        "cart": Cart(),
        "df": Frame(),
        "slotted": Slotted(),
        "Defaults": Defaults,
        "inst": Defaults(),
        "types": types,
        "nested": {"model": NS(lr=0.1)},
        "grid": grid,
        "row": grid[1],
        "a": shared,
        "b": shared,
        "_": shared,
        "n": 5,
        "m": 5,
    }


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        (["cfg", ".a", ".b"], ["cfg", ".a", ".b"]),
        (["cfg", ".new"], ["cfg", ".new"]),
        (["cart", ".total"], ["cart"]),
        (["cart", ".describe"], ["cart"]),
        (["cart", ".items", "[0]"], ["cart", ".items", "[0]"]),
        (["df", ".a"], ["df"]),
        (["df", ".loc", "[(0, 'a')]"], ["df"]),
        (["slotted", ".x"], ["slotted"]),
        (["Defaults", ".rate"], ["Defaults", ".rate"]),
        (["inst", ".rate"], ["inst", ".rate"]),
        (["types", ".SimpleNamespace"], ["types", ".SimpleNamespace"]),
        (["nested", "['model']", ".lr"], ["nested", "['model']", ".lr"]),
        (["unknown", ".x", ".y"], ["unknown", ".x", ".y"]),
    ],
)
def test_refine_cuts_before_computed_attributes(path: list[str], expected: list[str]) -> None:
    assert refine(path, namespace()) == expected


def test_refine_with_numpy_descriptors() -> None:
    numpy = pytest.importorskip("numpy")
    ns = {"arr": numpy.zeros(3)}
    assert refine(["arr", ".shape"], ns) == ["arr"]
    assert refine(["arr", ".T", "[0]"], ns) == ["arr"]


def test_split_and_resolve() -> None:
    assert split("a.b[0]['k']") == ("a", ".b", "[0]", "['k']")
    ns = namespace()
    assert resolve(split("row[0]"), ns) == 1
    assert resolve(split("nested['model'].lr"), ns) == 0.1


def test_aliases_of_top_level_and_member_objects() -> None:
    aliases = Aliases(namespace())
    assert aliases.of("b[0]") == {"a[0]"}
    assert aliases.of("a") == {"b"}
    assert aliases.of("row[0]") == {"grid[1][0]"}
    assert aliases.of("grid[1][0]") == {"row[0]"}
    assert aliases.of("n") == set(), "immutable values are not aliases"
    assert aliases.of("missing.x") == set()


def test_large_containers_are_not_scanned() -> None:
    big = [[i] for i in range(1000)]
    assert Aliases({"big": big, "first": big[0]}).of("first") == set()


# -- through analyze() ----------------------------------------------------------------


def test_store_through_an_alias_defines_both() -> None:
    found = analyze("b[0] = 100", namespace())
    assert found.defines == {"b[0]", "a[0]"}
    assert analyze("b.append(3)", namespace()).defines == {"b", "a"}


def test_maybe_mutated_brings_its_aliases() -> None:
    found = analyze("f(row)", namespace())
    assert found.maybe_mutated == {"row", "grid"}


def test_no_aliases_for_a_name_the_cell_rebinds() -> None:
    assert analyze("b = []\nb.append(1)", namespace()).defines == {"b"}


def test_computed_attributes_are_reads_and_stores_of_the_object() -> None:
    ns = namespace()
    assert analyze("print(cart.total)", ns).uses == {"cart"}
    assert analyze("df.loc[0, 'a'] = 1", ns).defines == {"df"}
    assert analyze("df.columns = ['x']", ns).defines == {"df"}
    assert analyze("cfg.a.b = 2", ns).defines == {"cfg.a.b"}


def test_pandas_accessors() -> None:
    pd = pytest.importorskip("pandas")
    ns = {"df": pd.DataFrame({"a": [1], "b": [2]})}
    assert analyze("print(df.shape)", ns).uses == {"df"}
    assert analyze("df.loc[0, 'a'] = 5", ns).defines == {"df"}
    assert analyze("df['c'] = df['a']", ns).defines == {"df['c']"}
    assert analyze("print(df['b'].sum())", ns).uses == {"df['b']"}


def _fake_numpy() -> types.ModuleType:
    numpy = types.ModuleType("numpy")
    numpy.random = types.ModuleType("numpy.random")  # type: ignore[attr-defined]
    return numpy


def test_module_functions_are_read_by_their_path() -> None:
    found = analyze("y = np.sin(x)", {"np": _fake_numpy()})
    assert found.uses == {"np.sin", "x"}
    assert found.defines == {"y"}


@pytest.mark.parametrize(
    ("code", "module"),
    [
        ("np.random.seed(0)", "np.random"),
        ("v = np.random.rand(2)", "np.random"),
        ("random.seed(1)", "random"),
        ("k = random.randint(0, 9)", "random"),
        ("np.set_printoptions(precision=2)", "np"),
    ],
)
def test_module_state_changes_define_the_module(code: str, module: str) -> None:
    ns = {"np": _fake_numpy(), "random": types.ModuleType("random")}
    found = analyze(code, ns)
    assert module in found.defines
    assert module in found.uses


def test_calls_on_a_class_follow_its_summary() -> None:
    assert "U" in analyze("U.make()", {"U": Defaults}).calls


# -- functions as values --------------------------------------------------------------


def _notebook_functions() -> dict[str, object]:
    ns: dict[str, object] = {"__name__": "__main__"}
    exec("def scale(v):\n    return v * factor\nop = scale\nsteps = [scale]", ns)  # noqa: S102
    ns["helper"] = __import__("functools").partial(ns["scale"], 2)
    return ns


@pytest.mark.parametrize(
    ("code", "called"),
    [
        ("df2 = df.apply(scale)", {"scale", "op"}),
        ("out = list(map(op, xs))", {"scale", "op"}),
        ("op(3)", {"scale", "op"}),
        ("helper()", {"scale", "op"}),
        ("print([s(1) for s in steps])", {"scale", "op"}),
        ("steps[0](1)", {"scale", "op"}),
        ("alias = op", set()),
        ("pair = [scale, 1]", set()),
    ],
)
def test_functions_reached_as_values(code: str, called: set[str]) -> None:
    found = analyze(code, _notebook_functions())
    assert found.calls & {"scale", "op"} == called


def test_class_summary_calls_its_notebook_bases() -> None:
    assert analyze("class C(Base, mixins.M):\n    pass").functions["C"].calls == {"Base"}


# -- state shared through modules ------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "uses"),
    [
        ("import os\nprint(os.environ['MODE'])", {"os.environ['MODE']"}),
        ("from os import environ\nprint(environ['MODE'])", {"environ['MODE']"}),
        ("import os\nv = os.getenv('MODE')", {"os.environ"}),
        ("import math\nprint(math.pi)", set()),
        ("import os\nprint(os.path.join('a', 'b'))", set()),
    ],
)
def test_module_state_read_right_after_its_import(code: str, uses: set[str]) -> None:
    assert analyze(code).uses == uses


def test_env_magic_sets_and_reads_the_environment() -> None:
    setting = analyze("get_ipython().run_line_magic('env', 'STAGE=dev')")
    assert setting.defines == {"os.environ"}
    reading = analyze("get_ipython().run_line_magic('env', 'STAGE')")
    assert reading.uses == {"os.environ"} and reading.defines == set()


def test_lazily_loaded_submodules_are_modules() -> None:
    numpy = pytest.importorskip("numpy")
    found = analyze("import numpy as np\nx = np.random.rand(2)")
    assert "np.random" in found.defines and "np.random" in found.uses
    assert analyze("np.linalg.norm(a)", {"np": numpy}).uses == {"np.linalg.norm", "a"}


def test_class_attribute_read_through_an_instance_uses_the_class_path() -> None:
    ns = namespace()
    assert analyze("print(inst.rate)", ns).uses == {"inst.rate", "Defaults.rate"}
    inst = ns["inst"]
    assert isinstance(inst, Defaults)
    inst.rate = 0.5  # set on the instance: no longer the class's
    assert analyze("print(inst.rate)", ns).uses == {"inst.rate"}


def test_decorated_definitions_call_their_decorators() -> None:
    found = analyze("@deco\ndef f():\n    pass\n@times(2)\n@functools.cache\ndef g():\n    pass")
    assert found.functions["f"].calls == {"deco"}
    assert found.functions["g"].calls == {"times"}


class Hostile(dict):  # type: ignore[type-arg]
    """Overrides everything analysis could be tempted to call."""

    def __getattribute__(self, name: str) -> Any:
        raise RuntimeError("no peeking")

    def items(self) -> Any:
        raise RuntimeError("no peeking")

    def __len__(self) -> int:
        raise RuntimeError("no peeking")


def test_user_objects_are_never_called() -> None:
    ns: dict[str, object] = {"h": Hostile(a=[1]), "alias": None}
    ns["alias"] = dict.__getitem__(ns["h"], "a")  # type: ignore[call-overload]
    found = analyze("h['a'].append(2)\nprint(h.x, h['a'])\nf(h)", ns)
    assert "alias" in found.defines
    assert "h['a']" in found.uses
