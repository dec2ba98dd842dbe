"""Replies whose agent report follows on iopub: whichever of the two is read
first, the reply is finished once, with its report; without one when it is
overdue or the kernel went away."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from server_ext import due_reports
from server_ext.codec import CarriedReport
from server_ext.due_reports import DueReports

PAYLOAD = {"version": 4, "cells": [{"id": "a"}]}


def finished_log() -> tuple[list[tuple[str, str, Any]], DueReports]:
    finished: list[tuple[str, str, Any]] = []

    def finish(msg_id: str, status: str, report: CarriedReport | None) -> None:
        finished.append((msg_id, status, report.metadata if report is not None else None))

    return finished, DueReports(finish)


def test_a_reply_read_first_is_finished_when_its_report_comes() -> None:
    async def scenario() -> list[tuple[str, str, Any]]:
        finished, due = finished_log()
        assert due.wait_for("m1", "ok") is None
        assert due and finished == []
        due.arrived("m2", PAYLOAD, awaited=False)  # another request's: not ours
        assert finished == []
        due.arrived("m1", PAYLOAD, awaited=True)
        assert not due
        await asyncio.wait_for(due.all_in(), 1)
        return finished

    assert asyncio.run(scenario()) == [("m1", "ok", PAYLOAD)]


def test_a_report_read_first_waits_for_its_reply() -> None:
    async def scenario() -> tuple[CarriedReport | None, CarriedReport | None]:
        finished, due = finished_log()
        due.arrived("m1", PAYLOAD, awaited=True)
        due.arrived("m2", PAYLOAD, awaited=False)
        assert finished == [] and not due
        return due.wait_for("m1", "ok"), due.came_first("m2")

    first, untracked = asyncio.run(scenario())
    assert first is not None and first.metadata == PAYLOAD
    assert untracked is None, "a report for a request we do not track is not kept"


def test_an_overdue_report_finishes_the_reply_without_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(due_reports, "REPORT_WAIT", 0.01)

    async def scenario() -> list[tuple[str, str, Any]]:
        finished, due = finished_log()
        due.wait_for("m1", "error")
        await asyncio.wait_for(due.all_in(), 2)
        due.arrived("m1", PAYLOAD, awaited=False)  # too late: already finished
        return finished

    assert asyncio.run(scenario()) == [("m1", "error", None)]


def test_a_restart_drops_what_was_due_and_wakes_the_waiters() -> None:
    async def scenario() -> list[tuple[str, str, Any]]:
        finished, due = finished_log()
        due.wait_for("m1", "ok")
        waiter = asyncio.ensure_future(due.all_in())
        await asyncio.sleep(0)
        assert not waiter.done()
        due.clear()
        await asyncio.wait_for(waiter, 1)
        due.arrived("m1", PAYLOAD, awaited=False)
        return finished

    assert asyncio.run(scenario()) == []
