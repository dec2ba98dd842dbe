"""``%flow`` through a real server and kernel: settings reach the server, preview runs nothing."""

from __future__ import annotations

from typing import Any

from .browser import Execution


async def run(client: Any, api: Any, path: str, code: str, cell_id: str) -> Execution:
    """Run one cell as the browser would, wait for its cascade; return that run."""
    mark = len(client.messages)
    reply = await client.execute(code, cell_id)
    await api.settled(path)
    found = [r for r in client.executions(mark) if r.code == code]
    assert found, f"no execution of {code!r} (reply {reply})"
    return found[0]  # type: ignore[no-any-return]


def states(graph: dict[str, Any]) -> dict[str, str]:
    return {cell["id"]: cell["state"] for cell in graph["cells"]}


async def test_flow_mode_lazy_stops_cascades_and_reactive_resumes(
    make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    sources = ["a = 1", "print('b is', a * 10)", "%flow mode lazy"]
    ids = make_notebook("flow.ipynb", sources)
    client = await open_session("flow.ipynb")
    for source, cell_id in zip(sources[:2], ids[:2], strict=True):
        await run(client, cascade_api, "flow.ipynb", source, cell_id)

    lazy = await run(client, cascade_api, "flow.ipynb", "%flow mode lazy", ids[2])
    assert "mode: lazy" in lazy.stdout
    graph = await cascade_api.settled("flow.ipynb")
    assert graph["mode"] == "lazy", "the server applies the kernel's %flow setting"

    mark = len(client.messages)
    await run(client, cascade_api, "flow.ipynb", "a = 2", ids[0])
    assert [r.code for r in client.executions(mark)] == ["a = 2"], "lazy: nothing cascades"
    assert states(await cascade_api.graph("flow.ipynb"))[ids[1]] == "stale"

    await run(client, cascade_api, "flow.ipynb", "%flow mode reactive", ids[2])
    assert (await cascade_api.graph("flow.ipynb"))["mode"] == "reactive"
    mark = len(client.messages)
    await run(client, cascade_api, "flow.ipynb", "a = 3", ids[0])
    runs = {r.code: r.stdout for r in client.executions(mark)}
    assert runs.get(sources[1]) == "b is 30\n", "reactive again: the dependent cell re-runs"


async def test_flow_direction_and_settings_and_bad_values(
    make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    ids = make_notebook("dir.ipynb", ["%flow"])
    client = await open_session("dir.ipynb")
    shown = await run(client, cascade_api, "dir.ipynb", "%flow", ids[0])
    assert "mode: server default" in shown.stdout
    assert "direction: server default" in shown.stdout

    await run(client, cascade_api, "dir.ipynb", "%flow direction any_order", ids[0])
    graph = await cascade_api.settled("dir.ipynb")
    assert graph["direction"] == "any_order"
    shown = await run(client, cascade_api, "dir.ipynb", "%flow", ids[0])
    assert "direction: any_order" in shown.stdout

    await run(client, cascade_api, "dir.ipynb", "%flow direction default", ids[0])
    assert (await cascade_api.settled("dir.ipynb"))["direction"] == "in_order"

    reply = await client.execute("%flow mode fast", ids[0])
    assert reply["status"] == "error" and reply["ename"] == "UsageError"
    assert "expected one of default, lazy, normal, reactive" in reply["evalue"]
    reply = await client.execute("%flow sideways", ids[0])
    assert reply["status"] == "error" and "unknown %flow command" in reply["evalue"]
    assert (await cascade_api.settled("dir.ipynb"))["mode"] == "reactive"


async def test_flow_preview_lists_cells_without_running_them(
    make_notebook: Any, open_session: Any, cascade_api: Any
) -> None:
    sources = ["x = 1", "y = x + 1", "print('y is', y)", "x = 2", "%flow preview 1"]
    ids = make_notebook("preview.ipynb", sources)
    client = await open_session("preview.ipynb")
    for source, cell_id in zip(sources[:3], ids[:3], strict=True):
        await run(client, cascade_api, "preview.ipynb", source, cell_id)

    mark = len(client.messages)
    shown = await run(client, cascade_api, "preview.ipynb", "%flow preview 1", ids[4])
    assert shown.stdout.splitlines() == [
        "A run of Cell 1 would run, in order (nothing was run):",
        "  Cell 1  the cell itself",
        "  Cell 2  depends on it",
        "  Cell 3  depends on it",
    ]
    assert len(client.executions(mark)) == 1, "a preview runs nothing"

    # a run of the lower `x = 2` does not make Cell 2 stale (issue 20: restart-and-run-all
    # gives Cell 2 the x above it, so neither it nor Cell 3 has anything to catch up on)
    await run(client, cascade_api, "preview.ipynb", sources[3], ids[3])
    shown = await run(client, cascade_api, "preview.ipynb", f"%flow preview {ids[2]}", ids[4])
    assert shown.stdout.splitlines() == [
        "A run of Cell 3 would run, in order (nothing was run):",
        "  Cell 3  the cell itself",
    ]
    assert await cascade_api.preview("preview.ipynb", ids[2]) == [ids[2]]

    shown = await run(client, cascade_api, "preview.ipynb", "%flow preview", ids[4])
    assert shown.stdout.splitlines()[:2] == [
        "A run of Cell 5 would run, in order (nothing was run):",
        "  Cell 5  the cell itself",
    ]
    await run(client, cascade_api, "preview.ipynb", "%flow mode lazy", ids[4])
    shown = await run(client, cascade_api, "preview.ipynb", "%flow preview 3", ids[4])
    assert shown.stdout.strip() == (
        "A run of Cell 3 would run only Cell 3 (lazy mode: nothing cascades)."
    )
