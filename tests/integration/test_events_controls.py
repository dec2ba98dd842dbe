"""The push endpoint and the control routes through a real server and kernel."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest
from tornado.httpclient import HTTPClientError

from .browser import CascadeApi


def states(graph: dict[str, Any] | None) -> dict[str, str]:
    return {cell["id"]: cell["state"] for cell in graph["cells"]} if graph else {}


class Events:
    """A client of /api/cascade/events that keeps every message."""

    def __init__(self, ws: Any) -> None:
        self.ws = ws
        self.messages: list[dict[str, Any]] = []
        self._arrived = asyncio.Event()
        self._reader = asyncio.ensure_future(self._read())

    @classmethod
    async def connect(cls, jp_ws_fetch: Any, path: str) -> Events:
        return cls(await jp_ws_fetch("api", "cascade", "events", params={"path": path}))

    async def _read(self) -> None:
        while (frame := await self.ws.read_message()) is not None:
            self.messages.append(json.loads(frame))
            self._arrived.set()

    async def wait_for(self, predicate: Any, timeout: float = 30) -> dict[str, Any]:
        deadline, seen = time.monotonic() + timeout, 0
        while True:
            for message in self.messages[seen:]:
                if predicate(message):
                    return message
            seen = len(self.messages)
            self._arrived.clear()
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no matching event; last: {self.messages[-1:]}")
            await asyncio.wait_for(self._arrived.wait(), remaining)

    def close(self) -> None:
        self.ws.close()
        self._reader.cancel()


async def post(jp_fetch: Any, route: str, body: dict[str, Any]) -> dict[str, Any]:
    response = await jp_fetch("api", "cascade", route, method="POST", body=json.dumps(body))
    return json.loads(response.body)  # type: ignore[no-any-return]


async def lazy_session(
    make_notebook: Any, open_session: Any, api: CascadeApi, jp_fetch: Any, path: str, sources: Any
) -> tuple[Any, list[str]]:
    """Every cell run once in order, then the session switched to lazy."""
    ids = make_notebook(path, sources)
    client = await open_session(path)
    await client.run_cells(sources, ids)
    await api.settled(path)
    assert (await post(jp_fetch, "mode", {"path": path, "mode": "lazy"}))["mode"] == "lazy"
    return client, ids


async def test_events_follow_a_cascade_queued_running_fresh(
    make_notebook: Any, open_session: Any, cascade_api: CascadeApi, jp_ws_fetch: Any
) -> None:
    sources = ["x = 1", "import time; time.sleep(0.3); y = x + 1", "z = y + 1"]
    ids = make_notebook("ev.ipynb", sources)
    events = await Events.connect(jp_ws_fetch, "ev.ipynb")
    first = await events.wait_for(lambda m: m["type"] == "graph")
    assert first["graph"] is None and "no kernel session" in first["message"]

    client = await open_session("ev.ipynb")
    await client.run_cells(sources, ids)
    await cascade_api.settled("ev.ipynb")
    settled = await cascade_api.settled("ev.ipynb")
    assert set(states(settled).values()) == {"fresh"}
    await events.wait_for(lambda m: m["graph"] == settled)  # exactly the REST body

    mark = len(events.messages)
    await client.execute("x = 2", ids[0])
    queued = await events.wait_for(
        lambda m: m["graph"] and states(m["graph"]).get(ids[2]) == "queued", timeout=10
    )
    assert queued["progress"]["trigger"] == ids[0]
    assert queued["progress"]["total"] >= 2
    await events.wait_for(lambda m: states(m["graph"]).get(ids[1]) == "running", timeout=10)
    done = await events.wait_for(
        lambda m: (
            m["graph"] and not m["graph"]["busy"] and set(states(m["graph"]).values()) == {"fresh"}
        )
    )
    assert done["progress"] == {
        "trigger": None,
        "running": None,
        "queued": [],
        "done": 0,
        "total": 0,
    }
    assert len(events.messages) - mark < 40, "messages only when something changed"
    events.close()


async def test_mode_switch_runs_nothing_and_resolve_catches_up(
    make_notebook: Any,
    open_session: Any,
    cascade_api: CascadeApi,
    jp_fetch: Any,
    jp_ws_fetch: Any,
) -> None:
    sources = ["x = 1", "y = x * 10", "print('z', y + 1)", "print('other')"]
    client, ids = await lazy_session(
        make_notebook, open_session, cascade_api, jp_fetch, "res.ipynb", sources
    )
    events = await Events.connect(jp_ws_fetch, "res.ipynb")
    mark = len(client.messages)
    await client.execute("x = 2", ids[0])
    await cascade_api.settled("res.ipynb")
    assert [r.code for r in client.executions(mark)] == ["x = 2"], "lazy: nothing cascades"
    stale = await events.wait_for(lambda m: states(m["graph"]).get(ids[1]) == "stale")
    assert states(stale["graph"])[ids[3]] == "fresh"

    switched = await post(jp_fetch, "mode", {"path": "res.ipynb", "mode": "reactive"})
    assert switched["mode"] == "reactive"
    await asyncio.sleep(0.3)
    graph = await cascade_api.settled("res.ipynb")
    assert client.executions(mark)[-1].code == "x = 2", "a mode switch runs nothing"
    assert graph["mode"] == "reactive" and states(graph)[ids[1]] == "stale"

    answer = await post(jp_fetch, "resolve", {"path": "res.ipynb"})
    assert answer["cells"][0] == ids[1]
    graph = await cascade_api.settled("res.ipynb")
    assert set(states(graph).values()) == {"fresh"}
    runs = {r.code: r for r in client.executions(mark)}
    assert runs[sources[2]].stdout == "z 21\n", "restart-and-run-all's output"
    assert sources[3] not in runs, "fresh cells are left alone"
    direction = await post(jp_fetch, "mode", {"path": "res.ipynb", "direction": "any_order"})
    assert direction == {"path": "res.ipynb", "mode": "reactive", "direction": "any_order"}
    events.close()


async def test_stop_leaves_the_rest_marked(
    make_notebook: Any, open_session: Any, cascade_api: CascadeApi, jp_fetch: Any
) -> None:
    sources = ["x = 1", "import time; time.sleep(1.0); a = x", "b = a + 1", "c = b + 1"]
    ids = make_notebook("stop.ipynb", sources)
    client = await open_session("stop.ipynb")
    await client.run_cells(sources, ids)
    await cascade_api.settled("stop.ipynb")
    assert (await post(jp_fetch, "stop", {"path": "stop.ipynb"}))["stopped"] is False

    mark = len(client.messages)
    await client.execute("x = 2", ids[0])
    deadline = time.monotonic() + 10
    while (await cascade_api.graph("stop.ipynb"))["cells"][1]["state"] != "running":
        assert time.monotonic() < deadline, "the cascade never started"
        await asyncio.sleep(0.02)
    assert (await post(jp_fetch, "stop", {"path": "stop.ipynb"}))["stopped"] is True
    graph = await cascade_api.settled("stop.ipynb")
    assert [r.code for r in client.executions(mark)] == ["x = 2", sources[1]]
    assert states(graph)[ids[2]] == "stale", "the cells not run stay marked"

    await post(jp_fetch, "resolve", {"path": "stop.ipynb"})
    graph = await cascade_api.settled("stop.ipynb")
    assert set(states(graph).values()) == {"fresh"}, "a later cascade is not stopped"


@pytest.mark.parametrize(
    ("route", "body", "code", "words"),
    [
        ("resolve", {}, 400, "path"),
        ("stop", {"path": "nowhere.ipynb"}, 404, "no kernel session"),
        ("mode", {"path": "nowhere.ipynb", "mode": "fast"}, 400, "reactive or lazy"),
    ],
)
async def test_control_errors_are_clear(
    jp_fetch: Any, route: str, body: dict[str, Any], code: int, words: str
) -> None:
    with pytest.raises(HTTPClientError) as error:
        await post(jp_fetch, route, body)
    assert error.value.code == code
    assert words in json.loads(error.value.response.body)["message"]


async def test_resolve_reruns_a_failed_cell_only_when_its_inputs_changed(
    make_notebook: Any, open_session: Any, cascade_api: CascadeApi, jp_fetch: Any
) -> None:
    sources = ["x = 0", "print('ratio', 1 / x)", "print(undefined_name)"]
    ids = make_notebook("err.ipynb", sources)
    client = await open_session("err.ipynb")
    for source, cell_id in zip(sources, ids, strict=True):
        await client.execute(source, cell_id)  # two of them raise, as in a browser
    await cascade_api.settled("err.ipynb")
    assert (await post(jp_fetch, "mode", {"path": "err.ipynb", "mode": "lazy"}))["mode"] == "lazy"
    graph = await cascade_api.settled("err.ipynb")
    assert states(graph)[ids[1]] == states(graph)[ids[2]] == "error"
    mark = len(client.messages)
    await client.execute("x = 4", ids[0])
    graph = await cascade_api.settled("err.ipynb")
    failed = {cell["id"]: cell for cell in graph["cells"]}
    assert failed[ids[1]]["state"] == "error"
    assert "inputs changed" in failed[ids[1]]["reason"] and "x" in failed[ids[1]]["reason"]
    assert failed[ids[2]]["reason"] == "failed at its last run"

    answer = await post(jp_fetch, "resolve", {"path": "err.ipynb"})
    assert answer["cells"] == [ids[1]]
    graph = await cascade_api.settled("err.ipynb")
    runs = {r.code: r for r in client.executions(mark)}
    assert runs[sources[1]].stdout == "ratio 0.25\n", "restart-and-run-all's output"
    assert sources[2] not in runs, "the same inputs would fail the same way"
    assert states(graph)[ids[1]] == "fresh" and states(graph)[ids[2]] == "error"
