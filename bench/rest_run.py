"""A trivial cell run over REST against the same run from a websocket client
(target: < 5 ms added, median).

Both run ``x = 1`` as cell ``c0`` of a one-cell notebook on the cascade
server, interleaved, on the same kernel:

- *websocket*: as JupyterLab sends it; the time from sending the
  execute_request to the kernel's ``status: idle`` for it (the outputs are
  complete then);
- *REST*: ``POST /api/cascade/run {"path", "cell": "c0"}`` (cascade on), then
  ``GET /api/cascade/runs/<id>?wait=30``, answered when it is done (its
  outputs are written then), on a kept-alive connection.

The websocket stays connected, as a page would be: the server then leaves
saving to the page. An informational row gives the REST run with no page
open, where the server also saves the notebook file before answering "done".

Usage: ``python -m bench.rest_run [--smoke] [--reps N]``.
"""

from __future__ import annotations

import sys
import time

from .common import CASCADE, Bench, Row, main, median
from .kernel_socket import KernelSocket
from .server import JupyterServer

ADDED = 0.005
CODE = "x = 1"
PATH, NO_PAGE = "rest.ipynb", "rest_nopage.ipynb"


def rest_run(server: JupyterServer, path: str, start_kernel: bool = False) -> float:
    """Seconds from POST run to its status reading done."""
    body = {"path": path, "cell": "c0", "start_kernel": start_kernel}
    started = time.perf_counter()
    status, answer = server.request("POST", "/api/cascade/run", body)
    if status != 202:
        raise RuntimeError(f"POST run answered {status}: {answer}")
    while True:  # a long poll: answered when the run ended
        status, run = server.request("GET", f"/api/cascade/runs/{answer['id']}?wait=30")
        if run["status"] not in ("queued", "running"):
            break
    elapsed = time.perf_counter() - started
    if run["status"] != "done":
        raise RuntimeError(f"REST run ended {run['status']}: {run}")
    return elapsed


def websocket_run(sock: KernelSocket) -> float:
    run = sock.execute(CODE, "c0")
    return run.idle - run.sent


def _measure(server: JupyterServer, sock: KernelSocket, reps: int) -> tuple[list[float], ...]:
    ws: list[float] = []
    rest: list[float] = []
    alone: list[float] = []
    for rep in range(reps):
        first, second = (ws, rest) if rep % 2 == 0 else (rest, ws)
        for times in (first, second):
            times.append(websocket_run(sock) if times is ws else rest_run(server, PATH))
            sock.drain(0.05)
        alone.append(rest_run(server, NO_PAGE))
        time.sleep(0.05)
    return ws, rest, alone


def run(bench: Bench) -> list[Row]:
    bench.start([CASCADE])
    server = bench.servers[CASCADE]
    server.write_notebook(PATH, [CODE])
    server.write_notebook(NO_PAGE, [CODE])
    sock = server.open_notebook(PATH)
    for _ in range(5):  # warm-up: agent loaded, caches filled
        websocket_run(sock)
        sock.drain(0.05)
        rest_run(server, PATH)
        rest_run(server, NO_PAGE, start_kernel=True)
        sock.drain(0.1)
    ws, rest, alone = _measure(server, sock, bench.repetitions(60, smoke=4))
    server.request("DELETE", f"/api/sessions/{_session_of(server, NO_PAGE)}")
    bench.note(
        "REST run: the stock column is the same run from a websocket client on the cascade "
        "server (send → idle); REST = POST run → GET runs/<id>?wait= answers done"
    )
    added = median(rest) - median(ws)
    return [
        Row(
            "REST run of a trivial cell vs websocket (added)",
            median(ws),
            median(rest),
            "< 5 ms added",
            added < ADDED,
        ),
        Row(
            "REST run of a trivial cell, no page open (server saves)",
            median(ws),
            median(alone),
            "info",
            None,
        ),
    ]


def _session_of(server: JupyterServer, path: str) -> str:
    _, sessions = server.request("GET", "/api/sessions")
    return next(s["id"] for s in sessions if s["path"] == path)


if __name__ == "__main__":
    sys.exit(main([run], "A REST run of a trivial cell against a websocket run."))
