"""Requests forwarded untouched keep what admission promises.

In a settled notebook (every code cell fresh) a browser's execute request goes
to the kernel before the server reads it, and the agent's report comes back
unasked in the reply. These tests change what "settled" rests on between two
runs and check the user still sees restart-and-run-all results.
"""

from __future__ import annotations

import json
from typing import Any

import nbformat
from jupyter_client.session import Session


def notebook_of(sources: list[str], ids: list[str]) -> Any:
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    for cell, cell_id in zip(notebook.cells, ids, strict=True):
        cell.id = cell_id
    return notebook


async def settled_after_a_rerun(make_notebook: Any, open_session: Any, cascade_api: Any) -> Any:
    """A notebook whose cells all ran, then a re-run: requests now go untouched."""
    sources = ["x = 1", "print('y', x + 1)", ""]  # most notebooks end with a blank cell
    ids = make_notebook("settled.ipynb", sources)
    client = await open_session("settled.ipynb")
    await client.run_cells(sources[:2], ids[:2])  # frontends never send a blank cell
    await cascade_api.settled("settled.ipynb")
    await client.execute(sources[1], ids[1])  # a re-run in the settled notebook
    await cascade_api.settled("settled.ipynb")
    return client, sources, ids


async def test_saved_edit_above_is_pulled_before_a_rerun(
    make_notebook: Any, open_session: Any, cascade_api: Any, jp_fetch: Any
) -> None:
    client, sources, ids = await settled_after_a_rerun(make_notebook, open_session, cascade_api)

    # The browser saves an edit of the first cell without running it.
    body = {
        "type": "notebook",
        "format": "json",
        "content": notebook_of(["x = 50", *sources[1:]], ids),
    }
    await jp_fetch("api", "contents", "settled.ipynb", method="PUT", body=json.dumps(body))
    runs = await cascade_api.runs_caused_by(client, "settled.ipynb", sources[1], ids[1])
    assert [run.code for run in runs] == ["x = 50", sources[1]]
    assert runs[-1].stdout == "y 51\n"


async def test_an_edit_written_outside_jupyter_is_pulled_by_the_next_run_at_the_latest(
    make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    """A settled notebook's requests are not held for a look at the file:
    only saves through Jupyter are counted then. A file written by another
    program is read again after the reply, so the run after is admitted
    with it (the browser shows neither until it reloads)."""
    client, sources, ids = await settled_after_a_rerun(make_notebook, open_session, cascade_api)

    make_notebook("settled.ipynb", ["x = 50", *sources[1:]])
    first = await cascade_api.runs_caused_by(client, "settled.ipynb", sources[1], ids[1])
    runs = first + await cascade_api.runs_caused_by(client, "settled.ipynb", sources[1], ids[1])
    assert [run.code for run in runs].count("x = 50") == 1
    assert runs[-1].stdout == "y 51\n"


async def test_a_run_the_server_never_saw_still_reaches_the_graph(
    make_notebook: Any, open_session: Any, cascade_api: Any, jp_serverapp: Any
) -> None:
    """Another client of the kernel (here one made in the server process, as
    other extensions make them) gets the agent's report in its reply; the next
    report the server reads starts after it, so the server must notice the gap
    and fetch the missing record, and keep its own channel to the kernel."""
    sources = ["a = 1", "b = a + 1", "c = 3"]
    ids = make_notebook("gap.ipynb", sources)
    client = await open_session("gap.ipynb")
    await client.run_cells(sources[:1], ids[:1])
    await cascade_api.settled("gap.ipynb")

    direct = jp_serverapp.kernel_manager.get_kernel(client.kernel_id).client()
    direct.start_channels()
    try:
        session: Session = direct.session
        request = session.msg(
            "execute_request",
            {"code": sources[1], "silent": False, "store_history": True},
            metadata={"cellId": ids[1]},
        )
        direct.shell_channel.send(request)
        while True:
            reply = await direct.get_shell_msg(timeout=60)
            if reply["parent_header"].get("msg_id") == request["header"]["msg_id"]:
                break
        assert reply["content"]["status"] == "ok"
    finally:
        direct.stop_channels()

    await client.execute(sources[2], ids[2])
    graph = await cascade_api.settled("gap.ipynb")
    states = {cell["id"]: cell["state"] for cell in graph["cells"]}
    assert states == {ids[0]: "fresh", ids[1]: "fresh", ids[2]: "fresh"}
    edges = {(e["source"], e["target"]) for e in graph["edges"]}
    assert (ids[0], ids[1]) in edges


async def test_a_rerun_nothing_reads_leaves_later_edits_cascading(
    make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    """Re-running the last cell changes nothing another cell reads: the server
    notes the notebook still settled at the reply. An edited run above it,
    forwarded untouched, must still cascade down to it."""
    sources = ["x = 1", "y = x", "print('c', y)"]
    ids = make_notebook("leaf.ipynb", sources)
    client = await open_session("leaf.ipynb")
    await client.run_cells(sources, ids)
    await cascade_api.settled("leaf.ipynb")
    for _ in range(2):
        runs = await cascade_api.runs_caused_by(client, "leaf.ipynb", sources[2], ids[2])
        assert [run.stdout for run in runs] == ["c 1\n"]

    # The browser edits the middle cell (unsaved) and runs it.
    runs = await cascade_api.runs_caused_by(client, "leaf.ipynb", "y = x * 10", ids[1])
    assert [run.code for run in runs] == ["y = x * 10", sources[2]]
    assert runs[-1].stdout == "c 10\n"


async def test_a_notebook_reloaded_after_an_outside_write_is_pulled_at_once(
    make_notebook: Any, open_session: Any, cascade_api: Any, jp_fetch: Any
) -> None:
    """``git pull``, then the browser reloads the notebook: its fetch through
    Jupyter makes the next request look at the file before it goes."""
    client, sources, ids = await settled_after_a_rerun(make_notebook, open_session, cascade_api)

    make_notebook("settled.ipynb", ["x = 50", *sources[1:]])
    await jp_fetch("api", "contents", "settled.ipynb", method="GET")
    runs = await cascade_api.runs_caused_by(client, "settled.ipynb", sources[1], ids[1])
    assert [run.code for run in runs] == ["x = 50", sources[1]]
    assert runs[-1].stdout == "y 51\n"
