"""A read of a saved notebook that meets a save half written is tried again."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from tornado import web

from server_ext.notebook import SavedCells

NOTEBOOK = {
    "last_modified": None,
    "content": {
        "cells": [{"cell_type": "code", "id": "a", "source": "x = 1"}],
        "metadata": {},
    },
}


class HalfWritten:
    """A contents manager whose first reads find the file empty (mid-save)."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.reads = 0

    def get(self, path: str, content: bool = True, type: str | None = None) -> dict[str, Any]:
        if not content:
            return {"last_modified": None}
        self.reads += 1
        if self.reads <= self.failures:
            raise web.HTTPError(400, "Unreadable Notebook: NotJSONError")
        return NOTEBOOK


def test_a_read_during_a_save_is_tried_again() -> None:
    manager = HalfWritten(failures=3)
    snapshot = asyncio.run(SavedCells(manager).read("n.ipynb"))
    assert manager.reads == 4
    assert snapshot.saved_cells()[0][0].source == "x = 1"


def test_a_file_that_stays_unreadable_still_fails() -> None:
    manager = HalfWritten(failures=1000)
    with pytest.raises(web.HTTPError):
        asyncio.run(SavedCells(manager).read("n.ipynb"))
    assert manager.reads == 20


def test_a_read_waits_for_a_save_of_the_file_to_end() -> None:
    """A read while Jupyter writes the file would make jupyter_server put the backup back
    over the save (it takes a half-written notebook for a corrupt one)."""
    manager = HalfWritten(failures=0)
    saved = SavedCells(manager)

    async def scenario() -> list[str]:
        order: list[str] = []
        saved.save_started("n.ipynb")

        async def save() -> None:
            await asyncio.sleep(0.1)
            order.append("saved")
            saved.save_ended("n.ipynb")

        async def read() -> None:
            await saved.read("n.ipynb")
            order.append("read")

        await asyncio.gather(read(), save())
        return order

    assert asyncio.run(scenario()) == ["saved", "read"]


def test_a_save_that_never_ends_holds_reads_for_a_while_only() -> None:
    saved = SavedCells(HalfWritten(failures=0))
    saved.SAVE_WAIT = 0.05
    saved.save_started("n.ipynb")
    asyncio.run(saved.read("n.ipynb"))


def test_a_half_written_file_on_disk_is_read_again_never_moved(tmp_path: Any) -> None:
    """jupyter_server's own read takes a half-written notebook for a corrupt one: it moves
    the file aside and puts the save's backup back, and when the save has just removed
    that backup, the notebook is gone (seen in the bench). Files are read directly."""
    import nbformat
    from jupyter_server.services.contents.filemanager import AsyncFileContentsManager

    manager = AsyncFileContentsManager(root_dir=str(tmp_path))
    cell = nbformat.v4.new_code_cell("x = 1")
    cell.id = "a"
    text = nbformat.writes(nbformat.v4.new_notebook(cells=[cell]))
    (tmp_path / ".~n.ipynb").write_text(text)  # the save's backup copy
    (tmp_path / "n.ipynb").write_text(text[: len(text) // 2])  # half written

    async def scenario() -> Any:
        reading = asyncio.ensure_future(SavedCells(manager).read("n.ipynb"))
        await asyncio.sleep(0.08)
        (tmp_path / "n.ipynb").write_text(text)  # the save ends
        (tmp_path / ".~n.ipynb").unlink()
        return await reading

    snapshot = asyncio.run(scenario())
    assert snapshot.saved_cells()[0][0].source == "x = 1"
    assert (tmp_path / "n.ipynb").read_text() == text
    assert sorted(p.name for p in tmp_path.iterdir()) == ["n.ipynb"]
