"""The extension's shared state: one runner per kernel, and how to reach notebooks.

Handlers and the websocket proxy receive this object through tornado's
settings (``settings["cascade"]``): no module globals.
"""

from __future__ import annotations

import logging
import sqlite3
import time
from typing import Any

from jupyter_core.utils import ensure_async
from jupyter_server_ydoc.utils import encode_file_path, room_id_from_encoded_path

from .config import Cascade
from .gc_policy import Freezer
from .graph_text import GraphTexts
from .live_sources import SourceWatch
from .notebook import (
    NotebookModel,
    PendingOutputs,
    SavedCells,
    SavedFile,
    SentCode,
    SharedDocument,
)
from .persistence import METADATA_KEY, graph_metadata
from .runner import KernelRunner

_UNRESOLVED = object()
KERNEL_ACTIONS_SCHEMA = "https://events.jupyter.org/jupyter_server/kernel_actions/v1"
CONTENTS_SCHEMA = "https://events.jupyter.org/jupyter_server/contents_service/v1"


class CascadeService:
    """Runners per kernel plus access to sessions, contents and live documents."""

    def __init__(self, serverapp: Any, config: Cascade, log: logging.Logger) -> None:
        self.serverapp = serverapp
        self.config = config
        self.log = log
        self.pending = PendingOutputs()
        self.saved = SavedCells(serverapp.contents_manager)
        self.freezer = Freezer(config.freeze_gc, log)
        #: the graph body's text per kernel, shared by the graph and push endpoints
        self.graph_texts = GraphTexts()
        #: notebook path → collaboration room id, as last found
        self._room_of_path: dict[str, str] = {}
        #: room id → (the room, its live document), as last fetched
        self._documents: dict[str, tuple[Any, Any]] = {}
        #: room id → the watch on the code of the document held for it
        self._watches: dict[str, SourceWatch] = {}
        self.runners: dict[str, KernelRunner] = {}
        #: notebook path → kernel id, as last seen in the session table
        self.kernel_of_path: dict[str, str] = {}
        #: kernel id → notebook path, valid while the session table is unchanged
        self._path_of_kernel: dict[str, str | None] = {}
        self._session_changes = -1
        #: path → saves through the contents manager (counted before and after each
        #: write) and other contents actions, reads included (a page reload after
        #: a ``git pull``): see :meth:`unchanged_now`
        self._touches: dict[str, int] = {}
        self._collaboration_app: Any = _UNRESOLVED

    @property
    def kernel_manager(self) -> Any:
        return self.serverapp.kernel_manager

    def kept_long_lived(self) -> None:
        """A runner kept many objects that live as long as a notebook (see :mod:`.gc_policy`)."""
        self.freezer.after_long_lived(time.monotonic())

    def runner_for(self, kernel_id: str) -> KernelRunner:
        runner = self.runners.get(kernel_id)
        if runner is None:
            runner = KernelRunner(
                kernel_id,
                self.kernel_manager.get_kernel(kernel_id),
                self.config,
                self,
                self.log,
            )
            self.runners[kernel_id] = runner
        return runner

    async def find_path(self, kernel_id: str) -> str | None:
        """The notebook a kernel serves, from jupyter_server's session table.

        Asked twice per run, so answers are cached while the table is unchanged.
        The stock SessionManager keeps it in SQLite, whose ``total_changes``
        counter moves with every insert, update or delete: reading it is free,
        while a query costs ~0.1 ms in a busy server. Other managers are asked
        the public way each time.
        """
        cache = self._session_cache()
        if cache is None:
            return await self._path_from_sessions(kernel_id)
        if kernel_id not in cache:
            cache[kernel_id] = await self._path_from_sessions(kernel_id)
        return cache[kernel_id]

    def find_path_now(self, kernel_id: str) -> str | None:
        """:meth:`find_path` when its cached answer is still valid, else None."""
        cache = self._session_cache()
        return cache.get(kernel_id) if cache is not None else None

    def _session_cache(self) -> dict[str, str | None] | None:
        """kernel id → path answers still valid for the session table (emptied when
        it changed); None when the session manager does not keep it in SQLite."""
        connection = getattr(self.serverapp.session_manager, "connection", None)
        if not isinstance(connection, sqlite3.Connection):
            return None
        if self._session_changes != connection.total_changes:
            self._path_of_kernel.clear()
            self._session_changes = connection.total_changes
        return self._path_of_kernel

    async def _path_from_sessions(self, kernel_id: str) -> str | None:
        sessions = await ensure_async(self.serverapp.session_manager.list_sessions())
        for session in sessions:
            if (session.get("kernel") or {}).get("id") == kernel_id:
                return self._remember(str(session["path"]), kernel_id)
        return None

    def _remember(self, path: str, kernel_id: str) -> str:
        self.kernel_of_path[path] = kernel_id
        return path

    async def find_kernel(self, path: str) -> str | None:
        sessions = await ensure_async(self.serverapp.session_manager.list_sessions())
        for session in sessions:
            if session.get("path") == path and session.get("kernel"):
                self.kernel_of_path[path] = str(session["kernel"]["id"])
                return self.kernel_of_path[path]
        return None

    def _collaboration(self) -> Any:
        """jupyter-collaboration's app, looked up once (the extension list is fixed
        after start-up; building it costs ~50 µs on every run)."""
        if self._collaboration_app is _UNRESOLVED:
            apps = self.serverapp.extension_manager.extension_apps.get("jupyter_server_ydoc")
            self._collaboration_app = next(iter(apps)) if apps else None
        return self._collaboration_app

    async def open_model(self, path: str, runner: KernelRunner | None) -> NotebookModel:
        """The live shared document when a room is open, else the saved file."""
        document = await self._shared_document(path)
        if document is not None:
            return SharedDocument(path, document, self._watch_of(path, document))
        return self._saved_file(path, runner)

    def _watch_of(self, path: str, document: Any) -> SourceWatch | None:
        """The watch on ``document`` when it is the one held for ``path``'s room."""
        room = self._room_of_path.get(path)
        if room is None or room not in self._documents or self._documents[room][1] is not document:
            return None
        watch = self._watches.get(room)
        if watch is None:
            watch = self._watches[room] = SourceWatch(document)
        return watch

    def _saved_file(self, path: str, runner: KernelRunner | None) -> SavedFile:
        sent = runner.sent_code if runner is not None else SentCode()
        return SavedFile(path, self.saved, self.pending, sent, self.config.autosave)

    def open_model_now(self, path: str, runner: KernelRunner) -> NotebookModel | None:
        """:meth:`open_model` without waiting, when the answer is known: no room
        is open, or this path's room is the one whose document we hold. Else None."""
        known, room = self._live_now(path)
        if not known:
            return None
        if room is None:
            return self._saved_file(path, runner)
        document = self._documents[room][1]
        return SharedDocument(path, document, self._watch_of(path, document))

    def unchanged_now(self, path: str, stamp: object, touches: int | None = None) -> bool:
        """Whether ``path``'s cells are still those :meth:`NotebookModel.stamp`
        identified, known at once: the live document we hold has the same code,
        or the saved file is unchanged. ``touches``: what
        :meth:`touches_if_unchanged` said then; while no save or read of the
        file through Jupyter since, and no read of ours that found it changed,
        it stands for an unchanged file without a stat. A file written outside
        Jupyter and not reloaded in a browser is seen at the next read, after
        the reply."""
        known, room = self._live_now(path)
        if not known:
            return False
        if room is None:
            if touches is not None:
                return touches == self._touches.get(path, 0) and self.saved.last_read(path) is stamp
            return stamp is not None and self.saved.current(path) is stamp
        watch = self._watches.get(room)
        return watch is not None and stamp == watch.stamp()

    def touches_if_unchanged(self, path: str, stamp: object) -> int | None:
        """How often ``path`` was saved or read through Jupyter, when its saved
        file is still the one ``stamp`` read (one stat now, off a request's
        way); None when it changed or a live document serves the cells."""
        touches = self._touches.get(path, 0)
        known, room = self._live_now(path)
        if not known or room is not None or stamp is None:
            return None
        return touches if self.saved.current(path) is stamp else None

    def _live_now(self, path: str) -> tuple[bool, str | None]:
        """Where ``path``'s cells are, if known without waiting: (True, None) for
        the saved file (no collaboration room is open); (True, room id) for the
        live document we hold, its room still open; (False, None) otherwise."""
        collaboration = self._collaboration()
        if collaboration is None:
            return True, None
        rooms = _rooms_of(collaboration)
        if rooms is None:
            return False, None
        if not rooms:
            return True, None
        room = self._room_of_path.get(path)
        if room is None or room not in self._documents:
            return False, None
        if rooms.get(room) is not self._documents[room][0]:
            return False, None
        return True, room

    async def _shared_document(self, path: str) -> Any:
        """The notebook's live YNotebook, if a collaboration room holds it.

        Asked on every run, so the common answers are cheap: no room at all
        (nbclassic, scripts), or the room found last time for this path.
        """
        collaboration = self._collaboration()
        if collaboration is None:
            return None
        rooms = _rooms_of(collaboration)
        try:
            if rooms is None:  # another jupyter-collaboration: ask it the long way
                return await collaboration.get_document(
                    path=path, content_type="notebook", file_format="json", copy=False
                )
            if not rooms:
                return None
            room = self._room_of_path.get(path)
            if room is None or room not in rooms:
                room = self._room_of_path[path] = self._room_id(path)
            if room not in rooms:
                self._forget_document(room)  # the room closed: let its document go
                return None
            document = await collaboration.get_document(room_id=room, copy=False)
            if document is not None and room in rooms:
                held = self._documents.get(room)
                if held is None or held[1] is not document:
                    self._forget_document(room)
                self._documents[room] = (rooms[room], document)
            return document
        except Exception:
            self.log.debug("cascade: no shared document for %s", path, exc_info=True)
            return None

    def _forget_document(self, room: str) -> None:
        self._documents.pop(room, None)
        watch = self._watches.pop(room, None)
        if watch is not None:
            watch.close()

    def _room_id(self, path: str) -> str:
        """The collaboration room of a notebook, named as jupyter-collaboration names it."""
        file_id = self.serverapp.web_app.settings["file_id_manager"].index(path)
        return str(room_id_from_encoded_path(encode_file_path("json", "notebook", file_id)))

    def pre_save_hook(self, model: dict[str, Any], path: str, **_: Any) -> None:
        """On every notebook save: merge cascaded outputs (RTC off), persist the graph.

        Only outputs, execution counts and our own metadata key are touched;
        never sources or anyone else's metadata.
        """
        self._touched(path)
        if model.get("type") != "notebook" or not model.get("content"):
            return
        path, notebook = path.strip("/"), model["content"]
        self.saved.save_started(path)
        merged = self.pending.merge_into(path, notebook)
        if merged:
            self.log.info("cascade: merged %d cascaded cell(s) into %s", merged, path)
        runner = self.runners.get(self.kernel_of_path.get(path, ""))
        if runner is not None and runner.state.enabled:
            metadata = notebook.setdefault("metadata", {})
            cell_ids = [c.get("id") for c in notebook.get("cells", []) if c.get("id")]
            metadata[METADATA_KEY] = graph_metadata(
                runner.state.graph, cell_ids, metadata.get(METADATA_KEY)
            )

    def post_save_hook(self, model: dict[str, Any] | None = None, **_: Any) -> None:
        """Counted again once the file is written (an async contents manager
        lets the loop run between the hooks): see :meth:`unchanged_now`."""
        path = str((model or {}).get("path", ""))
        self.saved.save_ended(path.strip("/"))
        self._touched(path)

    async def on_contents_action(self, logger: Any, schema_id: str, data: dict[str, Any]) -> None:
        """A notebook fetched, saved, renamed, copied or deleted through Jupyter:
        the next request looks at the file again (see :meth:`unchanged_now`)."""
        self._touched(str(data.get("path", "")))

    def _touched(self, path: str) -> None:
        path = path.strip("/")
        self._touches[path] = self._touches.get(path, 0) + 1

    async def on_kernel_action(self, logger: Any, schema_id: str, data: dict[str, Any]) -> None:
        """Restarts reset a kernel's graph; shutdowns drop its runner."""
        kernel_id, action = data.get("kernel_id"), data.get("action")
        if kernel_id not in self.runners or data.get("status") != "success":
            return
        if action == "restart":
            self.runners[kernel_id].on_restart()
        elif action == "shutdown":
            await self.runners.pop(kernel_id).close()

    async def close(self) -> None:
        for runner in list(self.runners.values()):
            await runner.close()
        self.runners.clear()


def _rooms_of(collaboration: Any) -> dict[str, Any] | None:
    """jupyter-collaboration's open rooms by id; None from a version we cannot look into."""
    return getattr(getattr(collaboration, "ywebsocket_server", None), "rooms", None)
