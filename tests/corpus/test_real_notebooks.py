"""Real public notebooks (tests/corpus/SOURCES.md) through the real server.

Per notebook: a JupyterLab "Run All" and a Shift+Enter run top to bottom must
show exactly what a stock kernel shows and the server must run no cell by
itself; after the edit of ``edits.json`` is saved and its cell run, every cell
must show what restart-and-run-all of the edited notebook shows. Volatile
cells (outputs that differ between two stock runs) are not compared. The
summary table at the end of the session counts, per notebook, the server's
own runs, the mismatches, and the re-runs after the edit against the cells
whose output it changed.
"""

from __future__ import annotations

import pytest

from .play import Case, Runner, load_cases

CASES = load_cases()


@pytest.mark.timeout(900)
@pytest.mark.parametrize("case", [pytest.param(c, id=c.key) for c in CASES])
def test_real_notebook(case: Case, corpus_runner: Runner) -> None:
    outcome = corpus_runner.run(case)
    problems = outcome.problems()
    assert not problems, f"{case.key}:\n" + "\n".join(problems)
