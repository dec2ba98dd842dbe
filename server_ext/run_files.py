"""The notebook file around a REST run: reading its code cells, giving old
notebooks cell ids, and saving the run's outputs when no page will.

A browser run's outputs reach the file through the page (its save, merged by
the pre-save hook) or the shared document (the room saves itself). A REST run
with neither has nobody to save for it, so the server saves: it reads the
file again, and the contents manager's pre-save hook
(:meth:`CascadeService.pre_save_hook`) merges the pending outputs into cells
whose source is still the code that ran — a newer edit always wins.
"""

from __future__ import annotations

from typing import Any

from jupyter_core.utils import ensure_async
from nbformat.v4.nbbase import random_cell_id

from .service import CascadeService


async def read_notebook(service: CascadeService, path: str) -> dict[str, Any]:
    """The notebook's content (nbformat dict); LookupError when there is none at ``path``."""
    contents = service.serverapp.contents_manager
    if not await ensure_async(contents.file_exists(path)):
        raise LookupError(f"no notebook at {path!r}")
    try:
        model = await ensure_async(contents.get(path, content=True, type="notebook"))
    except Exception as error:
        raise LookupError(f"{path!r} cannot be read as a notebook") from error
    return dict(model["content"])


async def saved_code_cell_ids(service: CascadeService, path: str) -> list[str | None]:
    """:func:`code_cell_ids` of the saved file, from the server's cached read while
    the file is unchanged (a full read validates the whole notebook: ms a run)."""
    contents = service.serverapp.contents_manager
    if not await ensure_async(contents.file_exists(path)):
        raise LookupError(f"no notebook at {path!r}")
    try:
        snapshot = await service.saved.read(path)
    except Exception as error:
        raise LookupError(f"{path!r} cannot be read as a notebook") from error
    if snapshot.without_id:
        return code_cell_ids(await read_notebook(service, path))
    return [cell_id for cell_id, _ in snapshot.cells]


def code_cell_ids(notebook: dict[str, Any]) -> list[str | None]:
    """Each code cell's id in notebook order (None in notebooks older than nbformat 4.5)."""
    return [
        str(cell["id"]) if cell.get("id") else None
        for cell in notebook.get("cells", [])
        if cell.get("cell_type") == "code"
    ]


async def give_cell_ids(service: CascadeService, path: str) -> list[str | None]:
    """Upgrade a notebook without cell ids to nbformat 4.5, as JupyterLab does at
    its first save: the graph keys every cell by its id. Returns the new ids.

    Only called when no page holds the notebook (see :func:`pages_open`).
    """
    contents = service.serverapp.contents_manager
    model = await ensure_async(contents.get(path, content=True, type="notebook"))
    notebook = model["content"]
    for cell in notebook.get("cells", []):
        if not cell.get("id"):
            cell["id"] = random_cell_id()
    notebook["nbformat_minor"] = max(int(notebook.get("nbformat_minor", 0)), 5)
    await ensure_async(
        contents.save({"type": "notebook", "format": "json", "content": notebook}, path)
    )
    return code_cell_ids(dict(notebook))


async def pages_open(service: CascadeService, kernel_id: str) -> bool:
    """Whether a page (any kernel websocket) is connected to the kernel: then that
    page saves, or the shared document does, and the server must not write."""
    try:
        model = await ensure_async(service.kernel_manager.kernel_model(kernel_id))
    except Exception:
        return False
    return int(model.get("connections") or 0) > 0


async def save_outputs(service: CascadeService, path: str, attempts: int = 5) -> bool:
    """Save the notebook so the file holds the pending outputs of its cells.

    The save goes through the contents manager, whose pre-save hook merges the
    outputs into cells whose source is the code that produced them. Between
    the read and the save, a save by someone else would be lost: the file's
    time is checked just before saving, and the read made again if it moved.
    True when saved.
    """
    contents = service.serverapp.contents_manager
    for _ in range(attempts):
        model = await ensure_async(contents.get(path, content=True, type="notebook"))
        if not service.pending.merge_into(path, _copy(model["content"])):
            return False  # nothing of ours left to put in (edited since, or nothing ran)
        current = await ensure_async(contents.get(path, content=False))
        if current.get("last_modified") != model.get("last_modified"):
            continue
        content = model["content"]
        await ensure_async(
            contents.save({"type": "notebook", "format": "json", "content": content}, path)
        )
        return True
    return False


def _copy(notebook: Any) -> dict[str, Any]:
    """A copy deep enough for a trial merge (cells are replaced, not mutated in place)."""
    return {**notebook, "cells": [dict(cell) for cell in notebook.get("cells", [])]}
