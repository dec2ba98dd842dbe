"""Running a cell over REST, as a browser run would.

- ``POST /api/cascade/run`` ``{"path", "cell", "cascade"?: true, "start_kernel"?: false}``
  → 202 ``{"id", "plan"}`` with ``Location: <base_url>api/cascade/runs/<id>``.
  ``cell`` is a cell id (nbformat 4.5) or the 0-based index of a code cell.
  The run pulls the stale cells above, runs the cell and cascades down
  (``cascade: false``: only that cell) on the notebook's kernel session;
  ``start_kernel`` starts a session first when there is none (the notebook's
  kernelspec, else ``python3``). 400 bad body, 404 no notebook / cell /
  session, 409 while another run or cascade of the notebook is active or
  when the kernel has no agent.
- ``GET /api/cascade/runs/<id>[?wait=<seconds>]`` → ``{"id", "path", "status",
  "cells": [{"id", "status", "execution_count", "outputs"}]}``; with ``wait``
  the answer comes when the run ends (or after that many seconds, at most 60).

Both need jupyter_server authentication and authorization on ``kernels``:
``execute`` to run (it runs code), ``read`` to look. The run itself lives in
:mod:`.run_exec`; the file around it in :mod:`.run_files`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from http import HTTPStatus
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import authorized
from jupyter_server.utils import url_path_join
from tornado import web

from .handlers import _CascadeHandler
from .notebook import SharedDocument
from .run_exec import Run, RunRegistry, execute
from .run_files import (
    give_cell_ids,
    pages_open,
    read_notebook,
    save_outputs,
    saved_code_cell_ids,
)
from .runner import KernelRunner
from .service import CascadeService

DEFAULT_KERNEL = "python3"
#: seconds to wait for the agent of a kernel this route just started
#: (a kernel's first start on a busy machine takes a few seconds)
FRESH_KERNEL_WAIT = 60.0
#: the longest ``GET runs/<id>?wait=`` (seconds)
MAX_WAIT = 60.0
#: seconds a run waits for the pass after a browser run to decide (see :func:`_settled`)
SETTLE_WAIT = 0.5


class RunRequest:
    """A checked ``POST run`` body (400 names the field that is wrong)."""

    def __init__(self, raw: bytes) -> None:
        try:
            body = json.loads(raw or b"{}")
        except ValueError as error:
            raise _bad("the body is not JSON") from error
        if not isinstance(body, dict):
            raise _bad("the body must be a JSON object")
        path, cell = body.get("path"), body.get("cell")
        if not isinstance(path, str) or not path.strip("/ "):
            raise _bad("'path' must be the notebook's path (a non-empty string)")
        if not _is_cell(cell):
            raise _bad("'cell' must be a cell id (string) or a code cell's index (integer >= 0)")
        for flag in ("cascade", "start_kernel"):
            if flag in body and not isinstance(body[flag], bool):
                raise _bad(f"'{flag}' must be true or false")
        self.path: str = path.strip().strip("/")
        self.cell: str | int = cell  # type: ignore[assignment]
        self.cascade: bool = body.get("cascade", True)
        self.start_kernel: bool = body.get("start_kernel", False)


def _is_cell(cell: Any) -> bool:
    if isinstance(cell, bool):  # JSON true is not the index 1
        return False
    return (isinstance(cell, str) and bool(cell)) or (isinstance(cell, int) and cell >= 0)


def _bad(message: str) -> web.HTTPError:
    return web.HTTPError(HTTPStatus.BAD_REQUEST, message)


def _conflict(message: str) -> web.HTTPError:
    return web.HTTPError(HTTPStatus.CONFLICT, message)


def _not_found(message: str) -> web.HTTPError:
    return web.HTTPError(HTTPStatus.NOT_FOUND, message)


def _pick(ids: list[str | None], cell: str | int, path: str) -> tuple[int, str | None]:
    """(index among code cells, id or None when the notebook has no ids) of ``cell``."""
    if isinstance(cell, int):
        if cell >= len(ids):
            raise _not_found(f"no code cell at index {cell} in {path!r} ({len(ids)} code cells)")
        return cell, ids[cell]
    if cell not in ids:
        raise _not_found(f"no code cell {cell!r} in {path!r}")
    return ids.index(cell), cell


class _RunsHandler(_CascadeHandler):
    def initialize(self, runs: RunRegistry) -> None:
        self.runs = runs


class RunHandler(_RunsHandler):
    """POST /api/cascade/run → 202 ``{"id", "plan"}``; see the module docstring."""

    @web.authenticated
    @authorized("execute")
    async def post(self) -> None:
        request = RunRequest(self.request.body)
        path, service = request.path, self.service
        index, cell_id = await self._locate(request)
        kernel_id = await self._kernel(request)
        runner = service.runner_for(kernel_id)
        await _settled(runner)
        self._check_idle(path, runner)
        await _agent_ready(runner, FRESH_KERNEL_WAIT if request.start_kernel else None)
        model = await service.open_model(path, runner)
        if cell_id is None:  # a notebook older than nbformat 4.5, no page on it
            if isinstance(model, SharedDocument) or await pages_open(service, kernel_id):
                raise _conflict(
                    f"{path!r} has no cell ids (nbformat < 4.5) and is open in a page: "
                    "save it from JupyterLab or Notebook 7 once, or close it"
                )
            cell_id = (await give_cell_ids(service, path))[index]
            assert cell_id is not None
        self._check_idle(path, runner)  # again: the awaits above let others in
        run = self.runs.new(path)
        runner.state.pending_cascades += 1  # busy from now on, for the graph's readers
        _spawn(execute(run, runner, model, cell_id, request.cascade, self._persist(kernel_id)))
        try:
            plan = await run.planned
        except Exception as error:
            raise _conflict(f"the run could not start: {error}") from error
        self.set_status(HTTPStatus.ACCEPTED)
        self.set_header("Location", url_path_join(self.base_url, "api/cascade/runs", run.id))
        self.finish({"id": run.id, "plan": plan})

    async def _locate(self, request: RunRequest) -> tuple[int, str | None]:
        """The target cell, from the live document when one is open, else the file."""
        model = await self.service.open_model(request.path, None)
        if isinstance(model, SharedDocument):
            ids: list[str | None] = [cell.id for cell in await model.code_cells()]
        else:
            try:
                ids = await saved_code_cell_ids(self.service, request.path)
            except LookupError as error:
                raise _not_found(str(error)) from error
        return _pick(ids, request.cell, request.path)

    async def _kernel(self, request: RunRequest) -> str:
        kernel_id = await self.service.find_kernel(request.path)
        if kernel_id is not None:
            return kernel_id
        if not request.start_kernel:
            raise _not_found(
                f'no kernel session for {request.path!r} (send "start_kernel": true to start one)'
            )
        return await _start_session(self.service, request.path)

    def _check_idle(self, path: str, runner: KernelRunner) -> None:
        if self.runs.active(path) is not None:
            raise _conflict(f"another run of {path!r} is in progress")
        if runner.state.busy:
            raise _conflict(f"a cascade or a run of {path!r} is in progress")

    def _persist(self, kernel_id: str) -> Any:
        service = self.service

        async def persist(run: Run) -> None:
            await _persist(service, kernel_id, run)

        return persist


async def _persist(service: CascadeService, kernel_id: str, run: Run) -> None:
    """Save the run's outputs into the file when nobody else will (no shared
    document, no page on the kernel); ``c.Cascade.autosave = False`` turns it off."""
    if not service.config.autosave or not any(c.status != "skipped" for c in run.cells.values()):
        return
    model = await service.open_model(run.path, None)
    if isinstance(model, SharedDocument) or await pages_open(service, kernel_id):
        return
    if await save_outputs(service, run.path):
        for cell in run.cells.values():  # in the file now: no later save merges them again
            pending = service.pending.get(run.path, cell.id)
            if pending is not None and pending.outputs == cell.outputs:
                service.pending.discard(run.path, cell.id)


async def _start_session(service: CascadeService, path: str) -> str:
    """Start a kernel session for ``path`` as a page opening it would."""
    notebook = await read_notebook(service, path)
    kernelspec = (notebook.get("metadata") or {}).get("kernelspec") or {}
    name = str(kernelspec.get("name") or DEFAULT_KERNEL)
    specs = await ensure_async(service.serverapp.kernel_spec_manager.get_all_specs())
    if name not in specs:
        raise _conflict(f"the notebook's kernel {name!r} is not installed on this server")
    session = await ensure_async(
        service.serverapp.session_manager.create_session(
            path=path, name=path, type="notebook", kernel_name=name
        )
    )
    return str(session["kernel"]["id"])


async def _settled(runner: KernelRunner, patience: float = SETTLE_WAIT) -> None:
    """Let a pass that is only deciding whether to cascade finish (the one after
    every browser run; nothing queued or running yet): a REST run right after a
    page's run is not refused for it. A real cascade is refused at once (409)."""
    state, loop = runner.state, asyncio.get_running_loop()
    deadline = loop.time() + patience
    while state.pending_cascades and loop.time() < deadline:
        if state.inflight or state.queued or state.running:
            return
        await asyncio.sleep(0.002)


async def _agent_ready(runner: KernelRunner, timeout: float | None) -> None:
    """Wait for the agent; 409 when this kernel has no reactivity."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + (timeout or runner.config.agent_timeout)
    while not (agent := runner.ensure_agent()).done() and loop.time() < deadline:
        await asyncio.wait({agent}, timeout=deadline - loop.time())
    if runner.state.enabled is not True:
        reason = runner.state.last_error or "the agent is not loaded yet"
        raise _conflict(f"reactivity is unavailable: {reason}")


#: runs in progress (a task nobody holds may be collected mid-run)
_tasks: set[asyncio.Future[None]] = set()


def _spawn(work: Any) -> None:
    task = asyncio.ensure_future(work)
    _tasks.add(task)
    task.add_done_callback(_tasks.discard)


class RunStatusHandler(_RunsHandler):
    """GET /api/cascade/runs/<id> → the run's status and its cells' outputs."""

    @web.authenticated
    @authorized("read")
    async def get(self, run_id: str) -> None:
        run = self.runs.get(run_id)
        if run is None:
            raise _not_found(f"no run {run_id!r}")
        wait = self._wait()
        if wait and run.active:  # a long poll: the answer comes when the run ends
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(run.ended.wait(), wait)
        self.finish(run.body())

    def _wait(self) -> float:
        """``?wait=<seconds>`` (at most :data:`MAX_WAIT`): answer once the run ended,
        or after that long; a client learns the end at once without polling."""
        raw = self.get_query_argument("wait", default="0")
        try:
            wait = float(raw)
        except ValueError as error:
            raise _bad("'wait' must be a number of seconds") from error
        if not 0 <= wait <= MAX_WAIT:  # (NaN fails both)
            raise _bad(f"'wait' must be between 0 and {MAX_WAIT:.0f} seconds")
        return wait


def run_handlers(base_url: str) -> list[tuple[Any, ...]]:
    """The routes, sharing one registry of runs (no module global)."""
    prefix = base_url.rstrip("/") + "/api/cascade"
    runs = {"runs": RunRegistry()}
    return [
        (prefix + "/run", RunHandler, runs),
        (prefix + "/runs/([^/]+)", RunStatusHandler, runs),
    ]
