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
