"""How long a big notebook whose cells mostly never ran stops the server answering.

A user opens a 3,000-cell notebook (cells chained: each reads the one above,
every fifth defines and calls a function) and runs its first 10 cells, then
re-runs the fifth, as JupyterLab sends them. While that happens, another
client asks ``GET /api/status`` every 5 ms on its own connection: the longest
wait for an answer is how long the server's event loop was held, and so how
long every other user of that server saw it frozen. Each server gets the
same session in turn (not both at once, which would share the CPU).

The cascade server must work out what the never-run cells would read and
write (to plan upstream pulls and cascades). Analysing 3,000 sources takes
~0.5 s; until session 8 it ran inside the event loop.

Usage: ``python -m bench.big_notebook [--smoke] [--reps N]``.
"""

from __future__ import annotations

import http.client
import sys
import threading
import time

from .common import CASCADE, STOCK, Bench, Row, main
from .server import JupyterServer

PATH = "first-plan.ipynb"
#: cells run in order after opening, then the one re-run
RUN, RERUN = 10, 5
#: the pinger's pause between two requests, in seconds
PING_EVERY = 0.005


def sources(cells: int) -> list[str]:
    """A chain: cell i reads cell i-1; every fifth cell defines and calls a function."""
    chain = ["v0 = 0"]
    for i in range(1, cells):
        if i % 5 == 0:
            chain.append(f"def f{i}(a):\n    return a + v{i - 1}\nv{i} = f{i}(1)")
        else:
            chain.append(f"v{i} = v{i - 1} + 1")
    return chain


class Pinger:
    """Asks a server for ``/api/status`` until stopped; keeps the longest wait."""

    def __init__(self, server: JupyterServer) -> None:
        self._server = server
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self.waits: list[float] = []

    def __enter__(self) -> Pinger:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", self._server.port, timeout=120)
        headers = {"Authorization": f"token {self._server.token}"}
        try:
            while not self._stop.is_set():
                start = time.perf_counter()
                connection.request("GET", "/api/status", headers=headers)
                connection.getresponse().read()
                self.waits.append(time.perf_counter() - start)
                self._stop.wait(PING_EVERY)
        finally:
            connection.close()


def _session(server: JupyterServer, cells: list[str]) -> Pinger:
    """Open the notebook, run its first cells and re-run one, while pinging."""
    ids = server.write_notebook(PATH, cells)
    with Pinger(server) as pinger:
        sock = server.open_notebook(PATH)
        for cell_id, source in zip(ids[:RUN], cells[:RUN], strict=True):
            sock.execute(source, cell_id)
        sock.execute(cells[RERUN], ids[RERUN])
        sock.drain(0.5)  # the cascade the re-run causes, and its after-run work
    server.close_notebook(sock)
    return pinger


def run(bench: Bench) -> list[Row]:
    cells = bench.size(3000, 60)
    bench.start([STOCK, CASCADE])
    notebook = sources(cells)
    longest = {}
    for name in (STOCK, CASCADE):
        pinger = _session(bench.servers[name], notebook)
        longest[name] = max(pinger.waits)
        bench.note(
            f"big notebook, {name}: {len(pinger.waits)} status requests answered, "
            f"median {sorted(pinger.waits)[len(pinger.waits) // 2] * 1e3:.1f} ms"
        )
    bench.release()
    return [
        Row(
            f"longest server stall, {cells}-cell notebook, first runs",
            longest[STOCK],
            longest[CASCADE],
            "info",
            None,
        )
    ]


if __name__ == "__main__":
    sys.exit(main([run], "A big notebook's first runs: how long the server stops answering."))
