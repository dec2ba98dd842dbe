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


async def test_graph_is_persisted_and_pulls_upstream_after_restart(
    jp_fetch: Any, jp_root_dir: Any, make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    sources = ["k = 2", "def f():\n    return k * 3", "print('f is', f())", "z = 9"]
    ids = make_notebook("persist.ipynb", sources)
    client = await open_session("persist.ipynb")
    await client.run_cells(sources, ids)
    await cascade_api.settled("persist.ipynb")

    browser = nbformat.reads((jp_root_dir / "persist.ipynb").read_text(), as_version=4)
    browser.metadata["other_extension"] = {"keep": True}
    await browser_save(jp_fetch, "persist.ipynb", browser)
    saved = nbformat.reads((jp_root_dir / "persist.ipynb").read_text(), as_version=4)
    persisted = saved.metadata["jupyter_cascade"]
    assert "k" in persisted["cells"][ids[2]]["uses"], "globals read by f() are persisted"
    assert {"source": ids[1], "target": ids[2], "symbols": ["f"]} in persisted["edges"]
    assert saved.metadata["other_extension"] == {"keep": True}

    await jp_fetch("api", "kernels", client.kernel_id, "restart", method="POST", body="{}")
    mark = len(client.messages)
    reply = await client.execute(sources[2], ids[2])  # a lower cell first, in a fresh kernel
    assert reply["status"] == "ok", reply
    await cascade_api.settled("persist.ipynb")
    runs = client.executions(mark)
    assert [run.code for run in runs] == sources[:3], "k's cell is pulled through f's body"
    assert runs[2].stdout == "f is 6\n"

    # a partial run never drops persisted entries: z's cell did not run in this kernel
    await browser_save(jp_fetch, "persist.ipynb", saved)
    again = nbformat.reads((jp_root_dir / "persist.ipynb").read_text(), as_version=4)
    assert set(again.metadata["jupyter_cascade"]["cells"]) == set(ids)
    assert again.metadata["jupyter_cascade"]["cells"][ids[3]]["defines"] == ["z"]
