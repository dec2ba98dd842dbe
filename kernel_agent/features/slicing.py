"""Program slices and statement-level facts for the state API: pure, no kernel.

The agent records one :class:`~kernel_agent.core.graph.CellRecord` per run (what
the cell used and defined). The state API answers questions about *symbols*
(``code(y)``, ``deps(y)``, ``timestamp(y)``) from that history:

- which runs built the current value of a path: reaching definitions over the
  history, walking back from the query until a run replaced the whole value;
- which top-level statement of a run defined a path, and what that statement
  read: each statement is analysed on its own, lazily, only when asked (never
  while cells run).
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from ..core.analysis import CellAnalysis, FunctionSummary, analyze, close_over_calls
from ..core.graph import ANY_PATH, CellRecord
from ..core.paths import overlaps, root

#: Cell magics whose body is ordinary code run in the user namespace.
_BODY_MAGICS = frozenset({"memoize", "time", "capture"})


class Timestamp(NamedTuple):
    """When a symbol was last defined: execution count (as ``In[n]``) and statement (0-based).

    Mirrors ipyflow's ``Timestamp(cell_num=3, stmt_num=0)``.
    """

    cell_num: int
    stmt_num: int


@dataclass(frozen=True)
class Statement:
    """One top-level statement of a run's code and its own analysis."""

    index: int
    text: str
    analysis: CellAnalysis

    def uses(self, summaries: Mapping[str, FunctionSummary]) -> set[str]:
        """Paths read, including the globals read by the notebook functions it calls."""
        local = dict(summaries)
        local.update(self.analysis.functions)
        extra_uses, _ = close_over_calls(self.analysis, local)
        found = set(self.analysis.uses) | extra_uses
        if self.analysis.conservative:
            found.add(ANY_PATH)
        return found

    def defines(self, summaries: Mapping[str, FunctionSummary]) -> set[str]:
        local = dict(summaries)
        local.update(self.analysis.functions)
        _, extra_defines = close_over_calls(self.analysis, local)
        return set(self.analysis.defines) | extra_defines

    def touches(self, name: str) -> bool:
        """Whether the statement may have changed the global ``name`` in place."""
        found = self.analysis.maybe_mutated | self.analysis.method_receivers
        return name in found or any(root(path) == name for path in self.analysis.uses)


def statements_of(
    code: str,
    namespace: Mapping[str, object] | None = None,
    transform: Callable[[str], str] = lambda source: source,
) -> list[Statement]:
    """The top-level statements of transformed cell code, each analysed alone.

    A cell that is one ``%%memoize`` / ``%%time`` / ``%%capture`` call is
    looked through: its statements are the body's (``transform`` is applied to
    the body, as IPython would when the magic runs it).
    """
    try:
        tree = ast.parse(code)
    except (SyntaxError, ValueError):
        return []
    body = _magic_body(tree)
    if body is not None:
        return statements_of(transform(body), namespace, transform)
    found = []
    for index, node in enumerate(tree.body):
        text = ast.unparse(node)
        found.append(Statement(index, text, analyze(text, namespace)))
    return found


def _magic_body(tree: ast.Module) -> str | None:
    """The body of ``get_ipython().run_cell_magic(name, line, body)`` as the only statement."""
    if len(tree.body) != 1 or not isinstance(tree.body[0], ast.Expr):
        return None
    call = tree.body[0].value
    if not (
        isinstance(call, ast.Call)
        and isinstance(call.func, ast.Attribute)
        and call.func.attr == "run_cell_magic"
        and len(call.args) == 3
    ):
        return None
    values = [arg.value if isinstance(arg, ast.Constant) else None for arg in call.args]
    if values[0] in _BODY_MAGICS and isinstance(values[2], str):
        return values[2]
    return None


def defining_statement(
    statements: Sequence[Statement], path: str, summaries: Mapping[str, FunctionSummary]
) -> int:
    """Index of the last statement that defined ``path`` (or a slot overlapping it).

    When no statement defines it by analysis (the agent saw an in-place change
    at run time), the last statement that may have touched its root; else the
    last statement.
    """
    found = None
    for statement in statements:
        if any(overlaps(d, path) for d in statement.defines(summaries) if d != ANY_PATH):
            found = statement.index
    if found is None:
        for statement in statements:
            if statement.touches(root(path)):
                found = statement.index
    if found is None:
        return max(len(statements) - 1, 0)
    return found


class History:
    """Reaching definitions over the agent's run history (oldest first)."""

    def __init__(self, records: Sequence[CellRecord]) -> None:
        self.records = list(records)
        self._by_root: dict[str, list[int]] = defaultdict(list)
        for index, record in enumerate(self.records):
            for name in sorted({root(d) for d in record.defines if d != ANY_PATH}):
                self._by_root[name].append(index)

    def reaching(self, path: str, before: int | None = None) -> list[int]:
        """Runs (indices, newest first) whose definitions of ``path`` reach run ``before``.

        Walks back from ``before`` (default: now) through runs that defined a path
        overlapping ``path`` and stops at one that replaced it whole (defined
        ``path`` itself or a prefix of it: ``x = ...`` hides older ``x[0] = ...``).
        """
        limit = len(self.records) if before is None else before
        if path == ANY_PATH:
            names = [name for name, runs in self._by_root.items() if runs and runs[0] < limit]
            return sorted({i for name in names for i in self.reaching(name, before)}, reverse=True)
        found = []
        for index in reversed(self._by_root.get(root(path), [])):
            if index >= limit:
                continue
            defined = [d for d in self.records[index].defines if d != ANY_PATH]
            hits = [d for d in defined if overlaps(d, path)]
            if hits:
                found.append(index)
            if any(_covers(d, path) for d in hits):
                break
        return found

    def closure(self, seeds: Iterable[int]) -> set[int]:
        """The seeds and every run they transitively read from."""
        done: set[int] = set()
        todo = list(seeds)
        while todo:
            index = todo.pop()
            if index in done:
                continue
            done.add(index)
            for path in self.records[index].uses:
                todo.extend(self.reaching(path, before=index))
        return done

    def last_definer(self, path: str) -> int | None:
        found = self.reaching(path)
        return found[0] if found else None


def _covers(defined: str, path: str) -> bool:
    """``defined`` is ``path`` or a prefix of it at a component boundary."""
    return path == defined or (path.startswith(defined) and path[len(defined)] in ".[")


def notebook_numbers(order: Sequence[str], records: Iterable[CellRecord]) -> dict[str, int]:
    """``Cell N`` numbers (1-based): notebook order, then unknown cells by first run."""
    numbers = {cell_id: i for i, cell_id in enumerate(order, start=1)}
    for record in records:
        if record.cell_id not in numbers:
            numbers[record.cell_id] = len(numbers) + 1
    return numbers


def format_slice(runs: Iterable[CellRecord], numbers: Mapping[str, int]) -> str:
    """``# Cell N`` blocks in notebook order (then run order), one per cell and code.

    Each run prints the code it ran, so the slice rebuilds the values as they
    are now even when a cell was since edited and re-run; repeated runs of the
    same code print once.
    """
    blocks: dict[tuple[str, str], tuple[int, int]] = {}
    for record in runs:
        key = (record.cell_id, record.code.strip())
        rank = (numbers.get(record.cell_id, len(numbers) + 1), record.ts)
        blocks[key] = min(blocks.get(key, rank), rank)
    ordered = sorted(blocks.items(), key=lambda item: item[1])
    return "\n\n".join(f"# Cell {rank[0]}\n{code}" for (_, code), rank in ordered)
