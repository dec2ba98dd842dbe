"""``--execute``: restart-and-run-all in a fresh kernel, compared with the saved outputs.

The kernel named in the notebook's kernelspec (else ``python3``) starts in the
notebook's directory; code cells run top to bottom, each with the per-cell
timeout, and stop at the first error as JupyterLab's "Restart Kernel and Run
All Cells" does, unless the cell is tagged ``raises-exception`` (the cells
below then show nothing: a saved output there is a finding, CC206). Cells
tagged ``nbval-ignore-output`` (nbval's tag) or ``cascade-ignore-output`` run
but their outputs are not compared. Blank cells are not sent (Lab and nbclient
skip them too).
"""

from __future__ import annotations

import queue
import subprocess
import tempfile
import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .findings import CellRef, Finding
from .notebook import Cell, SavedNotebook
from .outputs import differences

IGNORE_TAGS = frozenset({"nbval-ignore-output", "cascade-ignore-output"})
#: JupyterLab's and nbclient's tag for a cell expected to raise: the run goes on after it
RAISES = "raises-exception"
STARTUP_TIMEOUT = 60.0


class ExecutionError(Exception):
    """The kernel could not be started (unknown kernel name, crash at start)."""


@dataclass
class FreshRun:
    """One cell's outputs in the fresh run; ``status`` is ok, error, timeout or not_run."""

    status: str = "not_run"
    outputs: list[dict[str, Any]] = field(default_factory=list)
    execution_count: int | None = None


def execution_findings(
    notebook: SavedNotebook, timeout: float | None, kernel_name: str | None = None
) -> list[Finding]:
    """Findings of every cell whose saved outputs differ from a fresh run's."""
    runs = run_all(notebook, timeout, kernel_name)
    found: list[Finding] = []
    for cell in notebook.cells:
        found.extend(_compare(cell, runs.get(cell.index, FreshRun()), timeout))
    return found


def _compare(cell: Cell, run: FreshRun, timeout: float | None) -> Iterator[Finding]:
    if cell.tags & IGNORE_TAGS:
        return
    ref = CellRef.of(cell)
    if run.status == "timeout":
        yield Finding("CC206", ref, f"did not finish within {timeout:g} s in a fresh run")
    elif run.status == "not_run":
        if cell.outputs and cell.source.strip():
            yield Finding(
                "CC206",
                ref,
                "a fresh run stops before it (an error or timeout above), but it has outputs",
            )
    else:
        for diff in differences(cell.outputs, run.outputs, cell.source):
            yield Finding(diff.rule, ref, f"in a fresh run, {diff.message}")


def run_all(
    notebook: SavedNotebook, timeout: float | None, kernel_name: str | None = None
) -> dict[int, FreshRun]:
    """Each code cell's fresh outputs, by notebook index."""
    from jupyter_client.manager import KernelManager

    with tempfile.TemporaryDirectory(prefix="cascade-check-") as sockets:
        # IPC sockets: no TCP port to race for when several checks start kernels at once
        manager = KernelManager(
            kernel_name=kernel_name or notebook.kernel_name, transport="ipc", ip=f"{sockets}/k"
        )
        return _with_kernel(manager, notebook, timeout)


def _with_kernel(
    manager: Any, notebook: SavedNotebook, timeout: float | None
) -> dict[int, FreshRun]:
    cwd = str(Path(notebook.path).resolve().parent)
    try:
        manager.start_kernel(cwd=cwd, stderr=subprocess.DEVNULL)
    except Exception as error:
        raise ExecutionError(f"cannot start kernel {manager.kernel_name!r}: {error}") from error
    client = manager.client()
    client.start_channels()
    try:
        client.wait_for_ready(timeout=STARTUP_TIMEOUT)
        return _run_cells(manager, client, notebook, timeout)
    except RuntimeError as error:
        raise ExecutionError(f"kernel {manager.kernel_name!r} did not start: {error}") from error
    finally:
        client.stop_channels()
        manager.shutdown_kernel(now=True)


def _run_cells(
    manager: Any, client: Any, notebook: SavedNotebook, timeout: float | None
) -> dict[int, FreshRun]:
    runs: dict[int, FreshRun] = {}
    for cell in notebook.cells:
        if not cell.source.strip():
            continue
        run = runs[cell.index] = _run_cell(client, cell.source, timeout)
        if run.status == "timeout":
            manager.interrupt_kernel()
            break
        if run.status == "error" and RAISES not in cell.tags:
            break
    return runs


def _run_cell(client: Any, source: str, timeout: float | None) -> FreshRun:
    msg_id = client.execute(source, store_history=True, allow_stdin=False, stop_on_error=True)
    run = FreshRun(status="ok")
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        left = None if deadline is None else max(0.0, deadline - time.monotonic())
        try:
            message = client.get_iopub_msg(timeout=left if left is not None else 3600)
        except queue.Empty:
            if deadline is not None and time.monotonic() >= deadline:
                run.status = "timeout"
                return run
            continue
        if message.get("parent_header", {}).get("msg_id") != msg_id:
            continue
        kind, content = message["msg_type"], message["content"]
        if kind == "status" and content.get("execution_state") == "idle":
            return run
        _apply(run, kind, content)


def _apply(run: FreshRun, kind: str, content: Mapping[str, Any]) -> None:
    """One iopub message into the cell's outputs, as the frontend would show them."""
    if kind == "execute_input":
        run.execution_count = content.get("execution_count")
    elif kind == "clear_output":
        run.outputs.clear()
    elif kind == "stream":
        run.outputs.append(
            {"output_type": "stream", "name": content["name"], "text": content["text"]}
        )
    elif kind in ("display_data", "execute_result"):
        output = {"output_type": kind, "data": content.get("data", {})}
        display_id = content.get("transient", {}).get("display_id")
        if display_id:
            output["display_id"] = display_id
        run.outputs.append(output)
    elif kind == "update_display_data":
        display_id = content.get("transient", {}).get("display_id")
        for output in run.outputs:
            if display_id and output.get("display_id") == display_id:
                output["data"] = content.get("data", {})
    elif kind == "error":
        run.status = "error"
        run.outputs.append(
            {"output_type": "error", "ename": content.get("ename"), "evalue": content.get("evalue")}
        )
