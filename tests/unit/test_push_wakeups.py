"""When the push endpoint looks again (server_ext.events): at once when the kernel's
state says it moved, and a cascade's progress at most every BUSY_TICK."""

from __future__ import annotations

import asyncio
from typing import Any

from server_ext import events
from server_ext.events import NotebookFeed
from server_ext.state import BrowserRequest, KernelState


def _report(clock: int) -> dict[str, Any]:
    return {"instance": "a", "since": 0, "clock": clock, "cells": [], "deleted": []}


def test_a_report_and_the_end_of_an_after_run_pass_wake_the_watchers() -> None:
    state, woken = KernelState("k"), asyncio.Event()
    state.watchers.add(woken)
    state.apply_report(_report(1))
    assert woken.is_set()
    woken.clear()
    state.pending_cascades += 1
    assert woken.is_set() and state.busy
    woken.clear()
    state.pending_cascades -= 1
    assert woken.is_set() and not state.busy
    woken.clear()
    state.end_cascade()
    assert woken.is_set()


def test_a_cascades_progress_is_held_but_not_its_start_or_end() -> None:
    async def scenario() -> None:
        feed, state = NotebookFeed(None, "nb.ipynb"), KernelState("k")  # type: ignore[arg-type]
        state.inflight["m"] = BrowserRequest("c1", "x = 1")
        assert not feed._held(state)  # the start of work goes at once
        assert feed._changed(("v", 1), "busy 1", busy=True) == "busy 1"
        assert feed._held(state)  # more progress waits ...
        while feed._held(state):  # ... until BUSY_TICK after the last message
            await feed.wait()
        assert asyncio.get_running_loop().time() >= feed._sent_at + events.BUSY_TICK
        assert feed._changed(("v", 2), "busy 2", busy=True) == "busy 2"
        assert feed._held(state)
        state.inflight.clear()
        assert not feed._held(state)  # the end of the work goes at once

    asyncio.run(scenario())


def test_a_feed_wakes_when_its_kernels_state_moves() -> None:
    async def scenario() -> None:
        feed, state = NotebookFeed(None, "nb.ipynb"), KernelState("k")  # type: ignore[arg-type]
        feed._watch(state)
        loop = asyncio.get_running_loop()
        loop.call_soon(state.apply_report, _report(2))
        started = loop.time()
        await feed.wait()
        assert loop.time() - started < events.TICK / 2
        feed.close()
        assert not state.watchers

    asyncio.run(scenario())
