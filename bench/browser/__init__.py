"""The browser benchmark: JupyterLab 4, Notebook 7 and nbclassic in Debian's Chromium.

``python -m bench.browser [--smoke] [--reps N]``; also part of ``python -m bench``.
Two ``jupyter lab`` servers side by side (stock and cascade, see
:mod:`bench.browser.servers`), pages driven with Playwright's sync API and
timed inside the page (:mod:`bench.browser.pages`); the rows are in
:mod:`bench.browser.rows`, the per-stage breakdown in :mod:`bench.browser.stages`.
"""

from __future__ import annotations

from ..common import Bench, Row


def run(bench: Bench) -> list[Row]:
    """Every browser row, on servers and a browser of its own (closed at the end)."""
    from .rows import frontend_rows, marks_row, open_rows
    from .servers import chromium, servers

    rows: list[Row] = []
    with servers() as started, chromium() as browser:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        context.set_default_timeout(60_000)
        for frontend in ("lab", "notebook", "nbclassic"):
            rows += frontend_rows(bench, context, started, frontend)
        rows.append(marks_row(bench, context, started))
        rows += open_rows(bench, context, started)
        context.close()
    bench.note(
        "browser rows: stock = jupyter lab with server_ext off, the Lab extension and the "
        "nbextension disabled, TCP_NODELAY on (bench/nodelay.py); medians over repetitions "
        "alternating between the servers; ratios are medians of paired ratios"
    )
    return rows
