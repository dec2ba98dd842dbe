"""Compute-heavy cells through the server, extension on vs off (target ≤ 1.05×).

Each workload cell is run as JupyterLab runs it (v1 websocket, ``cellId`` in
the metadata) on a kernel of each server; the time is from sending the
execute_request to receiving its execute_reply, as the client sees it.
21 repetitions; the ratio is the median of the per-repetition ratios (each
cascade run against the stock run made next to it), which a machine that is
slow for a few seconds does not move. Kernels run BLAS on one thread
(``Bench.blas_env``: with one per core, thread scheduling spreads the matmul by
±25% run to run).
Repetitions alternate between the servers, and after each one the client
waits for 50 ms of silence, so work the cascade does after a reply (asking
the agent for its report) never lands inside the next measurement.

Usage: ``python -m bench.compute [--smoke] [--reps N]``.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

from .common import (
    CASCADE,
    IPYFLOW,
    STOCK,
    Bench,
    Row,
    has_module,
    interleaved,
    main,
    median,
    paired_ratio,
)

TARGET = 1.05
PATH = "compute.ipynb"


@dataclass(frozen=True)
class Workload:
    name: str
    setup: str
    code: str
    needs: tuple[str, ...] = ()


def workloads(smoke: bool) -> list[Workload]:
    loop, fib, n, rows = (10_000, 12, 100, 10_000) if smoke else (1_000_000, 22, 1000, 1_000_000)
    return [
        Workload(
            f"python loop, {loop:.0e} iterations",
            "",
            f"total = 0\nfor i in range({loop}):\n    total += i",
        ),
        Workload(
            f"fib({fib})",
            "def fib(n):\n    return n if n < 2 else fib(n - 1) + fib(n - 2)",
            f"f = fib({fib})",
        ),
        Workload(
            f"numpy matmul {n}×{n}",
            "import numpy as np\n"
            "rng = np.random.default_rng(0)\n"
            f"a = rng.random(({n}, {n}))\n"
            f"b = rng.random(({n}, {n}))",
            "c = a @ b",
            ("numpy",),
        ),
        Workload(
            f"pandas groupby, {rows:.0e} rows",
            "import numpy as np\n"
            "import pandas as pd\n"
            "rng = np.random.default_rng(0)\n"
            f'df = pd.DataFrame({{"k": rng.integers(0, 1000, {rows}), "v": rng.random({rows})}})',
            'g = df.groupby("k")["v"].sum()',
            ("numpy", "pandas"),
        ),
    ]


def run(bench: Bench) -> list[Row]:
    available = []
    for work in workloads(bench.smoke):
        missing = [m for m in work.needs if not has_module(m)]
        if missing:
            bench.note(f"{work.name}: skipped, {' and '.join(missing)} not installed")
        else:
            available.append(work)
    names = [STOCK, CASCADE] + ([IPYFLOW] if bench.ipyflow else [])
    bench.start(names)
    sources = [w.setup for w in available] + [w.code for w in available]
    sockets = {}
    for name in names:
        server = bench.servers[name]
        ids = server.write_notebook(PATH, sources)
        sockets[name] = sock = server.open_notebook(
            PATH, "ipyflow" if name == IPYFLOW else "python3"
        )
        for cell_id, source in zip(ids, sources, strict=True):
            if source:
                sock.execute(source, cell_id)  # setup, then one warm-up run of each workload
        sock.drain(0.2)
    reps = bench.repetitions(21)
    rows = []
    for i, work in enumerate(available):
        cell_id = f"c{len(available) + i}"
        times: dict[str, list[float]] = {name: [] for name in names}
        for _, name in interleaved(names, reps):
            times[name].append(sockets[name].execute(work.code, cell_id).round_trip)
            sockets[name].drain(0.05)
        ratio = paired_ratio(times[CASCADE], times[STOCK])
        rows.append(
            Row(
                f"compute: {work.name}",
                median(times[STOCK]),
                median(times[CASCADE]),
                f"≤ {TARGET:.2f}×",
                ratio <= TARGET,
                ipyflow=median(times[IPYFLOW]) if bench.ipyflow else None,
                ratio=ratio,
            )
        )
    bench.note(
        "compute: ratio = median of per-repetition ratios (cascade run i / stock run i, "
        "made side by side); stock and cascade columns = medians"
    )
    return rows


if __name__ == "__main__":
    sys.exit(main([run], "Compute-heavy cells, extension on vs off."))
