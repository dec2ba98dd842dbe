"""JupyterLab 4 and Notebook 7 with jupyter-collaboration: cascades show up live on screen.

Each test uses its own notebook, created through the contents API with known
cells. Notebook 7 shares Lab's notebook widgets, so only the basic scenario
runs on both; the two-tab and restart scenarios run in Lab.
"""

from __future__ import annotations

from typing import Any

import pytest

from .servers import JupyterServer
from .ui import LabNotebook, settled_graph

SOURCES = [
    "x = 1",
    "y = x * 10\nprint('y =', y)",
    "print('other')",
    "print('z =', y + 1)",
]


@pytest.fixture(params=["lab", "notebook"])
def rtc_server(request: pytest.FixtureRequest) -> JupyterServer:
    """JupyterLab 4, then Notebook 7 (each server module-scoped)."""
    server: JupyterServer = request.getfixturevalue(f"{request.param}_server")
    return server


def run_everything(notebook: LabNotebook) -> list[int]:
    """Run ▸ Run All Cells; return the prompts once every cell has run."""
    notebook.run_all()
    notebook.expect_output(1, "y = 10")
    notebook.expect_output(2, "other")
    notebook.expect_output(3, "z = 11")
    settled_graph(notebook.server, notebook.path)
    return [notebook.expect_counted(i) for i in range(len(SOURCES))]


def test_shift_enter_reruns_dependents_only(
    rtc_server: JupyterServer, context: Any, screenshot: Any
) -> None:
    notebook_name = "demo.ipynb"  # shown in the screenshot; the only test using it
    rtc_server.create_notebook(notebook_name, SOURCES)
    notebook = LabNotebook.open(context.new_page(), rtc_server, notebook_name, len(SOURCES))
    before = run_everything(notebook)

    notebook.edit(0, "x = 5")
    notebook.run(0)

    notebook.expect_output(1, "y = 50")
    notebook.expect_output(3, "z = 51")
    graph = settled_graph(rtc_server, notebook_name)
    after = [notebook.expect_counted(i) for i in range(len(SOURCES))]
    assert after[0] > before[3], "the edited cell took the next execution count"
    assert after[0] < after[1] < after[3], "dependents re-ran after it, in notebook order"
    assert after[2] == before[2], "the unrelated cell was not re-run"
    notebook.expect_output(2, "other")
    assert [c["execution_count"] for c in graph["cells"][:4]] == after
    assert {c["state"] for c in graph["cells"]} == {"fresh"}
    if rtc_server.app == "lab":
        screenshot(notebook.page, "lab-cascade.png")


def test_two_tabs_both_show_the_cascade(
    lab_server: JupyterServer, context: Any, notebook_name: str
) -> None:
    lab_server.create_notebook(notebook_name, SOURCES)
    first = LabNotebook.open(context.new_page(), lab_server, notebook_name, len(SOURCES))
    second = LabNotebook.open(context.new_page(), lab_server, notebook_name, len(SOURCES))
    before = run_everything(first)
    second.expect_output(3, "z = 11")

    second.edit(0, "x = 7")
    second.run(0)

    for tab in (first, second):
        tab.expect_output(1, "y = 70")
        tab.expect_output(3, "z = 71")
    settled_graph(lab_server, notebook_name)
    for tab in (first, second):
        assert tab.expect_counted(3) > tab.expect_counted(1) > before[3]
        assert tab.count(2) == before[2], "the unrelated cell was not re-run"
        tab.expect_output(2, "other")


def test_after_restart_a_lower_cell_pulls_what_it_needs(
    lab_server: JupyterServer, context: Any, notebook_name: str
) -> None:
    lab_server.create_notebook(notebook_name, SOURCES)
    notebook = LabNotebook.open(context.new_page(), lab_server, notebook_name, len(SOURCES))
    before = run_everything(notebook)

    notebook.restart_kernel()
    notebook.edit(0, "x = 3")  # edited, never run: the pull must use the new source
    notebook.run(3)

    notebook.expect_output(3, "z = 31")
    notebook.expect_output(1, "y = 30")
    settled_graph(lab_server, notebook_name)
    counts = [notebook.expect_counted(i) for i in (0, 1, 3)]
    assert counts == [1, 2, 3], "a fresh kernel ran the upstream cells first, in order"
    assert notebook.count(2) == before[2], "the unrelated cell was not run"
    notebook.expect_output(2, "other")
