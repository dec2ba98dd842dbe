"""What the namespace before a run tells analysis: computed attributes, aliases, module state."""

from __future__ import annotations

import random
import types
from typing import Any

import pytest

from kernel_agent.core.analysis import analyze
from kernel_agent.core.identities import user_names
from kernel_agent.core.namespace import (
    _MISSING,
    ALIAS_SCAN,
    Aliases,
    _members,
    _mutable,
    refine,
    resolve,
    split,
)


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
    # an append fills the slot after the last (issue 20: readers of b[0] keep their value)
    assert analyze("b.append(3)", namespace()).defines == {"b[2]", "a[2]"}


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
    ns["alias"] = dict.__getitem__(ns["h"], "a")  # type: ignore[call-overload, index]
    found = analyze("h['a'].append(2)\nprint(h.x, h['a'])\nf(h)", ns)
    assert "alias[1]" in found.defines  # the append's slot, through the alias
    assert "h['a']" in found.uses


class _Everything:
    def __contains__(self, _: object) -> bool:
        return True


def every_alias(namespace: dict[str, Any], path: str) -> set[str]:
    """The aliases by brute force: every global and member path spelled, then looked up."""
    index: dict[int, list[str]] = {}
    for name in user_names(namespace):
        value = namespace[name]
        if not _mutable(value):
            continue
        index.setdefault(id(value), []).append(name)
        for spelled, item in _members(name, value, _Everything()):  # type: ignore[arg-type]
            if _mutable(item):
                index.setdefault(id(item), []).append(spelled)
    parts, found = split(path), set()
    for end in range(1, len(parts) + 1):
        value = resolve(parts[:end], namespace)
        if value is _MISSING:
            break
        own, rest = "".join(parts[:end]), "".join(parts[end:])
        found |= {other + rest for other in index.get(id(value), []) if other != own}
    return found


class Plain:
    pass


def random_namespace(rng: random.Random) -> dict[str, Any]:
    pool: list[Any] = [[1], {"k": [2]}, Plain(), 3, "s", (4, [5])]
    namespace: dict[str, Any] = {}
    for i in range(rng.randint(1, 12)):
        kind = rng.choice(["list", "dict", "object", "shared", "int", "big"])
        if kind == "list":
            value: Any = [rng.choice(pool) for _ in range(rng.randint(0, 4))]
        elif kind == "dict":
            value = {rng.choice(["a", "b", 1, True]): rng.choice(pool) for _ in range(3)}
        elif kind == "object":
            value = Plain()
            for attr in rng.sample(["x", "y", "z"], 2):
                setattr(value, attr, rng.choice(pool))
        elif kind == "big":
            value = [rng.choice(pool) for _ in range(ALIAS_SCAN + 1)]
        elif kind == "int":
            value = i
        else:
            value = rng.choice(pool)
        namespace[f"g{i}"] = value
        pool.append(value)
    return namespace


def random_path(rng: random.Random, namespace: dict[str, Any]) -> str:
    path, value = rng.choice(list(namespace)), None
    for _ in range(rng.randint(0, 2)):
        value = resolve(split(path), namespace)
        if isinstance(value, dict) and value:
            path += f"[{rng.choice(list(value))!r}]"
        elif isinstance(value, list) and value:
            path += f"[{rng.randrange(len(value))}]"
        elif isinstance(value, Plain) and vars(value):
            path += f".{rng.choice(list(vars(value)))}"
    return path


@pytest.mark.parametrize("seed", range(300))
def test_aliases_are_those_a_walk_spelling_every_path_finds(seed: int) -> None:
    """One :class:`Aliases` answers several paths in turn (it keeps what it
    searched): each answer must be what spelling every path would find."""
    rng = random.Random(seed)
    namespace = random_namespace(rng)
    aliases = Aliases(namespace)
    for _ in range(4):
        path = random_path(rng, namespace)
        assert aliases.of(path) == every_alias(namespace, path), path
