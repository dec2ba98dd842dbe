"""What a user does in each frontend, as Playwright steps: open, type, run, restart, save.

JupyterLab 4 and Notebook 7 share their notebook widgets (``.jp-*``, CodeMirror 6);
nbclassic has its own page (``.cell``, CodeMirror 5). Every wait is on a page
selector or a condition with a deadline; nothing sleeps and hopes.
"""

from __future__ import annotations

import re
import time
import urllib.parse
import uuid
from collections.abc import Callable
from typing import Any

from playwright.sync_api import Locator, Page, expect

from .servers import JupyterServer

PROMPT = re.compile(r"\[(\d+|\*| )\]")


def prompt_number(text: str) -> int | None:
    """``[12]:`` or ``In [12]:`` → 12; ``[ ]:`` and ``[*]:`` → None."""
    match = PROMPT.search(text)
    return int(match.group(1)) if match and match.group(1).isdigit() else None


def wait_until(condition: Callable[[], Any], timeout: float = 30, what: str = "condition") -> Any:
    """Poll ``condition`` until it returns something truthy; fail after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        time.sleep(0.1)


def settled_graph(server: JupyterServer, path: str, timeout: float = 60) -> dict[str, Any]:
    """The server's cell graph once no cascade is queued or running."""
    graph: dict[str, Any] = wait_until(
        lambda: (g := server.graph(path)) and not g["busy"] and g,
        timeout,
        f"the cascade on {path} to finish",
    )
    return graph


class LabNotebook:
    """A notebook open in JupyterLab 4 (``app="lab"``) or Notebook 7 (``app="notebook"``)."""

    ROUTES = {"lab": "lab/workspaces/{workspace}/tree/", "notebook": "notebooks/"}

    def __init__(self, page: Page, server: JupyterServer, path: str) -> None:
        self.page = page
        self.server = server
        self.path = path

    @classmethod
    def open(cls, page: Page, server: JupyterServer, path: str, cells: int) -> LabNotebook:
        # a workspace of its own: Lab would otherwise restore other tests' tabs
        workspace = "w" + uuid.uuid4().hex[:12]
        route = cls.ROUTES[server.app].format(workspace=workspace) + urllib.parse.quote(path)
        page.goto(server.page(route))
        notebook = cls(page, server, path)
        expect(notebook.cells).to_have_count(cells, timeout=60_000)
        notebook.wait_kernel_idle(timeout=60_000)
        return notebook

    @property
    def cells(self) -> Locator:
        return self.page.locator(".jp-NotebookPanel:visible .jp-Notebook .jp-CodeCell")

    def cell(self, index: int) -> Locator:
        return self.cells.nth(index)

    def prompt(self, index: int) -> Locator:
        return self.cell(index).locator(".jp-InputArea-prompt")

    def output(self, index: int) -> Locator:
        return self.cell(index).locator(".jp-OutputArea")

    def count(self, index: int) -> int | None:
        return prompt_number(self.prompt(index).inner_text())

    def wait_kernel_idle(self, timeout: float = 30_000) -> None:
        indicator = self.page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']")
        expect(indicator.first).to_be_attached(timeout=timeout)

    def edit(self, index: int, source: str) -> None:
        """Replace a cell's source by typing, as a user would."""
        editor = self.cell(index).locator(".cm-content")
        editor.click()
        self.page.keyboard.press("ControlOrMeta+a")
        self.page.keyboard.type(source)
        expect(editor).to_have_text(source.replace("\n", ""))

    def run(self, index: int) -> None:
        """Focus the cell's editor and press Shift+Enter."""
        self.cell(index).locator(".cm-content").click()
        self.page.keyboard.press("Shift+Enter")

    def run_all(self) -> None:
        """Run ▸ Run All Cells, from the menu bar, with this notebook active."""
        self.prompt(0).click()
        self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
        label = self.page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$"))
        label.click()

    def restart_kernel(self) -> None:
        """The toolbar's restart button, then "Restart" in the confirmation dialog."""
        toolbar = self.page.locator(".jp-NotebookPanel-toolbar:visible")
        toolbar.locator("[data-command='notebook:restart-kernel']").click()
        # the server answers the restart request once the new kernel is up
        with self.page.expect_response(
            lambda r: (
                r.request.method == "POST"
                and urllib.parse.urlparse(r.url).path.endswith("/restart")
            )
        ) as restarted:
            self.page.locator(".jp-Dialog .jp-mod-accept").click()
        assert restarted.value.ok, restarted.value.status
        expect(self.page.locator(".jp-Dialog")).to_have_count(0)
        self.wait_kernel_idle()

    def expect_output(self, index: int, text: str, timeout: float = 30_000) -> None:
        expect(self.output(index)).to_have_text(text, timeout=timeout)

    def expect_counted(self, index: int, timeout: float = 30_000) -> int:
        """Wait until the cell's prompt shows an execution count; return it."""
        expect(self.prompt(index)).to_have_text(re.compile(r"\[\d+\]"), timeout=timeout)
        return self.count(index) or 0


class ClassicNotebook:
    """A notebook open in nbclassic (``/nbclassic/notebooks/<path>``)."""

    def __init__(self, page: Page, server: JupyterServer, path: str) -> None:
        self.page = page
        self.server = server
        self.path = path

    @classmethod
    def open(cls, page: Page, server: JupyterServer, path: str, cells: int) -> ClassicNotebook:
        page.goto(server.page("nbclassic/notebooks/" + urllib.parse.quote(path)))
        notebook = cls(page, server, path)
        expect(notebook.cells).to_have_count(cells, timeout=60_000)
        notebook.wait_kernel_idle(timeout=60_000)
        return notebook

    @property
    def cells(self) -> Locator:
        return self.page.locator("#notebook-container .cell.code_cell")

    def cell(self, index: int) -> Locator:
        return self.cells.nth(index)

    def prompt(self, index: int) -> Locator:
        return self.cell(index).locator(".input_prompt")

    def output(self, index: int) -> Locator:
        return self.cell(index).locator(".output_wrapper .output")

    def count(self, index: int) -> int | None:
        return prompt_number(self.prompt(index).inner_text())

    def wait_kernel_idle(self, timeout: float = 30_000) -> None:
        expect(self.page.locator("#kernel_indicator_icon.kernel_idle_icon")).to_be_attached(
            timeout=timeout
        )

    def edit(self, index: int, source: str) -> None:
        self.cell(index).locator(".CodeMirror").click()
        self.page.keyboard.press("ControlOrMeta+a")
        self.page.keyboard.type(source)
        expect(self.cell(index).locator(".CodeMirror-code")).to_have_text(source)

    def run(self, index: int) -> None:
        self.cell(index).locator(".CodeMirror").click()
        self.page.keyboard.press("Shift+Enter")

    def run_all(self) -> None:
        """Cell ▸ Run All, from the menu bar."""
        self.page.locator("#celllink").click()
        self.page.locator("#run_all_cells > a").click()

    def save(self) -> None:
        """Ctrl+S: nbclassic saves the notebook (with a checkpoint)."""
        self.page.keyboard.press("ControlOrMeta+s")

    def expect_output(self, index: int, text: str, timeout: float = 30_000) -> None:
        expect(self.output(index)).to_have_text(text, timeout=timeout)

    def expect_counted(self, index: int, timeout: float = 30_000) -> int:
        expect(self.prompt(index)).to_have_text(re.compile(r"\[\d+\]"), timeout=timeout)
        return self.count(index) or 0
