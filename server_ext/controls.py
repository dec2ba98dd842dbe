"""Steering a notebook's session: resolve, stop, and mode/direction switches.

- ``POST /api/cascade/resolve`` ``{"path"}`` → 202 ``{"path", "kernel_id",
  "cells"}``: runs every stale, waiting and dirty cell in notebook order (with
  the cells above each that it needs, and failed cells whose inputs changed
  since they failed), as cascaded runs, until none is left;
  ``cells`` are those out of date when asked. Progress goes out on the push
  endpoint (:mod:`.events`); a cell that raises ends the resolve.
- ``POST /api/cascade/stop`` ``{"path"}`` → ``{"path", "stopped"}``: the
  running cascade (or resolve) starts no further cell; the cell running now
  finishes; the cells not run keep their marks.
- ``POST /api/cascade/mode`` ``{"path", "mode"?, "direction"?}`` →
  ``{"path", "mode", "direction"}``: changes the session's settings (as
  ``%flow`` would) and runs nothing: only the next run behaves differently.

All routes need jupyter_server authentication and the ``kernels`` resource
(``execute``: they run code or change how it runs).
"""

from __future__ import annotations

import asyncio
import json
from http import HTTPStatus
from typing import Any

from jupyter_server.auth.decorator import authorized
from tornado import web

from kernel_agent.core.planning import (
    ANY_ORDER,
    IN_ORDER,
    LAZY,
    REACTIVE,
    CycleError,
    plan_upstream,
)
from kernel_agent.core.protocol import AGENT_NAME

from .handlers import _CascadeHandler, graph_body
from .notebook import NotebookModel
from .runner import KernelRunner

#: states a resolve runs; "queued" is ours while the resolve holds the kernel.
#: A failed cell runs again only when its inputs changed since it failed: with
#: the same inputs it would fail the same way.
_NEEDS_RUN = frozenset({"stale", "waiting", "dirty", "queued"})
_CHOICES = {"mode": (REACTIVE, LAZY), "direction": (IN_ORDER, ANY_ORDER)}


class _ControlHandler(_CascadeHandler):
    auth_resource = "kernels"

    def _body(self) -> dict[str, Any]:
        try:
            body = json.loads(self.request.body or b"{}")
        except ValueError as error:
            raise web.HTTPError(HTTPStatus.BAD_REQUEST, "the body is not JSON") from error
        if not isinstance(body, dict):
            raise web.HTTPError(HTTPStatus.BAD_REQUEST, "the body must be a JSON object")
        path = body.get("path")
        if not isinstance(path, str) or not path.strip("/ "):
            raise web.HTTPError(HTTPStatus.BAD_REQUEST, "missing 'path' in the body")
        return body

    async def _session(self, path: str) -> tuple[str, str, KernelRunner]:
        path = path.strip().strip("/")
        kernel_id = await self.service.find_kernel(path)
        if kernel_id is None:
            raise web.HTTPError(HTTPStatus.NOT_FOUND, f"no kernel session for {path!r}")
        return path, kernel_id, self.service.runner_for(kernel_id)

    async def _ready(self, runner: KernelRunner) -> None:
        """Wait for the agent; 409 when this kernel has no reactivity."""
        agent = runner.ensure_agent()
        await asyncio.wait({agent}, timeout=runner.config.agent_timeout)
        if runner.state.enabled is not True:
            reason = runner.state.last_error or "the agent is not loaded yet"
            raise web.HTTPError(HTTPStatus.CONFLICT, f"reactivity is unavailable: {reason}")


class ResolveHandler(_ControlHandler):
    """POST /api/cascade/resolve ``{"path"}`` → 202 ``{"path", "kernel_id", "cells"}``."""

    @web.authenticated
    @authorized("execute")
    async def post(self) -> None:
        path, kernel_id, runner = await self._session(self._body()["path"])
        await self._ready(runner)
        model = await self.service.open_model(path, runner)
        cells = await model.code_cells()
        waiting = _needing(path, kernel_id, runner, cells, set())
        runner.state.pending_cascades += 1  # busy from now on, for the graph's readers
        task = asyncio.ensure_future(_resolve(runner, model, path, kernel_id))
        _tasks.add(task)
        task.add_done_callback(_tasks.discard)
        self.set_status(HTTPStatus.ACCEPTED)
        self.finish({"path": path, "kernel_id": kernel_id, "cells": waiting})


#: resolves in progress (a task nobody holds may be collected mid-run)
_tasks: set[asyncio.Future[None]] = set()


def _needing(
    path: str, kernel_id: str, runner: KernelRunner, cells: list[Any], done: set[str]
) -> list[str]:
    """The cells out of date now, in notebook order, as the graph reports them."""
    body, graph = graph_body(path, kernel_id, runner, cells), runner.state.graph
    return [
        c["id"]
        for c in body["cells"]
        if c["id"] not in done
        and (c["state"] in _NEEDS_RUN or (c["state"] == "error" and graph.is_stale(c["id"])))
    ]


async def _resolve(runner: KernelRunner, model: NotebookModel, path: str, kernel_id: str) -> None:
    """Run the first out-of-date cell (and what it needs above), then look again."""
    state, done = runner.state, set[str]()
    try:
        async with state.lock:
            cells = await model.code_cells()
            await runner._refresh(runner._new_order(cells))
            trigger: str | None = None
            while not state.stop_requested:
                cells = await model.code_cells()
                needing = _needing(path, kernel_id, runner, cells, done)
                if not needing:
                    break
                trigger = trigger or needing[0]
                batch = [*_upstream(runner, model, cells, needing[0], done), needing[0]]
                state.queued = [*batch, *(c for c in needing if c not in batch)]
                model.mark_queued(batch, True)
                by_id = {cell.id: cell for cell in cells}
                ok = True
                for cell_id in batch:
                    done.add(cell_id)
                    ok = await runner._run_cell(model, by_id[cell_id], trigger)
                    if not ok:
                        break
                await runner._written()
                model.mark_queued([c for c in batch if c not in done], False)
                if not ok:
                    break
    except Exception:
        runner._log.exception("cascade: resolve failed on %s", path)
    finally:
        state.end_cascade()
        state.pending_cascades -= 1


def _upstream(
    runner: KernelRunner, model: NotebookModel, cells: list[Any], cell_id: str, done: set[str]
) -> list[str]:
    """The cells above ``cell_id`` its run needs first (never-run definers included)."""
    try:
        predicted = runner.predicted(cells, model.metadata())
        plan = plan_upstream(runner.state.graph, cells, cell_id, predicted, runner.direction)
    except CycleError as error:
        runner.state.last_error = f"resolve: {error}"
        return []
    return [c for c in plan if c not in done]


class StopHandler(_ControlHandler):
    """POST /api/cascade/stop ``{"path"}`` → ``{"path", "stopped": bool}``."""

    @web.authenticated
    @authorized("execute")
    async def post(self) -> None:
        path, _, runner = await self._session(self._body()["path"])
        self.finish({"path": path, "stopped": runner.stop()})


class ModeHandler(_ControlHandler):
    """POST /api/cascade/mode ``{"path", "mode"?, "direction"?}`` → the new settings.

    Runs nothing: the setting is stored in the kernel's agent (where ``%flow``
    keeps it) by a silent request, and applies from the next run on.
    """

    @web.authenticated
    @authorized("execute")
    async def post(self) -> None:
        body = self._body()
        changes = {key: body[key] for key in _CHOICES if body.get(key) is not None}
        for key, value in changes.items():
            if value not in _CHOICES[key]:
                allowed = " or ".join(_CHOICES[key])
                raise web.HTTPError(HTTPStatus.BAD_REQUEST, f"{key!r} must be {allowed}")
        path, _, runner = await self._session(body["path"])
        if changes:
            await self._ready(runner)
            await _set_in_kernel(runner, changes)
        self.finish({"path": path, "mode": runner.mode, "direction": runner.direction})


async def _set_in_kernel(runner: KernelRunner, changes: dict[str, str]) -> None:
    """Store the settings on the agent, silently (no execution count, no run record)."""
    code = "\n".join(f"{AGENT_NAME}.{key} = {value!r}" for key, value in changes.items())
    async with runner.state.lock:
        reply = await runner.channel.execute(code, silent=True, store_history=False)
        if reply.get("status") != "ok":
            raise web.HTTPError(
                HTTPStatus.INTERNAL_SERVER_ERROR, f"the kernel refused: {reply.get('evalue')}"
            )
        runner.state.kernel_mode = changes.get("mode", runner.state.kernel_mode)
        runner.state.kernel_direction = changes.get("direction", runner.state.kernel_direction)


def control_handlers(base_url: str) -> list[tuple[str, type]]:
    prefix = base_url.rstrip("/") + "/api/cascade"
    return [
        (prefix + "/resolve", ResolveHandler),
        (prefix + "/stop", StopHandler),
        (prefix + "/mode", ModeHandler),
    ]
