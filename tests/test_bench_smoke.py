"""The benchmarks still run: every bench script in smoke mode (tiny sizes, few reps).

The real benchmarks are not part of the test run (``python -m bench``, see
bench/README.md); this only checks that each script prints its table. Timings
in smoke mode mean nothing, so verdicts are not asserted.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

#: A row each script contributes, by the start of its workload name.
ROWS = {
    "compute": ["| compute: python loop", "| compute: fib("],
    "roundtrip": ["| trivial cell round trip, isolated", "| trivial cell round trip, back to"],
    "cascade_gap": ["| cascade step, 20-cell fan-out"],
    "graph_memory": ["| graph endpoint, 50 cells", "| kernel RSS after 50 cells"],
    "big_notebook": ["| longest server stall, 60-cell notebook"],
    "big_graph": ["| graph endpoint, 40 cells", "| push endpoint, 40 cells"],
    "scaling": ["| scaling: in_order scheduling, 100 cells"],
    "check": ["| check: static, 100-cell notebook", "| check: CLI process, 100-cell notebook"],
    "rest_run": ["| REST run of a trivial cell vs websocket", "| REST run of a trivial cell, no"],
}
#: ``bench.browser --smoke`` runs on its own (the combined smoke run leaves it out)
BROWSER_ROWS = ["| Lab 4: 2-cell chain, Shift+Enter", "| nbclassic: 2-cell chain, Shift+Enter"]
HEADER = "| workload"


def _run(*args: str, timeout: float = 240) -> str:
    done = subprocess.run(
        [sys.executable, "-m", *args, "--smoke", "--no-ipyflow"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return done.stdout


@pytest.mark.timeout(300)
def test_every_script_prints_its_rows_in_one_table() -> None:
    """``python -m bench`` runs each script's workloads on one set of servers."""
    out = _run("bench")
    assert out.count(HEADER) == 1, out
    for script, rows in ROWS.items():
        for row in rows:
            assert row in out, f"{script}: no row starting {row!r}\n{out}"
    assert "machine:" in out and "python 3." in out


@pytest.mark.timeout(120)
def test_a_script_runs_on_its_own() -> None:
    """Each script is also a module with its own entry point (scaling needs no server)."""
    out = _run("bench.scaling")
    assert out.startswith(HEADER), out
    for row in ROWS["scaling"]:
        assert row in out, out


@pytest.mark.timeout(120)
def test_the_check_bench_runs_on_its_own() -> None:
    """``python -m bench.check``: no server either."""
    out = _run("bench.check")
    assert out.startswith(HEADER), out
    for row in ROWS["check"]:
        assert row in out, out


@pytest.mark.timeout(330)
def test_the_browser_bench_runs_on_its_own() -> None:
    """``python -m bench.browser --smoke``: the 2-cell chains of Lab 4 and nbclassic in Chromium."""
    out = _run("bench.browser", timeout=300)
    assert out.count(HEADER) == 1, out
    for row in BROWSER_ROWS:
        assert row in out, out
