"""Analyses the agent keeps for re-runs must be redone when what they rested on moved.

Each test runs a cell, changes the namespace the way a user would, runs the
same source again and checks the run's record against a fresh analysis.
"""

from __future__ import annotations

from kernel_agent.agent import Agent


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


def test_a_new_notebook_function_under_an_old_name_is_followed(agent: Agent) -> None:
    run(agent, "a = b = 2\ndef helper(v):\n    return v * a", "defs")
    run(agent, "def apply(fn):\n    return fn(1)", "apply")
    assert "a" in run(agent, "z = apply(helper)", "call")
    run(agent, "def helper(v):\n    return v * b", "defs")
    uses = run(agent, "z = apply(helper)", "call")
    assert "b" in uses and "a" not in uses
