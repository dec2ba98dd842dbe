"""Plays a scenario through the real server exactly as JupyterLab would, and judges it.

The notebook is written through the contents API with fixed cell ids; a
session starts the stock ``python3`` kernel; a websocket client speaking the
v1 protocol sends execute requests carrying ``metadata.cellId``. An edit is a
browser save (contents PUT of the whole notebook) followed by a run of the
edited cell. What the cascade ran is read from iopub (every ``execute_input``
that is not the user's own request), matched to cells through the execution
counts the graph endpoint reports. Meanwhile the oracle runs the final sources
in a fresh kernel on another thread.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

from integration.browser import V1, BrowserClient, CascadeApi, Execution

from .oracle import Shown, restart_and_run_all
from .server import ScenarioServer
from .table import Scenario

DEADLINE = 60.0
#: seconds a new kernel gets to answer its first kernel_info before the session
#: starts another kernel, once (see :meth:`Session.open`)
KERNEL_START = 30.0


@dataclass
class Outcome:
    """What happened in one scenario's session, next to what had to happen."""

    scenario: Scenario
    reran: set[int]
    shown: dict[int, Shown]
    oracle: list[Shown]
    #: cascaded executions that matched no cell (each counts as an extra run)
    unmatched: list[str] = field(default_factory=list)
    seconds: float = 0.0
    #: the session could not be played to the end (timeout, server error)
    crashed: str | None = None

    @property
    def misses(self) -> set[int]:
        return set(self.scenario.reruns) - self.reran

    @property
    def extras(self) -> set[int]:
        return self.reran - set(self.scenario.reruns)

    def output_problems(self) -> list[str]:
        """Cells whose shown output differs from the oracle or the expected stdout."""
        problems = []
        for index, shown in sorted(self.shown.items()):
            if index in self.scenario.oracle_skip:
                continue
            want = self.oracle[index]
            if _steady(shown) != _steady(want):
                problems.append(f"cell {index}: session shows {shown}, restart-and-run-all {want}")
        for index, text in self.scenario.stdout.items():
            got = self.shown.get(index, Shown()).stdout
            if got != text:
                problems.append(f"cell {index}: stdout {got!r}, expected {text!r}")
        return problems

    def defects(self) -> list[str]:
        """What fails the scenario: a broken session, a recall miss, a wrong output."""
        found = [f"the session broke off: {self.crashed}"] if self.crashed else []
        if self.misses:
            found.append(f"cells that had to re-run and did not: {sorted(self.misses)}")
        return found + self.output_problems()

    def failures(self) -> list[str]:
        """Defects plus extra runs (which only lower precision)."""
        found = self.defects()
        if self.extras or self.unmatched:
            found.append(f"cells re-run needlessly: {sorted(self.extras)} {self.unmatched}")
        return found


#: Lines %time and %timeit print, which differ from run to run.
_TIMING = re.compile(r"^(CPU times:|Wall time:|.* per loop \(mean ).*\n?", re.MULTILINE)


def _steady(shown: Shown) -> tuple[str, list[str], str | None]:
    return _TIMING.sub("", shown.stdout), shown.results, shown.error


def slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def notebook_json(sources: list[str]) -> dict[str, Any]:
    cells = [
        {
            "cell_type": "code",
            "id": f"c{i}",
            "source": source,
            "metadata": {},
            "outputs": [],
            "execution_count": None,
        }
        for i, source in enumerate(sources)
    ]
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return {
        "cells": cells,
        "metadata": {"kernelspec": kernelspec, "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


class Session:
    """One notebook, its kernel session and a browser-like websocket client."""

    def __init__(self, server: ScenarioServer, scenario: Scenario) -> None:
        self.server = server
        self.scenario = scenario
        self.folder = slug(scenario.name)
        self.path = f"{self.folder}/notebook.ipynb"
        self.sources = list(scenario.cells)
        self.ids = [f"c{i}" for i in range(len(self.sources))]
        self.api = CascadeApi(server.fetch)
        self.shown: dict[int, Shown] = {}
        self.client: BrowserClient | None = None
        self.session_id: str | None = None
        self.kernel_id: str | None = None
        self.counts: dict[str, int | None] = {}
        #: what the session was doing, for the report of a session that broke off
        self.doing = "opening the notebook"

    async def _put(self, path: str, model: dict[str, Any]) -> None:
        await self.server.fetch("api", "contents", path, method="PUT", body=json.dumps(model))

    async def open(self) -> None:
        """Save the notebook and start its kernel session, as a browser opening it.

        A kernel that never answers its first kernel_info (seen once in CI:
        jupyter_server nudged it for a minute, before any cell ran) is replaced
        by a second one, and the retry is printed. Any other failure, or a
        second silent kernel, breaks the session off.
        """
        await self._put(self.folder, {"type": "directory"})
        await self.save()
        try:
            await self._start_kernel()
        except TimeoutError:
            silent = self.kernel_id
            print(f"{self.path}: kernel {silent} did not answer in {KERNEL_START} s; retrying")
            await self.close()
            await self._start_kernel()

    async def _start_kernel(self) -> None:
        body = {"path": self.path, "type": "notebook", "kernel": {"name": "python3"}}
        response = await self.server.fetch("api", "sessions", method="POST", body=json.dumps(body))
        session = json.loads(response.body)
        self.session_id = session["id"]
        self.kernel_id = session["kernel"]["id"]
        self.client = await asyncio.wait_for(
            BrowserClient.connect(self.server.ws_fetch, self.kernel_id, "v1"), KERNEL_START
        )

    async def save(self) -> None:
        """A browser save: the whole notebook, with the sources the user sees."""
        model = {"type": "notebook", "format": "json", "content": notebook_json(self.sources)}
        await self._put(self.path, model)

    async def close(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.session_id is not None:
            await self.server.fetch("api", "sessions", self.session_id, method="DELETE")
        self.client, self.session_id = None, None

    async def step(self, index: int, source: str | None = None) -> tuple[set[int], list[str]]:
        """Run a cell (after an edit, when ``source`` is given); returns what the cascade ran."""
        client = self.client
        assert client is not None
        if source is not None:
            self.sources[index] = source
            await self.save()
        mark = len(client.messages)
        msg = client.execute_message(self.sources[index], self.ids[index])
        client.send(msg)
        self.doing = f"waiting for the reply to a run of cell {index} ({msg['header']['msg_id']})"
        await client.finish(msg["header"]["msg_id"])
        self.doing = f"waiting for the cascade after cell {index} to settle"
        graph = await self._settled()
        self.doing = f"waiting for iopub to show the cascade after cell {index}"
        runs = await self._cascaded_runs(mark, graph)
        by_count = {c["execution_count"]: c["index"] for c in graph["cells"]}
        by_code: dict[str, list[int]] = {}
        for i, text in enumerate(self.sources):
            by_code.setdefault(text, []).append(i)
        reran: set[int] = set()
        unmatched: list[str] = []
        for run in runs:
            mine = run.msg_id == msg["header"]["msg_id"]
            cell = index if mine else by_count.get(run.execution_count)
            if cell is None and len(by_code.get(run.code, [])) == 1:
                cell = by_code[run.code][0]
            if cell is None:
                unmatched.append(run.code)
                continue
            self.shown[cell] = Shown(run.stdout, list(run.results), run.error)
            if not mine:
                reran.add(cell)
        return reran, unmatched

    async def _settled(self) -> dict[str, Any]:
        """The graph once no cascade is queued or running.

        Polled with a growing interval: each poll makes the server read the
        notebook, and most cascades end within a few hundred milliseconds.
        """
        deadline = time.monotonic() + DEADLINE
        pause = 0.02
        while True:
            graph = await self.api.graph(self.path)
            if not graph["busy"]:
                return graph
            if time.monotonic() > deadline:
                raise TimeoutError(f"the cascade on {self.path} was still busy after {DEADLINE}s")
            await asyncio.sleep(pause)
            pause = min(pause * 1.5, 0.25)

    async def _cascaded_runs(self, mark: int, graph: dict[str, Any]) -> list[Execution]:
        """Executions since ``mark``, once iopub has delivered the runs the graph counts.

        A count iopub never shows (an agent record out of step with the kernel)
        is given up on after 15 s of quiet; the scenario then fails on its checks.
        """
        client = self.client
        assert client is not None
        counts = {c["id"]: c["execution_count"] for c in graph["cells"]}
        wanted = {n for cell, n in counts.items() if n is not None and self.counts.get(cell) != n}
        self.counts = counts
        deadline = time.monotonic() + DEADLINE
        patience = time.monotonic() + 15.0
        while True:
            runs = client.executions(mark)
            missing = wanted - {run.execution_count for run in runs}
            idle = self._all_idle(mark, runs)
            if idle and (not missing or time.monotonic() > patience):
                return runs
            if time.monotonic() > deadline:
                raise TimeoutError(f"iopub never finished the runs {sorted(missing)}")
            wait = max(min(deadline, patience if idle else deadline) - time.monotonic(), 0.05)
            with contextlib.suppress(TimeoutError):
                await _news(client, wait)

    def _all_idle(self, mark: int, runs: Iterable[Execution]) -> bool:
        client = self.client
        assert client is not None
        idle = {
            m["parent_header"].get("msg_id")
            for m in client.messages[mark:]
            if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle"
        }
        return all(run.msg_id in idle for run in runs)


async def _news(client: BrowserClient, timeout: float) -> None:
    """Until a message arrives that was not there when called."""
    known = len(client.messages)
    await client.wait_for(lambda _: len(client.messages) > known, timeout=timeout)


async def play(session: Session) -> tuple[set[int], list[str], dict]:
    """Run the scenario's session; returns the last step's cascade and what cells show."""
    scenario = session.scenario
    await session.open()
    try:
        if scenario.run_all:
            for index in range(len(session.sources)):
                await session.step(index)
        reran: set[int] = set()
        unmatched: list[str] = []
        for step in scenario.steps:
            if step.execute:
                reran, unmatched = await session.step(step.cell, step.source)
            else:
                session.sources[step.cell] = str(step.source)
                await session.save()
        return reran, unmatched, session.shown
    finally:
        await session.close()


class Runner:
    """Plays scenarios on one server, a few at a time, each with its own notebook and kernel.

    An asyncio loop on a background thread plays them; the oracle of each runs
    on a worker thread alongside its session. Results are handed out in the
    order asked for, so a caller can :meth:`prefetch` a whole table and then
    :meth:`run` its scenarios one by one.
    """

    def __init__(self, server: ScenarioServer, concurrency: int = 3) -> None:
        self.server = server
        self.pool = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="oracle")
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._slots = asyncio.run_coroutine_threadsafe(_semaphore(concurrency), self.loop).result()
        self._plays: dict[str, Future[Outcome]] = {}
        #: every outcome handed out so far, in order
        self.outcomes: list[Outcome] = []

    def prefetch(self, scenarios: Iterable[Scenario]) -> None:
        """Queue scenarios to be played in the background (no state is shared)."""
        for scenario in scenarios:
            if scenario.name not in self._plays:
                self._plays[scenario.name] = asyncio.run_coroutine_threadsafe(
                    self._play(scenario), self.loop
                )

    async def _play(self, scenario: Scenario) -> Outcome:
        async with self._slots:
            started = time.monotonic()
            oracle = self.loop.run_in_executor(
                self.pool, restart_and_run_all, scenario.final_sources(), self.server.env
            )
            crashed = None
            session = Session(self.server, scenario)
            try:
                reran, unmatched, shown = await play(session)
            except Exception as error:  # report it with the others, keep playing the table
                reran, unmatched, shown = set(), [], {}
                crashed = f"{type(error).__name__}: {error} while {session.doing}\n" + (
                    self.server.log_about(session.kernel_id, session.path)
                )
            outcome = Outcome(scenario, reran, shown, await oracle, unmatched)
            outcome.seconds = time.monotonic() - started
            outcome.crashed = crashed
            return outcome

    def run(self, scenario: Scenario, timeout: float = 240) -> Outcome:
        self.prefetch([scenario])
        outcome = self._plays.pop(scenario.name).result(timeout=timeout)
        self.outcomes.append(outcome)
        return outcome

    def close(self) -> None:
        for future in self._plays.values():
            future.cancel()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=30)
        self.pool.shutdown(wait=True, cancel_futures=True)


async def _semaphore(value: int) -> asyncio.Semaphore:
    return asyncio.Semaphore(value)  # created on the loop that will use it


def measures(outcomes: list[Outcome]) -> tuple[float, float, int, int, int]:
    """(recall, precision, needed, ran, hits) over every outcome's last step.

    Recall: cells that had to re-run and did, over cells that had to. Precision:
    the same hits over every cell the cascade ran (unmatched runs included).
    """
    needed = sum(len(o.scenario.reruns) for o in outcomes)
    ran = sum(len(o.reran) + len(o.unmatched) for o in outcomes)
    hits = sum(len(o.reran & o.scenario.reruns) for o in outcomes)
    return (hits / needed if needed else 1.0, hits / ran if ran else 1.0, needed, ran, hits)


__all__ = ["V1", "Outcome", "Runner", "measures", "play"]
