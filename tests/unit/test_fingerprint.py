"""Fingerprints change on in-place mutation and stay equal otherwise, within bounds."""

from __future__ import annotations

import array
import math
from collections import OrderedDict, deque
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest

from kernel_agent.runtime.fingerprint import fingerprint


@dataclass
class Mutation:
    make: Callable[[], Any]
    mutate: Callable[[Any], Any]


class Plain:
    def __init__(self) -> None:
        self.x = 1
        self.items = [1, 2]


class Slotted:
    __slots__ = ("a", "b")

    def __init__(self) -> None:
        self.a = 1
        self.b = [1]


def _setitem(key: Any, value: Any) -> Callable[[Any], None]:
    return lambda obj: obj.__setitem__(key, value)


MUTATIONS = {
    "list append": Mutation(lambda: [1, 2], lambda o: o.append(3)),
    "list element": Mutation(lambda: [1, 2], _setitem(0, 5)),
    "int hash collision -1/-2": Mutation(lambda: [-1], _setitem(0, -2)),
    "int to float": Mutation(lambda: [1], _setitem(0, 1.0)),
    "int to bool": Mutation(lambda: [1], _setitem(0, True)),
    "big int": Mutation(lambda: [10**400], _setitem(0, 10**400 + 1)),
    "string element": Mutation(lambda: ["a" * 100], _setitem(0, "a" * 99 + "b")),
    "nested list": Mutation(lambda: [[1], [2]], lambda o: o[1].append(3)),
    "dict update": Mutation(lambda: {"a": 1}, lambda o: o.update(b=2)),
    "dict value": Mutation(lambda: {"a": 1}, _setitem("a", 2)),
    "dict nested value": Mutation(lambda: {"a": [1]}, lambda o: o["a"].append(2)),
    "ordered dict order": Mutation(lambda: OrderedDict(a=1, b=2), lambda o: o.move_to_end("a")),
    "set add": Mutation(lambda: {1, 2}, lambda o: o.add(3)),
    "set swap": Mutation(lambda: {1, 2}, lambda o: (o.discard(1), o.add(3))),
    "deque": Mutation(lambda: deque([1]), lambda o: o.appendleft(0)),
    "bytearray": Mutation(lambda: bytearray(b"abc"), _setitem(0, 120)),
    "array.array": Mutation(lambda: array.array("d", [1.0, 2.0]), _setitem(1, 3.0)),
    "attribute": Mutation(Plain, lambda o: setattr(o, "x", 2)),
    "new attribute": Mutation(Plain, lambda o: setattr(o, "y", 0)),
    "attribute container": Mutation(Plain, lambda o: o.items.append(3)),
    "namespace": Mutation(lambda: SimpleNamespace(lr=0.1), lambda o: setattr(o, "lr", 0.2)),
    "slots": Mutation(Slotted, lambda o: o.b.append(2)),
    "long list tail": Mutation(lambda: list(range(100_000)), lambda o: o.append(0)),
    "long list last element": Mutation(lambda: list(range(100_000)), _setitem(-1, -1)),
    "self reference": Mutation(lambda: _cyclic(), lambda o: o.append(1)),
}


def _cyclic() -> list[Any]:
    cycle: list[Any] = [0]
    cycle.append(cycle)
    return cycle


@pytest.mark.parametrize("case", MUTATIONS.values(), ids=MUTATIONS.keys())
def test_mutation_changes_fingerprint(case: Mutation) -> None:
    obj = case.make()
    before = fingerprint(obj)
    assert fingerprint(obj) == before, "unchanged object must keep its fingerprint"
    case.mutate(obj)
    assert fingerprint(obj) != before


@pytest.mark.parametrize(
    "obj",
    [
        None,
        0,
        float("nan"),
        "text",
        b"bytes",
        (1, "a", None),
        [float("nan"), {"k": {1, 2}}],
        frozenset({1, 2}),
        Plain(),
        Slotted(),
        math,
        len,
        Plain,
        iter([1, 2]),
        range(10),
    ],
    ids=repr,
)
def test_unchanged_objects_compare_equal(obj: object) -> None:
    assert fingerprint(obj) == fingerprint(obj)
    hash(fingerprint(obj))


def test_identity_is_part_of_the_fingerprint() -> None:
    assert fingerprint([1, 2]) != fingerprint([1, 2])  # two lists, same content
    shared = [1, 2]
    assert fingerprint(shared)[0] == id(shared)  # type: ignore[index]


def test_type_is_part_of_the_fingerprint() -> None:
    class Before:
        pass

    class After:
        pass

    obj = Before()
    before = fingerprint(obj)
    obj.__class__ = After  # type: ignore[assignment]
    assert fingerprint(obj) != before


class Hostile(dict):  # type: ignore[type-arg]
    """A container that refuses to be measured."""

    def __len__(self) -> int:
        raise RuntimeError("len")


class Lazy:
    """An object whose attribute lookups would compute something expensive."""

    def __init__(self) -> None:
        self.data = [1]

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"fingerprint looked up {name!r} on the instance")


class RaisingHash:
    __slots__ = ()

    def __hash__(self) -> int:
        raise RuntimeError("hash")


def test_unreadable_object_means_changed() -> None:
    obj = [Hostile()]
    assert fingerprint(obj) != fingerprint(obj)


def test_instance_getattr_is_never_triggered() -> None:
    obj = Lazy()
    before = fingerprint(obj)
    assert fingerprint(obj) == before
    obj.data.append(2)
    assert fingerprint(obj) != before


def test_raising_hash_is_tolerated() -> None:
    obj = RaisingHash()
    assert fingerprint(obj) == fingerprint(obj)


def test_deep_nesting_is_cut_at_depth_three() -> None:
    deep: list[Any] = [[[[[1]]]]]
    before = fingerprint(deep)
    deep[0][0][0][0][0] = 2  # below the cut: unseen, by design
    assert fingerprint(deep) == before
    deep[0][0][0].append(0)  # depth 3 is still visited
    assert fingerprint(deep) != before


def test_budget_bounds_the_work() -> None:
    """Past the budget, elements are cut: a change there goes unseen (timing: bench/)."""
    huge = [list(range(100)) for _ in range(10_000)]
    before = fingerprint(huge)
    assert fingerprint(huge) == before
    huge[1][50] = -1  # inside a sampled row, beyond the budget of elements visited
    assert fingerprint(huge) == before
    huge.append([])
    assert fingerprint(huge) != before


def test_small_budget_still_sees_length() -> None:
    values = list(range(1000))
    before = fingerprint(values, budget=10)
    assert fingerprint(values, budget=10) == before
    values.append(1)
    assert fingerprint(values, budget=10) != before


# -- numpy and pandas, when installed ------------------------------------------------------


def test_numpy_arrays() -> None:
    np = pytest.importorskip("numpy")
    small = np.zeros(10)
    before = fingerprint(small)
    assert fingerprint(small) == before
    small[3] = 1.0
    assert fingerprint(small) != before

    view = np.zeros((4, 4))[:, 1]  # strided: hashed from a copy
    before = fingerprint(view)
    assert fingerprint(view) == before
    view[2] = 5
    assert fingerprint(view) != before


def test_numpy_large_array_uses_sample_and_sum() -> None:
    np = pytest.importorskip("numpy")
    big = np.zeros(2_000_000)  # 16 MB: above the exact-hash bound
    before = fingerprint(big)
    assert fingerprint(big) == before
    big[1_234_567] = 1.0  # probably not sampled, but the sum moves
    assert fingerprint(big) != before
    big.resize(2_000_001, refcheck=False)
    assert fingerprint(big) != before


def test_numpy_object_array_walks_elements() -> None:
    np = pytest.importorskip("numpy")
    cells = np.empty(2, dtype=object)
    cells[0], cells[1] = [1], [2]
    before = fingerprint(cells)
    cells[0].append(3)
    assert fingerprint(cells) != before


def test_numpy_inside_a_container() -> None:
    np = pytest.importorskip("numpy")
    state = {"weights": np.ones(3)}
    before = fingerprint(state)
    state["weights"] *= 2
    assert fingerprint(state) != before


PANDAS_MUTATIONS = {
    "inplace drop": lambda df: df.drop(columns=["a"], inplace=True),
    "new column": lambda df: df.__setitem__("c", 1),
    "value": lambda df: df.iloc.__setitem__((0, 0), 9),
    "string value": lambda df: df.iloc.__setitem__((1, 2), "zz"),
    "rename index": lambda df: setattr(df, "index", ["x", "y"]),
    "rename columns": lambda df: setattr(df, "columns", ["p", "q", "r"]),
    "dtype": lambda df: df.__setitem__("a", df["a"].astype(float)),
}


@pytest.mark.parametrize("mutate", PANDAS_MUTATIONS.values(), ids=PANDAS_MUTATIONS.keys())
@pytest.mark.filterwarnings("ignore")
def test_pandas_dataframe(mutate: Callable[[Any], Any]) -> None:
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame({"a": [1, 2], "b": [3.0, 4.0], "s": ["u", "v"]})
    before = fingerprint(df)
    assert fingerprint(df) == before
    mutate(df)
    assert fingerprint(df) != before


def test_pandas_series_index_and_unhashable_cells() -> None:
    pd = pytest.importorskip("pandas")
    series = pd.Series([1.0, 2.0])
    before = fingerprint(series)
    series[0] = 5.0
    assert fingerprint(series) != before

    index = pd.Index(["a", "b"])
    assert fingerprint(index) == fingerprint(index)

    lists = pd.DataFrame({"a": [[1], [2]]})  # hash_pandas_object refuses lists
    before = fingerprint(lists)
    assert fingerprint(lists) == before
    lists.iloc[0, 0] = [7]
    assert fingerprint(lists) != before


def test_pandas_large_frame_is_bounded() -> None:
    pd = pytest.importorskip("pandas")
    np = pytest.importorskip("numpy")
    frame = pd.DataFrame({"n": np.arange(2_000_000), "s": ["x"] * 2_000_000})
    before = fingerprint(frame)
    assert fingerprint(frame) == before
    frame.iloc[1_000_000, 0] = -1  # numeric column: the whole-column sums see it
    assert fingerprint(frame) != before


# -- one changed element of a large buffer is always seen ---------------------------------

EIGHT_MB = 1_000_000  # float64 elements

ARRAY_MUTATIONS: dict[str, Callable[[Any, Any], Any]] = {
    "add one": lambda np, a: a.__setitem__(123456, a[123456] + 1),
    "next float": lambda np, a: a.__setitem__(654321, np.nextafter(a[654321], np.inf)),
    "sign": lambda np, a: a.__setitem__(999_999, -a[999_999]),
    "first": lambda np, a: a.__setitem__(0, 0.5),
    "swap neighbours": lambda np, a: a.__setitem__([500_000, 500_001], a[[500_001, 500_000]]),
    "swap a row apart": lambda np, a: a.__setitem__([10, 10 + 1024], a[[10 + 1024, 10]]),
    "sort": lambda np, a: a.sort(),
    "reverse": lambda np, a: a.__setitem__(slice(None), a[::-1].copy()),
}


@pytest.mark.parametrize("mutate", ARRAY_MUTATIONS.values(), ids=ARRAY_MUTATIONS.keys())
def test_large_array_single_change(mutate: Callable[[Any, Any], Any]) -> None:
    np = pytest.importorskip("numpy")
    arr = np.random.default_rng(0).random(EIGHT_MB)  # 8 MB
    before = fingerprint(arr)
    assert fingerprint(arr) == before
    mutate(np, arr)
    assert fingerprint(arr) != before


@pytest.mark.parametrize(
    "make",
    [
        lambda n: n.arange(8_000_001, dtype=n.int8) % 7,  # odd length: a tail of bytes
        lambda n: n.zeros((2000, 1000))[:, ::2],  # strided: checked from a copy
        lambda n: n.zeros(600_000, dtype=n.complex128),  # 16-byte elements
        lambda n: n.zeros(40_000),  # 320 KB, just above the CRC bound
        lambda n: n.zeros(1000),  # small: CRC-32
    ],
    ids=["int8 odd length", "strided view", "complex", "just above crc", "small"],
)
def test_arrays_of_every_layout_see_one_element(make: Callable[[Any], Any]) -> None:
    numpy = pytest.importorskip("numpy")
    arr = make(numpy)
    before = fingerprint(arr)
    assert fingerprint(arr) == before
    flat = arr.reshape(-1) if arr.flags.c_contiguous else arr
    index = (flat.shape[0] * 2) // 3
    if flat.ndim == 1:
        flat[index] += 1
    else:
        flat[index, 3] += 1
    assert fingerprint(arr) != before


def test_large_frame_single_change() -> None:
    pd = pytest.importorskip("pandas")
    numpy = pytest.importorskip("numpy")
    rng = numpy.random.default_rng(0)
    frame = pd.DataFrame({"k": rng.integers(0, 1000, EIGHT_MB), "v": rng.random(EIGHT_MB)})
    before = fingerprint(frame)
    assert fingerprint(frame) == before
    frame.iloc[123456, 1] += 1
    assert fingerprint(frame) != before
    after_v = fingerprint(frame)
    frame.iloc[654321, 0] += 1
    assert fingerprint(frame) != after_v
    series = frame["v"].copy()
    before = fingerprint(series)
    series.iloc[123456] += 1e-9
    assert fingerprint(series) != before
