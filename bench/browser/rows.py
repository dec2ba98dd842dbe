"""The rows of the browser bench: chains, marks, opening a big notebook.

Each latency row alternates repetitions between the stock and the cascade
server (stock first in even repetitions, cascade first in odd ones), after
one untimed warm-up run on each. The ratio is the median of the per-repetition
ratios (cascade rep i / stock rep i, made side by side), as in compute.py.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Any

from ..common import Bench, Row, interleaved, median, paired_ratio
from .pages import NotebookPage, route
from .servers import CASCADE, STOCK, BenchServer, busy_cpus
from .stages import FrameLog, format_stages

FRONTEND_NAMES = {"lab": "Lab 4", "notebook": "Notebook 7", "nbclassic": "nbclassic"}
#: keypress → B's output, by frontend (issues 24 and 22)
TWO_CELL_TARGET = {"lab": 0.045, "notebook": 0.045, "nbclassic": 0.060}
#: cascade / stock Run All, quiet and beside two busy processes
CHAIN_TARGET = {"lab": 0.8, "notebook": 0.8, "nbclassic": 1.0}
BUSY_TARGET = 1.0
MARKS_TARGET = 0.100
OPEN_TARGET = 1.1

Servers = dict[str, BenchServer]


def chain(size: int, n: int) -> list[str]:
    """``size`` cells, each reading the one above; the first gives ``n``."""
    if size == 2:
        return [f"x = {n}; x", "y = x * 10; y"]
    return [f"x0 = {n}; x0"] + [f"x{k} = x{k - 1} + 1; x{k}" for k in range(1, size)]


def chain_outputs(size: int, n: int) -> dict[int, str]:
    if size == 2:
        return {0: str(n), 1: str(n * 10)}
    return {k: str(n + k) for k in range(size)}


class Chain:
    """One chain notebook open on both servers, and how each side is timed on it.

    Cascade: Shift+Enter on cell 0 after changing its value, until the last
    cell shows the new value. Stock does not cascade: in the 2-cell chain it
    is timed to cell 0's own new output, in longer chains to the last cell's
    output after Run All (what a stock user does to bring the chain up to date).
    """

    def __init__(self, pages: dict[str, NotebookPage], size: int) -> None:
        self.pages = pages
        self.size = size
        self.n = 1
        self.last: dict[str, float] = {}

    def prepare(self) -> None:
        for page in self.pages.values():
            page.time_run_all(self.size - 1, chain_outputs(self.size, self.n)[self.size - 1])
            page.settle(chain_outputs(self.size, self.n))

    def once(self, name: str) -> float:
        """One timed run on server ``name``; seconds."""
        self.n += 1
        page, n, last = self.pages[name], self.n, self.size - 1
        outputs = chain_outputs(self.size, n)
        page.set_source(0, chain(self.size, n)[0])
        if name == CASCADE:
            result = page.time_key(0, last, outputs[last])
            settled = outputs
        elif self.size == 2:
            result = page.time_key(0, 0, outputs[0])
            settled = {0: outputs[0]}
        else:
            result = page.time_run_all(last, outputs[last])
            settled = outputs
        page.settle(settled)
        self.last = result
        return (result["t1"] - result["t0"]) / 1000

    def measure(self, reps: int) -> dict[str, list[float]]:
        for name in self.pages:  # warm-up: one untimed run each
            self.once(name)
        times: dict[str, list[float]] = {STOCK: [], CASCADE: []}
        for _, name in interleaved([STOCK, CASCADE], reps):
            times[name].append(self.once(name))
        return times


def _pages(
    context: Any, servers: Servers, frontend: str, path: str, sources: list[str]
) -> dict[str, NotebookPage]:
    pages = {}
    for name, server in servers.items():
        server.create_notebook(path, sources)
        pages[name] = NotebookPage.start(context, server, frontend, path)
    for page in pages.values():
        page.wait_ready(len(sources))
    return pages


def _switch(pages: dict[str, NotebookPage], path: str, sources: list[str]) -> None:
    for page in pages.values():
        page.server.create_notebook(path, sources)
        page.switch(path, len(sources))
    for page in pages.values():
        if page.frontend != "lab":  # a new document: loads like a new page
            page.wait_ready(len(sources))


def _check_pages(pages: dict[str, NotebookPage]) -> None:
    """Stock pages show no marks (extension off), cascade pages do."""
    for name, page in pages.items():
        if page.has_marks() != (name == CASCADE):
            raise RuntimeError(f"{name} {page.frontend}: marks shown = {page.has_marks()}")


def frontend_rows(
    bench: Bench, context: Any, servers: Servers, frontend: str, brief: bool = False
) -> list[Row]:
    """The 2-cell and the 20-cell chain (quiet and beside two busy processes).

    ``brief``: the 2-cell chain only (``python -m bench --smoke``).
    """
    label = FRONTEND_NAMES[frontend]
    reps = bench.repetitions(20, smoke=1)
    size = bench.size(20, smoke=5)
    two_path, long_path = f"chain2-{frontend}.ipynb", f"chain{size}-{frontend}.ipynb"
    pages = _pages(context, servers, frontend, two_path, chain(2, 1))
    _check_pages(pages)
    two = Chain(pages, 2)
    two.prepare()
    times = two.measure(reps)
    if frontend == "lab":
        stage_note(bench, pages[CASCADE], two)
    target = TWO_CELL_TARGET[frontend]
    rows = [
        Row(
            f"{label}: 2-cell chain, Shift+Enter → B's output (stock: A's)",
            median(times[STOCK]),
            median(times[CASCADE]),
            f"≤ {target * 1000:.0f} ms",
            median(times[CASCADE]) <= target,
            ratio=paired_ratio(times[CASCADE], times[STOCK]),
        )
    ]
    if brief:
        for page in pages.values():
            page.close()
        return rows
    _switch(pages, long_path, chain(size, 1))
    long = Chain(pages, size)
    long.prepare()
    variants: list[tuple[str, float, Callable[[], AbstractContextManager[Any]]]] = [
        ("", CHAIN_TARGET[frontend], nullcontext)
    ]
    if frontend == "lab" or (frontend == "notebook" and not bench.smoke):
        variants.append((", 2 busy CPU processes", BUSY_TARGET, busy_cpus))
    if frontend == "lab" and not bench.smoke:
        stage_note(bench, pages[CASCADE], long)
    for suffix, ratio_target, beside in variants:
        with beside():
            times = long.measure(reps)
        ratio = paired_ratio(times[CASCADE], times[STOCK])
        rows.append(
            Row(
                f"{label}: {size}-cell chain, Shift+Enter → last output (stock: Run All){suffix}",
                median(times[STOCK]),
                median(times[CASCADE]),
                f"ratio ≤ {ratio_target}",
                ratio <= ratio_target,
                ratio=ratio,
            )
        )
    for page in pages.values():
        page.close()
    return rows


def marks_row(bench: Bench, context: Any, servers: Servers) -> Row:
    """Lazy mode: A re-run; its execute_reply's arrival in the page → B stale and C waiting."""
    server = servers[CASCADE]
    path = "marks-lab.ipynb"
    sources = ["x = 1", "y = x + 1", "z = y + 1"]
    server.create_notebook(path, sources)
    page = NotebookPage.open(context, server, "lab", path, len(sources))
    server.set_mode(path, "lazy")
    page.time_run_all(2, "")
    page.wait_states({0: "fresh", 1: "fresh", 2: "fresh"})
    reps = bench.repetitions(20, smoke=1)
    times = []
    for rep in range(reps + 1):  # the first is the warm-up
        page.set_source(0, f"x = {rep + 2}")
        result = page.time_marks(0, {1: "stale", 2: "waiting"})
        if result["reply"] is None:
            raise RuntimeError("the page saw no execute_reply")
        if rep:
            times.append((result["t1"] - result["reply"]) / 1000)
        page.settle({})
        server.api("POST", "api/cascade/resolve", {"path": path})  # B and C fresh again
        page.wait_states({0: "fresh", 1: "fresh", 2: "fresh"})
        page.settle({})
    page.close()
    return Row(
        "Lab 4: lazy mode, A's execute_reply in the page → B stale, C waiting",
        None,
        median(times),
        f"≤ {MARKS_TARGET * 1000:.0f} ms",
        median(times) <= MARKS_TARGET,
    )


OPEN_READY = """(n) => {
  const app = window.jupyterapp;
  const p = app && app.shell.currentWidget;
  if (!p || !p.context || !p.context.isReady || !p.content || !p.sessionContext) return false;
  if (p.content.widgets.length !== n) return false;
  if (!p.content.widgets[0].node.querySelector('.jp-OutputArea-output')) return false;
  const k = p.sessionContext.session && p.sessionContext.session.kernel;
  if (!k || k.status !== 'idle' || k.connectionStatus !== 'connected') return false;
  return performance.timeOrigin + performance.now();
}"""
MARKED = """() => {
  const p = window.jupyterapp.shell.currentWidget;
  return p.content.widgets[0].node.hasAttribute('data-cascade-state')
    && performance.timeOrigin + performance.now();
}"""


def big_notebook(cells: int) -> dict[str, Any]:
    """``cells`` chained cells, as saved after Run All: outputs and counts."""
    from tests.browser.servers import notebook_json

    nb = notebook_json(["a0 = 0; a0"] + [f"a{i} = a{i - 1} + {i}; a{i}" for i in range(1, cells)])
    value = 0
    for i, cell in enumerate(nb["cells"]):
        value += i
        cell["execution_count"] = i + 1
        cell["outputs"] = [
            {
                "output_type": "execute_result",
                "execution_count": i + 1,
                "data": {"text/plain": str(value)},
                "metadata": {},
            }
        ]
    return nb


def open_rows(bench: Bench, context: Any, servers: Servers) -> list[Row]:
    """Navigation → the notebook usable (see OPEN_READY), a fresh kernel each time."""
    cells = bench.size(500, smoke=40)
    reps = bench.repetitions(7, smoke=1)
    path = f"big-{cells}.ipynb"
    for server in servers.values():
        body = {"type": "notebook", "format": "json", "content": big_notebook(cells)}
        server.api("PUT", f"api/contents/{path}", body)
    times: dict[str, list[float]] = {STOCK: [], CASCADE: []}
    marked: list[float] = []
    warm = 0 if bench.smoke else 1  # smoke: no warm-up (a page load costs seconds)
    for rep, name in interleaved([STOCK, CASCADE], reps + warm):  # rep 0: warm-up
        server = servers[name]
        page = context.new_page()
        start = time.time() * 1000
        page.goto(server.page(route("lab", path)), wait_until="commit")
        ready = page.wait_for_function(OPEN_READY, arg=cells, timeout=120_000, polling=20)
        end = float(ready.json_value())
        if name == CASCADE:
            seen = float(page.wait_for_function(MARKED, timeout=60_000, polling=20).json_value())
        page.close()
        for session in server.api("GET", "api/sessions"):  # the next open starts a kernel
            server.api("DELETE", f"api/sessions/{session['id']}")
        if rep >= warm:
            times[name].append((end - start) / 1000)
            if name == CASCADE:
                marked.append((seen - start) / 1000)
    ratio = paired_ratio(times[CASCADE], times[STOCK])
    bench.note(
        f"open {cells} cells: navigation → every cell in the model, the first cell's output "
        "rendered and the kernel connected and idle; a new page (same browser context, "
        "warm HTTP cache) and a new kernel each time"
    )
    return [
        Row(
            f"Lab 4: open a {cells}-cell notebook with outputs → usable",
            median(times[STOCK]),
            median(times[CASCADE]),
            f"ratio ≤ {OPEN_TARGET}",
            ratio <= OPEN_TARGET,
            ratio=ratio,
        ),
        Row(
            f"Lab 4: open a {cells}-cell notebook → the extension's first marks",
            None,
            median(marked),
            "info",
            None,
        ),
    ]


def stage_note(bench: Bench, page: NotebookPage, chained: Chain) -> None:
    """Cascaded runs recorded through CDP; their per-stage table becomes a note."""
    log = FrameLog(page)
    stages: dict[str, list[float]] = defaultdict(list)
    chained.n = 7_000_000  # a value whose digits no other frame carries
    last = chained.size - 1
    for _ in range(bench.repetitions(10, smoke=1)):
        log.clear()
        chained.once(CASCADE)
        log.drain()
        sources = chain(chained.size, chained.n)
        text = chain_outputs(chained.size, chained.n)[last]
        for stage, ms in log.stages(chained.last["t0"], chained.last["t1"], sources, text).items():
            stages[stage].append(ms)
    log.cdp.detach()
    title = (
        f"Where the time goes: Lab 4, {chained.size}-cell chain, cascade (Shift+Enter on cell 0)"
    )
    bench.note(format_stages(title, stages))
