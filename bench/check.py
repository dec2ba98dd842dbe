"""``jupyter cascade check`` without ``--execute`` on a 100-cell notebook (< 100 ms).

The notebook is :func:`bench.graph_memory.sources` (assignments, subscript
stores, function definitions and calls, prints; each cell reads one or two
earlier cells) saved as restart-and-run-all leaves it: counts 1..100 and a
stdout output on every printing cell. Two rows:

- *static check*: :func:`server_ext.consistency.check_path` on the file (read,
  analyse every cell, all static rules), median wall time in this process,
  after one warm-up call (imports). Nothing is cached between calls: each
  analyses every cell again, as one CLI run does.
- *CLI process*: ``jupyter-cascade check`` as a subprocess, start to exit
  (Python start-up and imports included), for information only.

Usage: ``python -m bench.check [--smoke] [--reps N]``.
"""

from __future__ import annotations

import subprocess
import sys
import tempfile
import time
from pathlib import Path

import nbformat

from server_ext.consistency import check_path

from .common import Bench, Row, main, median
from .graph_memory import sources

TARGET = 0.100
CELLS = 100


def write_notebook(path: Path, cells: int) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "language": "python",
        "display_name": "Python 3",
    }
    for count, source in enumerate(sources(cells), start=1):
        cell = nbformat.v4.new_code_cell(source, execution_count=count)
        if source.startswith("print("):
            cell.outputs = [nbformat.v4.new_output("stream", name="stdout", text="1\n")]
        nb.cells.append(cell)
    nbformat.write(nb, path)


def run(bench: Bench) -> list[Row]:
    cells = bench.size(CELLS, CELLS)
    reps = bench.repetitions(21, smoke=3)
    with tempfile.TemporaryDirectory(prefix="bench-check-") as folder:
        path = Path(folder) / "big.ipynb"
        write_notebook(path, cells)
        findings = check_path(path).findings  # warm-up: imports
        if findings:
            bench.note(f"check: the synthetic notebook gave {len(findings)} finding(s)")
        times = []
        for _ in range(reps):
            started = time.perf_counter()
            check_path(path)
            times.append(time.perf_counter() - started)
        script = Path(sys.executable).with_name("jupyter-cascade")
        process = []
        for _ in range(bench.repetitions(5, smoke=1)):
            started = time.perf_counter()
            subprocess.run([str(script), "check", str(path)], capture_output=True, check=True)
            process.append(time.perf_counter() - started)
    static = median(times)
    return [
        Row(
            f"check: static, {cells}-cell notebook",
            None,
            static,
            f"< {TARGET * 1000:.0f} ms",
            static < TARGET,
        ),
        Row(f"check: CLI process, {cells}-cell notebook", None, median(process), "info", None),
    ]


if __name__ == "__main__":
    sys.exit(main([run], "jupyter cascade check, static, on a 100-cell notebook."))
