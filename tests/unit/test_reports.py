"""Agent reports in reply metadata: what the agent adds unasked, and how the
server's replica notices a report it never saw."""

from __future__ import annotations

from typing import Any

from kernel_agent.core.protocol import REPORT_METADATA_KEY
from kernel_agent.runtime.agent import Agent
from server_ext.state import KernelState


def reply_report(agent: Agent, parent: dict[str, Any]) -> dict[str, Any] | None:
    metadata: dict[str, Any] = {}
    agent.add_reply_metadata(parent, metadata)
    return metadata.get(REPORT_METADATA_KEY)


def cell_ids(report: dict[str, Any] | None) -> list[str]:
    assert report is not None
    return sorted(cell["id"] for cell in report["cells"])


def test_each_reply_brings_the_records_since_the_previous_reply(agent: Agent) -> None:
    agent.shell.run_cell("x = 1", cell_id="a")
    first = reply_report(agent, {"content": {"silent": False}})
    agent.shell.run_cell("y = x", cell_id="b")
    second = reply_report(agent, {"content": {"silent": False}})

    assert cell_ids(first) == ["a"] and first is not None and first["since"] == 0
    assert cell_ids(second) == ["b"] and second is not None and second["since"] == 1


def test_silent_requests_get_no_report_unless_they_ask(agent: Agent) -> None:
    agent.shell.run_cell("x = 1", cell_id="a")
    assert reply_report(agent, {"content": {"silent": True}}) is None
    asked = reply_report(
        agent, {"content": {"silent": True}, "metadata": {REPORT_METADATA_KEY: {"since": 0}}}
    )
    assert cell_ids(asked) == ["a"]


def report(since: int, clock: int, cells: list[str], instance: str = "k1") -> dict[str, Any]:
    records = [
        {"id": cell, "ts": since + i + 1, "code": "", "uses": [], "defines": []}
        for i, cell in enumerate(cells)
    ]
    return {"instance": instance, "since": since, "clock": clock, "cells": records}


def test_the_replica_notices_a_report_it_never_saw() -> None:
    state = KernelState("k")
    assert state.apply_report(report(0, 1, ["a"]))
    assert not state.apply_report(report(2, 3, ["c"])), "the record of clock 2 is missing"
    assert state.clock == 1, "a refresh must start where the replica is complete"
    assert state.apply_report(report(1, 3, ["b", "c"])), "a refresh from our clock fills it"
    assert sorted(state.graph.records) == ["a", "b", "c"]


def test_a_new_agent_instance_starts_the_replica_over() -> None:
    state = KernelState("k")
    state.apply_report(report(0, 5, ["a"]))
    assert state.apply_report(report(0, 1, ["z"], instance="k2"))
    assert sorted(state.graph.records) == ["z"]


def test_a_report_holds_every_current_record_newer_than_its_since(agent: Agent) -> None:
    """Whatever ``since`` the server asks from (the agent answers recent ones from
    a journal it trims), the answer is the current records newer than it."""
    for n in range(120):
        agent.shell.run_cell(f"v{n % 7} = {n}", cell_id=f"c{n % 7}")
    agent._forget_deleted(["c3"])
    for since in range(agent.clock + 1):
        expected = {(r.cell_id, r.ts) for r in agent.graph.records.values() if r.ts > since}
        got = {(c["id"], c["ts"]) for c in agent.report_payload(since)["cells"]}
        assert got == expected, since


def test_the_cells_a_request_says_were_deleted_leave_the_graph(agent: Agent) -> None:
    """JupyterLab lists the cells deleted since its last request in the metadata
    of the next one (IPython hands it to the hooks as ``cell_meta``)."""
    agent.shell.run_cell("x = 1", cell_id="a")
    agent.shell.run_cell("y = 2", cell_id="b")
    reply_report(agent, {"content": {"silent": False}})
    agent.shell.run_cell("z = 3", cell_id="c", cell_meta={"cellId": "c", "deletedCells": ["a"]})
    sent = reply_report(agent, {"content": {"silent": False}})
    assert sent is not None and sent["deleted"] == ["a"]
    assert sorted(agent.graph.records) == ["b", "c"]
