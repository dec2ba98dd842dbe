"""The graph body kept between changes (server_ext.graph_text) follows every change.

The graph endpoint and the push endpoint send the same kept text. Through a
real server and kernel: a re-run (the graph), a cascade and marks set with no
new record (the queue and the running cell), the settings and a saved edit
(the notebook's code) each show in both, and both agree.
"""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

from .browser import CascadeApi
from .test_events_controls import Events, post, states
from .test_fast_admission import notebook_of

SOURCES = ["x = 1", "import time; time.sleep(0.6); y = x + 1", "z = y + 1"]


def counts(graph: dict[str, Any] | None) -> dict[str, int | None]:
    return {cell["id"]: cell["execution_count"] for cell in graph["cells"]} if graph else {}


async def both(
    api: CascadeApi, events: Events, path: str, shows: Any, still: bool = True
) -> dict[str, Any]:
    """The graph once the graph endpoint shows what ``shows`` asks and the push
    endpoint too; ``still``: nothing moves after, so the push sends that very body."""
    deadline = time.monotonic() + 10
    while not shows(graph := await api.graph(path)):
        assert time.monotonic() < deadline, f"the graph endpoint never showed it: {graph}"
        await asyncio.sleep(0.02)
    await events.wait_for(lambda m: m["graph"] is not None and shows(m["graph"]))
    if still:
        await events.wait_for(lambda m: m["graph"] == graph)
    return graph


async def test_the_kept_body_follows_graph_queue_running_cell_settings_and_code(
    make_notebook: Any,
    open_session: Any,
    cascade_api: CascadeApi,
    jp_fetch: Any,
    jp_ws_fetch: Any,
    jp_serverapp: Any,
) -> None:
    path = "kept.ipynb"
    ids = make_notebook(path, SOURCES)
    client = await open_session(path)
    await client.run_cells(SOURCES, ids)
    settled = await cascade_api.settled(path)
    assert await cascade_api.graph(path) == settled  # asked twice: the kept text
    events = await Events.connect(jp_ws_fetch, path)
    await events.wait_for(lambda m: m["graph"] == settled)

    # the graph: a re-run moves one count
    reply = await client.execute(SOURCES[2], ids[2])
    await both(cascade_api, events, path, lambda g: counts(g)[ids[2]] == reply["execution_count"])
    assert counts(await cascade_api.settled(path))[ids[0]] == counts(settled)[ids[0]]

    # the queue and the running cell: a cascade from the first cell
    await client.execute("x = 2", ids[0])
    running = await both(
        cascade_api,
        events,
        path,
        lambda g: states(g)[ids[1]] == "running" and states(g)[ids[2]] == "queued",
        still=False,
    )
    assert running["busy"] is True
    done = await both(
        cascade_api,
        events,
        path,
        lambda g: not g["busy"] and set(states(g).values()) == {"fresh"},
    )
    assert counts(done)[ids[2]] > reply["execution_count"]

    # marks that move with no new record (a cascade between two of its runs): set
    # by hand, as the timing of a real cascade cannot be counted on to show them
    state = jp_serverapp.web_app.settings["cascade"].runners[client.kernel_id].state
    state.running, state.queued = ids[0], [ids[2]]
    marked = await both(
        cascade_api,
        events,
        path,
        lambda g: states(g)[ids[0]] == "running" and states(g)[ids[2]] == "queued",
    )
    assert counts(marked) == counts(done)
    state.running = ids[1]
    await both(
        cascade_api,
        events,
        path,
        lambda g: states(g)[ids[1]] == "running" and states(g)[ids[0]] == "fresh",
    )
    state.queued = [ids[0]]
    await both(
        cascade_api,
        events,
        path,
        lambda g: states(g)[ids[0]] == "queued" and states(g)[ids[2]] == "fresh",
    )
    state.running, state.queued = None, []
    await both(cascade_api, events, path, lambda g: set(states(g).values()) == {"fresh"})

    # the settings
    changed = {"path": path, "mode": "lazy", "direction": "any_order"}
    assert (await post(jp_fetch, "mode", changed))["direction"] == "any_order"
    await both(
        cascade_api,
        events,
        path,
        lambda g: g["mode"] == "lazy" and g["direction"] == "any_order",
    )

    # the notebook's code: a saved edit of the last cell
    edited = [*SOURCES[:2], "z = y + 100"]
    body = {"type": "notebook", "format": "json", "content": notebook_of(edited, ids)}
    await jp_fetch("api", "contents", path, method="PUT", body=json.dumps(body))
    graph = await both(cascade_api, events, path, lambda g: states(g)[ids[2]] == "dirty")
    assert graph["cells"][2]["source"] == "z = y + 100"
    assert graph["cells"][2]["reason"] == "edited since it ran"
    events.close()
