"""A cell run asked over REST (``POST /api/cascade/run``): its record and its execution.

The run goes through the same steps as a browser's run of the cell: pull the
stale cells above it (:meth:`KernelRunner._upstream_plan`), run it, cascade
down (:meth:`KernelRunner._cascade_down`), all on the kernel's private
channel under the kernel's lock. The notebook model is wrapped in a
:class:`RecordingModel`, so the record sees every cell start and finish —
the downstream cells the cascade picks included — without the runner
knowing about REST runs. Kernel protocol handling stays in the runner.
"""

from __future__ import annotations

import asyncio
import uuid
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from kernel_agent.core.planning import LAZY, CycleError, NotebookCell, plan_downstream

from .notebook import NotebookModel
from .runner import KernelRunner
from .state import BrowserRequest

#: statuses of a run (``GET /api/cascade/runs/<id>``)
QUEUED, RUNNING, DONE, ERROR, STOPPED = "queued", "running", "done", "error", "stopped"
#: a planned cell that did not run: not needed after all, stopped, or after a failure
SKIPPED = "skipped"


@dataclass
class CellResult:
    """One cell of a run, as ``GET runs/<id>`` shows it (nbformat outputs)."""

    id: str
    status: str = QUEUED
    execution_count: int | None = None
    outputs: list[dict[str, Any]] = field(default_factory=list)

    def body(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "status": self.status,
            "execution_count": self.execution_count,
            "outputs": self.outputs,
        }


@dataclass
class Run:
    """A REST run: its cells in plan order (cells the cascade adds, at the end)."""

    path: str
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    status: str = QUEUED
    message: str | None = None
    cells: dict[str, CellResult] = field(default_factory=dict)
    #: the plan, set once the run holds the kernel (the POST answers with it)
    planned: asyncio.Future[list[str]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    #: set when the run ended (``GET runs/<id>?wait=`` waits on it)
    ended: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def active(self) -> bool:
        return self.status in (QUEUED, RUNNING)

    def cell(self, cell_id: str) -> CellResult:
        """The cell's entry, added at the end when the plan did not foresee it."""
        if cell_id not in self.cells:
            self.cells[cell_id] = CellResult(cell_id)
        return self.cells[cell_id]

    def plan(self, cell_ids: list[str]) -> None:
        for cell_id in cell_ids:
            self.cell(cell_id)
        if not self.planned.done():
            self.planned.set_result(list(cell_ids))

    def finish(self, status: str, message: str | None = None) -> None:
        """The run ended: cells that never started are skipped."""
        for cell in self.cells.values():
            if cell.status in (QUEUED, RUNNING):
                cell.status = SKIPPED if cell.status == QUEUED else ERROR
        self.status, self.message = status, message
        self.ended.set()
        if not self.planned.done():
            self.planned.set_exception(RuntimeError(message or "the run ended before its plan"))

    def outcome(self) -> str:
        """What the cells say: error when one raised."""
        return ERROR if any(c.status == ERROR for c in self.cells.values()) else DONE

    def body(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "path": self.path,
            "status": self.status,
            "cells": [cell.body() for cell in self.cells.values()],
        }
        if self.message:
            body["message"] = self.message
        return body


class RunRegistry:
    """The server's REST runs by id; the newest :data:`KEEP` finished ones are kept."""

    KEEP = 200

    def __init__(self) -> None:
        self._runs: OrderedDict[str, Run] = OrderedDict()

    def new(self, path: str) -> Run:
        run = Run(path)
        self._runs[run.id] = run
        finished = [r.id for r in self._runs.values() if not r.active]
        for run_id in finished[: max(0, len(finished) - self.KEEP)]:
            del self._runs[run_id]
        return run

    def get(self, run_id: str) -> Run | None:
        return self._runs.get(run_id)

    def active(self, path: str) -> Run | None:
        return next((r for r in self._runs.values() if r.path == path and r.active), None)


def _raised(outputs: list[dict[str, Any]]) -> bool:
    return any(output.get("output_type") == "error" for output in outputs)


@dataclass
class RecordingModel:
    """A notebook model that also writes what happens to each cell into a :class:`Run`.

    The runner calls the model for every cell it starts and finishes (its own
    cascade's cells too), so this is where a run learns its progress.
    """

    model: NotebookModel
    run: Run
    path: str = field(init=False)

    def __post_init__(self) -> None:
        self.path = self.model.path

    async def code_cells(self) -> list[NotebookCell]:
        return await self.model.code_cells()

    def code_cells_now(self) -> list[NotebookCell] | None:
        return self.model.code_cells_now()

    def code_cells_as_read(self) -> list[NotebookCell] | None:
        return self.model.code_cells_as_read()

    def metadata(self) -> dict[str, Any]:
        return self.model.metadata()

    def stamp(self) -> object | None:
        return self.model.stamp()

    def start_run(self, cell_id: str) -> None:
        cell = self.run.cell(cell_id)
        cell.status, cell.execution_count, cell.outputs = RUNNING, None, []
        self.model.start_run(cell_id)

    def show_outputs(self, cell_id: str, outputs: list[dict[str, Any]]) -> None:
        self.run.cell(cell_id).outputs = [dict(o) for o in outputs]
        self.model.show_outputs(cell_id, outputs)

    def finish_run(
        self, cell_id: str, code: str, outputs: list[dict[str, Any]], count: int | None
    ) -> None:
        cell = self.run.cell(cell_id)
        cell.outputs, cell.execution_count = [dict(o) for o in outputs], count
        cell.status = ERROR if _raised(outputs) else DONE
        self.model.finish_run(cell_id, code, outputs, count)

    def on_code_change(self, callback: Callable[[], None] | None) -> None:
        self.model.on_code_change(callback)

    def hold_writes(self, at_once: Collection[str] | None) -> None:
        self.model.hold_writes(at_once)

    def mark_queued(self, cell_ids: list[str], queued: bool) -> None:
        if queued:
            for cell_id in cell_ids:
                self.run.cell(cell_id)
        self.model.mark_queued(cell_ids, queued)


def _upstream(
    runner: KernelRunner, model: NotebookModel, cells: list[NotebookCell], cell: NotebookCell
) -> list[str]:
    """The cells a browser's run of ``cell`` would pull first (the runner decides)."""
    return runner._upstream_plan(model, cells, BrowserRequest(cell_id=cell.id, code=cell.source))


def _downstream_guess(runner: KernelRunner, cells: list[NotebookCell], cell_id: str) -> list[str]:
    """The cells the cascade is expected to run after ``cell_id`` (the answer's plan;
    the cascade decides again after each cell, from what really changed)."""
    try:
        return plan_downstream(runner.state.graph, cells, [cell_id], runner.predicted(cells))
    except CycleError:
        return []


async def _run_in_order(
    runner: KernelRunner, model: NotebookModel, cells: list[NotebookCell], trigger: str
) -> bool:
    """Run ``cells`` one by one as the browser-run pull does; False when one failed
    or a stop was asked."""
    state = runner.state
    state.queued = [cell.id for cell in cells]
    model.mark_queued(state.queued, True)
    ok = True
    try:
        for cell in cells:
            ok = await runner._run_cell(model, cell, trigger)
            if not ok:
                break
    finally:
        await runner._written()
        model.mark_queued(state.queued, False)
        state.end_cascade()
    return ok


async def execute(
    run: Run,
    runner: KernelRunner,
    model: NotebookModel,
    cell_id: str,
    cascade: bool,
    persist: Callable[[Run], Awaitable[None]],
) -> None:
    """Pull, run and cascade ``cell_id`` as a browser run would; then ``persist``.

    The caller counted this run in ``state.pending_cascades`` (the graph is busy
    from the POST on); it is uncounted here when the run ends.
    """
    state, recording = runner.state, RecordingModel(model, run)
    status, message = DONE, None
    try:
        async with state.lock:
            cells = await model.code_cells()
            order = runner._new_order(cells)
            if order is not None or state.replica_outdated:
                await runner._refresh(order)
            by_id = {cell.id: cell for cell in cells}
            if cell_id not in by_id:
                raise LookupError(f"cell {cell_id!r} left the notebook before it could run")
            cell = by_id[cell_id]
            pull = cascade and runner.mode != LAZY
            if pull and runner._may_pull(model, cells, cell_id):
                await runner.prepare_predictions(cells, model.metadata())
            upstream = _upstream(runner, model, cells, cell) if pull else []
            downstream = _downstream_guess(runner, cells, cell_id) if pull else []
            run.plan([*upstream, cell_id, *downstream])
            run.status = RUNNING
            ok = await _run_in_order(
                runner, recording, [by_id[c] for c in upstream] + [cell], cell_id
            )
            stopped = state.was_stopped
            if ok and pull:
                await runner._cascade_down(recording, [cell_id])
                stopped = state.was_stopped
            status = STOPPED if stopped else run.outcome()
    except Exception as error:
        runner._log.warning("cascade: REST run of %s in %s failed: %s", cell_id, run.path, error)
        status, message = ERROR, str(error) or type(error).__name__
    finally:
        state.pending_cascades -= 1
    try:
        await persist(run)
    except Exception as error:
        runner._log.warning("cascade: saving %s after a REST run failed: %s", run.path, error)
        message = message or f"the outputs were not saved: {error}"
    run.finish(status, message)
