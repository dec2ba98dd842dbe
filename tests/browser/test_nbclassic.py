"""nbclassic without our nbextension: cascaded outputs reach the file through the page's save.

With the nbextension disabled (``jupyter nbclassic-extension disable jupyter-cascade/main``)
the user gets what an unchanged nbclassic gives: the cell they ran updates as always; the
cascaded cells keep showing their previous outputs on screen (nbclassic renders only
replies to its own requests, DESIGN §5). When the page saves, the server's pre-save hook
merges the cascaded outputs into that save, so the file on disk holds what
restart-and-run-all would show, and a reload shows it too. (With the nbextension, see
test_nbclassic_extension.py.)
"""

from __future__ import annotations

import json
import shutil
from collections.abc import Iterator
from typing import Any

import pytest

from .servers import JupyterServer
from .ui import ClassicNotebook, settled_graph, wait_until


class _UserConfigFirst(JupyterServer):
    def _environment(self) -> dict[str, str]:
        # in a virtualenv jupyter_core reads the environment's config before the user's
        env = super()._environment()
        env["JUPYTER_PREFER_ENV_PATH"] = "0"
        return env


@pytest.fixture(scope="module")
def nbclassic_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    """nbclassic with the nbextension disabled in the user's config, as
    ``jupyter nbclassic-extension disable --user jupyter-cascade/main`` writes it."""
    server = _UserConfigFirst("nbclassic", tmp_path_factory.mktemp("nbclassic-plain"))
    nbconfig = server.base / "config" / "nbconfig"
    nbconfig.mkdir(parents=True)
    disabled = {"load_extensions": {"jupyter-cascade/main": False}}
    (nbconfig / "notebook.json").write_text(json.dumps(disabled), encoding="utf-8")
    server.start()
    yield server
    server.stop()
    shutil.rmtree(server.base, ignore_errors=True)


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
    # On screen a cascaded cell shows its last browser-run output; never a mix or a duplicate.
    assert notebook.output(1).inner_text().strip() == "y = 10"
    assert notebook.output(3).inner_text().strip() == "z = 11"
    assert page.locator("[data-cascade-state]").count() == 0, "the nbextension is off"

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
