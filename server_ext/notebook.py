"""Where a notebook's cells come from and where cascaded outputs go.

Two places, chosen per notebook when a cascade starts:
- :class:`SharedDocument` — the live RTC document of jupyter-collaboration:
  sources are read from it and outputs written into it, so every open tab
  updates at once and the room's own save persists them.
- :class:`SavedFile` — no room is open (nbclassic, RTC off): sources come from
  the saved file plus the code the browser just sent; outputs wait in
  :class:`PendingOutputs` until the browser's next save merges them in.
"""

from __future__ import annotations

import asyncio
import datetime
import difflib
import functools
import json
import logging
import os
import time
from collections.abc import Callable, Collection, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Protocol

import nbformat
from jupyter_core.utils import ensure_async
from pycrdt import Array, Map, Text
from tornado import web

from kernel_agent.core.planning import NotebookCell

from . import timeline
from .live_sources import SourceWatch

log = logging.getLogger(__name__)

#: how long a write into a live document may wait for others while cells sent ahead
#: run (:meth:`SharedDocument.hold_writes`); the nbclassic page holds as long
HOLD_SECONDS = 0.05


class NotebookModel(Protocol):
    path: str

    async def code_cells(self) -> list[NotebookCell]: ...
    def code_cells_now(self) -> list[NotebookCell] | None:
        """The code cells if known without I/O (a current snapshot, a live document)."""

    def code_cells_as_read(self) -> list[NotebookCell] | None:
        """The code cells as last read, not even checking that the file is unchanged
        (its :meth:`stamp` says which read); None if never read."""

    def metadata(self) -> dict[str, Any]: ...
    def stamp(self) -> object | None:
        """What identifies the cells last read, while unchanged; None if unknown."""

    def start_run(self, cell_id: str) -> None: ...
    def show_outputs(self, cell_id: str, outputs: list[dict[str, Any]]) -> None: ...
    def finish_run(
        self, cell_id: str, code: str, outputs: list[dict[str, Any]], count: int | None
    ) -> None: ...
    def mark_queued(self, cell_ids: list[str], queued: bool) -> None: ...
    def on_code_change(self, callback: Callable[[], None] | None) -> None:
        """Call ``callback`` when a user changes code while it is set (None unsets):
        cells sent ahead must not run an old source (``KernelRunner.cancel_ahead``)."""

    def hold_writes(self, at_once: Collection[str] | None) -> None:
        """While cells sent ahead run (``at_once``: the batch's last cell), writes may
        wait a little to go out together; None: every write at once again."""


def _youtput(output: dict[str, Any]) -> Map:
    value = dict(output)
    if value.get("output_type") == "stream":
        value["text"] = Text(value.get("text", ""))
    return Map(value)


@dataclass
class SharedDocument:
    """A notebook open in a collaboration room; writes show live in every tab."""

    path: str
    document: Any  # jupyter_ydoc.YNotebook
    #: counts the document's code changes, when the server holds the document
    watch: SourceWatch | None = None
    _written: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    _stamp: object | None = None
    #: writes waiting for the loop's next turn (see :meth:`_write`)
    _queued: list[Callable[[], None]] = field(default_factory=list)
    #: the cells of those writes, for the bench's time line (:mod:`server_ext.timeline`)
    _queued_cells: set[str] = field(default_factory=set)
    #: the flush asked for, soon or in :data:`HOLD_SECONDS` (see :meth:`hold_writes`)
    _flush: asyncio.Handle | None = None
    #: while a batch of cells sent ahead runs: the cells whose writes go at once
    _at_once: frozenset[str] | None = None

    async def code_cells(self) -> list[NotebookCell]:
        return self.code_cells_now()

    def code_cells_now(self) -> list[NotebookCell]:
        """The code cells; the same list while the watch sees no code change
        (as the saved file's, callers do not modify it)."""
        watch = self.watch
        if watch is None:
            self._stamp = None
            return self._read_code_cells()
        self._stamp = watch.stamp()
        if watch.kept is not None and watch.kept[0] == watch.version:
            return watch.kept[1]  # type: ignore[no-any-return]
        cells = self._read_code_cells()
        watch.kept = (watch.version, cells)
        return cells

    def _read_code_cells(self) -> list[NotebookCell]:
        return [
            NotebookCell(str(ycell.get("id")), str(ycell.get("source", "")))
            for ycell in self.document.ycells
            if ycell.get("cell_type") == "code" and ycell.get("id")
        ]

    def code_cells_as_read(self) -> list[NotebookCell]:
        return self.code_cells_now()

    def stamp(self) -> object | None:
        """The watch's stamp as of the last ``code_cells`` read (see SourceWatch)."""
        return self._stamp

    def metadata(self) -> dict[str, Any]:
        # YNotebook keeps notebook metadata in its "meta" map; no public accessor.
        meta = self.document._ymeta.get("metadata")
        value = meta.to_py() if isinstance(meta, Map) else meta
        return dict(value or {})

    def _ycell(self, cell_id: str) -> Map | None:
        for ycell in self.document.ycells:
            if ycell.get("id") == cell_id:
                return ycell  # type: ignore[no-any-return]
        return None

    def start_run(self, cell_id: str) -> None:
        self._write(functools.partial(self._start, cell_id), cell_id)

    def show_outputs(self, cell_id: str, outputs: list[dict[str, Any]]) -> None:
        """Bring the document's outputs to ``outputs`` with the smallest change."""
        last = self._queued[-1] if self._queued else None
        if isinstance(last, functools.partial) and (last.func, last.args[:1]) == (
            self._show,
            (cell_id,),
        ):
            self._queued.pop()  # only the newest outputs of a cell count
        self._write(functools.partial(self._show, cell_id, list(outputs)), cell_id)

    def finish_run(
        self, cell_id: str, code: str, outputs: list[dict[str, Any]], count: int | None
    ) -> None:
        self._write(functools.partial(self._finish, cell_id, list(outputs), count), cell_id)

    def mark_queued(self, cell_ids: list[str], queued: bool) -> None:
        self._write(functools.partial(self._mark, list(cell_ids), queued))

    def on_code_change(self, callback: Callable[[], None] | None) -> None:
        if self.watch is not None:
            self.watch.listener = callback

    def hold_writes(self, at_once: Collection[str] | None) -> None:
        """Cells sent ahead finish every few ms, and each write is an update that
        every tab lays out and paints and the room stores: while they run, writes
        wait up to :data:`HOLD_SECONDS` and go out together, except those of the
        cells ``at_once`` (the batch's last: what the user waits for), which take
        every waiting write with them. None: back to the loop's next turn."""
        self._at_once = None if at_once is None else frozenset(at_once)
        if at_once is None and self._queued:
            self._flush_soon()

    def _write(self, change: Callable[[], None], cell_id: str | None = None) -> None:
        """Make ``change`` at the loop's next turn, with every change asked before it.

        A cascade's starts, outputs and ends that come together (cells sent
        ahead run back to back) then reach every tab, and the room's store, as
        one update instead of one each: each update is a broadcast, and the
        page's own kernel messages queue behind them.
        """
        self._queued.append(change)
        if cell_id is not None and timeline.on():
            self._queued_cells.add(cell_id)
        held = self._at_once is not None and cell_id not in self._at_once
        try:
            if not held:
                self._flush_soon()
            elif self._flush is None:
                self._flush = asyncio.get_running_loop().call_later(HOLD_SECONDS, self.flush)
        except RuntimeError:  # no running loop: nothing would flush it later
            self.flush()

    def _flush_soon(self) -> None:
        if isinstance(self._flush, asyncio.TimerHandle):
            self._flush.cancel()
        elif self._flush is not None:
            return  # asked for the next turn already
        self._flush = asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Make the waiting changes now, in one transaction."""
        if self._flush is not None:
            self._flush.cancel()
            self._flush = None
        queued, self._queued = self._queued, []
        cells, self._queued_cells = self._queued_cells, set()
        if not queued:
            return
        with self.document.ydoc.transaction():
            for change in queued:
                try:
                    change()
                except Exception:  # one cell's write must not lose the others'
                    log.exception("cascade: writing into the shared document failed")
        timeline.note("write", *cells)

    def _start(self, cell_id: str) -> None:
        ycell = self._ycell(cell_id)
        if ycell is None:
            return
        youtputs = ycell.get("outputs")
        if isinstance(youtputs, Array):
            youtputs.clear()  # in place: frontends keep a reference to this very array
        else:
            ycell["outputs"] = Array()
        ycell["execution_count"] = None
        ycell["execution_state"] = "running"
        self._written[cell_id] = []

    def _show(self, cell_id: str, outputs: list[dict[str, Any]]) -> None:
        ycell = self._ycell(cell_id)
        if ycell is None:
            return
        youtputs = ycell.get("outputs")
        written = self._written.setdefault(cell_id, [])
        if not isinstance(youtputs, Array):
            youtputs = ycell["outputs"] = Array()
            written.clear()
        keep = 0
        while keep < min(len(written), len(outputs)) and written[keep] == outputs[keep]:
            keep += 1
        if (
            keep < len(written)
            and keep < len(outputs)
            and self._extend_stream(youtputs, keep, written[keep], outputs[keep])
        ):
            keep += 1
        del youtputs[keep:]
        for output in outputs[keep:]:
            youtputs.append(_youtput(output))
        self._written[cell_id] = [dict(o) for o in outputs]

    @staticmethod
    def _extend_stream(youtputs: Array, i: int, old: dict[str, Any], new: dict[str, Any]) -> bool:
        """Append to a growing stream's text in place, as Lab's own executor does."""
        if old.get("output_type") != "stream" or new.get("output_type") != "stream":
            return False
        if old.get("name") != new.get("name") or not new["text"].startswith(old["text"]):
            return False
        ytext = youtputs[i].get("text")
        if not isinstance(ytext, Text):
            return False
        ytext += new["text"][len(old["text"]) :]
        return True

    def _finish(self, cell_id: str, outputs: list[dict[str, Any]], count: int | None) -> None:
        self._show(cell_id, outputs)
        ycell = self._ycell(cell_id)
        if ycell is not None:
            ycell["execution_count"] = count
            ycell["execution_state"] = "idle"
        self._written.pop(cell_id, None)

    def _mark(self, cell_ids: list[str], queued: bool) -> None:
        for cell_id in cell_ids:
            ycell = self._ycell(cell_id)
            if ycell is not None:
                ycell["execution_state"] = "running" if queued else "idle"


@dataclass
class _PendingCell:
    code: str
    outputs: list[dict[str, Any]]
    execution_count: int | None


class PendingOutputs:
    """Cascaded results waiting for the browser's next save (RTC off)."""

    def __init__(self) -> None:
        self._by_path: dict[str, dict[str, _PendingCell]] = {}

    def put(self, path: str, cell_id: str, cell: _PendingCell) -> None:
        self._by_path.setdefault(path, {})[cell_id] = cell

    def discard(self, path: str, cell_id: str) -> None:
        self._by_path.get(path, {}).pop(cell_id, None)

    def get(self, path: str, cell_id: str) -> _PendingCell | None:
        return self._by_path.get(path, {}).get(cell_id)

    def merge_into(self, path: str, notebook: Any) -> int:
        """Put fresher outputs into a notebook about to be saved; never touch sources.

        A result is merged only into a cell whose source is still the code that
        produced it, so a user's edit always wins. Returns the cells updated.
        """
        pending = self._by_path.get(path)
        if not pending:
            return 0
        merged = 0
        for cell in notebook.get("cells", []):
            result = pending.get(cell.get("id", ""))
            source = cell.get("source", "")
            source = "".join(source) if isinstance(source, list) else source
            if result is None or cell.get("cell_type") != "code" or source != result.code:
                continue
            cell["outputs"] = [dict(o) for o in result.outputs]
            cell["execution_count"] = result.execution_count
            merged += 1
        return merged


class SentCode:
    """The code a browser last ran in each cell, and when (a POSIX timestamp).

    Kept in the order of the runs, the newest last (a cell run again moves to
    the end), so a reader of the runs since a save stops at the first older one
    instead of going through every cell ever run. ``version`` counts the notes:
    a reader that kept an answer reads only the runs noted after it.
    """

    def __init__(self) -> None:
        self._runs: dict[str, tuple[str, float, int]] = {}
        self.version = 0

    def note(self, cell_id: str, code: str, at: float) -> None:
        self.version += 1
        self._runs.pop(cell_id, None)
        self._runs[cell_id] = (code, at, self.version)

    def since(self, moment: float, after: int = 0) -> Iterator[tuple[str, str]]:
        """(cell id, code) of the runs at or after ``moment`` and noted after
        version ``after``, newest first."""
        for cell_id, (code, at, version) in reversed(self._runs.items()):
            if at < moment or version <= after:
                return
            yield cell_id, code


@dataclass
class _Snapshot:
    """One read of a saved notebook: its code cells and metadata, and the file's stamp."""

    stamp: object
    saved_at: float
    cells: list[tuple[str, str]]
    metadata: dict[str, Any]
    #: code cells without an id (a notebook older than nbformat 4.5): not in ``cells``
    without_id: int = 0
    _saved: tuple[list[NotebookCell], dict[str, int]] | None = None
    #: (the runs, their version, the cells with them): see :meth:`with_runs`
    _with_runs: tuple[SentCode, int, list[NotebookCell]] | None = None

    def saved_cells(self) -> tuple[list[NotebookCell], dict[str, int]]:
        """The cells with their saved sources, and each id's position; made once
        per read (the caller copies the list before changing it)."""
        if self._saved is None:
            cells = [NotebookCell(cell_id, source) for cell_id, source in self.cells]
            self._saved = cells, {cell.id: i for i, cell in enumerate(cells)}
        return self._saved

    def with_runs(self, sent: SentCode) -> list[NotebookCell]:
        """Each cell's newest code: what ``sent`` ran since this read, else the
        saved source. Kept, and brought up to date with only the runs noted
        since: every admission and cascade asks, and a notebook run cell by
        cell without a save has as many runs to lay over it as cells
        (~2 ms a run at 1,000 cells, profiled). Do not modify the list."""
        kept = self._with_runs
        if kept is not None and kept[0] is sent:
            _, version, cells = kept
            if version == sent.version:
                return cells
        else:
            version, cells = 0, list(self.saved_cells()[0])
        positions = self.saved_cells()[1]
        for cell_id, code in sent.since(self.saved_at, version):
            position = positions.get(cell_id)
            if position is not None and cells[position].source != code:
                cells[position] = NotebookCell(cell_id, code)
        self._with_runs = sent, sent.version, cells
        return cells


class SavedCells:
    """Code cells of saved notebooks, re-read only when the file changed.

    A full ``contents_manager.get`` reads, validates and trust-checks the whole
    notebook (and logs a trust warning): too slow to do on every run, and the
    file only changes when a browser saves. The file's stamp (``os.stat`` for
    file-backed managers, ``last_modified`` from a content-less get otherwise)
    tells when to read again.
    """

    #: seconds a read waits for a save of the same file to finish (a save that failed
    #: never reports its end)
    SAVE_WAIT = 2.0

    def __init__(self, contents_manager: Any) -> None:
        self.contents_manager = contents_manager
        self._snapshots: dict[str, _Snapshot] = {}
        #: API path → when a save through Jupyter started writing it (until it ended)
        self._saving: dict[str, float] = {}
        #: API path → file system path (resolving one costs ~0.1 ms; root_dir is fixed)
        self._os_paths: dict[str, str] = {}

    def _os_path(self, path: str) -> str | None:
        os_path = self._os_paths.get(path)
        if os_path is None:
            resolve = getattr(self.contents_manager, "_get_os_path", None)
            if resolve is None:
                return None
            os_path = self._os_paths[path] = resolve(path)
        return os_path

    def _file_stamp(self, os_path: str) -> object:
        try:
            info = os.stat(os_path)
        except OSError:
            return None
        return (info.st_mtime_ns, info.st_size, info.st_ino)

    async def _stamp(self, path: str) -> object:
        os_path = self._os_path(path)
        if os_path is not None:
            return self._file_stamp(os_path)
        model = await ensure_async(self.contents_manager.get(path, content=False))
        return model.get("last_modified")

    def save_started(self, path: str) -> None:
        self._saving[path] = time.monotonic()

    def save_ended(self, path: str) -> None:
        self._saving.pop(path, None)

    async def _after_save(self, path: str) -> None:
        """Until no save through Jupyter is writing ``path``.

        jupyter_server writes a notebook in place (truncate, then write; the
        backup copy ``.~name`` is what makes it atomic), and a read that finds the
        file half written takes it for a corrupt file: it moves it aside and puts
        the backup back, so the save lands in the moved file and the path keeps
        the old notebook. With pages that save themselves after a cascade (the
        nbclassic nbextension) our readers would meet saves often.
        """
        while (started := self._saving.get(path)) is not None:
            if time.monotonic() - started > self.SAVE_WAIT:
                self._saving.pop(path, None)
                return
            await asyncio.sleep(0.01)

    async def read(self, path: str) -> _Snapshot:
        await self._after_save(path)
        stamp = await self._stamp(path)
        known = self._snapshots.get(path)
        if known is not None and stamp is not None and known.stamp == stamp:
            return known
        model = await self._get(path)
        modified = model.get("last_modified")
        cells, without_id = [], 0
        for cell in model["content"].get("cells", []):
            if cell.get("cell_type") != "code":
                continue
            if not cell.get("id"):
                without_id += 1
                continue
            source = cell.get("source", "")
            cells.append((str(cell["id"]), "".join(source) if isinstance(source, list) else source))
        snapshot = _Snapshot(
            stamp,
            modified.timestamp() if hasattr(modified, "timestamp") else 0.0,
            cells,
            dict(model["content"].get("metadata") or {}),
            without_id,
        )
        self._snapshots[path] = snapshot
        return snapshot

    async def _get(self, path: str, attempts: int = 20) -> Any:
        """The notebook's model; a read that met a save half written is tried again.

        jupyter_server's atomic writing rewrites the file in place (its backup copy
        is what makes it atomic), so a read during a save can find it empty or cut
        short: with pages that save themselves after a cascade (the nbclassic
        nbextension) the graph's readers meet that often. A file on disk is read
        here, not through the contents manager: a read of the manager's that
        meets a half-written file moves the file aside and puts the backup back,
        and when the save has just removed that backup the notebook is gone
        (seen in the bench: a page saving after each cascade, our reader between).
        """
        os_path = self._os_path(path)
        for attempt in range(attempts):
            try:
                if os_path is not None:
                    return await self._read_file(path, os_path)
                return await ensure_async(
                    self.contents_manager.get(path, content=True, type="notebook")
                )
            except web.HTTPError as error:
                if error.status_code != HTTPStatus.BAD_REQUEST or attempt == attempts - 1:
                    raise
                await asyncio.sleep(0.025)
        raise AssertionError("unreachable")

    @staticmethod
    async def _read_file(path: str, os_path: str) -> dict[str, Any]:
        """The model of a notebook on disk, read without ever changing the file;
        400 while a save has it half written, as the contents manager's read."""
        try:
            content, modified = await asyncio.to_thread(_load_notebook, os_path)
        except FileNotFoundError as error:
            raise web.HTTPError(HTTPStatus.NOT_FOUND, f"no notebook {path!r}") from error
        except Exception as error:
            raise web.HTTPError(
                HTTPStatus.BAD_REQUEST, f"unreadable notebook {path!r}: {error}"
            ) from error
        when = datetime.datetime.fromtimestamp(modified, tz=datetime.timezone.utc)
        return {"content": content, "last_modified": when}

    def last_read(self, path: str) -> _Snapshot | None:
        """The snapshot of ``path``'s last read, whether or not the file changed since."""
        return self._snapshots.get(path)

    def current(self, path: str) -> _Snapshot | None:
        """The snapshot of ``path`` if the file is known unchanged, without I/O beyond a stat."""
        known = self.last_read(path)
        os_path = self._os_paths.get(path)
        if known is None or os_path is None or known.stamp is None:
            return None
        return known if self._file_stamp(os_path) == known.stamp else None

    def forget(self, path: str) -> None:
        self._snapshots.pop(path, None)


@dataclass
class SavedFile:
    """A notebook with no live document: the saved file plus what the browser sent."""

    path: str
    saved: SavedCells
    pending: PendingOutputs
    sent_code: SentCode
    autosave: bool = True
    _metadata: dict[str, Any] = field(default_factory=dict)
    _snapshot: _Snapshot | None = None

    def metadata(self) -> dict[str, Any]:
        """The saved file's metadata, as of the last ``code_cells`` read."""
        return self._metadata

    def stamp(self) -> object | None:
        """The snapshot the last ``code_cells`` read: :meth:`SavedCells.current`
        returns this same object while the file is unchanged."""
        return self._snapshot

    async def code_cells(self) -> list[NotebookCell]:
        return self._cells(await self.saved.read(self.path))

    def code_cells_now(self) -> list[NotebookCell] | None:
        snapshot = self.saved.current(self.path)
        return None if snapshot is None else self._cells(snapshot)

    def code_cells_as_read(self) -> list[NotebookCell] | None:
        snapshot = self.saved.last_read(self.path)
        return None if snapshot is None else self._cells(snapshot)

    def _cells(self, snapshot: _Snapshot) -> list[NotebookCell]:
        """Each cell's newest code (:meth:`_Snapshot.with_runs`): what a browser
        ran since the last save, else the saved source (an edit saved after the
        run, not run yet, makes the cell dirty). A copy: callers may change it."""
        self._metadata, self._snapshot = snapshot.metadata, snapshot
        return list(snapshot.with_runs(self.sent_code))

    def start_run(self, cell_id: str) -> None:
        return None

    def show_outputs(self, cell_id: str, outputs: list[dict[str, Any]]) -> None:
        return None

    def finish_run(
        self, cell_id: str, code: str, outputs: list[dict[str, Any]], count: int | None
    ) -> None:
        if self.autosave:
            self.pending.put(self.path, cell_id, _PendingCell(code, list(outputs), count))

    def mark_queued(self, cell_ids: list[str], queued: bool) -> None:
        return None

    def on_code_change(self, callback: Callable[[], None] | None) -> None:
        return None  # the saved file: what a cascade runs changes only on save

    def hold_writes(self, at_once: Collection[str] | None) -> None:
        return None  # nothing is shown from here: pages follow the kernel's messages


def _load_notebook(os_path: str) -> tuple[Any, float]:
    """A notebook file as nbformat 4 (older ones converted) and its mtime; off the loop."""
    with open(os_path, encoding="utf-8") as file:
        text = file.read()
    modified = os.stat(os_path).st_mtime
    content = json.loads(text)
    if content.get("nbformat", 0) < 4:
        content = nbformat.reads(text, as_version=4)
    return content, modified


def match_cell(
    cells: list[NotebookCell],
    code: str,
    defines_of: Callable[[str], frozenset[str]] | None = None,
) -> str | None:
    """Which cell a request without a cellId (nbclassic) ran, by its code.

    An exact unique match wins. Otherwise the edit of a cell not saved yet:
    among cells defining the same names, the most similar source, if clearly
    the best; any cell only when very similar. Ambiguity gives None.
    """
    exact = [cell.id for cell in cells if cell.source == code]
    if len(exact) == 1:
        return exact[0]
    if exact:
        return None
    candidates, threshold = cells, 0.75
    if defines_of is not None and (wanted := defines_of(code)):
        same = [cell for cell in cells if defines_of(cell.source) == wanted]
        if same:
            candidates, threshold = same, 0.5
    scored = sorted(
        ((difflib.SequenceMatcher(None, c.source, code).ratio(), c.id) for c in candidates),
        reverse=True,
    )
    if not scored or scored[0][0] < threshold:
        return None
    if len(scored) > 1 and scored[0][0] - scored[1][0] < 0.1:
        return None
    return scored[0][1]
