"""The graph body's kept text (server_ext.graph_text) is always the body made afresh.

The graph and push endpoints send :class:`GraphText`'s text, which keeps each
part between changes; :func:`graph_body` builds the dict from scratch. Over
random histories of runs, edits, queues and settings the two must agree to
the byte (as tornado encodes a dict).
"""

from __future__ import annotations

import json
import random
from typing import Any

from tornado.escape import json_encode

from kernel_agent.core.graph import CellRecord
from kernel_agent.core.planning import NotebookCell
from server_ext.graph_text import GraphText, GraphTexts
from server_ext.handlers import graph_body
from server_ext.state import KernelState


class _Runner:
    """What the body reads of a KernelRunner."""

    def __init__(self) -> None:
        self.state, self.mode, self.direction = KernelState("k"), "reactive", "in_order"


def _runner() -> Any:
    return _Runner()


def _source(i: int, edit: int = 0) -> str:
    reads = f"v{i - 1}" if i else "0"
    return f"v{i} = {reads} + {edit}" + ("  # </script>" if i % 4 == 0 else "")


class _History:
    """A notebook of chained cells and a runner, changed one random step at a time."""

    def __init__(self, rng: random.Random, size: int) -> None:
        self.rng, self.runner, self.clock, self.count = rng, _runner(), 0, 0
        self.cells = [NotebookCell(f"c{i}", _source(i)) for i in range(size)]
        self.made = size
        for cell in self.cells[: size * 2 // 3]:
            self.run(cell)

    def run(self, cell: NotebookCell, ok: bool = True) -> None:
        i = int(cell.id[1:])
        reads = {f"v{i - 1}"} if i else set()
        if self.rng.random() < 0.2:
            reads.add(f"v{self.rng.randrange(self.made)}")
        self.clock += 1
        self.count += 1
        record = CellRecord(
            cell.id,
            self.clock,
            cell.source if self.rng.random() < 0.9 else cell.source + "  # since edited",
            frozenset(reads),
            frozenset({f"v{i}"}),
            ok=ok,
            execution_count=self.count,
            binds=frozenset({f"v{i}"}),
        )
        self.runner.state.graph.put(record)

    def step(self) -> None:
        rng, state = self.rng, self.runner.state
        action = rng.randrange(12)
        cell = rng.choice(self.cells)
        if action <= 3:
            self.run(cell, ok=rng.random() < 0.9)
        elif action == 4:  # an edit: a new cell object in a new list
            i = self.cells.index(cell)
            edited = NotebookCell(cell.id, _source(int(cell.id[1:]), rng.randrange(1, 9)))
            self.cells = [*self.cells[:i], edited, *self.cells[i + 1 :]]
        elif action == 5:
            if rng.random() < 0.5:
                at = rng.randrange(len(self.cells) + 1)
                new = NotebookCell(f"c{self.made}", _source(self.made))
                self.made += 1
                self.cells = [*self.cells[:at], new, *self.cells[at:]]
            elif len(self.cells) > 2:
                self.cells = [c for c in self.cells if c is not cell]
                state.graph.remove(cell.id)
        elif action == 6:
            state.queued = [c.id for c in rng.sample(self.cells, rng.randrange(4))]
            state.running = rng.choice([None, cell.id])
        elif action == 7:
            self.runner.direction = rng.choice(["in_order", "any_order"])
        elif action == 8:
            self.runner.mode = rng.choice(["reactive", "lazy"])
            state.last_error = rng.choice([None, "cascade stopped: a cycle </b>"])
            state.enabled = rng.choice([True, False, None])
        elif action == 9:
            state.pending_cascades = rng.randrange(2)
        elif action == 10:
            self.cells = list(self.cells)  # the same cells in another list
        # 11: nothing changed


def test_the_kept_text_is_the_fresh_body_over_random_histories() -> None:
    rng = random.Random(24)
    for _ in range(25):
        history, text = _History(rng, rng.randrange(3, 14)), GraphText()
        for _ in range(40):
            history.step()
            runner, cells = history.runner, history.cells
            kept = text.text("dir/nb.ipynb", "k1", runner, cells)
            assert kept == json_encode(graph_body("dir/nb.ipynb", "k1", runner, cells))


def test_an_unchanged_graph_gives_the_same_text_and_a_rerun_a_new_count() -> None:
    history = _History(random.Random(3), 30)
    runner, text = history.runner, GraphText()
    first = text.text("nb.ipynb", "k1", runner, history.cells)
    assert text.text("nb.ipynb", "k1", runner, list(history.cells)) is first
    history.run(history.cells[5])
    again = json.loads(text.text("nb.ipynb", "k1", runner, history.cells))
    assert again["cells"][5]["execution_count"] == history.count
    assert again == graph_body("nb.ipynb", "k1", runner, history.cells)


def test_texts_are_kept_per_runner_and_go_with_it() -> None:
    texts, runner = GraphTexts(), _runner()
    cells = [NotebookCell("a", "x = 1")]
    assert json.loads(texts.text("nb.ipynb", "k1", runner, cells))["cells"][0]["state"] == (
        "never_run"
    )
    assert len(texts._texts) == 1
    del runner
    assert len(texts._texts) == 0
