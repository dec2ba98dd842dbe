"""The push endpoint: ``/api/cascade/events?path=<notebook>``, a websocket.

It sends one notebook's graph (exactly the body of ``GET /api/cascade/graph``)
and the cascade's progress, at connect and whenever either changes:

``{"type": "graph", "graph": <body> | null, "progress": {"trigger", "running",
"queued", "done", "total"}}`` (``graph`` null, with a ``message``, while no
kernel session has that path; the socket stays open until one appears).

Changes are found by a cheap version tuple (graph version, queue, running
cell, settings, the notebook's code stamp), looked at every :data:`TICK`
seconds while a client is connected, and at once when the kernel's state says
it moved (:meth:`KernelState.changed`: a reply's report applied, the after-run
pass or a cascade ended). The body is only built when the tuple moved (its
text is kept part by part between changes: :mod:`.graph_text`), and only sent
when it differs from the last one sent. While a cascade runs its progress goes
out at most every :data:`BUSY_TICK`; the start and the end of work go at once.
"""

from __future__ import annotations

import asyncio
import sqlite3
from http import HTTPStatus
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server.auth.decorator import ws_authenticated
from jupyter_server.base.handlers import JupyterHandler
from jupyter_server.base.websocket import WebSocketMixin
from tornado import web
from tornado.escape import json_encode
from tornado.websocket import WebSocketClosedError, WebSocketHandler

from .notebook import NotebookModel, SavedFile, SharedDocument
from .runner import KernelRunner
from .service import CascadeService
from .state import KernelState

#: seconds between two looks at the version tuple (only while a client is connected;
#: a look is a stat and a tuple comparison, ~50 µs): how long a change the kernel's
#: state does not announce (a browser's request, a code edit) waits at most
TICK = 0.02
#: seconds between two messages while a cascade runs: its progress moves with every
#: cell, and a message per cell cost the server (a graph body each) and the pages (a
#: parse and marks each) CPU the cascade itself needs; pages hold a cascade's outputs
#: about as long (the nbextension's HOLD_MS), so nobody sees the difference. A message
#: that starts or ends the work is not held.
BUSY_TICK = 0.06
_IDLE: dict[str, object] = {"trigger": None, "running": None, "queued": [], "done": 0, "total": 0}


class NotebookFeed:
    """The messages for one notebook, built only when something in them changed."""

    def __init__(self, service: CascadeService, path: str) -> None:
        self.service = service
        self.path = path
        self._kernel: tuple[int, str | None] | None = None
        self._version: tuple[Any, ...] | None = None
        self._sent: str | None = None
        #: whether the last message sent showed a cascade running, and when it went
        #: (loop time)
        self.sent_busy = False
        self._sent_at = 0.0
        #: loop time a held change may go (see :meth:`_held`)
        self._due: float | None = None
        #: set when the state of the kernel watched moves (:meth:`KernelState.changed`)
        self._wake = asyncio.Event()
        self._watched: KernelState | None = None

    async def next_message(self) -> str | None:
        """The message to send now, or None when nothing changed since the last one."""
        kernel_id = await self._kernel_id()
        if kernel_id is None:
            self._watch(None)
            absent = {
                "type": "graph",
                "graph": None,
                "progress": _IDLE,
                "message": f"no kernel session for {self.path!r}",
            }
            return self._changed(("no session",), json_encode(absent), busy=False)
        runner = self.service.runner_for(kernel_id)
        self._watch(runner.state)
        model = self.service.open_model_now(self.path, runner)
        if model is None:
            model = await self.service.open_model(self.path, runner)
        stamp = _code_stamp(self.service, model, runner)
        version = _runner_version(kernel_id, runner) + (stamp,)
        if stamp is not None and version == self._version:
            return None
        if self._held(runner.state):
            return None
        cells = await model.code_cells()
        body = self.service.graph_texts.text(self.path, kernel_id, runner, cells)
        progress = json_encode(runner.state.progress())
        message = f'{{"type": "graph", "graph": {body}, "progress": {progress}}}'
        # the read may have moved the stamp (a first read of the file): keep the new one
        stamp = _code_stamp(self.service, model, runner)
        version = _runner_version(kernel_id, runner) + (stamp,)
        return self._changed(version, message, busy=runner.state.busy)

    def _held(self, state: KernelState) -> bool:
        """Whether a change waits: a message while a cascade runs goes at most every
        :data:`BUSY_TICK` after the last one, unless it starts or ends the work."""
        if not (state.busy and self.sent_busy):
            self._due = None
            return False
        due = self._sent_at + BUSY_TICK
        self._due = due if asyncio.get_running_loop().time() < due else None
        return self._due is not None

    def _changed(self, version: tuple[Any, ...], text: str, busy: bool) -> str | None:
        self._version = version
        if text == self._sent:
            return None
        self._sent, self.sent_busy = text, busy
        self._sent_at = asyncio.get_running_loop().time()
        return text

    def _watch(self, state: KernelState | None) -> None:
        """Be woken by ``state``'s changes (and no longer by another kernel's)."""
        if state is self._watched:
            return
        if self._watched is not None:
            self._watched.watchers.discard(self._wake)
        if state is not None:
            state.watchers.add(self._wake)
        self._watched = state

    async def wait(self) -> None:
        """Until the next look: a :data:`TICK`, less when a held change is due,
        or until the kernel's state moves."""
        loop = asyncio.get_running_loop()
        pause = TICK if self._due is None else min(TICK, max(self._due - loop.time(), 0.001))
        timer = loop.call_later(pause, self._wake.set)
        try:
            await self._wake.wait()
        finally:
            timer.cancel()
            self._wake.clear()

    def close(self) -> None:
        self._watch(None)

    async def _kernel_id(self) -> str | None:
        """The session's kernel, asked again only when the session table changed
        (SQLite's ``total_changes``; other session managers are asked each time)."""
        connection = getattr(self.service.serverapp.session_manager, "connection", None)
        changes = connection.total_changes if isinstance(connection, sqlite3.Connection) else -1
        if self._kernel is None or changes < 0 or self._kernel[0] != changes:
            self._kernel = (changes, await self.service.find_kernel(self.path))
        kernel_id = self._kernel[1]
        if kernel_id is not None and kernel_id not in self.service.kernel_manager:
            self._kernel = None  # shut down without its session row gone yet
            return None
        return kernel_id


def _runner_version(kernel_id: str, runner: KernelRunner) -> tuple[Any, ...]:
    state = runner.state
    return (
        kernel_id,
        id(runner),
        state.graph.version,
        state.agent_instance,
        state.enabled,
        state.last_error,
        runner.mode,
        runner.direction,
        state.busy,
        state.running,
        tuple(state.queued),
        state.trigger,
        state.started,
    )


def _code_stamp(service: CascadeService, model: NotebookModel, runner: KernelRunner) -> object:
    """What identifies the notebook's code cells while unchanged; None: unknown."""
    if isinstance(model, SharedDocument):
        return model.watch.stamp() if model.watch is not None else None
    if isinstance(model, SavedFile):
        snapshot = service.saved.current(model.path)
        return None if snapshot is None else (id(snapshot), runner.sent_code.version)
    return None


class EventsHandler(WebSocketMixin, WebSocketHandler, JupyterHandler):  # type: ignore[misc]
    """GET /api/cascade/events?path=<notebook> → a websocket of graph messages.

    Authenticated like jupyter_server's kernel websocket, and authorized to
    read the ``kernels`` resource (it shows a kernel's state and code).
    """

    auth_resource = "kernels"
    _feed_task: asyncio.Task[None] | None = None

    def set_default_headers(self) -> None:
        """No JSON API headers on a websocket (as jupyter_server's kernel websocket)."""

    @property
    def service(self) -> CascadeService:
        return self.settings["cascade"]  # type: ignore[no-any-return]

    async def pre_get(self) -> None:
        allowed = await ensure_async(
            self.authorizer.is_authorized(self, self.current_user, "read", "kernels")
        )
        if not allowed:
            raise web.HTTPError(HTTPStatus.FORBIDDEN)
        self.path = self.get_query_argument("path", default="").strip().strip("/")
        if not self.path:
            raise web.HTTPError(HTTPStatus.BAD_REQUEST, "missing query argument 'path'")

    @ws_authenticated
    async def get(self, *args: Any, **kwargs: Any) -> None:
        await self.pre_get()
        await super().get(*args, **kwargs)

    def open(self, *args: Any, **kwargs: Any) -> None:
        super().open(*args, **kwargs)
        self._feed_task = asyncio.ensure_future(self._feed(NotebookFeed(self.service, self.path)))

    async def _feed(self, feed: NotebookFeed) -> None:
        last_error = ""
        try:
            while True:
                try:
                    message = await feed.next_message()
                    if message is not None:
                        await self.write_message(message)
                    last_error = ""
                except WebSocketClosedError:
                    return
                except Exception as error:  # e.g. the notebook cannot be read (yet): retry
                    if repr(error) != last_error:  # once per distinct error, not every tick
                        last_error = repr(error)
                        self.log.warning("cascade: events for %s: %s", feed.path, error)
                await feed.wait()
        finally:
            feed.close()

    def on_message(self, message: str | bytes) -> None:
        """Clients send nothing; anything they send is ignored."""

    def on_close(self) -> None:
        if self._feed_task is not None:
            self._feed_task.cancel()


def event_handlers(base_url: str) -> list[tuple[str, type]]:
    return [(base_url.rstrip("/") + "/api/cascade/events", EventsHandler)]
