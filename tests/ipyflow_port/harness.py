"""Plays a ported ipyflow case through a real server, as JupyterLab would, and judges it.

Each case gets its own notebook and kernel session on the module's server.
Cells enter the notebook when the script first runs them (a contents PUT of
the whole notebook, then an execute request with ``metadata.cellId``). After
each run the harness waits until the graph endpoint shows that run (its
execution count) and no cascade is busy. Every check of the script is judged
and every mismatch recorded, so one failing check does not hide the others.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import threading
import time
from collections.abc import Iterable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from integration.browser import BrowserClient, CascadeApi
from scenarios.server import ScenarioServer

from .cases import Case, Edge, Preview, Probe, Run, Save, States

DEADLINE = 60.0
#: sessions played at once (each has its own kernel); IPYFLOW_PORT_CONCURRENCY overrides
CONCURRENCY = int(os.environ.get("IPYFLOW_PORT_CONCURRENCY", "3"))
#: a new kernel for every case (the default: a shared kernel keeps what earlier cases
#: taught the agent, and one case's states then depended on the order of the cases);
#: IPYFLOW_PORT_SHARE=1 shares kernels between cases (faster, for local runs)
SHARE = os.environ.get("IPYFLOW_PORT_SHARE", "0") not in ("0", "")
SHARE_PROBES = os.environ.get("IPYFLOW_PORT_SHARE") == "all"
KERNEL_START = 60.0
SETUP_ID, PROBE_ID = "setup", "probe"
API = "from kernel_agent import cells, code, deps, lift, timestamp, users"


def setup_source(direction: str) -> str:
    return f"%flow mode lazy\n%flow direction {direction}\n{API}"


def cell_id(key: int) -> str:
    return f"c{key}"


@dataclass
class Outcome:
    case: Case
    #: one line per check that failed, naming the step and what we gave
    mismatches: list[str] = field(default_factory=list)
    seconds: float = 0.0


def _slug(name: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")


def _notebook(cells: list[tuple[str, str]]) -> dict[str, Any]:
    kernelspec = {"name": "python3", "display_name": "Python 3", "language": "python"}
    return {
        "cells": [
            {
                "cell_type": "code",
                "id": ident,
                "source": source,
                "metadata": {},
                "outputs": [],
                "execution_count": None,
            }
            for ident, source in cells
        ],
        "metadata": {"kernelspec": kernelspec, "language_info": {"name": "python"}},
        "nbformat": 4,
        "nbformat_minor": 5,
    }


#: Run silently (the agent records nothing) before a case on a kernel that played
#: another: the user's globals go; the agent and IPython's own names stay (``_`` too:
#: after ``displayhook.flush()`` IPython stopped updating it).
CLEAR_NAMESPACE = """\
def _clear(ip):
    keep = {"_", "__", "___", *ip.user_ns_hidden}
    for name in [n for n in ip.user_ns if not n.startswith("__") and n not in keep]:
        del ip.user_ns[name]
_clear(get_ipython())
"""


class Lane:
    """One kernel session that plays cases one after another.

    A kernel start and the agent's injection cost ~3 CPU-seconds, several
    times a whole case, so cases share kernels. Between two cases the session
    is moved to the next case's notebook (as a rename does), the user's
    globals are cleared by a silent request the agent never sees, and the
    next case's first run reports the previous case's cells in
    ``deletedCells`` (as JupyterLab does for deleted cells), so they leave the
    graph. Cell ids carry the case's number, so no id is ever reused.
    """

    def __init__(self, server: ScenarioServer) -> None:
        self.server = server
        self.client: BrowserClient | None = None
        self.session_id: str | None = None
        self.played = 0
        #: cell ids of the previous case, reported deleted by the next case's first run
        self.leftover: list[str] = []

    async def attach(self, path: str) -> BrowserClient:
        if self.session_id is None:
            body = {"path": path, "type": "notebook", "kernel": {"name": "python3"}}
            response = await self.server.fetch(
                "api", "sessions", method="POST", body=json.dumps(body)
            )
            session = json.loads(response.body)
            self.session_id = session["id"]
            self.client = await asyncio.wait_for(
                BrowserClient.connect(self.server.ws_fetch, session["kernel"]["id"], "v1"),
                KERNEL_START,
            )
        else:
            body = {"path": path}
            await self.server.fetch(
                "api", "sessions", self.session_id, method="PATCH", body=json.dumps(body)
            )
            assert self.client is not None
            msg = self.client.execute_message(CLEAR_NAMESPACE, None)
            msg["content"].update(silent=True, store_history=False)
            self.client.send(msg)
            reply = await asyncio.wait_for(self.client.finish(msg["header"]["msg_id"]), DEADLINE)
            if reply["status"] != "ok":
                raise RuntimeError(f"clearing the namespace failed: {reply}")
        self.played += 1
        assert self.client is not None
        return self.client

    async def close(self) -> None:
        if self.client is not None:
            self.client.close()
        if self.session_id is not None:
            await self.server.fetch("api", "sessions", self.session_id, method="DELETE")
        self.client, self.session_id = None, None


class Session:
    """One case's notebook, played on a lane's kernel by a browser-like client."""

    def __init__(self, lane: Lane, case: Case) -> None:
        self.lane = lane
        self.server = lane.server
        self.case = case
        self.path = f"ipyflow/{_slug(case.name)}.ipynb"
        self.api = CascadeApi(self.server.fetch)
        self.sources: dict[int, str] = {}
        self.probe: str | None = None
        self.client: BrowserClient | None = None
        self.prefix = f"k{lane.played}-"
        #: execution count of the case's n-th run (1-based), as ipyflow's timestamps
        self.run_counts: list[int] = []
        self.outcome = Outcome(case)
        self.step = "opening the notebook"

    # -- notebook and kernel ------------------------------------------------------

    def id_of(self, key: int | str) -> str:
        """The notebook cell id of case cell ``key`` (or of "setup" / "probe")."""
        return self.prefix + (key if isinstance(key, str) else cell_id(key))

    def key_of(self, ident: str) -> int | str:
        local = ident[len(self.prefix) :] if ident.startswith(self.prefix) else "?" + ident
        return _key(local)

    def _cells(self) -> list[tuple[str, str]]:
        cells = [(self.id_of(SETUP_ID), setup_source(self.case.direction))]
        cells += [(self.id_of(k), self.sources[k]) for k in sorted(self.sources)]
        if self.probe is not None:
            cells.append((self.id_of(PROBE_ID), self.probe))
        return cells

    async def save(self) -> None:
        model = {"type": "notebook", "format": "json", "content": _notebook(self._cells())}
        await self.server.fetch("api", "contents", self.path, method="PUT", body=json.dumps(model))

    async def open(self) -> None:
        await self.save()
        self.client = await self.lane.attach(self.path)
        self.step = "running the setup cell"
        deleted, self.lane.leftover = self.lane.leftover, []
        setup = self.id_of(SETUP_ID)
        reply, _ = await self._execute(setup_source(self.case.direction), setup, deleted)
        if reply["status"] != "ok":
            raise RuntimeError(f"the setup cell failed: {reply}")
        graph = await self._settled(setup, reply["execution_count"])
        if (graph["mode"], graph["direction"]) != ("lazy", self.case.direction):
            raise RuntimeError(f"setup did not take: {graph['mode']}, {graph['direction']}")

    def close(self) -> None:
        self.lane.leftover = [ident for ident, _ in self._cells()]

    # -- running --------------------------------------------------------------------

    async def _execute(
        self, code: str, ident: str, deleted: list[str] | None = None
    ) -> tuple[dict[str, Any], str]:
        """Run ``code`` as cell ``ident``; the reply and the stdout of that run."""
        client = self.client
        assert client is not None
        msg = client.execute_message(code, ident)
        if deleted:
            msg["metadata"]["deletedCells"] = deleted
        client.send(msg)
        msg_id = msg["header"]["msg_id"]
        reply = await asyncio.wait_for(client.finish(msg_id), DEADLINE)
        stdout = "".join(
            m["content"]["text"]
            for m in client.messages
            if m["channel"] == "iopub"
            and m["msg_type"] == "stream"
            and m["parent_header"].get("msg_id") == msg_id
            and m["content"]["name"] == "stdout"
        )
        return reply, stdout

    async def _settled(self, ident: str, count: int | None) -> dict[str, Any]:
        """The graph once it shows run ``count`` of ``ident`` and nothing is busy."""
        deadline = time.monotonic() + DEADLINE
        pause = 0.02
        while True:
            graph = await self.api.graph(self.path)
            shown = {c["id"]: c["execution_count"] for c in graph["cells"]}
            if not graph["busy"] and (count is None or shown.get(ident) == count):
                return graph
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"the graph never showed run [{count}] of {ident} settled: {shown}"
                )
            await asyncio.sleep(pause)
            pause = min(pause * 1.5, 0.2)

    async def run(self, step: Run) -> None:
        new = step.cell not in self.sources
        if step.source is not None:
            self.sources[step.cell] = step.source
        elif new:
            self.sources[step.cell] = self.case.cells[step.cell]
        if new or step.source is not None:
            await self.save()
        reply, _ = await self._execute(self.sources[step.cell], self.id_of(step.cell))
        self.run_counts.append(reply["execution_count"])
        raised = reply["status"] != "ok"
        if raised != step.raises:
            what = reply.get("ename", "") + " " + reply.get("evalue", "")
            self.fail(f"the run raised: {what}" if raised else "the run did not raise")
        await self._settled(self.id_of(step.cell), reply["execution_count"])

    async def save_only(self, step: Save) -> None:
        self.sources[step.cell] = step.source
        await self.save()

    async def check_edge(self, check: Edge) -> None:
        graph = await self.api.graph(self.path)
        edges = {(e["source"], e["target"]): e["symbols"] for e in graph["edges"]}
        pair = (self.id_of(check.source), self.id_of(check.target))
        if (pair in edges) != check.present:
            shown = sorted(f"{self.key_of(a)}->{self.key_of(b)} {edges[a, b]}" for a, b in edges)
            word = "an" if check.present else "no"
            self.fail(f"expected {word} edge {check.source}->{check.target}; edges: {shown}")

    def fail(self, text: str) -> None:
        self.outcome.mismatches.append(f"{self.step}: {text}")

    # -- checks -----------------------------------------------------------------------

    async def check_states(self, check: States) -> None:
        graph = await self.api.graph(self.path)
        got = {c["id"]: c["state"] for c in graph["cells"]}
        keys = sorted(check.only) if check.only is not None else sorted(self.sources)
        wrong = []
        for key in keys:
            want = check.expected(key) if key in self.sources else "never_run"
            have = got.get(self.id_of(key), "absent")
            if have != want:
                wrong.append(f"cell {key}: expected {want}, got {have}")
        if wrong:
            self.fail("; ".join(wrong))

    async def check_preview(self, check: Preview) -> None:
        ids = await self.api.preview(self.path, self.id_of(check.cell))
        got = tuple(self.key_of(i) for i in ids)
        if got != check.runs:
            self.fail(f"preview of cell {check.cell}: expected {list(check.runs)}, got {got}")

    async def check_probe(self, check: Probe) -> None:
        counts = self.run_counts
        code = re.sub(r"\{run\[(\d+)\]\}", lambda m: str(counts[int(m.group(1)) - 1]), check.code)
        self.probe = code
        await self.save()
        probe = self.id_of(PROBE_ID)
        reply, stdout = await self._execute(code, probe)
        await self._settled(probe, reply["execution_count"])
        if reply["status"] != "ok":
            stdout += f"{reply.get('ename')}: {reply.get('evalue')}"
        if check.stdout is not None and stdout != check.stdout:
            self.fail(f"{code!r} printed {stdout!r}, expected {check.stdout!r}")
        if check.slice_cells is not None or check.slice_text is not None:
            text = self._keyed_slice(stdout)
            if check.slice_cells is not None:
                got = set(int(k) for k in re.findall(r"^# Cell (-?\d+)$", text, re.MULTILINE))
                if got != set(check.slice_cells):
                    self.fail(
                        f"{code!r}: slice has cells {sorted(got)}, "
                        f"expected {sorted(check.slice_cells)}; printed {stdout!r}"
                    )
            if check.slice_text is not None and _squash(text) != _squash(check.slice_text):
                self.fail(f"{code!r}: slice {text!r}, expected {check.slice_text!r}")

    def _keyed_slice(self, printed: str) -> str:
        """A printed slice with ``# Cell N`` (notebook position) rewritten to case keys."""
        order = [ident for ident, _ in self._cells()]

        def key(match: re.Match[str]) -> str:
            position = int(match.group(1))
            ident = order[position - 1] if 0 < position <= len(order) else "?"
            return f"# Cell {self.key_of(ident)}"

        return re.sub(r"^# Cell (\d+)$", key, printed, flags=re.MULTILINE)


def _key(ident: str) -> int | str:
    return int(ident[1:]) if re.fullmatch(r"c-?\d+", ident) else ident


def _squash(text: str) -> str:
    return "\n".join(line.rstrip() for line in text.strip().splitlines() if line.strip())


async def play(lane: Lane, case: Case) -> Outcome:
    session = Session(lane, case)
    started = time.monotonic()
    try:
        await session.open()
        for number, action in enumerate(case.played(), start=1):
            session.step = f"step {number} ({_describe(action)})"
            if isinstance(action, Run):
                await session.run(action)
            elif isinstance(action, Save):
                await session.save_only(action)
            elif isinstance(action, States):
                await session.check_states(action)
            elif isinstance(action, Edge):
                await session.check_edge(action)
            elif isinstance(action, Preview):
                await session.check_preview(action)
            elif isinstance(action, Probe):
                await session.check_probe(action)
    except Exception as error:  # report with the rest; keep playing the table
        session.fail(f"the session broke off: {type(error).__name__}: {error}")
    finally:
        session.close()
    session.outcome.seconds = time.monotonic() - started
    return session.outcome


def _describe(action: object) -> str:
    if isinstance(action, Run):
        return f"run cell {action.cell}" + (" edited" if action.source is not None else "")
    if isinstance(action, Save):
        return f"save an edit of cell {action.cell} without running it"
    if isinstance(action, States):
        return "check states"
    if isinstance(action, Edge):
        return f"check edge {action.source}->{action.target}"
    if isinstance(action, Preview):
        return f"preview cell {action.cell}"
    if isinstance(action, Probe):
        return f"probe {action.code!r}"
    return type(action).__name__


class Runner:
    """Plays cases on one server, on a few kernels at once, in the order they are asked for.

    Each lane (kernel) takes the next queued case when it is free. A lane
    whose case broke off is closed and replaced by a new kernel.
    """

    def __init__(self, server: ScenarioServer, concurrency: int = CONCURRENCY) -> None:
        self.server = server
        self.concurrency = concurrency
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self._thread.start()
        self._plays: dict[str, Future[Outcome]] = {}
        self._queue: asyncio.Queue[tuple[Case, asyncio.Future[Outcome]]] | None = None
        self._workers: list[asyncio.Task[None]] = []

    def prefetch(self, cases: Iterable[Case]) -> None:
        for case in cases:
            if case.name not in self._plays:
                self._plays[case.name] = asyncio.run_coroutine_threadsafe(
                    self._enqueue(case), self.loop
                )

    async def _enqueue(self, case: Case) -> Outcome:
        """Queue ``case`` (in the order asked for: nothing is awaited before the put)."""
        if self._queue is None:
            self._queue = asyncio.Queue()
            folder = asyncio.ensure_future(self._folder())
            self._workers = [
                asyncio.ensure_future(self._work(self._queue, folder))
                for _ in range(self.concurrency)
            ]
        done: asyncio.Future[Outcome] = self.loop.create_future()
        self._queue.put_nowait((case, done))
        return await done

    async def _folder(self) -> None:
        body = json.dumps({"type": "directory"})
        await self.server.fetch("api", "contents", "ipyflow", method="PUT", body=body)

    async def _work(
        self,
        queue: asyncio.Queue[tuple[Case, asyncio.Future[Outcome]]],
        folder: asyncio.Future[None],
    ) -> None:
        await folder
        lane = Lane(self.server)
        try:
            while True:
                case, done = await queue.get()
                probes = any(isinstance(a, Probe) for a in case.script)
                if lane.played and (not SHARE or (probes and not SHARE_PROBES)):
                    # the state API numbers cells by the notebook order the kernel was last
                    # told; a kernel moved to another notebook numbered new cells after
                    # every earlier run, so probes get a kernel of their own
                    await lane.close()
                    lane = Lane(self.server)
                outcome = await play(lane, case)
                if any("broke off" in m for m in outcome.mismatches):
                    await lane.close()
                    lane = Lane(self.server)
                done.set_result(outcome)
        finally:
            await lane.close()

    def run(self, case: Case, timeout: float = 300) -> Outcome:
        self.prefetch([case])
        return self._plays.pop(case.name).result(timeout=timeout)

    def close(self) -> None:
        for future in self._plays.values():
            future.cancel()

        async def stop() -> None:
            for worker in self._workers:
                worker.cancel()
            await asyncio.gather(*self._workers, return_exceptions=True)

        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(timeout=60)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=30)
