"""Without RTC, cascaded outputs reach the file only through the browser's own save."""

from __future__ import annotations

import json
from typing import Any

import nbformat


async def browser_save(jp_fetch: Any, path: str, notebook: Any) -> None:
    """PUT the notebook as the browser holds it (nbclassic's save)."""
    body = {"type": "notebook", "format": "json", "content": notebook}
    await jp_fetch("api", "contents", path, method="PUT", body=json.dumps(body))


async def test_browser_save_merges_cascaded_outputs(
    jp_fetch: Any, jp_root_dir: Any, make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    sources = ["x = 1", "print('x is', x)", "print('edited later', x)"]
    ids = make_notebook("classic.ipynb", sources)
    client = await open_session("classic.ipynb", "legacy")
    for source in sources:
        await client.execute(source)  # nbclassic sends no cellId
    await cascade_api.settled("classic.ipynb")
    await client.execute("x = 7")  # an edit of cell 0 the browser has not saved yet
    graph = await cascade_api.settled("classic.ipynb")
    counts = {cell["id"]: cell["execution_count"] for cell in graph["cells"]}

    on_disk = nbformat.reads((jp_root_dir / "classic.ipynb").read_text(), as_version=4)
    assert on_disk.cells[1].outputs == [], "nothing is written behind the browser's back"

    browser = nbformat.v4.new_notebook()
    browser.cells = [nbformat.v4.new_code_cell(s) for s in ["x = 7", sources[1], "print('mine')"]]
    for cell, cell_id in zip(browser.cells, ids, strict=True):
        cell.id = cell_id
    await browser_save(jp_fetch, "classic.ipynb", browser)

    saved = nbformat.reads((jp_root_dir / "classic.ipynb").read_text(), as_version=4)
    assert [cell.source for cell in saved.cells] == ["x = 7", sources[1], "print('mine')"]
    assert saved.cells[1].outputs[0]["text"] == "x is 7\n"
    assert saved.cells[1].execution_count == counts[ids[1]]
    assert saved.cells[2].outputs == [], "a cell the user edited keeps the user's version"
