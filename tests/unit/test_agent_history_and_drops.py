"""What the agent records for a run beyond its code: IPython's output history,
the run before, and the globals an edited cell no longer makes (issue 20)."""

from __future__ import annotations

from kernel_agent.runtime.agent import Agent


def run(agent: Agent, code: str, cell_id: str) -> None:
    assert agent.shell.run_cell(code, store_history=True, cell_id=cell_id).success
    agent._settle()


def test_a_result_writes_the_output_history_a_later_cell_reads(agent: Agent) -> None:
    run(agent, "40 + 2", "c0")
    run(agent, "y = _ + 1", "c1")
    count = agent.graph.records["c0"].execution_count
    assert {"_", f"_{count}", f"Out[{count}]"} <= agent.graph.records["c0"].binds
    assert "_" in agent.graph.records["c1"].uses


def test_a_second_run_knows_the_first(agent: Agent) -> None:
    run(agent, "L = [1]", "c0")
    run(agent, "L.append(2)", "c1")
    first = agent.graph.records["c1"].ts
    run(agent, "L.append(2)", "c1")
    assert agent.graph.records["c1"].prev_ts == first
    assert agent.graph.records["c1"].defines == {"L[2]"}, "the slot after the last"


def test_an_edited_star_import_leaves_no_shadow_of_a_builtin(agent: Agent) -> None:
    run(agent, "from numpy import *", "c6")
    assert agent.shell.user_ns["sum"] is not sum
    run(agent, "from numpy import pi", "c6")
    assert "sum" not in agent.shell.user_ns, "restart-and-run-all has the builtin sum"
    assert "pi" in agent.shell.user_ns


def test_an_ordinary_edit_deletes_nothing(agent: Agent) -> None:
    run(agent, "x = 1\ny = 2", "a")
    run(agent, "x = 1", "a")
    assert agent.shell.user_ns["y"] == 2
