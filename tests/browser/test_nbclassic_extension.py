"""nbclassic with our nbextension: cascades on screen, live, marked, and saved without a save.

The nbextension (frontend/nbextension/, installed and enabled with the package) shows the
server's cascaded runs in every nbclassic tab of the notebook, marks the cells
(``data-cascade-state``, ``data-cascade-selection``, ``In [*]``), binds the keys, and has the
page that triggered a cascade save itself once it ended (DESIGN §4, issue 22).
"""

from __future__ import annotations

import time
from typing import Any

from playwright.sync_api import expect

from .servers import JupyterServer
from .ui import ClassicNotebook, settled_graph, wait_until

SOURCES = [
    "x = 1",
    "y = x * 10\nprint('y =', y)",
    "print('other')",
    "print('z =', y + 1)",
]


def outputs_text(cell: Any) -> str:
    return "".join(output.get("text", "") for output in cell.get("outputs", []))


def watch_dialogs(page: Any) -> list[str]:
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    return dialogs


def no_modal(page: Any) -> None:
    assert page.locator(".modal-dialog:visible").count() == 0, "no 'Notebook changed' dialog"


def state_of(notebook: ClassicNotebook, index: int) -> str | None:
    return notebook.cell(index).get_attribute("data-cascade-state")  # type: ignore[no-any-return]


def expect_state(notebook: ClassicNotebook, index: int, state: str) -> None:
    expect(notebook.cell(index)).to_have_attribute("data-cascade-state", state)


def run_all_settled(server: JupyterServer, notebook: ClassicNotebook, path: str) -> list[int]:
    notebook.run_all()
    notebook.expect_output(3, "z = 11")
    settled_graph(server, path)
    return [notebook.expect_counted(i) for i in range(len(SOURCES))]


def save(notebook: ClassicNotebook) -> None:
    """What Ctrl+S does (File > Save and Checkpoint), whichever element has the focus."""
    notebook.page.evaluate("Jupyter.notebook.save_checkpoint()")


def saved_when(server: JupyterServer, path: str, check: Any, timeout: float = 10) -> Any:
    return wait_until(
        lambda: (nb := server.saved_notebook(path)) is not None and check(nb) and nb,
        timeout,
        f"{path} on disk to hold the cascade",
    )


def test_cascade_shows_live_in_every_tab_and_saves_itself(
    nbclassic_server: JupyterServer, context: Any, notebook_name: str
) -> None:
    server = nbclassic_server
    server.create_notebook(notebook_name, SOURCES)
    page = context.new_page()
    dialogs = watch_dialogs(page)
    notebook = ClassicNotebook.open(page, server, notebook_name, len(SOURCES))
    before = run_all_settled(server, notebook, notebook_name)
    for i in range(len(SOURCES)):
        expect_state(notebook, i, "fresh")
    save(notebook)  # the second tab opens on the saved notebook
    saved_when(server, notebook_name, lambda nb: nb.cells[3].execution_count == before[3])

    other_page = context.new_page()
    other_dialogs = watch_dialogs(other_page)
    other = ClassicNotebook.open(other_page, server, notebook_name, len(SOURCES))
    other.expect_output(1, "y = 10")

    notebook.edit(0, "x = 5")
    notebook.run(0)
    notebook.expect_output(1, "y = 50")
    notebook.expect_output(3, "z = 51")
    graph = settled_graph(server, notebook_name)
    ended = time.monotonic()
    counts = {cell["id"]: cell["execution_count"] for cell in graph["cells"]}
    ran = notebook.expect_counted(0)
    assert counts["cell-1"] > ran > before[3] and counts["cell-3"] > counts["cell-1"], graph
    assert counts["cell-2"] == before[2], "the unrelated cell was not re-run"
    expect(notebook.prompt(1)).to_have_text(f"In [{counts['cell-1']}]:")
    expect(notebook.prompt(3)).to_have_text(f"In [{counts['cell-3']}]:")
    assert notebook.count(2) == before[2]
    assert notebook.output(2).inner_text().strip() == "other"
    for i in range(len(SOURCES)):
        expect_state(notebook, i, "fresh")

    # the second tab shows the cascade too (its first cell still shows its own, older text)
    other.expect_output(1, "y = 50")
    other.expect_output(3, "z = 51")
    expect(other.prompt(1)).to_have_text(f"In [{counts['cell-1']}]:")
    expect(other.prompt(3)).to_have_text(f"In [{counts['cell-3']}]:")
    assert other.count(2) == before[2]

    # on disk without a save by the user, within ~2 s of the cascade's end
    saved = saved_when(
        server,
        notebook_name,
        lambda nb: nb.cells[0].source == "x = 5" and outputs_text(nb.cells[3]) == "z = 51\n",
    )
    assert time.monotonic() - ended < 3.0
    assert outputs_text(saved.cells[1]) == "y = 50\n"
    assert saved.cells[1].execution_count == counts["cell-1"]
    assert saved.cells[3].execution_count == counts["cell-3"]
    assert outputs_text(saved.cells[2]) == "other\n"
    assert saved.cells[2].execution_count == before[2]

    reloaded = ClassicNotebook.open(page, server, notebook_name, len(SOURCES))
    reloaded.expect_output(1, "y = 50")
    reloaded.expect_output(3, "z = 51")
    assert reloaded.count(1) == counts["cell-1"]
    assert reloaded.count(3) == counts["cell-3"]
    assert reloaded.cell(0).locator(".CodeMirror-code").inner_text().strip() == "x = 5"
    for tab in (page, other_page):
        no_modal(tab)
    assert dialogs == [] and other_dialogs == []


def test_unsaved_edits_are_saved_as_typed_and_never_overwritten(
    nbclassic_server: JupyterServer, context: Any, notebook_name: str
) -> None:
    """The page's save after a cascade writes the page as it stands, the user's unsaved edits
    included; an edited dependent cell keeps its text and outputs; a tab that did not see the
    edits cannot write over them (nbclassic's own dialog asks first)."""
    server = nbclassic_server
    server.create_notebook(notebook_name, SOURCES)
    page = context.new_page()
    dialogs = watch_dialogs(page)
    notebook = ClassicNotebook.open(page, server, notebook_name, len(SOURCES))
    before = run_all_settled(server, notebook, notebook_name)
    save(notebook)
    saved_when(server, notebook_name, lambda nb: nb.cells[3].execution_count == before[3])
    stale_page = context.new_page()
    stale = ClassicNotebook.open(stale_page, server, notebook_name, len(SOURCES))

    notebook.edit(2, "print('edited')")  # unrelated, not run
    notebook.edit(3, "print('z is', y + 1)")  # a dependent cell, edited and not run
    notebook.edit(0, "x = 5")
    notebook.run(0)
    notebook.expect_output(1, "y = 50")
    settled_graph(server, notebook_name)
    saved = saved_when(server, notebook_name, lambda nb: nb.cells[0].source == "x = 5")
    assert outputs_text(saved.cells[1]) == "y = 50\n"
    assert saved.cells[2].source == "print('edited')"
    assert outputs_text(saved.cells[2]) == "other\n"
    assert saved.cells[3].source == "print('z is', y + 1)"
    # the server ran the code it knew for that cell; the page does not put that output under
    # the edited text
    assert "z = 51" not in outputs_text(saved.cells[3])
    assert notebook.output(3).inner_text().strip() == "z = 11"
    assert notebook.cell(3).locator(".CodeMirror-code").inner_text().strip() == (
        "print('z is', y + 1)"
    )
    expect_state(notebook, 3, "dirty")
    no_modal(page)
    assert dialogs == []

    # the tab opened before the edits still shows the old code: its save must not win silently
    save(stale)
    expect(stale_page.locator(".modal-dialog:visible")).to_have_count(1)
    expect(stale_page.locator(".modal-dialog .modal-title")).to_have_text("Notebook changed")
    stale_page.locator(".modal-dialog button", has_text="Cancel").click()
    after = server.saved_notebook(notebook_name)
    assert after is not None and after.cells[2].source == "print('edited')"


def test_lazy_marks_keys_and_selection(
    nbclassic_server: JupyterServer, context: Any, notebook_name: str
) -> None:
    server = nbclassic_server
    server.create_notebook(notebook_name, SOURCES)
    page = context.new_page()
    dialogs = watch_dialogs(page)
    notebook = ClassicNotebook.open(page, server, notebook_name, len(SOURCES))
    before = run_all_settled(server, notebook, notebook_name)

    # lazy mode: nothing cascades, the cells that read x are marked
    server.api("POST", "api/cascade/mode", {"path": notebook_name, "mode": "lazy"})
    notebook.edit(0, "x = 7")
    notebook.run(0)
    notebook.expect_counted(0)
    expect_state(notebook, 1, "stale")
    # reads y from a stale cell: waiting (DESIGN §2)
    expect_state(notebook, 3, "waiting")
    expect_state(notebook, 2, "fresh")
    assert notebook.output(1).inner_text().strip() == "y = 10"
    assert notebook.count(1) == before[1]

    # selection: the first cell's run would run the cells that read x
    notebook.cell(0).locator(".input_prompt").click()
    expect(notebook.cell(0)).to_have_attribute("data-cascade-selection", "will-run")
    expect(notebook.cell(1)).to_have_attribute("data-cascade-selection", "will-run")
    expect(notebook.cell(3)).to_have_attribute("data-cascade-selection", "will-run")
    assert notebook.cell(2).get_attribute("data-cascade-selection") is None

    # Space in command mode resolves: the stale cells run, on screen
    page.keyboard.press("Escape")
    page.keyboard.press("Space")
    notebook.expect_output(1, "y = 70")
    notebook.expect_output(3, "z = 71")
    settled_graph(server, notebook_name)
    for i in range(len(SOURCES)):
        expect_state(notebook, i, "fresh")

    # Ctrl/Cmd+Shift+Enter in reactive mode runs the cell alone
    server.api("POST", "api/cascade/mode", {"path": notebook_name, "mode": "reactive"})
    notebook.edit(0, "x = 2")
    count = notebook.count(0) or 0
    page.keyboard.press("ControlOrMeta+Shift+Enter")
    expect(notebook.prompt(0)).not_to_have_text(f"In [{count}]:")
    notebook.expect_counted(0)
    expect_state(notebook, 1, "stale")
    settled_graph(server, notebook_name)
    assert notebook.output(1).inner_text().strip() == "y = 70"
    no_modal(page)
    assert dialogs == []


def test_queued_cells_show_a_star_until_they_run(
    nbclassic_server: JupyterServer, context: Any, notebook_name: str
) -> None:
    server = nbclassic_server
    sources = ["x = 1", "import time\ntime.sleep(1.5)\na = x", "print('b =', x + 1)"]
    server.create_notebook(notebook_name, sources)
    page = context.new_page()
    notebook = ClassicNotebook.open(page, server, notebook_name, len(sources))
    notebook.run_all()
    notebook.expect_output(2, "b = 2")
    settled_graph(server, notebook_name)
    notebook.edit(0, "x = 2")
    notebook.run(0)
    # while the slow cell runs, the one after it waits its turn: In [*]
    expect(notebook.prompt(1)).to_have_text("In [*]:")
    expect(notebook.prompt(2)).to_have_text("In [*]:")
    expect_state(notebook, 2, "queued")
    notebook.expect_output(2, "b = 3")
    graph = settled_graph(server, notebook_name)
    counts = {cell["id"]: cell["execution_count"] for cell in graph["cells"]}
    expect(notebook.prompt(1)).to_have_text(f"In [{counts['cell-1']}]:")
    expect(notebook.prompt(2)).to_have_text(f"In [{counts['cell-2']}]:")


def test_cells_of_equal_source_each_show_their_own_run(
    nbclassic_server: JupyterServer, context: Any, notebook_name: str
) -> None:
    """Cells of equal source are told apart by id both ways: the page sends the
    cell's id with its own runs (nbclassic sends none), and finds a cascaded run's
    cell by the id the server puts in the request's header."""
    server = nbclassic_server
    sources = ["x = 1", "print('x is', x)", "x = x + 1", "print('x is', x)"]
    server.create_notebook(notebook_name, sources)
    page = context.new_page()
    notebook = ClassicNotebook.open(page, server, notebook_name, len(sources))
    notebook.run_all()
    notebook.expect_output(3, "x is 2")
    settled_graph(server, notebook_name)
    notebook.edit(0, "x = 10")
    notebook.run(0)
    notebook.expect_output(1, "x is 10")
    notebook.expect_output(3, "x is 11")
    graph = settled_graph(server, notebook_name)
    counts = [cell["execution_count"] for cell in graph["cells"]]
    assert counts[0] < counts[1] < counts[2] < counts[3], graph
    for i, count in enumerate(counts):
        expect(notebook.prompt(i)).to_have_text(f"In [{count}]:")
