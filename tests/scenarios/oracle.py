"""The oracle: restart-and-run-all, in a fresh stock ``python3`` kernel.

It runs the final sources top to bottom like Lab's "Restart Kernel and Run All
Cells", except that it keeps going after an error, so every cell has an
answer; a scenario compares only the cells that ran in its session.
"""

from __future__ import annotations

import queue
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from jupyter_client.manager import KernelManager


@dataclass
class Shown:
    """What a cell shows: its stdout, execute_result texts and error name."""

    stdout: str = ""
    results: list[str] = field(default_factory=list)
    error: str | None = None

    def add(self, msg_type: str, content: dict[str, Any]) -> None:
        if msg_type == "stream" and content.get("name") == "stdout":
            self.stdout += content["text"]
        elif msg_type == "execute_result":
            self.results.append(content["data"].get("text/plain", ""))
        elif msg_type == "error":
            self.error = content["ename"]


def _collect(client: Any, msg_id: str, deadline: float) -> Shown:
    shown = Shown()
    while True:
        try:
            msg = client.get_iopub_msg(timeout=max(deadline - time.monotonic(), 0.01))
        except queue.Empty:
            raise TimeoutError("the oracle kernel did not finish a cell") from None
        if msg["parent_header"].get("msg_id") != msg_id:
            continue
        msg_type, content = msg["msg_type"], msg["content"]
        if msg_type == "status" and content["execution_state"] == "idle":
            return shown
        shown.add(msg_type, content)


def restart_and_run_all(
    sources: list[str], env: dict[str, str], timeout: float = 90
) -> list[Shown]:
    """What each cell shows when a fresh kernel runs ``sources`` in order."""
    with tempfile.TemporaryDirectory(prefix="cascade-oracle-") as cwd:
        # IPC sockets in our own folder: TCP ports picked "free" here can be taken
        # by the server's kernels, started at the same time in another process.
        manager = KernelManager(kernel_name="python3", transport="ipc", ip=f"{cwd}/kernel")
        log = Path(cwd) / "kernel.log"
        with log.open("wb") as output:
            manager.start_kernel(env=env, cwd=cwd, stdout=output, stderr=output)
        client = manager.client()
        client.start_channels()
        try:
            try:
                client.wait_for_ready(timeout=timeout)
            except RuntimeError as error:
                raise RuntimeError(f"{error}; the oracle kernel said:\n{log.read_text()}") from None
            deadline = time.monotonic() + timeout
            shown = []
            for source in sources:
                msg_id = client.execute(source, store_history=True, stop_on_error=False)
                shown.append(_collect(client, msg_id, deadline))
            return shown
        finally:
            client.stop_channels()
            manager.shutdown_kernel(now=True)
