"""With jupyter-collaboration on, cascaded outputs go into the live shared document."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import nbformat
import pytest

from .collaboration import open_shared_notebook


@pytest.fixture
def rtc() -> bool:
    return True


def text_of(cell: dict[str, Any]) -> str:
    return "".join(out.get("text", "") for out in cell.get("outputs", []))


async def test_collaborator_sees_cascaded_outputs_and_they_are_saved(
    jp_fetch: Any,
    jp_http_port: int,
    jp_base_url: str,
    jp_auth_header: dict[str, str],
    jp_root_dir: Any,
    make_notebook: Any,
    open_session: Any,
    cascade_api: Any,
) -> None:
    sources = ["x = 1", "print('double', x * 2)", "print('other')"]
    ids = make_notebook("rtc.ipynb", sources)
    async with open_shared_notebook(
        jp_fetch, jp_http_port, jp_base_url, jp_auth_header, "rtc.ipynb"
    ) as shared:
        client = await open_session("rtc.ipynb")
        await client.run_cells(sources, ids)
        await cascade_api.settled("rtc.ipynb")

        await client.execute("x = 21", ids[0])
        graph = await cascade_api.settled("rtc.ipynb")
        cells = await shared.wait_until(
            lambda cells: text_of(cells[1]) == "double 42\n" and cells[1]["execution_count"]
        )
        counts = {cell["id"]: cell["execution_count"] for cell in graph["cells"]}
        assert cells[1]["execution_count"] == counts[ids[1]]
        assert text_of(cells[2]) == "", "the unrelated cell was not re-run"

        deadline = time.monotonic() + 30
        while True:  # the room saves on its own, ~document_save_delay after the change
            saved = nbformat.reads((jp_root_dir / "rtc.ipynb").read_text(), as_version=4)
            if text_of(saved.cells[1]) == "double 42\n":
                break
            assert time.monotonic() < deadline, "cascaded output never reached the file"
            await asyncio.sleep(0.1)
        assert saved.cells[0].source == "x = 1", "the server never writes sources"


async def test_user_edit_during_a_cascade_is_never_overwritten(
    jp_fetch: Any,
    jp_http_port: int,
    jp_base_url: str,
    jp_auth_header: dict[str, str],
    jp_root_dir: Any,
    make_notebook: Any,
    open_session: Any,
    cascade_api: Any,
) -> None:
    sources = [
        "x = 1",
        "import time\nif x > 1:\n    time.sleep(1.5)\nprint('slow', x)",
        "print('fast', x)",
    ]
    ids = make_notebook("edit.ipynb", sources)
    async with open_shared_notebook(
        jp_fetch, jp_http_port, jp_base_url, jp_auth_header, "edit.ipynb"
    ) as shared:
        client = await open_session("edit.ipynb")
        await client.run_cells(sources, ids)
        await cascade_api.settled("edit.ipynb")

        await client.execute("x = 2", ids[0])
        await shared.wait_until(lambda cells: cells[1].get("execution_count") is None)
        edited = "print('my edit', x)"
        ysource = shared.notebook.ycells[2]["source"]
        with shared.notebook.ydoc.transaction():
            del ysource[0 : len(str(ysource))]
            ysource.insert(0, edited)  # typed while cell 1 is still running
        await cascade_api.settled("edit.ipynb")
        cells = await shared.wait_until(
            lambda cells: text_of(cells[1]) == "slow 2\n" and text_of(cells[2]) == "my edit 2\n"
        )
        assert cells[2]["source"] == edited, (
            "the cascade ran the user's new code, never reverted it"
        )

        deadline = time.monotonic() + 30
        while True:
            saved = nbformat.reads((jp_root_dir / "edit.ipynb").read_text(), as_version=4)
            if saved.cells[2].source == edited and text_of(saved.cells[1]) == "slow 2\n":
                break
            assert time.monotonic() < deadline, "the edit or the output never reached the file"
            await asyncio.sleep(0.1)


async def test_live_edit_above_is_pulled_before_a_rerun(
    jp_fetch: Any,
    jp_http_port: int,
    jp_base_url: str,
    jp_auth_header: dict[str, str],
    make_notebook: Any,
    open_session: Any,
    cascade_api: Any,
) -> None:
    """A re-run in a settled notebook skips admission only while the live
    document's code is unchanged: a collaborator's edit above it, typed and
    not run, makes the next re-run pull that cell first."""
    sources = ["x = 1", "print('y', x + 1)", ""]
    ids = make_notebook("live.ipynb", sources)
    async with open_shared_notebook(
        jp_fetch, jp_http_port, jp_base_url, jp_auth_header, "live.ipynb"
    ) as shared:
        client = await open_session("live.ipynb")
        await client.run_cells(sources[:2], ids[:2])
        await cascade_api.settled("live.ipynb")
        await client.execute(sources[1], ids[1])  # a re-run in the settled notebook
        await cascade_api.settled("live.ipynb")

        ysource = shared.notebook.ycells[0]["source"]
        with shared.notebook.ydoc.transaction():
            del ysource[0 : len(str(ysource))]
            ysource.insert(0, "x = 50")
        deadline = time.monotonic() + 30
        while True:  # until the server's copy of the document has the edit
            graph = await cascade_api.graph("live.ipynb")
            if {c["id"]: c["state"] for c in graph["cells"]}[ids[0]] == "dirty":
                break
            assert time.monotonic() < deadline, "the edit never reached the server"
            await asyncio.sleep(0.05)

        runs = await cascade_api.runs_caused_by(client, "live.ipynb", sources[1], ids[1])
        assert [run.code for run in runs] == ["x = 50", sources[1]]
        assert runs[-1].stdout == "y 51\n"
