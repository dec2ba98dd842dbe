"""One notebook, all rules: the entry point the CLI and the tests call."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from pathlib import Path

from .findings import NotebookReport
from .notebook import NotebookError, SavedNotebook, read_notebook
from .static import static_findings


@dataclass(frozen=True)
class CheckOptions:
    #: also run restart-and-run-all in a fresh kernel and compare outputs
    execute: bool = False
    #: seconds each cell may run under ``execute`` (None: no limit)
    timeout: float | None = 60.0
    #: the kernel to run under ``execute``; None: the notebook's kernelspec, else python3
    kernel_name: str | None = None
    #: read the persisted run records (``metadata["jupyter_cascade"]``)
    use_metadata: bool = True
    #: rule codes not to report
    ignore: Collection[str] = field(default_factory=frozenset)


def check_notebook(notebook: SavedNotebook, options: CheckOptions | None = None) -> NotebookReport:
    """Every finding of ``notebook`` (static rules; the ``--execute`` ones if asked)."""
    options = options or CheckOptions()
    report = NotebookReport(notebook.path)
    findings = static_findings(notebook, options.use_metadata)
    if notebook.language != "python":
        report.notes.append(
            f"kernel language {notebook.language!r}: only rules CC104 and CC105 apply statically"
        )
    if options.execute:
        from .execute import ExecutionError, execution_findings  # jupyter_client when asked

        try:
            findings += execution_findings(notebook, options.timeout, options.kernel_name)
            report.executed = True
        except ExecutionError as error:
            report.error = f"{notebook.path}: {error}"
        findings.sort(key=lambda f: (f.cell.index, f.rule))
    report.findings = [f for f in findings if f.rule not in options.ignore]
    return report


def check_path(path: str | Path, options: CheckOptions | None = None) -> NotebookReport:
    """:func:`check_notebook` of the file at ``path``; an unreadable file gives a
    report with ``error`` set and no findings."""
    try:
        notebook = read_notebook(path)
    except NotebookError as error:
        return NotebookReport(str(path), error=str(error))
    return check_notebook(notebook, options)
