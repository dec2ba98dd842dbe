"""A jupyter-collaboration client: the shared notebook as another tab sees it."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable
from typing import Any

from httpx_ws import aconnect_ws
from jupyter_ydoc import YNotebook
from pycrdt import Provider
from pycrdt.websocket.websocket import HttpxWebsocket


class SharedNotebook:
    """A live YNotebook kept in sync with the server's room."""

    def __init__(self) -> None:
        self.notebook = YNotebook()
        self._changed = asyncio.Event()
        self.notebook.observe(lambda *_: self._changed.set())

    def cells(self) -> list[dict[str, Any]]:
        return self.notebook.get()["cells"]  # type: ignore[no-any-return]

    async def wait_until(
        self, predicate: Callable[[list[dict[str, Any]]], bool], timeout: float = 30
    ) -> list[dict[str, Any]]:
        """Wait for a document change that makes ``predicate`` true."""
        deadline = time.monotonic() + timeout
        while True:
            cells = self.cells()
            if predicate(cells):
                return cells
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"shared document never matched; cells: {cells}")
            self._changed.clear()
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self._changed.wait(), remaining)


@contextlib.asynccontextmanager
async def open_shared_notebook(
    jp_fetch: Any, port: int, base_url: str, auth_header: dict[str, str], path: str
) -> AsyncIterator[SharedNotebook]:
    """Join the notebook's collaboration room as JupyterLab does."""
    response = await jp_fetch(
        "api",
        "collaboration",
        "session",
        path,
        method="PUT",
        body=json.dumps({"format": "json", "type": "notebook"}),
    )
    session = json.loads(response.body)
    room = f"json:notebook:{session['fileId']}"
    url = (
        f"http://127.0.0.1:{port}{base_url}api/collaboration/room/{room}"
        f"?sessionId={session['sessionId']}"
    )
    shared = SharedNotebook()
    async with (
        aconnect_ws(url, headers=auth_header) as ws,
        Provider(shared.notebook.ydoc, HttpxWebsocket(ws, room)),
    ):
        await shared.wait_until(lambda cells: len(cells) > 0)
        yield shared
