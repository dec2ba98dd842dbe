"""``%%memoize``'s pure parts: content digests, options, cache keys, the two-tier store."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import types
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from IPython.core.error import UsageError

from kernel_agent.core.analysis import FunctionSummary, analyze
from kernel_agent.features.memo_store import Entry, MemoCache, path_for
from kernel_agent.features.memoize import (
    QUIET,
    VERBOSE,
    Options,
    body_effects,
    cache_key,
    default_directory,
    input_digests,
    parse_options,
)
from kernel_agent.runtime.content_hash import Undigestible, digest

REPO = Path(__file__).resolve().parents[2]


def notebook_function(source: str, name: str, namespace: dict[str, Any] | None = None) -> Any:
    """A function defined as a notebook cell defines it (module ``__main__``)."""
    scope: dict[str, Any] = {"__name__": "__main__", **(namespace or {})}
    exec(compile(source, "<cell>", "exec"), scope)
    return scope[name]


# -- digests -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (1, 1.0),
        (1, True),
        ("1", 1),
        ([1, 2], (1, 2)),
        ([1, 2], [2, 1]),
        ({"a": 1}, {"a": 2}),
        (np.arange(3), np.arange(3).astype("int32")),
        (np.arange(6).reshape(2, 3), np.arange(6).reshape(3, 2)),
        (np.array([1.0, 2.0]), np.array([1.0, 2.5])),
        (pd.DataFrame({"a": [1, 2]}), pd.DataFrame({"b": [1, 2]})),
        (pd.DataFrame({"a": ["x", "y"]}), pd.DataFrame({"a": ["x", "z"]})),
        (pd.Series([1, 2], index=[0, 1]), pd.Series([1, 2], index=[1, 0])),
    ],
)
def test_different_content_gives_different_digests(a: Any, b: Any) -> None:
    assert digest(a) != digest(b)


@pytest.mark.parametrize(
    "make",
    [
        lambda: [1, "two", 3.0, None, (4, b"5")],
        lambda: {"k": {1, 2, 3}, "nested": [{"deep": frozenset({"a", "b"})}]},
        lambda: np.linspace(0, 1, 50),
        lambda: np.array([{"a": 1}, [2]], dtype=object),
        lambda: pd.DataFrame({"a": [1, 2], "b": ["x", "y"]}),
        lambda: pd.DataFrame({"lists": [[1], [2]]}),  # unhashable cells: through pickle
        lambda: types.SimpleNamespace(lr=0.1, layers=[3, 4]),
    ],
)
def test_equal_content_gives_equal_digests(make: Any) -> None:
    assert digest(make()) == digest(make())


def test_functions_are_digested_by_code_not_identity() -> None:
    f1 = notebook_function("def f(x):\n    return x * 2", "f")
    f2 = notebook_function("\n\n# moved down\ndef f(x):\n    return x * 2", "f")
    f3 = notebook_function("def f(x):\n    return x * 3", "f")
    assert digest(f1) == digest(f2), "line numbers and comments do not matter"
    assert digest(f1) != digest(f3)


def test_closures_and_defaults_are_part_of_a_function() -> None:
    make = (
        "def outer(k):\n    def inner(x, scale=2):\n        return x * k * scale\n    return inner"
    )
    outer = notebook_function(make, "outer")
    assert digest(outer(1)) == digest(outer(1))
    assert digest(outer(1)) != digest(outer(2))


def test_notebook_classes_by_body_library_classes_by_name() -> None:
    a = notebook_function("class C:\n    def m(self):\n        return 1", "C")
    b = notebook_function("class C:\n    def m(self):\n        return 2", "C")
    assert digest(a) != digest(b)
    assert digest(pd.DataFrame) == digest(pd.DataFrame)
    assert digest(np) == digest(np)


def test_cycles_are_digested() -> None:
    loop: list[Any] = [1]
    loop.append(loop)
    assert digest(loop) == digest(loop)


def test_unreadable_values_raise() -> None:
    with pytest.raises(Undigestible):
        digest(i for i in range(3))


def test_digests_are_stable_across_processes() -> None:
    """A new kernel (another hash seed) must compute the same keys: the disk cache depends on it."""
    script = (
        "import json, numpy as np, pandas as pd\n"
        "from kernel_agent.runtime.content_hash import digest\n"
        "scope = {'__name__': '__main__'}\n"
        'exec(\'def f(x):\\n    return {x, "a", "b"}\', scope)\n'
        "values = [{'a', 'b', 'c'}, {'k': 'v'}, np.arange(4), pd.DataFrame({'s': ['x']}), "
        "scope['f']]\n"
        "print(json.dumps([digest(v) for v in values]))\n"
    )
    results = []
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": str(REPO)}
        out = subprocess.run(
            [sys.executable, "-c", script], env=env, capture_output=True, text=True, check=True
        )
        results.append(json.loads(out.stdout))
    assert results[0] == results[1]


# -- options and keys ------------------------------------------------------------


def test_options() -> None:
    env = {"CASCADE_MEMOIZE_DIR": "/env/dir"}
    assert parse_options("", env) == Options("default", "/env/dir")
    assert parse_options("--quiet", env).level == QUIET
    assert parse_options("-v --dir '/a b'", env) == Options(VERBOSE, "/a b")
    assert parse_options("--dir=/x", env).directory == "/x"
    with pytest.raises(UsageError, match="unexpected '--loud'"):
        parse_options("--loud", env)


def test_default_directory() -> None:
    assert default_directory({"CASCADE_MEMOIZE_DIR": "/m"}) == "/m"
    assert default_directory({"XDG_CACHE_HOME": "/c"}) == "/c/jupyter-cascade/memoize"
    home = os.path.expanduser("~")
    assert default_directory({}) == f"{home}/.cache/jupyter-cascade/memoize"


def test_effects_include_what_called_functions_read_and_write() -> None:
    body = analyze("total = f(a) + len(items)\nmodel.fit(X)\nlocal = 1\nlocal + total", {})
    summaries = {
        "f": FunctionSummary(uses={"k", "cfg.lr"}, calls={"g"}),
        "g": FunctionSummary(uses={"h"}, defines={"counter"}),
    }
    effects = body_effects(body, summaries, {})
    assert effects.inputs == {"f", "a", "items", "k", "cfg", "h", "model", "X"}
    assert effects.maybe_changed == {"model", "X", "a"}
    assert effects.defines == {"total", "local", "counter"}


def test_cache_key_follows_body_and_input_content() -> None:
    names = frozenset({"a", "b"})
    namespace = {"a": [1, 2], "b": np.arange(3)}
    key = cache_key("x = a", input_digests(names, namespace))
    same = {"a": [1, 2], "b": np.arange(3)}
    assert key == cache_key("x = a", input_digests(names, same))
    assert key != cache_key("x = a ", input_digests(names, namespace))
    changed = {"a": [1, 3], "b": np.arange(3)}
    assert key != cache_key("x = a", input_digests(names, changed))
    absent = input_digests(names | {"c"}, namespace)
    assert absent["c"] == "<absent>" and key != cache_key("x = a", absent)
    with pytest.raises(Undigestible, match="^g: "):
        input_digests(frozenset({"g"}), {"g": (i for i in range(0))})


# -- the store -------------------------------------------------------------------


def entry(**values: Any) -> Entry:
    return Entry(values=values, has_result=True, result=42, outputs=[("stdout", "hi\n")])


def test_memory_hit_returns_the_same_objects(tmp_path: Path) -> None:
    cache = MemoCache()
    stored = entry(squares=[0, 1, 4])
    assert cache.put("k", stored, str(tmp_path)) is None
    hit = cache.get("k", str(tmp_path))
    assert hit is stored


def test_a_mutated_memory_entry_falls_back_to_disk(tmp_path: Path) -> None:
    cache = MemoCache()
    squares = [0, 1, 4]
    cache.put("k", entry(squares=squares), str(tmp_path))
    squares.append(9)  # a later cell mutated what a hit restored
    hit = cache.get("k", str(tmp_path))
    assert hit is not None and hit.values["squares"] == [0, 1, 4]
    assert cache.get("k", None) is hit, "the disk copy is remembered in memory"


def test_disk_entries_survive_a_new_cache(tmp_path: Path) -> None:
    MemoCache().put("k", entry(frame=pd.DataFrame({"a": [1]}), mod=json), str(tmp_path))
    loaded = MemoCache().get("k", str(tmp_path))
    assert loaded is not None
    assert loaded.values["frame"].equals(pd.DataFrame({"a": [1]}))
    assert loaded.values["mod"] is json, "modules are stored by name and imported again"
    assert (loaded.has_result, loaded.result, loaded.outputs) == (True, 42, [("stdout", "hi\n")])


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ((i for i in range(0)), "gen: TypeError"),
        (notebook_function("def f():\n    pass", "f"), "f: PicklingError: f is a function defined"),
        (notebook_function("class C:\n    pass", "C"), "C: a class defined in the notebook"),
    ],
)
def test_values_that_do_not_pickle_faithfully_stay_in_memory(
    tmp_path: Path, value: Any, reason: str
) -> None:
    name = reason.split(":")[0]
    cache = MemoCache()
    note = cache.put("k", entry(**{name: value}), str(tmp_path))
    assert (
        note is not None and note.startswith("memoize: cached in memory only (") and reason in note
    )
    assert not os.path.exists(path_for(str(tmp_path), "k"))
    hit = cache.get("k", str(tmp_path))
    assert hit is not None and hit.values[name] is value


def test_damaged_or_foreign_files_are_misses(tmp_path: Path) -> None:
    Path(path_for(str(tmp_path), "bad")).write_bytes(b"not a pickle")
    assert MemoCache().get("bad", str(tmp_path)) is None
    assert MemoCache().get("absent", str(tmp_path)) is None


def test_memory_tier_is_bounded() -> None:
    cache = MemoCache(capacity=2)
    for key in "abc":
        cache.put(key, entry(v=key), None)
    assert cache.get("a", None) is None
    assert cache.get("c", None) is not None
