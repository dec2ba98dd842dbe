"""The graph endpoint and the push endpoint on a 3,000-cell notebook (each < 50 ms).

The notebook is graph_memory's (assignments, subscript stores, function
definitions and calls, prints; each cell reads one or two earlier cells), run
cell by cell on the cascade server with the per-run opt-out (see
:mod:`bench.graph_memory`: the set-up would otherwise plan a pull before each
run), then left until the extension says it is not busy.

- *graph endpoint*: ``GET /api/cascade/graph?path=...`` on a kept-alive
  connection, median of the repetitions. The stock column, for scale, is
  ``GET /api/contents/<path>`` of the same notebook on the stock server.
- *push endpoint*: a client of ``/api/cascade/events?path=...`` is connected
  while another re-runs a cell; the time from that run's execute_reply
  reaching its client to the event that shows the cell's new execution count
  reaching the events client (median of the repetitions). It holds the
  server's noticing the change (since issue 24 the feed is woken when the
  reply's report is applied; before, it looked every ``events.TICK``, and
  60 ms after a message sent while the request was in flight), building the
  body (kept part by part between changes: ``server_ext.graph_text``) and
  sending it. Each
  re-run is of a cell near the end whose value nothing below reads, with
  ``cascade`` off, so no cascade's runs land in the time.

Usage: ``python -m bench.big_graph [--smoke] [--reps N]``.
"""

from __future__ import annotations

import json
import sys
import time
from typing import Any

import websocket

from .common import CASCADE, STOCK, Bench, Row, main, median
from .graph_memory import _settle, _time_get, sources
from .server import JupyterServer

TARGET = 0.050
PATH = "big-graph.ipynb"


class Events:
    """A blocking client of the push endpoint."""

    def __init__(self, server: JupyterServer, path: str) -> None:
        url = f"ws://127.0.0.1:{server.port}/api/cascade/events?path={path}"
        # websocket-client checks UTF-8 in pure Python unless told not to:
        # ~0.1 s per 0.7 MB message, which would land in the time measured
        self.ws = websocket.create_connection(
            url,
            header=[f"Authorization: token {server.token}"],
            timeout=120,
            skip_utf8_validation=True,
        )

    def wait_for(self, cell_id: str, count: int, timeout: float = 30) -> float:
        """When (perf_counter) the first event showing ``cell_id`` at ``count`` arrived."""
        deadline = time.perf_counter() + timeout
        while time.perf_counter() < deadline:
            self.ws.settimeout(max(0.01, deadline - time.perf_counter()))
            text = self.ws.recv()
            received = time.perf_counter()
            message: dict[str, Any] = json.loads(text)
            graph = message.get("graph") or {}
            for cell in graph.get("cells", ()):
                if cell["id"] == cell_id and cell["execution_count"] == count:
                    return received
        raise TimeoutError(f"no event with {cell_id} at [{count}]")

    def close(self) -> None:
        self.ws.close()


def _push_times(server: JupyterServer, code: list[str], reps: int, sock: Any) -> list[float]:
    events = Events(server, PATH)
    times = []
    try:
        for rep in range(reps):
            i = len(code) - 1 - rep % 3  # near the end: little below to cascade
            run = sock.execute(code[i], f"c{i}", cascade=False)
            count = run.reply["execution_count"]
            times.append(events.wait_for(f"c{i}", count) - run.replied)
            sock.drain(0.1)
    finally:
        events.close()
    return times


def run(bench: Bench) -> list[Row]:
    cells = bench.size(3000, smoke=40)
    code = sources(cells)
    bench.start([STOCK, CASCADE])
    for name in (STOCK, CASCADE):
        bench.servers[name].write_notebook(PATH, code)
    server = bench.servers[CASCADE]
    sock = server.open_notebook(PATH)
    sock.execute("pass", "warm-up")  # as graph_memory: the agent is in before the opt-outs
    started = time.perf_counter()
    for i, source in enumerate(code):
        sock.execute(source, f"c{i}", cascade=False)
    sock.drain(0.2)
    waited = _settle(server, sock, path=PATH)
    bench.note(
        f"big graph: {cells} opt-out runs took {time.perf_counter() - started:.0f} s; "
        f"the extension stayed busy {waited:.1f} s more"
    )
    reps = bench.repetitions(15, smoke=3)
    graph, body = _time_get(bench, CASCADE, f"/api/cascade/graph?path={PATH}", reps)
    contents, _ = _time_get(bench, STOCK, f"/api/contents/{PATH}?content=1", reps)
    shown = len(body.get("cells", [])) if isinstance(body, dict) else 0
    push = median(_push_times(server, code, reps, sock))
    server.close_notebook(sock)
    bench.note(
        f"big graph: {shown} cells, {len(body.get('edges', [])) if isinstance(body, dict) else 0}"
        " edges in the answer; stock column = GET /api/contents of the same notebook, for scale;"
        " push = a re-run's execute_reply at its client → the event showing it"
    )
    return [
        Row(
            f"graph endpoint, {cells} cells",
            contents,
            graph,
            "< 50 ms",
            graph < TARGET and shown == cells,
            comparable=False,
        ),
        Row(f"push endpoint, {cells} cells, reply → event", None, push, "< 50 ms", push < TARGET),
    ]


if __name__ == "__main__":
    sys.exit(main([run], "Graph and push endpoints on a 3,000-cell notebook."))
