"""Analyses the agent keeps for re-runs must be redone when what they rested on moved.

Each test runs a cell, changes the namespace the way a user would, runs the
same source again and checks the run's record against a fresh analysis.
"""

from __future__ import annotations

import random

import pytest

from kernel_agent.core.analysis import CellAnalysis, analyze
from kernel_agent.core.identities import changed_between, snapshot
from kernel_agent.core.namespace import function_globals
from kernel_agent.runtime.agent import Agent
from kernel_agent.runtime.known_analyses import FunctionGlobals, KnownAnalyses


def run(agent: Agent, code: str, cell_id: str) -> frozenset[str]:
    """Run a cell; the globals its record says it read."""
    assert agent.shell.run_cell(code, cell_id=cell_id).success
    return agent.graph.records[cell_id].uses


def test_a_name_bound_to_another_function_is_followed(agent: Agent) -> None:
    run(agent, "def square(v):\n    return v * a\ndef cube(v):\n    return v * b", "defs")
    run(agent, "a = b = 2\nop = square", "setup")
    assert "a" in run(agent, "y = op(3)", "call")
    assert "a" in run(agent, "y = op(3)", "call")  # kept: nothing moved
    run(agent, "op = cube", "switch")
    uses = run(agent, "y = op(3)", "call")
    assert "b" in uses and "a" not in uses


def test_a_builtin_the_user_shadows_becomes_a_use(agent: Agent) -> None:
    assert "len" not in run(agent, "t = len([1])", "call")
    run(agent, "bonus = 1\ndef len(v):\n    return bonus", "shadow")
    assert {"len", "bonus"} <= run(agent, "t = len([1])", "call")


def test_functions_inside_a_container_are_read_every_time(agent: Agent) -> None:
    run(agent, "def square(v):\n    return v * a\ndef cube(v):\n    return v * b", "defs")
    run(agent, "a = b = 2\nsteps = [square]", "setup")
    assert "b" not in run(agent, "r = [s(1) for s in steps]", "call")
    run(agent, "steps.append(cube)", "grow")  # a mutation: no global rebound
    assert "b" in run(agent, "r = [s(1) for s in steps]", "call")


def test_an_empty_list_of_functions_is_read_every_time(agent: Agent) -> None:
    """An empty list gains items without a rebind, like a full one."""
    run(agent, "a = 2\ndef square(v):\n    return v * a\nsteps = []", "setup")
    assert "a" not in run(agent, "r = [s(1) for s in steps]", "call")
    assert "a" not in run(agent, "r = [s(1) for s in steps]", "call")
    run(agent, "steps.append(square)", "grow")
    assert "a" in run(agent, "r = [s(1) for s in steps]", "call")


def test_a_new_notebook_function_under_an_old_name_is_followed(agent: Agent) -> None:
    run(agent, "a = b = 2\ndef helper(v):\n    return v * a", "defs")
    run(agent, "def apply(fn):\n    return fn(1)", "apply")
    assert "a" in run(agent, "z = apply(helper)", "call")
    run(agent, "def helper(v):\n    return v * b", "defs")
    uses = run(agent, "z = apply(helper)", "call")
    assert "b" in uses and "a" not in uses


def test_a_method_call_follows_the_class_its_receiver_has_now(agent: Agent) -> None:
    run(agent, "class A:\n    def go(self):\n        return a\n", "a")
    run(agent, "class B:\n    def go(self):\n        return b\n", "b")
    run(agent, "a = b = 1\nobj = A()", "make")
    assert "a" in run(agent, "r = obj.go()", "call")
    run(agent, "obj = B()", "make")
    uses = run(agent, "r = obj.go()", "call")
    assert "b" in uses and "a" not in uses


def test_a_call_follows_a_function_its_callee_calls_redefined(agent: Agent) -> None:
    run(agent, "a = b = 1\ndef inner():\n    return a\ndef outer():\n    return inner()", "defs")
    assert "a" in run(agent, "y = outer()", "call")
    assert "a" in run(agent, "y = outer()", "call")
    run(agent, "def inner():\n    return b", "redefine")
    uses = run(agent, "y = outer()", "call")
    assert "b" in uses and "a" not in uses


def test_a_method_call_follows_its_class_redefined(agent: Agent) -> None:
    """The receiver stays bound; only the notebook's class summary changed."""
    run(agent, "class A:\n    def go(self):\n        return a\n", "a")
    run(agent, "a = b = 1\nobj = A()", "make")
    assert "a" in run(agent, "r = obj.go()", "call")
    assert "a" in run(agent, "r = obj.go()", "call")
    run(agent, "class A:\n    def go(self):\n        return b\n", "a")
    uses = run(agent, "r = obj.go()", "call")
    assert "b" in uses and "a" not in uses


def test_function_globals_kept_from_snapshots_match_a_full_scan() -> None:
    """Random binds, rebinds and deletions: the kept answer's version moves
    exactly when the scan's answer changes."""
    rng = random.Random(7)
    values = [lambda: 1, lambda: 2, 3, "s", None, print]
    namespace: dict[str, object] = {}
    kept = FunctionGlobals()
    previous = seen = None
    for step in range(400):
        name = rng.choice(["f", "g", "h", "x", "_i", f"_i{step}"])
        if rng.random() < 0.2:
            namespace.pop(name, None)
        else:
            namespace[name] = rng.choice(values)
        now = snapshot(namespace)
        if step % 2 and seen is not None:  # the caller knows what changed
            version = kept.version_at(namespace, now, (seen, changed_between(seen, now)))
        else:
            version = kept.version_at(namespace, now)
        seen = now
        answer = function_globals(namespace)
        assert kept.functions == answer, step
        if previous is not None:
            assert (version != previous[0]) == (answer != previous[1]), step
        previous = (version, answer)


def _kept_and_fresh(known: KnownAnalyses, code: str, namespace: dict[str, object]) -> CellAnalysis:
    """The kept answer for ``code``, checked against a fresh walk of it."""
    kept = known.analysis(code, namespace)
    fresh = analyze(code, namespace)
    assert (kept.method_receivers, kept.maybe_mutated) == (
        fresh.method_receivers,
        fresh.maybe_mutated,
    )
    return kept


def test_a_frame_whose_column_now_holds_objects_is_watched_again() -> None:
    """Dtypes change in place (no global rebound): the kept answer reads them again."""
    pd = pytest.importorskip("pandas")
    namespace: dict[str, object] = {"df": pd.DataFrame({"k": [1.0, 2.0]})}
    known, code = KnownAnalyses(), "y = df.describe()"
    first = _kept_and_fresh(known, code, namespace)
    assert "df" not in first.method_receivers
    assert known.analysis(code, namespace) is first  # nothing moved: kept
    frame = namespace["df"]
    frame["k"] = [[1], [2]]  # type: ignore[index]  # an object column: copies share the lists
    assert namespace["df"] is frame
    assert "df" in _kept_and_fresh(known, code, namespace).method_receivers


def test_a_list_of_callbacks_that_gains_a_notebook_function_is_watched_again() -> None:
    """``df.agg(fns)``: the list is read item by item; appending to it rebinds nothing
    (the answer is not kept today, which this checks from the outside)."""
    np = pytest.importorskip("numpy")
    pd = pytest.importorskip("pandas")

    def scale(value: object) -> object:
        return value

    scale.__module__ = "__main__"  # as if defined in the notebook
    fns: list[object] = [np.sqrt]
    namespace: dict[str, object] = {"df": pd.DataFrame({"k": [1.0]}), "fns": fns}
    known, code = KnownAnalyses(), "y = df.agg(fns)"
    first = _kept_and_fresh(known, code, namespace)
    assert "df" not in first.method_receivers | first.maybe_mutated
    fns.append(scale)
    again = _kept_and_fresh(known, code, namespace)
    assert "df" in again.method_receivers | again.maybe_mutated


def test_a_column_read_through_an_attribute_turned_computed_is_cut_again() -> None:
    """``cfg.df["k"]``: the path is cut where an attribute stops being plain."""
    pd = pytest.importorskip("pandas")

    class Config:
        pass

    cfg = Config()
    cfg.df = pd.DataFrame({"k": [1.0]})  # type: ignore[attr-defined]
    namespace: dict[str, object] = {"cfg": cfg}
    known, code = KnownAnalyses(), 'y = cfg.df["k"].mean()'
    first = known.analysis(code, namespace)
    assert known.analysis(code, namespace) is first
    del cfg.df  # type: ignore[attr-defined]
    Config.df = property(lambda self: pd.DataFrame({"k": [2.0]}))  # type: ignore[attr-defined]
    again = known.analysis(code, namespace)
    assert again.uses == analyze(code, namespace).uses != first.uses
