"""Every benchmark on one set of servers, printed as ONE table.

Usage: ``python -m bench [--smoke] [--reps N] [--no-ipyflow]`` (or
``python -m bench.run_all``). Exits 1 when a full run misses a target.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from . import (
    big_graph,
    big_notebook,
    browser,
    cascade_gap,
    check,
    compute,
    graph_memory,
    rest_run,
    roundtrip,
    scaling,
)
from .common import CASCADE, IPYFLOW, NAGLE, STOCK
from .common import main as run_workloads

WORKLOADS = [
    compute.run,
    roundtrip.run,
    cascade_gap.run,
    graph_memory.run,
    big_notebook.run,
    big_graph.run,
    scaling.run,
    check.run,
    rest_run.run,
    browser.run_in_all,
]


def main(argv: Sequence[str] | None = None) -> int:
    description = "jupyter-cascade benchmarks against stock ipykernel."
    return run_workloads(WORKLOADS, description, argv, servers=(STOCK, CASCADE, NAGLE, IPYFLOW))


if __name__ == "__main__":
    sys.exit(main())
