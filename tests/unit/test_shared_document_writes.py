"""A cascade's writes into a live document: together while cells sent ahead run,
at once for the cell the user waits for (``SharedDocument.hold_writes``)."""

from __future__ import annotations

import asyncio

import nbformat
from jupyter_ydoc import YNotebook

from server_ext.notebook import HOLD_SECONDS, SharedDocument


def _document() -> tuple[SharedDocument, list[int]]:
    notebook = nbformat.v4.new_notebook()
    for i in range(4):
        cell = nbformat.v4.new_code_cell(f"x{i} = {i}")
        cell.id = f"c{i}"
        notebook.cells.append(cell)
    ydoc = YNotebook()
    ydoc.set(notebook)
    updates: list[int] = []
    ydoc.ydoc.observe(lambda event: updates.append(1))
    return SharedDocument("n.ipynb", ydoc), updates


def _shown(model: SharedDocument, cell_id: str) -> list[str]:
    ycell = model._ycell(cell_id)
    assert ycell is not None
    return [str(o.get("text", "")) for o in ycell["outputs"]]


def _stream(text: str) -> dict[str, str]:
    return {"output_type": "stream", "name": "stdout", "text": text}


async def _turn() -> None:
    await asyncio.sleep(0)
    await asyncio.sleep(0)


async def test_writes_wait_together_until_the_last_cell_of_the_batch() -> None:
    model, updates = _document()
    model.hold_writes({"c3"})
    model.start_run("c1")
    model.show_outputs("c1", [_stream("one\n")])
    model.finish_run("c1", "x1 = 1", [_stream("one\n")], 5)
    model.start_run("c2")
    await _turn()
    assert updates == [] and _shown(model, "c1") == []  # held

    model.show_outputs("c3", [_stream("three\n")])  # the cell the user waits for
    await _turn()
    assert len(updates) == 1  # everything, in one update
    assert _shown(model, "c1") == ["one\n"] and _shown(model, "c3") == ["three\n"]


async def test_held_writes_go_out_after_the_hold_and_when_it_ends() -> None:
    model, updates = _document()
    model.hold_writes({"c3"})
    model.show_outputs("c1", [_stream("one\n")])
    await asyncio.sleep(HOLD_SECONDS * 2)
    assert len(updates) == 1 and _shown(model, "c1") == ["one\n"]

    model.show_outputs("c2", [_stream("two\n")])
    model.hold_writes(None)  # the batch ended: no more waiting
    await _turn()
    assert len(updates) == 2 and _shown(model, "c2") == ["two\n"]


async def test_without_a_hold_each_turn_writes_at_once() -> None:
    model, updates = _document()
    model.show_outputs("c1", [_stream("one\n")])
    model.show_outputs("c2", [_stream("two\n")])
    await _turn()
    assert len(updates) == 1 and _shown(model, "c2") == ["two\n"]
