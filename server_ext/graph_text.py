"""The graph body as JSON text, shared by the graph endpoint and the push endpoint.

At 3,000 cells the body of ``GET /api/cascade/graph`` is ~0.7 MB. Built as a
dict and encoded whole, it cost ~20 ms of the server's loop per request and
per push, while a re-run of one cell mostly changes that cell's count. So each
part is kept with what it rests on, and only what moved is worked out again:

- the cells' states (:func:`cell_states`, which a re-run can move anywhere
  below it): per graph version, direction and code cells;
- each cell's JSON object: looked at again only when its record, state or
  queued/running mark moved, or it has a reason (a reason names other cells'
  counts); encoded again only when its row changed;
- the ``cells`` list: per graph version, direction, code cells, running cell
  and queue;
- the ``edges`` list: per graph :attr:`~Graph.shape` (a re-run that reads and
  writes what it did keeps it) and code cells;
- the whole text: per the parts and the head's fields (mode, busy, ...).

The text parses to exactly :func:`.handlers.graph_body`'s dict (same keys in
the same order, same values); like tornado's ``json_encode``, ``</`` is written
``<\\/``, so the text is safe inside an HTML page.
"""

from __future__ import annotations

import weakref
from collections.abc import Iterable
from typing import Any

from tornado.escape import json_encode

from kernel_agent.core.graph import CellRecord, Graph
from kernel_agent.core.planning import NotebookCell, arrange, cell_states

from .cell_states import SILENT, CellRow, CellRows, cell_json
from .runner import KernelRunner

#: what the rows were last looked at against: the states, each position's
#: record, and the queued or running cells
_Checked = tuple[dict[str, str], list[CellRecord | None], set[str]]


def graph_head(path: str, kernel_id: str, runner: KernelRunner) -> dict[str, Any]:
    """The fields of the graph body before its cells and edges (both endpoints')."""
    state = runner.state
    return {
        "path": path,
        "kernel_id": kernel_id,
        "mode": runner.mode,
        "direction": runner.direction,
        "busy": state.busy,
        "available": state.enabled is not False,
        "reason": state.last_error,
    }


class GraphText:
    """One kernel's graph body as text, kept part by part (see the module)."""

    def __init__(self) -> None:
        self._graph: Graph | None = None
        #: the code cells the kept parts were made for, their ids and positions
        self._cells: list[NotebookCell] = []
        self._ids: list[str] = []
        self._positions: dict[str, int] = {}
        self._states: tuple[tuple[int, str], dict[str, str]] | None = None
        #: per position: the row last encoded, and its JSON
        self._rows: list[CellRow | None] = []
        self._parts: list[str] = []
        self._checked: _Checked | None = None
        self._cells_text: tuple[tuple[Any, ...], str] | None = None
        self._edges_text: tuple[int, str] | None = None
        self._body: tuple[tuple[str, str, str], str] | None = None

    def text(
        self, path: str, kernel_id: str, runner: KernelRunner, cells: list[NotebookCell]
    ) -> str:
        """The body of ``GET /api/cascade/graph?path=`` for ``cells``, as JSON text."""
        graph = runner.state.graph
        arrange(graph, cells, runner.direction)  # may move the version: read it after
        if graph is not self._graph or cells != self._cells:
            self._new_cells(graph, cells)
        head = json_encode(graph_head(path, kernel_id, runner))
        key = (head, self._cells_json(runner), self._edges_json(graph))
        if self._body is None or self._body[0] != key:
            head, cells_text, edges_text = key
            self._body = key, f'{head[:-1]}, "cells": {cells_text}, "edges": {edges_text}}}'
        return self._body[1]

    def _new_cells(self, graph: Graph, cells: list[NotebookCell]) -> None:
        """Other code cells (or another graph): every part is made again."""
        self._graph, self._cells = graph, list(cells)
        self._ids = [cell.id for cell in cells]
        self._positions = {cell_id: i for i, cell_id in enumerate(self._ids)}
        self._rows, self._parts = [None] * len(cells), [""] * len(cells)
        self._states = self._checked = self._cells_text = self._edges_text = None

    def _cells_json(self, runner: KernelRunner) -> str:
        state, graph = runner.state, runner.state.graph
        key = (graph.version, runner.direction, state.running, tuple(state.queued))
        if self._cells_text is not None and self._cells_text[0] == key:
            return self._cells_text[1]
        states = self._cell_states(runner)
        rows = CellRows(runner, self._cells, states)
        records = list(map(graph.records.get, self._ids))
        marked = {*state.queued, *([state.running] if state.running else [])}
        for i in self._suspects(states, records, marked):
            row = rows.row(i)
            if self._rows[i] != row:
                self._rows[i], self._parts[i] = row, json_encode(cell_json(row))
        self._checked = states, records, marked
        self._cells_text = key, f"[{', '.join(self._parts)}]"
        return self._cells_text[1]

    def _suspects(
        self, states: dict[str, str], records: list[CellRecord | None], marked: set[str]
    ) -> Iterable[int]:
        """The positions whose row may have changed since the last look: all at
        first; then the cells whose record, state or mark moved, and every cell
        with a reason (it names other cells' counts and states)."""
        if self._checked is None:
            return range(len(self._ids))
        old_states, old_records, old_marked = self._checked
        ids = self._ids
        found = {i for i, cell_id in enumerate(ids) if states[cell_id] not in SILENT}
        if records != old_records:
            found.update(
                i for i, (a, b) in enumerate(zip(records, old_records, strict=True)) if a is not b
            )
        if states != old_states:
            found.update(
                i for i, cell_id in enumerate(ids) if states[cell_id] != old_states[cell_id]
            )
        if marked or old_marked:
            marks = marked | old_marked
            found.update(i for i, cell_id in enumerate(ids) if cell_id in marks)
        return found

    def _cell_states(self, runner: KernelRunner) -> dict[str, str]:
        graph = runner.state.graph
        key = (graph.version, runner.direction)
        if self._states is None or self._states[0] != key:
            self._states = key, cell_states(graph, self._cells, runner.direction)
        return self._states[1]

    def _edges_json(self, graph: Graph) -> str:
        if self._edges_text is None or self._edges_text[0] != graph.shape:
            known = self._positions
            edges = [
                {"source": e.source, "target": e.target, "symbols": e.symbols}
                for e in graph.edges()
                if e.source in known and e.target in known
            ]
            self._edges_text = graph.shape, json_encode(edges)
        return self._edges_text[1]


class GraphTexts:
    """A :class:`GraphText` per runner, gone with the runner (a shut-down kernel's)."""

    def __init__(self) -> None:
        self._texts: weakref.WeakKeyDictionary[KernelRunner, GraphText] = (
            weakref.WeakKeyDictionary()
        )

    def text(
        self, path: str, kernel_id: str, runner: KernelRunner, cells: list[NotebookCell]
    ) -> str:
        """:meth:`GraphText.text` with ``runner``'s kept parts."""
        found = self._texts.get(runner)
        if found is None:
            found = self._texts[runner] = GraphText()
        return found.text(path, kernel_id, runner, cells)
