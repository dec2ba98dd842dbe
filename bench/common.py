"""What every benchmark shares: the servers, repetitions, result rows and the table.

A :class:`Bench` starts the servers a run needs in parallel and hands them to
the workloads; each workload returns :class:`Row` s. The "stock" server is
jupyter_server with the extension off and ``TCP_NODELAY`` on (see
:mod:`bench.nodelay`), the "cascade" server has the extension on, and the
"ipyflow" server is the stock one running ipyflow's kernel, when installed.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from importlib.metadata import PackageNotFoundError, version

from .server import JupyterServer

STOCK, CASCADE, IPYFLOW, NAGLE = "stock", "cascade", "ipyflow", "stock-nagle"
BLAS_THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def has_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


@dataclass
class Row:
    """One line of the table. Values are in ``unit``; None shows as a dash."""

    workload: str
    stock: float | None
    cascade: float | None
    target: str
    passed: bool | None
    unit: str = "ms"
    ipyflow: float | None = None
    ratio: float | None = None
    #: False when stock and cascade measure different things (shown for scale)
    comparable: bool = True

    def __post_init__(self) -> None:
        if self.ratio is None and self.comparable and self.stock and self.cascade is not None:
            self.ratio = self.cascade / self.stock


@dataclass
class Bench:
    """Settings of one run plus the servers, started once and shared by workloads."""

    smoke: bool = False
    reps: int = 0
    ipyflow: bool = True
    #: BLAS threads of every kernel (0: the library's default, one per core)
    blas_threads: int = 1
    notes: list[str] = field(default_factory=list)
    servers: dict[str, JupyterServer] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.ipyflow and not has_module("ipyflow"):
            self.ipyflow = False
            self.note("ipyflow: not installed (pip install 'jupyter-cascade[ipyflow]'); skipped")

    def repetitions(self, full: int, smoke: int = 2) -> int:
        """How many repetitions: ``--reps`` if given, else ``full`` (``smoke`` in smoke mode)."""
        if self.reps:
            return self.reps
        return smoke if self.smoke else full

    def size(self, full: int, smoke: int) -> int:
        return smoke if self.smoke else full

    def note(self, text: str) -> None:
        if text not in self.notes:
            self.notes.append(text)

    def start(self, names: Iterable[str]) -> None:
        """Start the named servers (in parallel) unless they run already."""
        new = []
        for name in names:
            if name in self.servers or (name == IPYFLOW and not self.ipyflow):
                continue
            server = JupyterServer(
                name,
                cascade=name == CASCADE,
                ipyflow=name == IPYFLOW,
                nodelay=name != NAGLE,
                env=self.blas_env(),
            )
            server.launch()
            self.servers[name] = server
            new.append(server)
        for server in new:
            server.wait()

    def blas_env(self) -> dict[str, str]:
        """Kernel environment pinning BLAS threads (same on every server).

        With a BLAS thread per core on a 2-core machine, any other thread that
        wakes (the server, the client) stalls one of them, and the matmul's
        run-to-run spread (±25% here) hides a 5% difference; one thread each
        keeps it within a few percent.
        """
        if not self.blas_threads:
            return {}
        value = str(self.blas_threads)
        return {name: value for name in BLAS_THREAD_VARIABLES}

    def server(self, name: str) -> JupyterServer:
        self.start([name])
        return self.servers[name]

    def release(self) -> None:
        """Shut down the kernels a workload started; the servers stay up."""
        for server in self.servers.values():
            server.close_sessions()

    def close(self) -> None:
        for server in self.servers.values():
            server.request_stop()
        for server in self.servers.values():
            server.wait_stopped()
        self.servers.clear()

    def __enter__(self) -> Bench:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def paired_ratio(cascade: Sequence[float], stock: Sequence[float]) -> float:
    """Median of the ratios of runs made side by side (rep i of each server).

    Robust to drift: when the machine is slow for a few seconds, both runs of
    a pair are slow, and their ratio is not moved.
    """
    return median([c / s for c, s in zip(cascade, stock, strict=True) if s > 0])


def interleaved(names: Sequence[str], reps: int) -> Iterable[tuple[int, str]]:
    """(rep, name) pairs: the first two (the servers compared) swap places each
    rep, so drift hits both alike; any others follow them in order.

    Reversing the whole order of three servers (S C I, I C S) ran stock right
    after stock in every other rep and cascade never after cascade, an
    asymmetry between the two servers compared (a process whose caches are
    still warm from its own last run may be faster). Here no server runs
    twice in a row (S C I, C S I); with two servers each does in half the
    reps, as before.
    """
    pair, rest = list(names[:2]), list(names[2:])
    for rep in range(reps):
        for name in (pair if rep % 2 == 0 else pair[::-1]) + rest:
            yield rep, name


# -- the table ---------------------------------------------------------------


def _value(value: float | None, unit: str) -> str:
    if value is None:
        return "—"
    if unit == "ms":
        return f"{value * 1000:.2f} ms"
    if unit == "MB":
        return f"{value / 2**20:.1f} MB"
    if unit == "s":
        return f"{value:.2f} s"
    return f"{value:.3g} {unit}"


def _ratio(row: Row) -> str:
    return "—" if row.ratio is None else f"{row.ratio:.2f}×"


def _ipyflow(row: Row) -> str:
    if row.ipyflow is None:
        return "—"
    text = _value(row.ipyflow, row.unit)
    if row.stock and row.unit != "MB":
        text += f" ({row.ipyflow / row.stock:.2f}×)"
    return text


def format_table(rows: Sequence[Row], with_ipyflow: bool) -> str:
    """The rows as a Markdown table (readable in a terminal and in the README)."""
    header = ["workload", "stock", "cascade", "ratio", "target", "pass"]
    if with_ipyflow:
        header.append("ipyflow (vs stock)")
    lines = [header]
    for row in rows:
        verdict = {True: "PASS", False: "FAIL", None: "—"}[row.passed]
        cells = [
            row.workload,
            _value(row.stock, row.unit),
            _value(row.cascade, row.unit),
            _ratio(row),
            row.target,
            verdict,
        ]
        if with_ipyflow:
            cells.append(_ipyflow(row))
        lines.append(cells)
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    out = []
    for n, line in enumerate(lines):
        out.append("| " + " | ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)) + " |")
        if n == 0:
            out.append("|" + "|".join("-" * (w + 2) for w in widths) + "|")
    return "\n".join(out)


def machine_summary(bench: Bench | None = None) -> list[str]:
    """nproc, CPU model, RAM, load and the versions that matter, one item a line."""
    cpu = "unknown"
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(line.split(":", 1)[1].strip() for line in f if "model name" in line)
    except (OSError, StopIteration):
        pass
    mem = "unknown"
    try:
        with open("/proc/meminfo") as f:
            kb = int(next(line.split()[1] for line in f if line.startswith("MemTotal")))
        mem = f"{kb / 2**20:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        pass
    versions = []
    for package in ("jupyter_server", "ipykernel", "ipython", "numpy", "pandas", "ipyflow"):
        try:
            versions.append(f"{package} {version(package)}")
        except PackageNotFoundError:
            versions.append(f"{package} (absent)")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    blas = {k: v for k, v in os.environ.items() if k in BLAS_THREAD_VARIABLES}
    if bench is not None:
        blas.update(bench.blas_env())
    return [
        f"machine: {os.cpu_count()} CPUs ({cpu}), {mem} RAM, load {load:.2f} at the end",
        f"python {platform.python_version()}; " + ", ".join(versions),
        f"BLAS threads in the kernels (all servers alike): {blas or 'library default'}",
    ]


def print_report(bench: Bench, rows: Sequence[Row], elapsed: float) -> None:
    print(format_table(rows, bench.ipyflow))
    print()
    for line in machine_summary(bench):
        print(line)
    mode = "smoke" if bench.smoke else "full"
    print(f"mode: {mode}; wall time {elapsed:.1f} s")
    for note in bench.notes:
        print(f"- {note}")
    sys.stdout.flush()


Workload = Callable[[Bench], list[Row]]


def parse_args(description: str, argv: Sequence[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--smoke", action="store_true", help="tiny sizes, few repetitions")
    parser.add_argument("--reps", type=int, default=0, help="repetitions (default per workload)")
    parser.add_argument("--no-ipyflow", action="store_true", help="skip ipyflow's kernel")
    parser.add_argument(
        "--blas-threads",
        type=int,
        default=1,
        help="BLAS threads in every kernel (default 1; 0 = the library's default)",
    )
    return parser.parse_args(argv)


def main(
    workloads: Sequence[Workload],
    description: str,
    argv: Sequence[str] | None = None,
    servers: Sequence[str] = (),
) -> int:
    """Run ``workloads`` on one set of servers and print ONE table; exit 1 on a FAIL.

    ``servers`` are started up front, in parallel (workloads start any other
    server they need themselves).
    """
    args = parse_args(description, argv)
    started = time.perf_counter()
    rows: list[Row] = []
    with Bench(
        smoke=args.smoke,
        reps=args.reps,
        ipyflow=not args.no_ipyflow,
        blas_threads=args.blas_threads,
    ) as bench:
        bench.start(servers)
        for workload in workloads:
            rows.extend(workload(bench))
            bench.release()
        print_report(bench, rows, time.perf_counter() - started)
    # smoke sizes say nothing about the targets: only a full run fails on a miss
    return 1 if not args.smoke and any(row.passed is False for row in rows) else 0
