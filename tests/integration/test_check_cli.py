"""``jupyter-cascade check`` as CI runs it: a subprocess from the venv's bin, and
``--execute`` with a real ``python3`` kernel (restart-and-run-all compared with
the saved outputs)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

from server_ext.consistency import CheckOptions, check_path
from server_ext.consistency.execute import run_all
from server_ext.consistency.notebook import read_notebook

SCRIPT = Path(sys.executable).with_name("jupyter-cascade")


def write(
    path: Path,
    cells: list[tuple[str, int | None, list[Any]]],
    tags: dict[int, list[str]] | None = None,
) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "language": "python",
        "display_name": "Python 3",
    }
    for n, (source, count, outputs) in enumerate(cells):
        cell = nbformat.v4.new_code_cell(source, id=f"c{n}")
        cell.execution_count = count
        cell.outputs = [nbformat.from_dict(o) for o in outputs]
        cell.metadata["tags"] = (tags or {}).get(n, [])
        nb.cells.append(cell)
    nbformat.write(nb, path)
    return path


def out(text: str, name: str = "stdout") -> dict[str, Any]:
    return {"output_type": "stream", "name": name, "text": text}


def result(text: str, count: int) -> dict[str, Any]:
    return {
        "output_type": "execute_result",
        "execution_count": count,
        "data": {"text/plain": text},
        "metadata": {},
    }


def cli(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), "check", *map(str, args)], capture_output=True, text=True, timeout=120
    )


CONSISTENT = [("x = 1", 1, []), ("print(x)", 2, [out("1\n")])]
STALE = [("x = 2", 3, []), ("print(x)", 2, [out("1\n")])]


def test_exit_status_and_formats(tmp_path: Path) -> None:
    good = write(tmp_path / "good.ipynb", CONSISTENT)
    bad = write(tmp_path / "bad dir, odd:name.ipynb", STALE)
    done = cli(good)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 finding(s) in 1 notebook(s)" in done.stdout

    done = cli(good, bad, "--format", "json")
    assert done.returncode == 1, done.stderr
    body = json.loads(done.stdout)
    assert body["version"] == 1 and body["summary"]["findings"] == 1
    assert body["summary"]["by_rule"] == {"CC101": 1}
    finding = body["notebooks"][1]["findings"][0]
    assert finding == {
        "rule": "CC101",
        "name": "ran-before-its-input",
        "cell": "c1",
        "index": 1,
        "execution_count": 2,
        "cells": [{"id": "c0", "index": 0, "execution_count": 3}],
        "symbols": ["x"],
        "message": finding["message"],
    }

    done = cli(bad, "--format", "github")
    assert done.returncode == 1
    line = done.stdout.strip()
    assert line.startswith("::error file=") and ",line=2,title=CC101 cell 1 (c1)::" in line
    assert "odd%3Aname" in line and "bad dir%2C" in line

    assert cli(bad, "--ignore", "CC101").returncode == 0


def test_usage_errors_and_unreadable_notebooks(tmp_path: Path) -> None:
    (tmp_path / "text.ipynb").write_text("not json")
    (tmp_path / "list.ipynb").write_text("[]")
    good = write(tmp_path / "good.ipynb", CONSISTENT)
    for path, message in [
        (tmp_path / "text.ipynb", "not JSON"),
        (tmp_path / "list.ipynb", "not a notebook"),
        (tmp_path / "missing.ipynb", "cannot read"),
    ]:
        done = cli(good, path)
        assert done.returncode == 2 and message in done.stderr, done.stderr
    assert cli().returncode == 2
    assert cli(good, "--ignore", "XX1").returncode == 2
    assert cli(good, "--format", "xml").returncode == 2


def test_execute_matches_a_consistent_notebook(tmp_path: Path) -> None:
    path = write(
        tmp_path / "nb.ipynb",
        [
            ("import os\nprint(os.path.exists('nb.ipynb'))", 1, [out("True\n")]),  # cwd: its folder
            ("class A: pass\nA()", 2, [result("<__main__.A at 0x7f0011223344>", 2)]),  # address
            ("", None, []),
            ("import time\n%time time.sleep(0)", 3, [out("Wall time: 5 µs\n")]),  # timing
            ("import random\nrandom.random()", 4, [result("0.123", 4)]),
        ],
        tags={4: ["nbval-ignore-output"]},
    )
    report = check_path(path, CheckOptions(execute=True, timeout=30))
    assert report.executed and report.findings == [], report.findings


def test_execute_reports_each_difference(tmp_path: Path) -> None:
    png = (
        "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9a"
        "wAAAABJRU5ErkJggg=="
    )
    path = write(
        tmp_path / "nb.ipynb",
        [
            ("print('new')", 1, [out("old\n")]),
            ("41 + 1", 2, [result("41", 2)]),
            (
                "from IPython.display import Image, display\n"
                f"display(Image(data=__import__('base64').b64decode('{png}')))",
                3,
                [
                    {
                        "output_type": "display_data",
                        "metadata": {},
                        "data": {"image/png": "AAAA", "text/plain": "<Image>"},
                    }
                ],
            ),
            ("1 / 0", 4, []),
            ("print('after')", 5, [out("after\n")]),
        ],
    )
    report = check_path(path, CheckOptions(execute=True, timeout=30))
    got = [(f.rule, f.cell.index) for f in report.findings]
    assert got == [("CC201", 0), ("CC202", 1), ("CC204", 2), ("CC203", 3), ("CC206", 4)]


def test_execute_goes_on_after_a_cell_tagged_raises_exception(tmp_path: Path) -> None:
    error = {
        "output_type": "error",
        "ename": "ZeroDivisionError",
        "evalue": "division by zero",
        "traceback": [],
    }
    path = write(
        tmp_path / "nb.ipynb",
        [("1 / 0", 1, [error]), ("print(1)", 2, [out("1\n")])],
        tags={0: ["raises-exception"]},
    )
    assert check_path(path, CheckOptions(execute=True, timeout=30)).findings == []


def test_execute_timeout(tmp_path: Path) -> None:
    path = write(
        tmp_path / "nb.ipynb",
        [("import time\ntime.sleep(30)", 1, []), ("print(1)", 2, [out("1\n")])],
    )
    report = check_path(path, CheckOptions(execute=True, timeout=1))
    assert [(f.rule, f.cell.index) for f in report.findings] == [("CC206", 0), ("CC206", 1)]
    assert "did not finish within 1 s" in report.findings[0].message


def test_execute_through_the_cli(tmp_path: Path) -> None:
    path = write(tmp_path / "nb.ipynb", [("print(2)", 1, [out("1\n")])])
    done = cli(path, "--execute", "--timeout", "30", "--format", "json")
    assert done.returncode == 1, done.stderr
    assert [f["rule"] for f in json.loads(done.stdout)["notebooks"][0]["findings"]] == ["CC201"]
    done = cli(path, "--execute", "--kernel", "no-such-kernel")
    assert done.returncode == 2 and "no-such-kernel" in done.stderr


CORPUS = Path(__file__).resolve().parents[1] / "corpus" / "notebooks"


@pytest.mark.parametrize(
    "name",
    [
        "whirlwind/08-Defining-Functions.ipynb",
        "pdsh/02.08-Sorting.ipynb",
        "whirlwind/12-Generators.ipynb",
    ],
)
def test_restart_and_run_all_of_real_notebooks_gives_no_finding(name: str, tmp_path: Path) -> None:
    """Run a corpus notebook top to bottom in a fresh kernel, save it as Lab would,
    then check it: statically, and by running it again."""
    nb = nbformat.read(CORPUS / name, as_version=4)
    path = tmp_path / Path(name).name
    nbformat.write(nb, path)
    runs = run_all(read_notebook(path), timeout=60)
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and index in runs:
            cell.execution_count = runs[index].execution_count
            cell.outputs = [
                nbformat.from_dict(_saved(o, runs[index].execution_count))
                for o in runs[index].outputs
            ]
    nbformat.write(nb, path)
    assert check_path(path).findings == []
    assert check_path(path, CheckOptions(execute=True, timeout=60)).findings == []


def _saved(output: dict[str, Any], count: int | None) -> dict[str, Any]:
    output = {k: v for k, v in output.items() if k != "display_id"}
    if output["output_type"] in ("display_data", "execute_result"):
        output["metadata"] = {}
    if output["output_type"] == "execute_result":
        output["execution_count"] = count
    if output["output_type"] == "error":
        output["traceback"] = []
    return output
