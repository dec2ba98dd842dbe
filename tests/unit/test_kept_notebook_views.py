"""What the server keeps between runs about a notebook: predictions and cell lists.

Admissions and cascades ask for both on every run; these tests pin that the
kept answers change exactly when what they rest on changes.
"""

from __future__ import annotations

import asyncio
import logging
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from kernel_agent.core import planning
from kernel_agent.core.graph import CellRecord
from kernel_agent.core.planning import NotebookCell
from server_ext import predict
from server_ext import runner as runner_module
from server_ext.config import Cascade
from server_ext.notebook import PendingOutputs, SavedFile, SentCode, _Snapshot
from server_ext.predict import INLINE_ANALYSES, Predictions
from server_ext.runner import KernelRunner
from server_ext.state import BrowserRequest

FUNCTION_READS_A = "def total():\n    return a + 1"
FUNCTION_READS_B = "def total():\n    return b + 1"
CALLER = "t = total()"


def test_a_caller_reads_what_the_function_it_calls_reads_now() -> None:
    predictions = Predictions()
    before = predictions.predictor([FUNCTION_READS_A, CALLER])(CALLER)
    assert "a" in before.uses and "t" in before.defines
    # another cell's edit changes the function: the caller's effects follow
    after = predictions.predictor([FUNCTION_READS_B, CALLER])(CALLER)
    assert "b" in after.uses and "a" not in after.uses


def test_an_unrelated_edit_keeps_the_predictions() -> None:
    predictions = Predictions()
    kept = predictions.predictor([FUNCTION_READS_A, CALLER, "x = 1"])(CALLER)
    again = predictions.predictor([FUNCTION_READS_A, CALLER, "x = 2"])(CALLER)
    assert again is kept


@pytest.fixture
def analysed(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Every source the predictions analyse, with the thread that analysed it."""
    seen: list[tuple[str, str]] = []
    real = predict.analyse_source

    def recording(source: str, *args: Any) -> Any:
        seen.append((source, threading.current_thread().name))
        return real(source, *args)

    monkeypatch.setattr(predict, "analyse_source", recording)
    return seen


def test_a_big_notebooks_new_sources_are_analysed_off_the_event_loop(
    analysed: list[tuple[str, str]],
) -> None:
    predictions = Predictions()
    sources = [f"v{i} = {i}" for i in range(INLINE_ANALYSES)] + [FUNCTION_READS_A, CALLER]
    assert not predictions.ready(sources)  # too many to analyse inside the event loop
    asyncio.run(predictions.prepare(sources))
    assert sorted(source for source, _ in analysed) == sorted(sources)
    assert threading.main_thread().name not in {thread for _, thread in analysed}

    analysed.clear()
    assert predictions.ready(sources)
    effects = predictions.predictor(sources)(CALLER)
    assert analysed == []  # planning finds every analysis made
    assert effects == Predictions().predictor(sources)(CALLER)
    assert "a" in effects.uses and "t" in effects.defines


def test_a_few_new_sources_are_analysed_inline(analysed: list[tuple[str, str]]) -> None:
    predictions = Predictions()
    sources = [f"v{i} = {i}" for i in range(INLINE_ANALYSES - 2)] + [FUNCTION_READS_A, CALLER]
    assert predictions.ready(sources)
    asyncio.run(predictions.prepare(sources))
    assert analysed == []  # not worth a thread: the predictor analyses them when asked
    predictions.predictor(sources)
    assert {thread for _, thread in analysed} == {threading.main_thread().name}


def test_a_source_is_analysed_once_while_the_notebook_holds_it(
    analysed: list[tuple[str, str]],
) -> None:
    """More cells than any fixed-size cache: an edit re-analyses the edited cell only."""
    predictions = Predictions()
    sources = [f"v{i} = {i}" for i in range(5000)]
    predictions.predictor(sources)
    assert len(analysed) == 5000
    analysed.clear()
    predictions.predictor([*sources[:-1], "v4999 = -1"])
    assert [source for source, _ in analysed] == ["v4999 = -1"]


@pytest.mark.parametrize(("trigger", "analyses"), [("top", 0), ("below", 2 + INLINE_ANALYSES)])
def test_only_a_pull_that_may_run_something_waits_for_predictions(
    analysed: list[tuple[str, str]], trigger: str, analyses: int
) -> None:
    """Re-running a fresh cell above never-run ones plans no pull, so the
    admission analyses none of them (the cascade after the reply will); a cell
    below them may pull them, so their effects are predicted first."""
    runner = KernelRunner("k", object(), Cascade(), None, logging.getLogger("test"))  # type: ignore[arg-type]
    runner.state.graph.put(CellRecord("top", 1, "a = 1", frozenset(), frozenset({"a"})))
    never_run = [NotebookCell(f"n{i}", f"w{i} = a + {i}") for i in range(INLINE_ANALYSES)]
    cells = [NotebookCell("top", "a = 1"), *never_run, NotebookCell("below", "print(w0)")]
    source = {cell.id: cell.source for cell in cells}[trigger]
    request = BrowserRequest(cell_id=trigger, code=source)
    plan = runner._upstream_plan(saved_file(SentCode()), cells, request)
    assert len(analysed) == analyses
    assert plan == ([] if trigger == "top" else ["n0"])


def saved_file(sent: SentCode) -> SavedFile:
    return SavedFile("n.ipynb", saved=None, pending=PendingOutputs(), sent_code=sent)  # type: ignore[arg-type]


def snapshot(saved_at: float) -> _Snapshot:
    cells = [("a", "x = 1"), ("b", "y = x"), ("c", "z = y")]
    return _Snapshot(stamp=object(), saved_at=saved_at, cells=cells, metadata={})


def sources(cells: list) -> dict[str, str]:
    return {cell.id: cell.source for cell in cells}


def test_cells_run_since_the_save_show_the_code_that_ran() -> None:
    # "gone" is no longer in the notebook
    sent = SentCode()
    sent.note("b", "y = x * 2", 90.0)
    sent.note("gone", "w = 0", 105.0)
    sent.note("a", "x = 5", 110.0)
    notebook = saved_file(sent)
    saved = snapshot(saved_at=100.0)
    assert sources(notebook._cells(saved)) == {"a": "x = 5", "b": "y = x", "c": "z = y"}
    # a later run of c, then a save after every run: the saved sources win again
    sent.note("c", "z = y + 1", 120.0)
    assert sources(notebook._cells(saved))["c"] == "z = y + 1"
    assert sources(notebook._cells(snapshot(saved_at=130.0))) == {
        "a": "x = 1",
        "b": "y = x",
        "c": "z = y",
    }
    # the cells made for one read are not changed by what a caller does to its copy
    first = notebook._cells(saved)
    first.clear()
    assert len(notebook._cells(saved)) == 3
    # a run back to the saved source shows it again
    sent.note("a", "x = 1", 140.0)
    assert sources(notebook._cells(saved))["a"] == "x = 1"


class CountingSentCode(SentCode):
    """Counts the runs each reader went through."""

    def __init__(self) -> None:
        super().__init__()
        self.read: list[int] = []

    def since(self, moment: float, after: int = 0) -> Iterator[tuple[str, str]]:
        runs = list(super().since(moment, after))
        self.read.append(len(runs))
        return iter(runs)


def test_the_cells_with_runs_are_kept_and_only_new_runs_laid_over() -> None:
    sent = CountingSentCode()
    for i in range(50):
        sent.note("b", f"y = x + {i}", 110.0 + i)
        sent.note("c", f"z = y + {i}", 110.0 + i)
    saved = snapshot(saved_at=100.0)
    kept = saved.with_runs(sent)
    assert saved.with_runs(sent) is kept, "no new run: the same answer"
    sent.note("a", "x = 2", 200.0)
    assert sources(saved.with_runs(sent)) == {"a": "x = 2", "b": "y = x + 49", "c": "z = y + 49"}
    assert sent.read == [2, 1], "the second answer read only the run noted since the first"
    other = SentCode()  # another kernel's runs on the same read
    assert sources(saved.with_runs(other))["b"] == "y = x"


def test_a_cell_run_again_counts_as_its_newest_run() -> None:
    sent = SentCode()
    sent.note("x", "x = 1", 1.0)
    sent.note("y", "y = 1", 2.0)
    sent.note("x", "x = 2", 3.0)
    assert list(sent.since(2.0)) == [("x", "x = 2"), ("y", "y = 1")]
    assert list(sent.since(2.5)) == [("x", "x = 2")]


def test_the_admission_answers_from_the_last_replys_note_while_nothing_moved(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Whether a pull before a cell may run anything is noted after each reply
    (where the first cell that needs a run is); the next admission reads the
    note instead of asking every cell above, until the graph, the notebook or
    the browser's runs move. Every answer is the one the full check gives."""
    runner = KernelRunner("k", object(), Cascade(), None, logging.getLogger("test"))  # type: ignore[arg-type]
    graph = runner.state.graph
    graph.put(CellRecord("a", 1, "x = 1", frozenset(), frozenset({"x"})))
    graph.put(CellRecord("b", 2, "y = x", frozenset({"x"}), frozenset({"y"})))
    read = _Snapshot(stamp=object(), saved_at=100.0, metadata={}, cells=[
        ("a", "x = 1"), ("b", "y = x"), ("n1", "z = y"), ("n2", "w = z"),
    ])  # fmt: skip
    sent = runner.sent_code  # the browser's runs, laid over the saved cells
    model = saved_file(sent)
    cells = model._cells(read)
    asked: list[str] = []

    def full_check(graph: Any, cells: Any, trigger: str, direction: str) -> bool:
        asked.append(trigger)
        return planning.may_pull(graph, cells, trigger, direction)

    monkeypatch.setattr(runner_module, "may_pull", full_check)

    def agrees(trigger: str) -> bool:
        answer = runner._may_pull(model, cells, trigger)
        assert answer == planning.may_pull(graph, cells, trigger), trigger
        return answer

    runner._note_settled(model, cells)
    assert [agrees(t) for t in ("a", "b", "n1", "n2")] == [False, False, False, True]
    assert asked == [], "all four answered from the note"
    graph.put(CellRecord("a", 3, "x = 1", frozenset(), frozenset({"x"})))  # b is stale now
    assert [agrees(t) for t in ("b", "n1")] == [False, True]
    assert asked == ["b", "n1"], "a new record: the full check"
    runner._note_settled(model, cells)
    asked.clear()
    assert [agrees(t) for t in ("b", "n1")] == [False, True] and asked == []
    sent.note("b", "y = x + 1", 200.0)
    cells = model._cells(read)
    agrees("n1")
    assert asked == ["n1"], "a browser run since the note: the full check"
    runner._note_settled(model, cells)
    saved_again = _Snapshot(stamp=object(), saved_at=300.0, metadata={}, cells=read.cells)
    cells = model._cells(saved_again)
    agrees("n1")
    assert asked == ["n1", "n1"], "the file changed since the note: the full check"


def test_a_big_notebooks_effects_are_closed_off_the_event_loop(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    threads: list[str] = []
    real = predict.effects_of

    def recording(*args: Any) -> Any:
        threads.append(threading.current_thread().name)
        return real(*args)

    monkeypatch.setattr(predict, "effects_of", recording)
    predictions = Predictions()
    sources = [f"v{i} = total() + {i}" for i in range(INLINE_ANALYSES + 1)] + [FUNCTION_READS_A]

    async def prepare() -> None:
        await predictions.prepare(sources)
        await predictions.prepare_effects(sources, sources[:-1])

    asyncio.run(prepare())
    assert len(threads) == INLINE_ANALYSES + 1
    assert threading.main_thread().name not in threads
    threads.clear()
    predict_now = predictions.predictor(sources)
    assert [predict_now(s) for s in sources[:-1]] == [
        Predictions().predictor(sources)(s) for s in sources[:-1]
    ]
    assert "a" in predict_now(sources[0]).uses
    # the kept ones were not closed again (the fresh Predictions closed its own)
    assert len(threads) == INLINE_ANALYSES + 1
