"""The server's step between cascaded cells (target: median < 5 ms).

A notebook of 200 cells where cell 0 (``x = 0``) feeds every other cell
(``y<i> = x + <i>``). After running all cells once, the client re-runs cell 0
and the server cascades the 199 others. For consecutive cascaded runs k and
k+1 the gap is the kernel's header date of run k's ``status: idle`` to the
header date of run k+1's ``status: busy``: the time the kernel sat idle
between the two, which is the server's scheduling step plus the message
transport (both dates come from the kernel's clock, so no clock skew).

The stock column is the same measure when the client itself runs cells
1..199 one after another (sending the next request when the previous one is
idle): what a fast client loop costs without the extension.

Usage: ``python -m bench.cascade_gap [--smoke] [--reps N]``.
"""

from __future__ import annotations

import sys

from .common import CASCADE, STOCK, Bench, Row, main, median
from .kernel_socket import KernelSocket, Message, kernel_time

TARGET = 0.005
PATH = "fan_out.ipynb"


def sources(cells: int) -> list[str]:
    return ["x = 0"] + [f"y{i} = x + {i}" for i in range(1, cells)]


def _state(msg: Message) -> str | None:
    return msg.content.get("execution_state") if msg.msg_type == "status" else None


def idle_to_busy_gaps(messages: list[Message], run_ids: list[str]) -> list[float]:
    """Kernel-clock seconds from each run's idle to the next run's busy."""
    busy: dict[str, float] = {}
    idle: dict[str, float] = {}
    for msg in messages:
        if _state(msg) == "busy":
            busy.setdefault(msg.parent_id, kernel_time(msg.date))
        elif _state(msg) == "idle":
            idle[msg.parent_id] = kernel_time(msg.date)
    return [
        busy[b] - idle[a]
        for a, b in zip(run_ids, run_ids[1:], strict=False)
        if a in idle and b in busy
    ]


def _cascaded_runs(sock: KernelSocket, trigger: str, expected: int, timeout: float) -> list[str]:
    """Read until ``expected`` cascaded runs (other parents with execute_input) are idle."""
    runs: list[str] = []
    done: set[str] = set()
    while len(done & set(runs)) < expected:
        msg = sock.receive(timeout)
        if msg is None:
            break  # the cascade stopped short: report what ran
        if msg.parent_id == trigger:
            continue
        if msg.msg_type == "execute_input" and msg.parent_id not in runs:
            runs.append(msg.parent_id)
        elif _state(msg) == "idle":
            done.add(msg.parent_id)
    return runs


def _cascade(sock: KernelSocket, cells: int, timeout: float) -> tuple[list[float], int]:
    mark = len(sock.messages)
    trigger = sock.execute("x = 0", "c0").msg_id
    runs = _cascaded_runs(sock, trigger, cells - 1, timeout)
    return idle_to_busy_gaps(sock.messages[mark:], runs), len(runs)


def _client_loop(sock: KernelSocket, code: list[str]) -> list[float]:
    mark = len(sock.messages)
    sock.execute(code[0], "c0")
    runs = [sock.execute(source, f"c{i}").msg_id for i, source in enumerate(code) if i > 0]
    return idle_to_busy_gaps(sock.messages[mark:], runs)


def run(bench: Bench) -> list[Row]:
    cells = bench.size(200, smoke=20)
    code = sources(cells)
    bench.start([STOCK, CASCADE])
    sockets = {}
    for name in (STOCK, CASCADE):
        server = bench.servers[name]
        ids = server.write_notebook(PATH, code)
        sockets[name] = sock = server.open_notebook(PATH)
        for cell_id, source in zip(ids, code, strict=True):
            sock.execute(source, cell_id)
        sock.drain(0.5)
    reps = bench.repetitions(5, smoke=1)
    stock_medians, cascade_medians, short = [], [], []
    for _ in range(reps):
        stock_medians.append(median(_client_loop(sockets[STOCK], code)))
        gaps, ran = _cascade(sockets[CASCADE], cells, timeout=10)
        if ran < cells - 1 or not gaps:
            short.append(ran)
        if gaps:
            cascade_medians.append(median(gaps))
        sockets[CASCADE].drain(0.2)
    if short:
        bench.note(f"cascade gap: cascades ran {short} of {cells - 1} cells")
    bench.note(
        "cascade gap: kernel header dates, idle of cascaded run k → busy of run k+1; "
        "stock = the client sending cells 1.. one by one; ipyflow cascades are driven by "
        "its JupyterLab extension over a comm, so there is no headless equivalent"
    )
    cascade = median(cascade_medians) if cascade_medians else None
    passed = cascade is not None and cascade < TARGET and not short
    return [
        Row(
            f"cascade step, {cells}-cell fan-out (median gap)",
            median(stock_medians),
            cascade,
            "< 5 ms",
            passed,
        )
    ]


if __name__ == "__main__":
    sys.exit(main([run], "Gap between cascaded cells on a fan-out notebook."))
