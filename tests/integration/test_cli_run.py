"""``jupyter cascade run``: against a live server, and with a private server of its own.

The console script comes from the venv (``pip install -e .`` installs it).
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path
from typing import Any

import nbformat
import pytest

SCRIPT = str(Path(sys.executable).parent / "jupyter-cascade")
SOURCES = ["x = 2", "print('x*3 =', x * 3)", "raise ValueError('boom')", "print('never')"]


async def cascade_run(*args: str) -> tuple[int, str, str]:
    """Run the script in a thread: the loop keeps serving the test server meanwhile."""
    done = await asyncio.to_thread(
        subprocess.run, [SCRIPT, "run", *args], capture_output=True, text=True, timeout=100
    )
    return done.returncode, done.stdout, done.stderr


def saved(path: Path) -> Any:
    return nbformat.reads(path.read_text(encoding="utf-8"), as_version=4)


async def test_run_against_a_live_server(
    jp_fetch: Any,  # (starts the HTTP server on jp_http_port)
    jp_serverapp: Any,
    jp_http_port: int,
    jp_base_url: str,
    jp_root_dir: Any,
    make_notebook: Any,
) -> None:
    ids = make_notebook("cli.ipynb", SOURCES)
    url = f"http://127.0.0.1:{jp_http_port}{jp_base_url}"
    token = jp_serverapp.identity_provider.token
    code, out, err = await cascade_run("cli.ipynb", "--cell", "1", "--url", url, "--token", token)
    assert code == 0, out + err
    assert f"cell {ids[0]}" in out and "x*3 = 6" in out and "[2/2]" in out
    notebook = saved(jp_root_dir / "cli.ipynb")
    assert notebook.cells[1].outputs[0]["text"] == "x*3 = 6\n", "no page open: the server saved"
    assert notebook.cells[2].execution_count is None

    code, out, err = await cascade_run(
        "cli.ipynb", "--cell", ids[2], "--url", url, "--token", token
    )
    assert code == 1 and "ValueError: boom" in out and "a cell raised" in err

    code, _, err = await cascade_run("cli.ipynb", "--cell", "nope", "--url", url, "--token", token)
    assert code == 2 and "no code cell 'nope'" in err
    code, _, err = await cascade_run("cli.ipynb", "--cell", "0", "--url", url, "--token", "bad")
    assert code == 2 and "HTTP 403" in err
    code, _, err = await cascade_run("cli.ipynb", "--url", "http://127.0.0.1:9/", "--token", "t")
    assert code == 2 and "cannot reach" in err


@pytest.mark.timeout(180)
def test_run_with_a_private_server(tmp_path: Path) -> None:
    """Every cell top to bottom, stopping at the one that raises; the file holds the outputs."""
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(s) for s in SOURCES])
    path = tmp_path / "demo.ipynb"
    nbformat.write(notebook, path)
    done = subprocess.run(
        [SCRIPT, "run", str(path)], capture_output=True, text=True, timeout=170, cwd=tmp_path
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "[2/4]" in done.stdout and "x*3 = 6" in done.stdout and "ValueError: boom" in done.stdout
    cells = saved(path).cells
    assert [cell.execution_count for cell in cells] == [1, 2, 3, None]
    assert (
        cells[1].outputs[0]["text"] == "x*3 = 6\n" and cells[2].outputs[0]["ename"] == "ValueError"
    )
    assert [cell.source for cell in cells] == SOURCES
    assert not list(tmp_path.glob("jpserver-*")), "the runtime files stay in a temporary directory"

    usage = subprocess.run([SCRIPT, "run", str(tmp_path / "nope.ipynb")], capture_output=True)
    assert usage.returncode == 2 and b"no such notebook" in usage.stderr
