"""The dependency graph kept in the notebook's metadata, so it outlives the kernel.

On every save the cells' last-run effects (uses/defines) go under
``metadata["jupyter_cascade"]``; after a fresh kernel start they stand in for
cells that have not run yet, so running a lower cell first pulls the upstream
cells it needs — even through globals read inside functions, which a static
look at the sources alone cannot see. A partial run never drops an entry: a
cell without a new record keeps its persisted one while it exists.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from kernel_agent.core.graph import CellRecord, Edge, Graph
from kernel_agent.core.planning import Effects, NotebookCell

METADATA_KEY = "jupyter_cascade"
FORMAT_VERSION = 1


@lru_cache(maxsize=4096)
def source_digest(source: str) -> str:
    """Kept: admissions check the persisted effects of every never-run cell."""
    return hashlib.sha1(source.encode("utf-8")).hexdigest()


def graph_metadata(graph: Graph, cell_ids: Iterable[str], previous: Any) -> dict[str, Any]:
    """The metadata entry for a save: current records, else the persisted ones."""
    old_cells = previous.get("cells", {}) if isinstance(previous, Mapping) else {}
    cells: dict[str, Any] = {}
    for cell_id in cell_ids:
        record = graph.records.get(cell_id)
        if record is not None:
            cells[cell_id] = {
                "code_sha1": source_digest(record.code),
                "uses": sorted(record.uses),
                "defines": sorted(record.defines),
            }
        elif isinstance(old_cells.get(cell_id), Mapping):
            cells[cell_id] = dict(old_cells[cell_id])
    edges = [
        {"source": e.source, "target": e.target, "symbols": e.symbols}
        for e in _edges_between(cells)
    ]
    return {"version": FORMAT_VERSION, "cells": cells, "edges": edges}


def _edges_between(cells: Mapping[str, Any]) -> list[Edge]:
    """Definer → user edges among persisted cells (for people reading the file)."""
    graph = Graph()
    for ts, (cell_id, data) in enumerate(cells.items()):
        graph.put(CellRecord(cell_id, ts, "", frozenset(data["uses"]), frozenset(data["defines"])))
    return graph.edges()


def persisted_effects(metadata: Any, cells: Iterable[NotebookCell]) -> dict[str, Effects]:
    """Persisted effects of cells whose source is still the code that produced them."""
    entry = metadata.get(METADATA_KEY) if isinstance(metadata, Mapping) else None
    if not isinstance(entry, Mapping) or entry.get("version") != FORMAT_VERSION:
        return {}
    stored = entry.get("cells", {})
    found: dict[str, Effects] = {}
    for cell in cells:
        data = stored.get(cell.id)
        if not isinstance(data, Mapping) or data.get("code_sha1") != source_digest(cell.source):
            continue
        found[cell.id] = Effects(
            frozenset(data.get("uses", [])), frozenset(data.get("defines", []))
        )
    return found
