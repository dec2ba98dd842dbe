"""The Lab 4 / Notebook 7 extension in Chromium: marks, selection marks, keys, commands.

The page contract (DESIGN §4): each code cell's node carries
``data-cascade-state`` (the REST graph's state names) and, while a cell is
active, ``data-cascade-selection``. The servers here expose the app as
``window.jupyterapp`` (as the outside check does) and Lab runs its notebook
fully windowed (cells rendered as they scroll into view).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.parse
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .conftest import _write_lab_settings
from .servers import JupyterServer
from .ui import LabNotebook, settled_graph, wait_until

SOURCES = ["x = 1", "y = x + 1\nprint('y', y)", "print('z', y * 10)", "print('other')"]
CELL = ".jp-NotebookPanel:visible .jp-Notebook .jp-CodeCell"


def _configure(server: JupyterServer, disabled: bool = False) -> None:
    config = server.base / "config"
    config.mkdir(parents=True, exist_ok=True)
    exposed = {"expose_app_in_browser": True}
    (config / "jupyter_lab_config.json").write_text(json.dumps({"LabApp": exposed}))
    (config / "jupyter_notebook_config.json").write_text(
        json.dumps({"JupyterNotebookApp": exposed})
    )
    settings = config / "lab" / "user-settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True, exist_ok=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "full"}))
    if disabled:  # what `jupyter labextension disable jupyter-cascade` does, for this user
        script = Path(sys.executable).parent / "jupyter-labextension"
        env = {**os.environ, "JUPYTER_CONFIG_DIR": str(config)}
        subprocess.run(
            [str(script), "disable", "--level=user", "jupyter-cascade"],
            env=env,
            check=True,
            capture_output=True,
        )


def _server(app: str, factory: pytest.TempPathFactory, disabled: bool = False) -> Iterator[Any]:
    server = JupyterServer(app, factory.mktemp(f"ext-{app}"))
    _write_lab_settings(server)
    _configure(server, disabled)
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.base, ignore_errors=True)


@pytest.fixture(scope="module")
def ext_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    yield from _server("lab", tmp_path_factory)


@pytest.fixture(scope="module")
def ext_notebook(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    yield from _server("notebook", tmp_path_factory)


@pytest.fixture(params=["lab", "notebook"])
def server(request: pytest.FixtureRequest) -> JupyterServer:
    return request.getfixturevalue(f"ext_{request.param}")  # type: ignore[no-any-return]


def dom_states(page: Page) -> dict[str, str]:
    """cell id → data-cascade-state of every rendered code cell."""
    return page.evaluate(  # type: ignore[no-any-return]
        """(selector) => {
            const app = window.jupyterapp;
            const panel = app.shell.currentWidget;
            const out = {};
            for (const cell of panel.content.widgets) {
                if (cell.model.type === 'code') {
                    out[cell.model.id] = cell.node.getAttribute('data-cascade-state');
                }
            }
            return out;
        }""",
        CELL,
    )


def server_states(server: JupyterServer, path: str) -> dict[str, str]:
    return {c["id"]: c["state"] for c in server.graph(path)["cells"]}


def selection(page: Page) -> dict[str, str]:
    return page.evaluate(  # type: ignore[no-any-return]
        """() => {
            const out = {};
            for (const node of document.querySelectorAll('[data-cascade-selection]')) {
                const cell = window.jupyterapp.shell.currentWidget.content.widgets
                    .find(c => c.node === node);
                if (cell) out[cell.model.id] = node.getAttribute('data-cascade-selection');
            }
            return out;
        }"""
    )


def command(page: Page, name: str) -> None:
    page.evaluate("(name) => window.jupyterapp.commands.execute(name)", name)


def opened(server: JupyterServer, context: Any, path: str, sources: list[str]) -> LabNotebook:
    """The notebook open, its kernel idle and the extension's first marks shown."""
    server.create_notebook(path, sources)
    page = context.new_page()
    route = LabNotebook.ROUTES[server.app].format(workspace="w" + uuid.uuid4().hex[:12])
    page.goto(server.page(route + urllib.parse.quote(path)))
    notebook = LabNotebook(page, server, path)
    expect(notebook.cells.first).to_be_attached(timeout=60_000)
    notebook.wait_kernel_idle(timeout=60_000)
    wait_until(lambda: _has_session(server, path), 60, "the notebook's kernel session")
    wait_until(lambda: "cell-0" in dom_states(page), 30, "the extension's first marks")
    return notebook


def _has_session(server: JupyterServer, path: str) -> bool:
    status, _, _ = server.request(
        "GET", "api/cascade/graph?" + urllib.parse.urlencode({"path": path})
    )
    return status == 200


def run_all(notebook: LabNotebook) -> None:
    notebook.run_all()
    wait_until(
        lambda: set(server_states(notebook.server, notebook.path).values()) == {"fresh"},
        120,
        "every cell to run",
    )
    settled_graph(notebook.server, notebook.path)


def test_lazy_marks_stale_within_200ms_and_match_the_server(
    server: JupyterServer, context: Any, notebook_name: str
) -> None:
    notebook = opened(server, context, notebook_name, SOURCES)
    run_all(notebook)
    wait_until(lambda: set(dom_states(notebook.page).values()) == {"fresh"}, 10, "fresh marks")
    server.api("POST", "api/cascade/mode", {"path": notebook_name, "mode": "lazy"})

    notebook.page.evaluate(
        """() => {
            const cells = window.jupyterapp.shell.currentWidget.content.widgets;
            window.__marks = {};
            const prompt = cells[0].node.querySelector('.jp-InputPrompt');
            new MutationObserver(() => {
                if (/\\[\\d+\\]/.test(prompt.textContent) && !window.__marks.reply)
                    window.__marks.reply = performance.now();
            }).observe(prompt, {childList: true, subtree: true, characterData: true});
            new MutationObserver(() => {
                if (cells[1].node.getAttribute('data-cascade-state') === 'stale')
                    window.__marks.stale = window.__marks.stale || performance.now();
            }).observe(cells[1].node, {attributes: true});
        }"""
    )
    notebook.edit(0, "x = 2")
    notebook.run(0)
    marks = wait_until(
        lambda: (m := notebook.page.evaluate("window.__marks")) and len(m) == 2 and m,
        15,
        "the reply and the stale mark",
    )
    assert marks["stale"] - marks["reply"] <= 200, marks  # negative: the mark came first
    graph = settled_graph(server, notebook_name)
    assert graph["cells"][2]["execution_count"] < graph["cells"][0]["execution_count"]
    expected = server_states(server, notebook_name)
    assert expected["cell-1"] == "stale"
    assert expected["cell-2"] == "waiting"  # reads y from the stale cell (DESIGN §2)
    wait_until(lambda: dom_states(notebook.page) == expected, 5, "the marks to match")
    server.api("POST", "api/cascade/mode", {"path": notebook_name, "mode": "reactive"})


def test_selection_marks_and_run_only(
    server: JupyterServer, context: Any, notebook_name: str, screenshot: Any
) -> None:
    notebook = opened(server, context, notebook_name, SOURCES)
    run_all(notebook)
    notebook.cell(1).locator(".jp-InputPrompt").click()
    preview = server.api("GET", f"api/cascade/preview?path={notebook_name}&cell=cell-1")
    expected = {cell: "will-run" for cell in preview["cells"]}
    expected.update({c: "upstream" for c in preview.get("upstream", []) if c not in expected})
    assert expected.get("cell-2") == "will-run" and "cell-3" not in expected
    wait_until(lambda: selection(notebook.page) == expected, 10, "the selection marks")

    before = server.graph(notebook_name)["cells"][2]["execution_count"]
    notebook.edit(0, "x = 5")
    notebook.page.keyboard.press("ControlOrMeta+Shift+Enter")
    wait_until(lambda: server_states(server, notebook_name)["cell-1"] == "stale", 15, "stale")
    graph = settled_graph(server, notebook_name)
    assert graph["cells"][2]["execution_count"] == before, "run-only did not cascade"
    wait_until(lambda: dom_states(notebook.page)["cell-1"] == "stale", 5, "the stale mark")
    notebook.expect_output(1, "y 2")
    if server.app == "lab":
        notebook.cell(1).locator(".jp-InputPrompt").click()
        wait_until(lambda: selection(notebook.page).get("cell-2") == "will-run", 10, "dots")
        screenshot(notebook.page, "lab-marks.png")


def test_resolve_equals_run_all_and_marks_follow_the_cascade(
    server: JupyterServer, context: Any, notebook_name: str
) -> None:
    sources = [
        "x = 1",
        "import time; time.sleep(0.4); y = x + 1",
        "time.sleep(0.3); print('z', y * 10)",
    ]
    notebook = opened(server, context, notebook_name, sources)
    run_all(notebook)
    notebook.page.evaluate(
        """() => {
            const node = window.jupyterapp.shell.currentWidget.content.widgets[2].node;
            window.__seen = [];
            new MutationObserver(() => {
                const state = node.getAttribute('data-cascade-state');
                if (window.__seen[window.__seen.length - 1] !== state) window.__seen.push(state);
            }).observe(node, {attributes: true});
        }"""
    )
    notebook.edit(0, "x = 3")
    notebook.run(0)
    notebook.expect_output(2, "z 40")
    seen = wait_until(
        lambda: (s := notebook.page.evaluate("window.__seen")) and s[-1] == "fresh" and s,
        10,
        "the fresh mark after the cascade",
    )
    assert seen[-3:] == ["queued", "running", "fresh"], seen

    server.api("POST", "api/cascade/mode", {"path": notebook_name, "mode": "lazy"})
    notebook.edit(0, "x = 4")
    notebook.run(0)
    wait_until(lambda: dom_states(notebook.page)["cell-1"] == "stale", 15, "stale after lazy run")
    notebook.cell(0).locator(".jp-InputPrompt").click()  # command mode
    notebook.page.keyboard.press("Escape")
    notebook.page.keyboard.press("Space")  # cascade:resolve
    notebook.expect_output(2, "z 50")
    settled_graph(server, notebook_name)
    wait_until(lambda: set(dom_states(notebook.page).values()) == {"fresh"}, 10, "all fresh")
    server.api("POST", "api/cascade/mode", {"path": notebook_name, "mode": "reactive"})


def test_200_cells_windowed_have_the_right_state_everywhere(
    ext_lab: JupyterServer, context: Any, notebook_name: str
) -> None:
    sources = ["x = 0"] + [f"a{i} = x + {i}" if i % 2 else f"b{i} = {i}" for i in range(1, 200)]
    notebook = opened(ext_lab, context, notebook_name, sources)
    run_all(notebook)
    ext_lab.api("POST", "api/cascade/mode", {"path": notebook_name, "mode": "lazy"})
    notebook.page.evaluate("window.jupyterapp.shell.currentWidget.content.activeCellIndex = 0")
    command(notebook.page, "notebook:run-cell")
    expected = wait_until(
        lambda: (s := server_states(ext_lab, notebook_name))["cell-1"] == "stale" and s,
        20,
        "odd cells stale",
    )
    assert list(expected.values()).count("stale") == 100
    wait_until(lambda: dom_states(notebook.page) == expected, 10, "every cell node's mark")
    seen: dict[str, str] = {}
    scroller = notebook.page.locator(".jp-NotebookPanel:visible .jp-WindowedPanel-outer")
    for _ in range(200):
        rendered = notebook.page.evaluate(
            """() => Array.from(document.querySelectorAll(
                    '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-CodeCell[data-cascade-state]'))
                .filter(n => n.isConnected)
                .map(n => [n.querySelector('.jp-InputArea-editor') && n.dataset.windowedListIndex,
                           n.getAttribute('data-cascade-state')])"""
        )
        for index, state in rendered:
            if index is not None:
                seen[f"cell-{index}"] = state
        if len(seen) == 200 and seen == expected:
            break
        scroller.evaluate("(n) => { n.scrollTop += n.clientHeight * 0.8; }")
        notebook.page.wait_for_timeout(30)
    assert len(seen) == 200
    assert seen == expected
    ext_lab.api("POST", "api/cascade/mode", {"path": notebook_name, "mode": "reactive"})


@pytest.fixture(scope="module")
def lab_without_extension(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    yield from _server("lab", tmp_path_factory, disabled=True)


def test_disabled_extension_leaves_lab_as_today(
    lab_without_extension: JupyterServer, context: Any, notebook_name: str
) -> None:
    server = lab_without_extension
    server.create_notebook(notebook_name, SOURCES)
    notebook = LabNotebook.open(context.new_page(), server, notebook_name, len(SOURCES))
    wait_until(lambda: _has_session(server, notebook_name), 60, "the notebook's kernel session")
    notebook.run_all()
    notebook.expect_output(2, "z 20", timeout=60_000)
    settled_graph(server, notebook_name)
    notebook.edit(0, "x = 3")
    notebook.run(0)
    notebook.expect_output(2, "z 40")  # the server still cascades
    assert notebook.page.locator("[data-cascade-state]").count() == 0
    assert not notebook.page.evaluate("window.jupyterapp.commands.hasCommand('cascade:resolve')")
    expect(notebook.page.locator(".cascade-StatusItem")).to_have_count(0)
