"""The graph page (``/cascade/graph?path=...``) in Chromium, next to a notebook open in Lab."""

from __future__ import annotations

import json
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from .servers import JupyterServer
from .ui import LabNotebook, settled_graph

SOURCES = [
    "x = 1\nfrom time import sleep",
    "y = x * 10\nprint('y =', y)",
    "print('other')",
    "z = y + 1\nsleep(3 if x == 2 else 0)  # slow once, to watch it run\nprint('z =', z)",
    "w = 10 / (x - 5)",
    "print('y again', y)",
    "print(w * 2)",
]

# What each state looks like (frontend/graph.css).
COLOURS = {
    "fresh": "rgb(45, 164, 78)",
    "stale": "rgb(212, 167, 44)",
    "dirty": "rgb(225, 111, 36)",
    "error": "rgb(207, 34, 46)",
    "never_run": "rgb(140, 149, 159)",
    "queued": "rgb(84, 174, 255)",
    "running": "rgb(9, 105, 218)",
}

WATCH_STATES = """() => {
  window.seenStates = new Set();
  const record = () => {
    for (const node of document.querySelectorAll(".node")) {
      window.seenStates.add(node.dataset.cellId + ":" + node.dataset.state);
    }
    if (document.body.dataset.busy === "true") window.seenStates.add("busy");
  };
  new MutationObserver(record).observe(document.body, {
    subtree: true, childList: true, attributes: true,
  });
}"""


def node(page: Page, cell_id: str) -> Any:
    return page.locator(f".node[data-cell-id='{cell_id}']")


def drawn_edges(page: Page) -> set[tuple[str, str, str]]:
    edges = page.eval_on_selector_all(
        ".edge",
        "els => els.map(e => [e.dataset.source, e.dataset.target, e.dataset.symbols])",
    )
    return {tuple(edge) for edge in edges}


def prepare_states(notebook: LabNotebook) -> dict[str, Any]:
    """Leave the notebook with cells in five states: fresh, dirty, error, stale, never run."""
    notebook.run(0)
    for _ in range(5):  # Shift+Enter moved to the next cell: run cells 1..5, not 6
        notebook.page.keyboard.press("Shift+Enter")
    notebook.expect_output(5, "y again 10")
    settled_graph(notebook.server, notebook.path)
    notebook.edit(2, "print('other!')")  # edited, not run: dirty
    notebook.edit(0, "x = 5\nfrom time import sleep")
    notebook.run(0)  # cascade: 1, 3, then 4 raises and stops it; 5 stays stale
    expect(notebook.output(4)).to_contain_text("ZeroDivisionError", timeout=30_000)
    return settled_graph(notebook.server, notebook.path)


def test_graph_page_draws_states_and_follows_a_cascade(
    lab_server: JupyterServer, context: Any, screenshot: Any
) -> None:
    notebook_name = "demo.ipynb"  # shown in the screenshot; the only test using it
    lab_server.create_notebook(notebook_name, SOURCES)
    notebook = LabNotebook.open(context.new_page(), lab_server, notebook_name, len(SOURCES))
    graph = prepare_states(notebook)
    states = {cell["id"]: cell["state"] for cell in graph["cells"]}
    assert states == {
        "cell-0": "fresh",
        "cell-1": "fresh",
        "cell-2": "dirty",
        "cell-3": "fresh",
        "cell-4": "error",
        "cell-5": "stale",
        "cell-6": "never_run",
    }, graph

    page = context.new_page()
    page.goto(lab_server.page(f"cascade/graph?path={notebook_name}"))
    expect(page.locator(".node")).to_have_count(len(SOURCES))
    expect(node(page, "cell-2").locator(".code")).to_have_text("print('other!')")
    for cell in graph["cells"]:
        shown = node(page, cell["id"])
        expect(shown).to_have_attribute("data-state", cell["state"])
        first_line = SOURCES[cell["index"]].splitlines()[0]
        if cell["id"] == "cell-0":
            first_line = "x = 5"
        elif cell["id"] == "cell-2":
            first_line = "print('other!')"
        expect(shown.locator(".code")).to_have_text(first_line)
        expect(shown.locator(".prompt")).to_have_text(
            f"[{cell['execution_count']}]" if cell["execution_count"] else "[ ]"
        )
        stroke = shown.locator("rect").first.evaluate("r => getComputedStyle(r).stroke")
        assert stroke == COLOURS[cell["state"]], (cell, stroke)
    expected_edges = {(e["source"], e["target"], ",".join(e["symbols"])) for e in graph["edges"]}
    assert {("cell-0", "cell-1", "x"), ("cell-1", "cell-5", "y")} <= expected_edges
    assert drawn_edges(page) == expected_edges
    expect(page.locator(".edge[data-source='cell-0'][data-target='cell-1'] .label")).to_have_text(
        "x"
    )
    expect(page.locator("#summary")).to_contain_text("idle")
    screenshot(page, "graph-page.png")

    # A new cascade: the page follows it while it runs, without a reload.
    page.evaluate(WATCH_STATES)
    notebook.edit(0, "x = 2\nfrom time import sleep")
    notebook.run(0)
    for cell_id in ("cell-0", "cell-1", "cell-3", "cell-4", "cell-5"):
        expect(node(page, cell_id)).to_have_attribute("data-state", "fresh", timeout=30_000)
    expect(node(page, "cell-2")).to_have_attribute("data-state", "dirty")
    expect(node(page, "cell-6")).to_have_attribute("data-state", "never_run")
    seen = set(page.evaluate("() => [...window.seenStates]"))
    assert {"busy", "cell-3:running"} <= seen, seen


def test_graph_page_without_a_session_says_so(lab_server: JupyterServer, context: Any) -> None:
    page = context.new_page()
    page.goto(lab_server.page("cascade/graph?path=nowhere.ipynb"))
    expect(page.locator("#message")).to_contain_text("No kernel is running for nowhere.ipynb")
    expect(page.locator(".node")).to_have_count(0)


@pytest.mark.parametrize(
    "route",
    [
        "cascade/graph?path=a.ipynb",
        "cascade/static/graph.js",
        "cascade/static/graph.css",
        "cascade/static/vendor/dagre.min.js",
        "cascade/static/graph.html",
    ],
)
def test_page_and_assets_need_a_login(lab_server: JupyterServer, route: str) -> None:
    status, headers, body = lab_server.request("GET", route, token=False)
    assert status in (401, 403) or (status == 302 and "/login" in headers["Location"]), status
    assert b"dagre" not in body and b"cascade-page-config" not in body

    status, _, body = lab_server.request("GET", route)
    assert status == 200, (status, body[:300])


def test_assets_stay_inside_the_frontend_folder(lab_server: JupyterServer) -> None:
    for route in ("cascade/static/../../pyproject.toml", "cascade/static/%2e%2e/pyproject.toml"):
        status, _, body = lab_server.request("GET", route)
        assert status in (403, 404), (route, status)
        assert b"[project]" not in body
    status, _, _ = lab_server.request("GET", "cascade/static/missing.js")
    assert status == 404


def test_page_embeds_its_settings_safely(lab_server: JupyterServer) -> None:
    status, _, body = lab_server.request("GET", "cascade/graph?path=%3C/script%3E.ipynb")
    assert status == 200
    html = body.decode()
    start = html.index('type="application/json">') + len('type="application/json">')
    settings = json.loads(html[start : html.index("</script>", start)])
    assert settings["path"] == "</script>.ipynb"
    assert settings["baseUrl"] == "/"
    assert "/cascade/static/graph.js" in html
