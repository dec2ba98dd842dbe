"""A trivial cell's round trip over the websocket (target ≤ 1.3× and < 5 ms added).

The time is from sending an execute_request for ``x = 1`` to receiving its
execute_reply. Two ways of sending:

- *isolated*: the client waits for 50 ms of silence after each reply, as a
  person running one cell at a time does; this is the target row;
- *back to back*: the next request leaves as soon as the previous one is
  idle, as fast as a client can; work the server does after a reply shows up
  here as delay of the next request.

An informational row compares back-to-back runs with the shipped stock
server, which leaves Nagle's algorithm on (see :mod:`bench.nodelay`). Two
more give the CPU time the server process and the kernel process used per
isolated run (``/proc/<pid>/stat``): unlike wall times, these hardly move
when other programs compete for the machine.

Usage: ``python -m bench.roundtrip [--smoke] [--reps N]``.
"""

from __future__ import annotations

import sys

from .common import (
    CASCADE,
    IPYFLOW,
    NAGLE,
    STOCK,
    Bench,
    Row,
    interleaved,
    main,
    median,
)
from .kernel_socket import KernelSocket
from .server import cpu_seconds

KERNEL_PID = "__import__('os').getpid()"

RATIO, ADDED = 1.3, 0.005
PATH = "trivial.ipynb"
CODE = "x = 1"


def _open(bench: Bench, names: list[str]) -> dict[str, KernelSocket]:
    sockets = {}
    for name in names:
        server = bench.servers[name]
        server.write_notebook(PATH, [CODE])
        sockets[name] = sock = server.open_notebook(
            PATH, "ipyflow" if name == IPYFLOW else "python3"
        )
        for _ in range(5):  # warm-up: agent loaded, caches filled
            sock.execute(CODE, "c0")
        sock.drain(0.2)
    return sockets


def _isolated(
    bench: Bench, sockets: dict[str, KernelSocket], reps: int
) -> tuple[dict[str, list[float]], dict[str, tuple[float, float]]]:
    """Round trips, and (server, kernel) CPU seconds per run, of isolated runs."""
    pids = {n: (bench.servers[n].pid, s.evaluate(KERNEL_PID)) for n, s in sockets.items()}
    before = {n: (cpu_seconds(a), cpu_seconds(b)) for n, (a, b) in pids.items()}
    times: dict[str, list[float]] = {name: [] for name in sockets}
    for _, name in interleaved(list(sockets), reps):
        times[name].append(sockets[name].execute(CODE, "c0").round_trip)
        sockets[name].drain(0.05)
    cpu = {
        n: ((cpu_seconds(a) - before[n][0]) / reps, (cpu_seconds(b) - before[n][1]) / reps)
        for n, (a, b) in pids.items()
    }
    return times, cpu


def _back_to_back(sockets: dict[str, KernelSocket], reps: int) -> dict[str, list[float]]:
    times: dict[str, list[float]] = {name: [] for name in sockets}
    for _, name in interleaved(list(sockets), max(1, reps // 10)):
        sock = sockets[name]
        times[name] += [sock.execute(CODE, "c0").round_trip for _ in range(10)]
        sock.drain(0.05)
    return times


def _row(label: str, times: dict[str, list[float]], base: str = STOCK) -> Row:
    stock, cascade = median(times[base]), median(times[CASCADE])
    passed = cascade <= RATIO * stock and cascade - stock < ADDED
    ipyflow = median(times[IPYFLOW]) if IPYFLOW in times else None
    return Row(label, stock, cascade, f"≤ {RATIO}× and < 5 ms added", passed, ipyflow=ipyflow)


def run(bench: Bench) -> list[Row]:
    names = [STOCK, CASCADE, NAGLE] + ([IPYFLOW] if bench.ipyflow else [])
    bench.start(names)
    sockets = _open(bench, names)
    reps = bench.repetitions(60, smoke=6)
    isolated, cpu = _isolated(bench, {n: s for n, s in sockets.items() if n != NAGLE}, reps)
    back_to_back = _back_to_back(sockets, reps)
    nagle = Row(
        "trivial cell, back to back, vs shipped stock (Nagle on)",
        median(back_to_back[NAGLE]),
        median(back_to_back[CASCADE]),
        "info",
        None,
    )
    bench.note(
        "stock = jupyter_server with the extension off and TCP_NODELAY on its kernel "
        "websocket (bench/nodelay.py), as the extension sets it; the shipped stock "
        "server stalls back-to-back replies on Nagle's algorithm (last trivial row)"
    )
    return [
        _row("trivial cell round trip, isolated", isolated),
        _row("trivial cell round trip, back to back", back_to_back),
        nagle,
        *(
            Row(
                f"{side} CPU per isolated trivial run",
                cpu[STOCK][i],
                cpu[CASCADE][i],
                "info",
                None,
                ipyflow=cpu[IPYFLOW][i] if IPYFLOW in cpu else None,
            )
            for i, side in enumerate(("server", "kernel"))
        ),
    ]


if __name__ == "__main__":
    sys.exit(main([run], "Trivial cell round trip over the websocket."))
