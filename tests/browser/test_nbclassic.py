"""nbclassic: no shared document, so cascaded outputs reach the file through the page's save.

What the user gets: the cell they ran updates as always; the cascaded cells
keep showing their previous outputs on screen (nbclassic renders only replies
to its own requests, DESIGN §5). When the page saves, the server's pre-save
hook merges the cascaded outputs into that save, so the file on disk holds
what restart-and-run-all would show, and a reload shows it too.
"""

from __future__ import annotations

from typing import Any

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


def test_cascaded_outputs_reach_the_file_with_the_next_save(
    nbclassic_server: JupyterServer, context: Any, notebook_name: str
) -> None:
    server = nbclassic_server
    server.create_notebook(notebook_name, SOURCES)
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    notebook = ClassicNotebook.open(page, server, notebook_name, len(SOURCES))
    notebook.run_all()
    notebook.expect_output(3, "z = 11")
    settled_graph(server, notebook_name)
    before = [notebook.expect_counted(i) for i in range(len(SOURCES))]

    notebook.edit(0, "x = 5")
    notebook.run(0)
    ran = notebook.expect_counted(0)
    graph = settled_graph(server, notebook_name)
    counts = {cell["id"]: cell["execution_count"] for cell in graph["cells"]}
    assert ran > before[3]
    assert counts["cell-1"] > ran and counts["cell-3"] > counts["cell-1"], graph
    assert counts["cell-2"] == before[2], "the unrelated cell was not re-run"
    # On screen a cascaded cell shows its last browser-run output (today: "y = 10"),
    # or the new one should the page learn to update it; never a mix or a duplicate.
    assert notebook.output(1).inner_text().strip() in ("y = 10", "y = 50")
    assert notebook.output(3).inner_text().strip() in ("z = 11", "z = 51")

    notebook.save()
    saved = wait_until(
        lambda: (
            (nb := server.saved_notebook(notebook_name)) and nb.cells[0].source == "x = 5" and nb
        ),
        what="the page's save to reach the file",
    )
    assert outputs_text(saved.cells[1]) == "y = 50\n"
    assert outputs_text(saved.cells[3]) == "z = 51\n"
    assert saved.cells[1].execution_count == counts["cell-1"]
    assert saved.cells[3].execution_count == counts["cell-3"]
    assert outputs_text(saved.cells[2]) == "other\n"
    assert saved.cells[2].execution_count == before[2]
    assert page.locator(".modal-dialog:visible").count() == 0, "no 'file changed' dialog"
    assert dialogs == []

    reloaded = ClassicNotebook.open(page, server, notebook_name, len(SOURCES))
    reloaded.expect_output(1, "y = 50")
    reloaded.expect_output(3, "z = 51")
    assert reloaded.count(1) == counts["cell-1"]
