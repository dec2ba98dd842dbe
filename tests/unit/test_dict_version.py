"""Dict modification stamps, and the agent's reuse of a snapshot while its
namespace is untouched between runs."""

from __future__ import annotations

import sys
from collections.abc import Callable
from types import MappingProxyType
from typing import Any

import pytest

import kernel_agent.runtime.agent as agent_module
from kernel_agent.core.identities import Snapshot
from kernel_agent.runtime.agent import Agent
from kernel_agent.runtime.dict_version import USABLE, version_of

STAMPED = sys.implementation.name == "cpython" and sys.version_info < (3, 14)


def _store_global(namespace: dict[str, Any]) -> None:
    exec("def f():\n    global g\n    g = 1\nf()", namespace)


CHANGES: dict[str, Callable[[dict[str, Any]], object]] = {
    "insert": lambda ns: ns.__setitem__("new", 1),
    "replace": lambda ns: ns.__setitem__("a", object()),
    "delete": lambda ns: ns.__delitem__("a"),
    "pop": lambda ns: ns.pop("a"),
    "update": lambda ns: ns.update(b=object()),
    "setdefault": lambda ns: ns.setdefault("new", 1),
    "clear": lambda ns: ns.clear(),
    "assignment in exec": lambda ns: exec("a = 2", ns),
    "global statement": _store_global,
}


def test_the_stamp_is_read_wherever_cpython_keeps_one() -> None:
    assert USABLE is STAMPED
    if not STAMPED:
        pytest.skip("no dict stamps on this interpreter: the agent always snapshots")


@pytest.mark.parametrize("change", list(CHANGES))
def test_every_change_moves_the_stamp(change: str) -> None:
    if not STAMPED:
        pytest.skip("no dict stamps on this interpreter")
    namespace: dict[str, Any] = {"a": object(), "b": 2}
    before = version_of(namespace)
    assert version_of(namespace) == before, "reading twice without a change"
    CHANGES[change](namespace)
    assert version_of(namespace) != before


def test_reads_and_other_dicts_leave_the_stamp_alone() -> None:
    if not STAMPED:
        pytest.skip("no dict stamps on this interpreter")
    namespace: dict[str, Any] = {"a": [1]}
    other: dict[str, Any] = {}
    before = version_of(namespace)
    namespace["a"].append(2)  # the object changes, not the dict
    other["a"] = namespace.get("a")
    exec("x = a[0]", other, {"a": namespace["a"]})
    assert version_of(namespace) == before


def test_mappings_that_are_not_dicts_have_no_stamp() -> None:
    assert version_of(MappingProxyType({"a": 1})) is None
    assert version_of([("a", 1)]) is None


def count_snapshots(monkeypatch: pytest.MonkeyPatch) -> list[Snapshot]:
    taken: list[Snapshot] = []
    real = agent_module.snapshot

    def counting(namespace: Any) -> Snapshot:
        taken.append(real(namespace))
        return taken[-1]

    monkeypatch.setattr(agent_module, "snapshot", counting)
    return taken


def test_a_run_after_an_untouched_pause_reuses_the_last_snapshot(
    agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    taken = count_snapshots(monkeypatch)
    agent.shell.run_cell("x = 1", cell_id="a")
    agent.shell.run_cell("y = x", cell_id="b")
    assert len(taken) == (3 if STAMPED else 4), "before a, after a, (before b,) after b"
    assert agent.graph.records["b"].defines == frozenset({"y"})


def test_a_rebind_between_runs_is_not_put_on_the_next_run(
    agent: Agent, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A widget callback or a thread may rebind a global between two runs: the
    next run's snapshot before must see it, or the run would claim it."""
    taken = count_snapshots(monkeypatch)
    agent.shell.run_cell("x = 1", cell_id="a")
    agent.shell.user_ns["y"] = 2  # no run of a cell did this
    agent.shell.user_ns["x"] = 3
    agent.shell.run_cell("z = 3", cell_id="b")
    assert len(taken) == 4
    assert agent.graph.records["b"].defines == frozenset({"z"})
