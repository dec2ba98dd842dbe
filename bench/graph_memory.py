"""A 1,000-cell notebook: the graph endpoint (< 50 ms) and the agent's memory (< 20 MB).

The client runs the 1,000 cells one by one on each server (v1 websocket,
``cellId`` in the metadata, as JupyterLab's "run cell and advance" does).
Cells mix plain assignments, subscript stores, function definitions and calls
and prints; each reads one or two earlier cells. All but the last 10 cells
are sent with the per-run opt-out (``metadata.cascade = false``): the agent
records them as usual, but the server skips its upstream planning, which is
quadratic in the cells above (see bench.scaling) and would make this set-up
take most of an hour. The last 10 cells run normally and their round trips
give the "trivial cell at the end of a big notebook" row.

- *graph endpoint*: ``GET /api/cascade/graph?path=...`` on a kept-alive
  connection, median of the repetitions. The stock column, for scale, is
  ``GET /api/contents/<path>`` of the same notebook on the stock server.
- *agent memory*: the kernel's resident set size (``/proc/self/statm``, after
  ``gc.collect()``) with the agent minus the stock kernel's, after both ran
  the same cells. The deep size of the agent's own state (everything reachable
  from the agent object except the shell and user objects) is noted too.

Usage: ``python -m bench.graph_memory [--smoke] [--reps N]``.
"""

from __future__ import annotations

import sys
import time

from .common import CASCADE, IPYFLOW, STOCK, Bench, Row, main, median
from .kernel_socket import KernelSocket
from .server import JupyterServer

GRAPH_TARGET, MEMORY_TARGET = 0.050, 20 * 2**20
PATH = "big.ipynb"

RSS = (
    "(__import__('gc').collect(), "
    "int(open('/proc/self/statm').read().split()[1]) * __import__('os').sysconf('SC_PAGE_SIZE'))[1]"
)

AGENT_SIZE = """
def _bench_agent_size():
    import gc, sys, types
    shell = get_ipython()
    agent = shell.user_ns.get("__cascade_agent__")
    if agent is None:
        return -1
    skip = {id(shell), id(shell.user_ns), id(agent)}
    skip |= {id(v) for k, v in shell.user_ns.items() if k != "__cascade_agent__"}
    kinds = (type, types.ModuleType, types.FunctionType, types.BuiltinFunctionType,
             types.CodeType, types.MethodType)
    stack = [v for k, v in vars(agent).items() if k != "shell"]
    seen, total = set(), 0
    while stack:
        obj = stack.pop()
        if id(obj) in seen or id(obj) in skip or isinstance(obj, kinds):
            continue
        seen.add(id(obj))
        total += sys.getsizeof(obj)
        stack.extend(gc.get_referents(obj))
    return total
"""


def sources(cells: int) -> list[str]:
    """Cell i defines ``v<i>`` and reads ``v<i-1>`` (and sometimes an older cell)."""
    out = ["v0 = 1\nd = {}"]
    for i in range(1, cells):
        kind, prev = i % 5, f"v{i - 1}"
        if kind == 0:
            out.append(f"def f{i}(a):\n    return a + {prev}\n\nv{i} = f{i}({i}) % 1000")
        elif kind == 1:
            out.append(f"d['k{i}'] = {prev}\nv{i} = d['k{i}'] + 1")
        elif kind == 2:
            out.append(f"v{i} = ({prev} + v{i // 2}) % 1000")
        elif kind == 3:
            out.append(f"pair{i} = [{prev}, v{i // 3}]\nv{i} = sum(pair{i})")
        else:
            out.append(f"print({prev})\nv{i} = {prev} + 1")
    return out


def _settle(
    server: JupyterServer, sock: KernelSocket, timeout: float = 900, path: str = PATH
) -> float:
    """Seconds until the extension reports no pending work (``busy`` false).

    The websocket is read meanwhile: it answers the server's pings, which
    would otherwise close it after a minute.
    """
    started = time.perf_counter()
    while time.perf_counter() - started < timeout:
        status, body = server.request("GET", f"/api/cascade/graph?path={path}")
        if status == 200 and not body.get("busy"):
            break
        sock.drain(0.5)
    return time.perf_counter() - started


def _run_notebook(
    bench: Bench, name: str, sock: KernelSocket, code: list[str], measured: int
) -> list[float]:
    """Run every cell; the round trips of the last ``measured`` ones (run normally)."""
    first = len(code) - measured
    for i, source in enumerate(code[:first]):
        sock.execute(source, f"c{i}", cascade=False)
    sock.drain(0.2)
    if name == CASCADE:
        waited = _settle(bench.servers[name], sock)
        bench.note(
            f"graph/memory: after the {first} opt-out runs the extension stayed busy "
            f"{waited:.1f} s more (work queued after each reply)"
        )
    times = []
    for i, source in enumerate(code[first:], start=first):
        times.append(sock.execute(source, f"c{i}").round_trip)
        sock.drain(0.05)
    return times


def _time_get(bench: Bench, name: str, url: str, reps: int) -> tuple[float, object]:
    server = bench.servers[name]
    times, body = [], None
    server.request("GET", url)  # warm-up
    for _ in range(reps):
        started = time.perf_counter()
        status, body = server.request("GET", url)
        times.append(time.perf_counter() - started)
        if status != 200:
            raise RuntimeError(f"GET {url}: {status} {body}")
    return median(times), body


def run(bench: Bench) -> list[Row]:
    cells = bench.size(1000, smoke=50)
    code = sources(cells)
    names = [STOCK, CASCADE] + ([IPYFLOW] if bench.ipyflow else [])
    bench.start(names)
    rss, tail = {}, {}
    measured = bench.repetitions(10, smoke=3)
    for name in names:
        server = bench.servers[name]
        server.write_notebook(PATH, code)
        sock = server.open_notebook(PATH, "ipyflow" if name == IPYFLOW else "python3")
        sock.execute("pass", "warm-up")
        tail[name] = median(_run_notebook(bench, name, sock, code, measured))
        sock.drain(0.5)
        rss[name] = sock.evaluate(RSS)
        if name == CASCADE:
            agent_size = sock.evaluate("_bench_agent_size()", AGENT_SIZE)
            bench.note(
                f"agent state at {cells} cells (deep size, no user data): "
                f"{agent_size / 2**20:.2f} MB"
            )
    reps = bench.repetitions(15, smoke=3)
    graph, body = _time_get(bench, CASCADE, f"/api/cascade/graph?path={PATH}", reps)
    contents, _ = _time_get(bench, STOCK, f"/api/contents/{PATH}?content=1", reps)
    shown = len(body.get("cells", [])) if isinstance(body, dict) else 0
    edges = len(body.get("edges", [])) if isinstance(body, dict) else 0
    bench.note(
        f"graph endpoint: {shown} cells, {edges} edges in the answer; "
        "stock column = GET /api/contents of the same notebook, for scale"
    )
    extra = rss[CASCADE] - rss[STOCK]
    bench.note(f"agent memory: kernel RSS with agent − stock = {extra / 2**20:.1f} MB")
    return [
        Row(
            f"graph endpoint, {cells} cells",
            contents,
            graph,
            "< 50 ms",
            graph < GRAPH_TARGET and shown == cells,
            comparable=False,
        ),
        Row(
            f"kernel RSS after {cells} cells (agent = difference)",
            rss[STOCK],
            rss[CASCADE],
            "< 20 MB more",
            extra < MEMORY_TARGET,
            unit="MB",
            ipyflow=rss.get(IPYFLOW),
        ),
        Row(
            f"trivial cell round trip at the end of a {cells}-cell notebook",
            tail[STOCK],
            tail[CASCADE],
            "info",
            None,
            ipyflow=tail.get(IPYFLOW),
        ),
    ]


if __name__ == "__main__":
    sys.exit(main([run], "Graph endpoint and agent memory on a 1,000-cell notebook."))
