"""The browser benchmark: JupyterLab 4, Notebook 7 and nbclassic in Debian's Chromium.

``python -m bench.browser [--smoke] [--reps N]``; also part of ``python -m bench``.
Two ``jupyter lab`` servers side by side (stock and cascade, see
:mod:`bench.browser.servers`), pages driven with Playwright's sync API and
timed inside the page (:mod:`bench.browser.pages`); the rows are in
:mod:`bench.browser.rows`, the per-stage breakdown in :mod:`bench.browser.stages`.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from ..common import Bench, Row


def _progress(started: float, what: str) -> None:
    print(
        f"[browser bench {time.perf_counter() - started:6.1f} s] {what}",
        file=sys.stderr,
        flush=True,
    )


def run_in_all(bench: Bench) -> list[Row]:
    """``python -m bench``: every row; none in smoke mode, where its page loads alone
    would take longer than every other script together (``python -m bench.browser
    --smoke`` checks it separately)."""
    if bench.smoke:
        bench.note("browser: left out of the combined smoke run (python -m bench.browser --smoke)")
        return []
    return run(bench)


def run_alone(bench: Bench) -> list[Row]:
    """``python -m bench.browser``: every row; in smoke mode only the 2-cell chains (CI runs it)."""
    return run(bench, brief=bench.smoke)


def run(bench: Bench, brief: bool = False) -> list[Row]:
    """Every browser row, on servers and a browser of its own (closed at the end).

    ``brief``: only the 2-cell chains of Lab 4 and nbclassic.
    """
    from .pages import UNEXPECTED
    from .rows import frontend_rows, marks_row, open_rows
    from .servers import chromium, servers

    rows: list[Row] = []
    began = time.perf_counter()
    with servers() as started, chromium() as browser:
        _progress(began, "servers and browser up")
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(60_000)
        sections: list[tuple[str, Callable[[], list[Row]]]] = [
            (f, lambda f=f: frontend_rows(bench, context, started, f, brief))  # type: ignore[misc]
            for f in (("lab", "nbclassic") if brief else ("lab", "notebook", "nbclassic"))
        ]
        if not brief:
            sections.append(("marks", lambda: [marks_row(bench, context, started)]))
            sections.append(("open", lambda: open_rows(bench, context, started)))
        for name, section in sections:
            try:
                rows += section()
            except Exception as error:  # one broken section must not lose the others' rows
                if bench.smoke:
                    raise
                rows.append(
                    Row(f"browser section {name}: did not finish", None, None, "runs", False)
                )
                bench.note(f"browser section {name} failed: {type(error).__name__}: {error}"[:800])
            _progress(began, f"{name} done")
        for text in UNEXPECTED[:5]:
            bench.note(text)
        context.close()
    bench.note(
        "browser rows: stock = jupyter lab with server_ext off, the Lab extension and the "
        "nbextension disabled, TCP_NODELAY on (bench/nodelay.py); medians over repetitions "
        "alternating between the servers; ratios are medians of paired ratios"
    )
    return rows
