"""Plays a real notebook through the real server as JupyterLab would, and judges it.

For each notebook of the corpus:

- *stock*: its code cells run twice, each time in a fresh stock kernel (the
  scenarios' oracle, restart-and-run-all), and a third time when the two
  differ. Cells whose outputs differ between the runs are *volatile* (random
  numbers, timings, ids) and not compared.
- *run-all*: the notebook is saved under a fresh path, a session starts its
  kernel, and every code cell's execute_request goes out at once, in order,
  with ``metadata.cellId``, as Lab's "Run All" does. Once every reply came and
  the server settled, no execution may be the server's own and every cell must
  show the stock output.
- *one-by-one*: the same on another fresh path and kernel, each request sent
  after the previous reply (Shift+Enter top to bottom).
- *edit*: in the one-by-one session, the edit of ``edits.json`` is saved (a
  contents PUT, as a browser save) and the edited cell run. After the cascade,
  every cell must show what restart-and-run-all of the edited notebook shows.

An output is the cell's stdout, its execute_result ``text/plain`` and the
name of its error; ``0x...`` addresses and ``%time``/``%timeit`` lines are
masked.
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
from pathlib import Path
from typing import Any

import nbformat
from integration.browser import BrowserClient, CascadeApi, Execution
from scenarios.oracle import Shown, restart_and_run_all
from scenarios.server import ScenarioServer

HERE = Path(__file__).resolve().parent
NOTEBOOKS = HERE / "notebooks"
EDITS = HERE / "edits.json"

#: seconds for every reply of a phase, and again for the server to settle
DEADLINE = 120.0
KERNEL_START = 60.0

_ADDRESS = re.compile(r"0x[0-9a-fA-F]{6,}")
_TIMING = re.compile(r"^(CPU times:|Wall time:|.* per loop \(mean ).*\n?", re.MULTILINE)

View = tuple[str, tuple[str, ...], str | None]


def view(shown: Shown | None) -> View:
    """What is compared of a cell's output (addresses and timings masked)."""
    if shown is None:
        return ("", (), None)
    stdout = _ADDRESS.sub("0x…", _TIMING.sub("", shown.stdout))
    return (stdout, tuple(_ADDRESS.sub("0x…", r) for r in shown.results), shown.error)


def short(text: str, limit: int = 160) -> str:
    text = text if len(text) <= limit else text[: limit - 1] + "…"
    return repr(text)


def describe(shown: Shown | None) -> str:
    if shown is None:
        return "nothing"
    stdout, results, error = view(shown)
    parts = []
    if stdout:
        parts.append(f"stdout {short(stdout)}")
    if results:
        parts.append(f"result {short(' | '.join(results))}")
    if error:
        parts.append(f"error {error}")
    return ", ".join(parts) or "no output"


@dataclass(frozen=True)
class Edit:
    cell: int  # index among the notebook's code cells
    old: str
    new: str


@dataclass
class Case:
    """One notebook of the corpus."""

    key: str  # "<source>/<name>.ipynb" under notebooks/
    notebook: Any
    edit: Edit | None

    @property
    def code_cells(self) -> list[Any]:
        return [c for c in self.notebook.cells if c.cell_type == "code"]

    @property
    def sources(self) -> list[str]:
        return [c.source for c in self.code_cells]

    @property
    def ids(self) -> list[str]:
        return [c.id for c in self.code_cells]

    def edited_sources(self) -> list[str]:
        sources = self.sources
        if self.edit is not None:
            sources[self.edit.cell] = edited(sources[self.edit.cell], self.edit)
        return sources

    def model(self, sources: list[str]) -> dict[str, Any]:
        """The notebook as a browser saves it, with ``sources`` in its code cells."""
        nb = json.loads(nbformat.writes(self.notebook))
        code = iter(sources)
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                cell["source"] = next(code)
        return nb


def edited(source: str, edit: Edit) -> str:
    if source.count(edit.old) != 1:
        raise ValueError(f"edit {edit} does not match exactly once in {source!r}")
    return source.replace(edit.old, edit.new)


def load_cases() -> list[Case]:
    edits = json.loads(EDITS.read_text())
    cases = []
    for path in sorted(NOTEBOOKS.glob("*/*.ipynb")):
        key = path.relative_to(NOTEBOOKS).as_posix()
        spec = edits.get(key)
        edit = Edit(spec["cell"], spec["old"], spec["new"]) if spec else None
        cases.append(Case(key, nbformat.read(path, as_version=4), edit))
    return cases


@dataclass
class Phase:
    """What the server showed in one phase, and what it ran by itself."""

    name: str
    shown: dict[int, Shown] = field(default_factory=dict)
    #: code-cell indexes of the server's own executions, in order
    cascaded: list[int] = field(default_factory=list)
    #: cascaded executions that matched no cell (their code)
    unmatched: list[str] = field(default_factory=list)
    #: oddities seen while matching runs to cells
    notes: list[str] = field(default_factory=list)
    #: replies to our requests that were not "ok": cell -> status
    replies: dict[int, str] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass
class Outcome:
    case: Case
    stock: list[Shown]
    #: further stock runs of the notebook, for its volatile cells
    stock_more: list[list[Shown]]
    oracle_edited: list[Shown] | None
    oracle_edited_more: list[list[Shown]]
    phases: list[Phase]
    crashed: str | None = None
    seconds: float = 0.0

    @property
    def volatile(self) -> set[int]:
        """Cells whose outputs differ between two stock runs of the notebook."""
        return _volatile(self.stock, self.stock_more)

    @property
    def volatile_edited(self) -> set[int]:
        """The same for the edited notebook (an edit may seed a random generator)."""
        if self.oracle_edited is None:
            return set()
        return _volatile(self.oracle_edited, self.oracle_edited_more)

    def phase(self, name: str) -> Phase | None:
        return next((p for p in self.phases if p.name == name), None)

    def mismatches(self, phase: Phase, reference: list[Shown]) -> list[int]:
        """Non-volatile cells whose shown output differs from ``reference``."""
        volatile = self.volatile_edited if phase.name == "edit" else self.volatile
        return [
            i
            for i in range(len(reference))
            if i not in volatile and view(phase.shown.get(i)) != view(reference[i])
        ]

    def changed_by_edit(self) -> set[int]:
        """Cells whose restart-and-run-all output the edit changes (non-volatile)."""
        if self.oracle_edited is None:
            return set()
        return {
            i
            for i, (a, b) in enumerate(zip(self.stock, self.oracle_edited, strict=True))
            if i not in self.volatile | self.volatile_edited and view(a) != view(b)
        }

    def edit_counts(self) -> tuple[int, int, int, int]:
        """(re-runs, cells whose output the edit changes, misses, re-runs with unchanged output).

        The edited cell itself, run by the user, counts as neither.
        """
        edit = self.phase("edit")
        if edit is None or self.oracle_edited is None or self.case.edit is None:
            return (0, 0, 0, 0)
        reran = set(edit.cascaded)
        changed = self.changed_by_edit() - {self.case.edit.cell}
        misses = len(self.mismatches(edit, self.oracle_edited))
        extras = len(
            {i for i in reran if i not in self.volatile | self.volatile_edited}
            - changed
            - {self.case.edit.cell}
        )
        return (len(edit.cascaded) + len(edit.unmatched), len(changed), misses, extras)

    def problems(self) -> list[str]:
        """Everything that fails the notebook, with what was shown and what had to be."""
        found = [f"the session broke off: {self.crashed}"] if self.crashed else []
        sources = self.case.edited_sources()
        for phase in self.phases:
            edit = phase.name == "edit"
            reference = self.oracle_edited if edit else self.stock
            if reference is None:
                continue
            code = sources if edit else self.case.sources
            if not edit and (phase.cascaded or phase.unmatched):
                found.append(
                    f"[{phase.name}] the server ran cells by itself: {phase.cascaded}"
                    + (f" and unmatched code {[short(c, 60) for c in phase.unmatched]}")
                    * bool(phase.unmatched)
                )
            for i, status in sorted(phase.replies.items()):
                found.append(f"[{phase.name}] cell {i}: execute_reply status {status!r}")
            for i in self.mismatches(phase, reference):
                stock = "restart-and-run-all" if edit else "stock"
                ran = " (server re-ran it)" if i in phase.cascaded else ""
                found.append(
                    f"[{phase.name}] cell {i} {short(code[i], 100)}: {stock} shows "
                    f"{describe(reference[i])}; the server shows {describe(phase.shown.get(i))}"
                    f"{ran}"
                )
            if edit and self.mismatches(phase, reference):
                found.append(
                    f"[edit] cells the server re-ran after the edit of cell "
                    f"{self.case.edit.cell if self.case.edit else '?'}: {phase.cascaded}; "
                    f"cells whose restart-and-run-all output changed: "
                    f"{sorted(self.changed_by_edit())}"
                )
        return found

    def edit_details(self) -> str | None:
        """The edit's re-runs next to the cells whose output it changed, for the summary."""
        edit = self.phase("edit")
        if edit is None or self.case.edit is None:
            return None
        volatile = self.volatile | self.volatile_edited
        changed = sorted(self.changed_by_edit() - {self.case.edit.cell})
        unchanged = sorted(set(edit.cascaded) - set(changed) - volatile - {self.case.edit.cell})
        missed = self.mismatches(edit, self.oracle_edited or [])
        return (
            f"{self.case.key}: edit of cell {self.case.edit.cell}; re-ran {edit.cascaded}"
            f"{' + unmatched ' + str(len(edit.unmatched)) if edit.unmatched else ''}; "
            f"output changed {changed}; re-ran with unchanged output {unchanged}; missed {missed}"
            + "".join(f"; note: {n}" for p in self.phases for n in p.notes)
        )

    def row(self) -> list[str]:
        run_all = self.phase("run-all")
        steps = self.phase("one-by-one")
        reruns, changed, misses, extras = self.edit_counts()
        mism = sum(len(self.mismatches(p, self.stock)) for p in (run_all, steps) if p is not None)
        return [
            self.case.key,
            str(len(self.stock)),
            str(len(self.volatile)),
            str(len(run_all.cascaded) + len(run_all.unmatched)) if run_all else "-",
            str(len(steps.cascaded) + len(steps.unmatched)) if steps else "-",
            str(mism),
            f"{reruns}/{changed}",
            str(misses),
            str(extras),
            f"{self.seconds:.1f}",
            "CRASH" if self.crashed else ("FAIL" if self.problems() else "ok"),
        ]


HEADER = [
    "notebook",
    "cells",
    "volatile",
    "server-run (run-all)",
    "server-run (one-by-one)",
    "mismatches",
    "re-runs/changed after edit",
    "misses",
    "extras",
    "s",
    "",
]


def table(outcomes: Iterable[Outcome]) -> str:
    rows = [HEADER, *(o.row() for o in outcomes)]
    widths = [max(len(r[i]) for r in rows) for i in range(len(HEADER))]
    return "\n".join("  ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)) for r in rows)


class Session:
    """One notebook under one path, its kernel session and a Lab-like websocket client."""

    def __init__(self, server: ScenarioServer, case: Case, folder: str) -> None:
        self.server = server
        self.case = case
        self.path = f"{folder}/{case.key}"
        self.sources = case.sources
        self.ids = case.ids
        self.index = {cell_id: i for i, cell_id in enumerate(self.ids)}
        self.api = CascadeApi(server.fetch)
        self.client: BrowserClient | None = None
        self.session_id: str | None = None
        self.kernel_id: str | None = None
        self.doing = "opening the notebook"
        #: each cell's execution count in the graph at the end of the last phase
        self.counts: dict[str, int | None] = {}

    async def _put(self, path: str, model: dict[str, Any]) -> None:
        await self.server.fetch("api", "contents", path, method="PUT", body=json.dumps(model))

    async def open(self) -> None:
        # the folders directly on disk: notebooks played side by side share them
        (self.server.root / self.path).parent.mkdir(parents=True, exist_ok=True)
        await self.save()
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
        model = {"type": "notebook", "format": "json", "content": self.case.model(self.sources)}
        await self._put(self.path, model)

    async def close(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.session_id is not None:
            with contextlib.suppress(Exception):
                await self.server.fetch("api", "sessions", self.session_id, method="DELETE")
        self.client, self.session_id = None, None

    def _request(self, index: int) -> str:
        client = self.client
        assert client is not None
        msg = client.execute_message(self.sources[index], self.ids[index])
        client.send(msg)
        return str(msg["header"]["msg_id"])

    async def run_all(self, phase: Phase) -> None:
        """Lab's Run All: every request at once, then every reply."""
        client = self.client
        assert client is not None
        mark = len(client.messages)
        mine = {self._request(i): i for i in range(len(self.sources))}
        self.doing = f"waiting for the replies of a Run All of {len(mine)} cells"
        for msg_id, i in mine.items():
            reply = await asyncio.wait_for(client.finish(msg_id), DEADLINE)
            if reply.get("status") != "ok":
                phase.replies[i] = str(reply.get("status"))
        await self._collect(phase, mark, mine)

    async def one_by_one(self, phase: Phase) -> None:
        """Shift+Enter top to bottom: each request once the previous reply came."""
        client = self.client
        assert client is not None
        mark = len(client.messages)
        mine = {}
        for i in range(len(self.sources)):
            msg_id = self._request(i)
            mine[msg_id] = i
            self.doing = f"waiting for the reply to cell {i}"
            reply = await asyncio.wait_for(client.answer(msg_id), DEADLINE)
            if reply["content"].get("status") != "ok":
                phase.replies[i] = str(reply["content"].get("status"))
        for msg_id in mine:
            await asyncio.wait_for(client.finish(msg_id), DEADLINE)
        await self._collect(phase, mark, mine)

    async def edit(self, phase: Phase, edit: Edit) -> None:
        """Save the edited source, as a browser does, then run that cell."""
        client = self.client
        assert client is not None
        self.sources[edit.cell] = edited(self.sources[edit.cell], edit)
        self.doing = "saving the edit"
        await self.save()
        mark = len(client.messages)
        msg_id = self._request(edit.cell)
        self.doing = f"waiting for the reply to the edited cell {edit.cell}"
        reply = await asyncio.wait_for(client.finish(msg_id), DEADLINE)
        if reply.get("status") != "ok":
            phase.replies[edit.cell] = str(reply.get("status"))
        await self._collect(phase, mark, {msg_id: edit.cell})

    async def _collect(self, phase: Phase, mark: int, mine: dict[str, int]) -> None:
        """Once the server settled and iopub showed every run it counts: who ran what."""
        self.doing = f"waiting for the server to settle after {phase.name}"
        graph = await self.api.settled(self.path, timeout=DEADLINE)
        self.doing = f"waiting for iopub after {phase.name}"
        runs = await self._runs(mark, graph)
        by_count = {
            c["execution_count"]: self.index.get(c["id"])
            for c in graph["cells"]
            if c["execution_count"] is not None
        }
        by_code: dict[str, list[int]] = {}
        for i, text in enumerate(self.sources):
            by_code.setdefault(text, []).append(i)
        for run in runs:
            shown = Shown(run.stdout, list(run.results), run.error)
            if run.msg_id in mine:
                phase.shown[mine[run.msg_id]] = shown
                continue
            cell = by_count.get(run.execution_count)
            if cell is not None and self.sources[cell] != run.code:
                phase.notes.append(
                    f"the graph gives execution [{run.execution_count}] to cell {cell}, "
                    f"but it ran {short(run.code, 60)}"
                )
                cell = None
            if cell is None and len(by_code.get(run.code, [])) == 1:
                cell = by_code[run.code][0]
            if cell is None:
                phase.unmatched.append(run.code)
                continue
            phase.shown[cell] = shown
            phase.cascaded.append(cell)

    async def _runs(self, mark: int, graph: dict[str, Any]) -> list[Execution]:
        """Executions since ``mark`` once all are idle and every count the graph
        reports was seen (given up on after 10 s of quiet)."""
        client = self.client
        assert client is not None
        counts = {c["id"]: c["execution_count"] for c in graph["cells"]}
        wanted = {n for i, n in counts.items() if n is not None and self.counts.get(i) != n}
        self.counts = counts
        deadline = time.monotonic() + DEADLINE
        patience = time.monotonic() + 10.0
        while True:
            runs = client.executions(mark)
            seen = {run.execution_count for run in runs}
            idle = {
                m["parent_header"].get("msg_id")
                for m in client.messages[mark:]
                if m["msg_type"] == "status" and m["content"]["execution_state"] == "idle"
            }
            all_idle = all(run.msg_id in idle for run in runs)
            if all_idle and (wanted <= seen or time.monotonic() > patience):
                if not wanted <= seen:
                    print(f"{self.path}: iopub never showed counts {sorted(wanted - seen)}")
                return runs
            if time.monotonic() > deadline:
                raise TimeoutError(f"iopub never finished the runs {sorted(wanted - seen)}")
            known = len(client.messages)
            with contextlib.suppress(TimeoutError, asyncio.TimeoutError):
                await client.wait_for(lambda _, n=known: len(client.messages) > n, timeout=0.5)


async def play(server: ScenarioServer, case: Case) -> tuple[list[Phase], str | None]:
    phases: list[Phase] = []
    session: Session | None = None
    try:
        session = Session(server, case, "run-all")
        await session.open()
        phase = Phase("run-all")
        started = time.monotonic()
        await session.run_all(phase)
        phase.seconds = time.monotonic() - started
        phases.append(phase)
        await session.close()

        session = Session(server, case, "one-by-one")
        await session.open()
        phase = Phase("one-by-one")
        started = time.monotonic()
        await session.one_by_one(phase)
        phase.seconds = time.monotonic() - started
        phases.append(phase)
        if case.edit is not None:
            edit = Phase("edit", shown=dict(phase.shown))
            started = time.monotonic()
            await session.edit(edit, case.edit)
            edit.seconds = time.monotonic() - started
            phases.append(edit)
        return phases, None
    except Exception as error:  # reported with the notebook's other findings
        doing = session.doing if session else "starting"
        log = server.log_about(session.kernel_id if session else None, case.key)
        return phases, f"{type(error).__name__}: {error} while {doing}\n{log}"
    finally:
        if session is not None:
            await session.close()


class Runner:
    """Plays notebooks on one server, a few at a time; the stock runs go on worker threads."""

    def __init__(self, server: ScenarioServer, concurrency: int = 4) -> None:
        self.server = server
        self.pool = ThreadPoolExecutor(max_workers=2 * concurrency, thread_name_prefix="stock")
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._slots = asyncio.run_coroutine_threadsafe(_semaphore(concurrency), self.loop).result()
        self._plays: dict[str, Future[Outcome]] = {}
        self.outcomes: list[Outcome] = []

    def prefetch(self, cases: Iterable[Case]) -> None:
        for case in cases:
            if case.key not in self._plays:
                self._plays[case.key] = asyncio.run_coroutine_threadsafe(
                    self._play(case), self.loop
                )

    async def _stock(self, sources: list[str]) -> list[Shown]:
        return await self.loop.run_in_executor(
            self.pool, restart_and_run_all, sources, self.server.env, 120
        )

    async def _repeated(self, sources: list[str]) -> list[list[Shown]]:
        """Two stock runs; a third when they differ (a random cell may repeat by chance)."""
        runs = list(await asyncio.gather(self._stock(sources), self._stock(sources)))
        if _differ(*runs):
            runs.append(await self._stock(sources))
        return runs

    async def _oracles(self, case: Case) -> tuple[list[list[Shown]], list[list[Shown]]]:
        """The stock runs of the notebook, then of the edited notebook: once, or
        repeated like the notebook's when the notebook had volatile cells."""
        stock = await self._repeated(case.sources)
        if case.edit is None:
            return stock, []
        sources = case.edited_sources()
        if _volatile(stock[0], stock[1:]):
            return stock, await self._repeated(sources)
        return stock, [await self._stock(sources)]

    async def _play(self, case: Case) -> Outcome:
        async with self._slots:
            started = time.monotonic()
            oracles = asyncio.ensure_future(self._oracles(case))
            phases, crashed = await play(self.server, case)
            stock, edited = await oracles
            outcome = Outcome(
                case,
                stock[0],
                stock[1:],
                edited[0] if edited else None,
                edited[1:],
                phases,
                crashed,
            )
            outcome.seconds = time.monotonic() - started
            return outcome

    def run(self, case: Case, timeout: float = 600) -> Outcome:
        self.prefetch([case])
        outcome = self._plays.pop(case.key).result(timeout=timeout)
        self.outcomes.append(outcome)
        return outcome

    def close(self) -> None:
        for future in self._plays.values():
            future.cancel()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=30)
        self.pool.shutdown(wait=True, cancel_futures=True)


def _differ(first: list[Shown], second: list[Shown]) -> set[int]:
    return {i for i, (a, b) in enumerate(zip(first, second, strict=True)) if view(a) != view(b)}


def _volatile(first: list[Shown], others: list[list[Shown]]) -> set[int]:
    return set().union(*(_differ(first, other) for other in others))


async def _semaphore(value: int) -> asyncio.Semaphore:
    return asyncio.Semaphore(value)
