"""The state API, in the notebook: ``from kernel_agent import code, deps, users, ...``.

It mirrors ipyflow's state API on the agent's records. Symbols are symbol
paths (``"x"``, ``"cfg.lr"``, ``"d['k']"``) or the objects themselves
(``code(y)``): an object is matched to the argument expression of the call in
the cell's source, else looked up by identity among the notebook's globals.
Everything here is computed when asked, never while cells run.
"""

from __future__ import annotations

import ast
import linecache
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from types import FrameType
from typing import Any

from ..core.graph import ANY_PATH, CellRecord
from ..core.paths import expr_path, overlaps, root
from ..core.protocol import AGENT_NAME
from .slicing import (
    History,
    Statement,
    Timestamp,
    defining_statement,
    format_slice,
    notebook_numbers,
    statements_of,
)

__all__ = ["Slice", "Symbol", "Timestamp", "cells", "code", "deps", "lift", "reproduce_cell"]
__all__ += ["timestamp", "users"]

#: Globals that are IPython's, never the user's symbols.
_NOT_USER = frozenset({"In", "Out", "get_ipython", "exit", "quit", "open", AGENT_NAME})
_MISSING = object()
_CACHE_LIMIT = 512


class Slice(str):
    """Program text; shown as code (not a quoted string) when it is a cell's result."""

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(str(self))


class _State:
    """A read-only view of one agent for one API call."""

    #: Statement analyses by code, shared by all calls: a code string analyses the
    #: same each time, and a session re-asks about the same cells.
    _statements: dict[str, list[Statement]] = {}

    def __init__(self) -> None:
        from IPython import get_ipython

        shell = get_ipython()
        agent = shell.user_ns.get(AGENT_NAME) if shell is not None else None
        if agent is None:
            raise RuntimeError(
                "the jupyter-cascade agent is not loaded in this kernel "
                "(open the notebook through a server with jupyter-cascade, or run "
                "%load_ext kernel_agent)"
            )
        self.agent = agent
        self.shell = shell
        self.history = History(agent.history)
        self.numbers = notebook_numbers(agent.order, agent.history)

    @property
    def namespace(self) -> dict[str, Any]:
        return self.shell.user_ns  # type: ignore[no-any-return]

    def statements(self, record: CellRecord) -> list[Statement]:
        """Per-statement analyses of a run's code, cached by code."""
        cache = _State._statements
        found = cache.get(record.code)
        if found is None:
            if len(cache) > _CACHE_LIMIT:
                cache.clear()
            transform = self.shell.transform_cell
            found = cache[record.code] = statements_of(
                transform(record.code), self.namespace, transform
            )
        return found

    def definer(self, path: str) -> tuple[CellRecord, int]:
        """The run that last defined ``path`` and the statement that did."""
        index = self.history.last_definer(path)
        if index is None:
            raise LookupError(f"no recorded run defined {path!r} in this kernel session")
        record = self.history.records[index]
        return record, defining_statement(self.statements(record), path, self.agent.summaries)

    def run(self, execution_count: int) -> CellRecord | None:
        for record in reversed(self.history.records):
            if record.execution_count == execution_count:
                return record  # type: ignore[no-any-return]
        return None

    def slice_of(self, seeds: list[int]) -> Slice:
        runs = [self.history.records[i] for i in sorted(self.history.closure(seeds))]
        return Slice(format_slice(runs, self.numbers))


@dataclass(frozen=True)
class Symbol:
    """A symbol path of the notebook's globals, as the state API sees it (ipyflow's ``lift``)."""

    path: str

    @property
    def name(self) -> str:
        """The global name the path starts with (``cfg`` for ``cfg.lr``)."""
        return root(self.path)

    @property
    def value(self) -> Any:
        value = _value_at(self.path, _State().namespace)
        if value is _MISSING:
            raise LookupError(f"{self.path} is not defined in the notebook's globals now")
        return value

    @property
    def timestamp(self) -> Timestamp:
        state = _State()
        record, statement = state.definer(self.path)
        return Timestamp(record.execution_count or -1, statement)

    @property
    def cell_id(self) -> str:
        return _State().definer(self.path)[0].cell_id

    @property
    def deps(self) -> list[Symbol]:
        """Symbols the statement that last defined this one read."""
        state = _State()
        record, index = state.definer(self.path)
        statements = state.statements(record)
        if not statements:
            return []
        used = statements[index].uses(state.agent.summaries)
        return _symbols(p for p in used if p != self.path and p != ANY_PATH)

    @property
    def users(self) -> list[Symbol]:
        """Symbols defined by statements that read this one (each cell's latest run)."""
        state = _State()
        summaries = state.agent.summaries
        found = []
        for record in sorted(state.agent.graph.records.values(), key=lambda r: r.ts):
            for statement in state.statements(record):
                used = statement.uses(summaries)
                if ANY_PATH in used or any(overlaps(u, self.path) for u in used):
                    defined = statement.defines(summaries)
                    found += [d for d in sorted(defined) if not overlaps(d, self.path)]
        return _symbols(found)

    def code(self) -> Slice:
        """The cells that rebuild this symbol's current value (see :func:`code`)."""
        state = _State()
        seeds = state.history.reaching(self.path)
        if not seeds:
            raise LookupError(f"no recorded run defined {self.path!r} in this kernel session")
        return state.slice_of(seeds)

    def __repr__(self) -> str:
        return f"<{self.path}>"


def _symbols(paths: Any) -> list[Symbol]:
    seen: dict[str, Symbol] = {}
    for path in paths:
        seen.setdefault(path, Symbol(path))
    return list(seen.values())


@dataclass(frozen=True)
class CellRun:
    """One recorded run of a cell, as ``cells(n)`` returns it."""

    id: str
    execution_count: int
    code: str
    number: int
    ok: bool

    def slice(self) -> Slice:
        """This run's code and every cell it transitively read from, in notebook order."""
        state = _State()
        for index, record in enumerate(state.history.records):
            if record.cell_id == self.id and record.execution_count == self.execution_count:
                return state.slice_of([index])
        raise LookupError(f"run [{self.execution_count}] of cell {self.id!r} is no longer known")

    def __repr__(self) -> str:
        return f"<Cell {self.number} [{self.execution_count}] id={self.id}>"


# -- the public functions ----------------------------------------------------


def lift(sym: Any) -> Symbol:
    """The :class:`Symbol` for a path string or an object of the notebook's globals."""
    return Symbol(_resolve(sym, _caller()))


def code(sym: Any) -> Slice:
    """The minimal program that rebuilds ``sym``: the cells it transitively depends on.

    ``# Cell N`` headers number cells by their position in the notebook.
    """
    return Symbol(_resolve(sym, _caller())).code()


def deps(sym: Any) -> list[Symbol]:
    """Symbols that the statement which last defined ``sym`` used."""
    return Symbol(_resolve(sym, _caller())).deps


def users(sym: Any) -> list[Symbol]:
    """Symbols defined by statements that used ``sym``."""
    return Symbol(_resolve(sym, _caller())).users


def timestamp(sym: Any) -> Timestamp:
    """``Timestamp(cell_num, stmt_num)``: the execution count and statement (0-based)
    of the run that last defined ``sym``."""
    return Symbol(_resolve(sym, _caller())).timestamp


def cells(execution_count: int | None = None) -> Any:
    """The run with that execution count (``In[n]``); without one, every cell's latest run."""
    state = _State()
    if execution_count is None:
        records = state.agent.graph.records.values()
        runs = [_cell_run(state, r) for r in records]
        return sorted(runs, key=lambda run: run.number)
    record = state.run(int(execution_count))
    if record is None:
        raise LookupError(f"no recorded cell run has execution count {execution_count}")
    return _cell_run(state, record)


def _cell_run(state: _State, record: CellRecord) -> CellRun:
    return CellRun(
        id=record.cell_id,
        execution_count=record.execution_count or -1,
        code=record.code,
        number=state.numbers.get(record.cell_id, 0),
        ok=record.ok,
    )


def reproduce_cell(
    execution_count: int, show_input: bool = True, show_output: bool = True, lookback: int = 0
) -> Any:
    """Print the input of an earlier run and return its result (``Out[n]``).

    ``lookback=k`` goes back ``k`` runs of the same cell from run ``execution_count``.
    """
    state = _State()
    count, source = _earlier_run(state, int(execution_count), int(lookback))
    if show_input:
        print(source.rstrip("\n"))
        print("-" * max((len(line) for line in source.splitlines()), default=1))
    if not show_output:
        return None
    return state.namespace.get("Out", {}).get(count)


def _earlier_run(state: _State, execution_count: int, lookback: int) -> tuple[int, str]:
    """(execution count, code) of the run ``lookback`` runs before run ``execution_count``."""
    record = state.run(execution_count)
    if record is None:
        history_inputs = state.namespace.get("In", [])
        if lookback == 0 and 0 < execution_count < len(history_inputs):
            return execution_count, history_inputs[execution_count]
        raise LookupError(f"no recorded cell run has execution count {execution_count}")
    runs = [r for r in state.history.records if r.cell_id == record.cell_id and r.ts <= record.ts]
    if lookback < 0 or lookback >= len(runs):
        raise LookupError(
            f"cell {record.cell_id!r} ran {len(runs)} time(s) up to [{execution_count}]; "
            f"lookback={lookback} is out of range"
        )
    chosen = runs[-1 - lookback]
    return chosen.execution_count or -1, chosen.code


# -- resolving symbols ----------------------------------------------------------


def _caller() -> FrameType | None:
    """The first frame outside this package: the user's cell calling the API."""
    frame = sys._getframe(1)
    while frame is not None and str(frame.f_globals.get("__name__", "")).startswith("kernel_agent"):
        frame = frame.f_back  # type: ignore[assignment]
    return frame


def _resolve(sym: Any, frame: FrameType | None) -> str:
    """The canonical symbol path for a path string or an object."""
    if isinstance(sym, Symbol):
        return sym.path
    if isinstance(sym, str):
        return _parse_path(sym)  # a string is always a path: code("s"), never s's value
    namespace = _State().namespace
    from_source = _argument_paths(frame, sym, namespace)
    if len(from_source) == 1:
        return from_source[0]
    names = sorted(
        name for name, value in namespace.items() if value is sym and _is_user_name(name)
    )
    if len(from_source) > 1 or len(names) > 1:
        candidates = ", ".join(from_source or names)
        raise ValueError(
            f"ambiguous symbol: the object is bound to {candidates}; "
            f"pass its name as a string, e.g. code({(from_source or names)[0]!r})"
        )
    if not names:
        raise LookupError(
            f"unknown symbol: no global of the notebook holds this {type(sym).__name__}; "
            "pass its name or path as a string, e.g. code('cfg.lr')"
        )
    return names[0]


def _is_user_name(name: str) -> bool:
    from IPython import get_ipython

    shell = get_ipython()
    hidden = shell.user_ns_hidden if shell is not None else {}
    return not name.startswith("_") and name not in _NOT_USER and name not in hidden


def _parse_path(text: str) -> str:
    """``"d['k']"`` → the canonical path spelling; ValueError when it is not a path."""
    try:
        node = ast.parse(text.strip(), mode="eval").body
    except SyntaxError as error:
        raise ValueError(f"{text!r} is not a symbol path like 'x', 'x[0]' or 'cfg.lr'") from error
    parts, leftovers = expr_path(node)
    if not parts or leftovers:
        raise ValueError(f"{text!r} is not a symbol path like 'x', 'x[0]' or 'cfg.lr'")
    return "".join(parts)


def _argument_paths(frame: FrameType | None, obj: Any, namespace: Mapping[str, Any]) -> list[str]:
    """Paths written as the first argument of calls on the caller's current line whose
    value is ``obj``: ``code(cfg.lr)`` names ``cfg.lr`` even though a float has no name."""
    if frame is None:
        return []
    lines = linecache.getlines(frame.f_code.co_filename)
    try:
        tree = ast.parse("".join(lines))
    except (SyntaxError, ValueError):
        return []
    line = frame.f_lineno
    here = _call_position(frame)
    found: list[str] = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not node.args:
            continue
        if not node.lineno <= line <= (node.end_lineno or node.lineno):
            continue
        if here is not None and not _contains(node, here):
            continue  # another call on the line: ``print(deps(y), users(x))``
        parts, leftovers = expr_path(node.args[0])
        if parts and not leftovers:
            path = "".join(parts)
            if path not in found and _value_at(path, namespace) is obj:
                found.append(path)
    return found


def _call_position(frame: FrameType) -> tuple[int, int, int, int] | None:
    """Where the call running in ``frame`` sits in its source (lines and columns),
    from the code's position table (Python 3.11+); None when unknown."""
    positions = getattr(frame.f_code, "co_positions", None)
    if positions is None or frame.f_lasti < 0:
        return None
    try:
        spot = list(positions())[frame.f_lasti // 2]
    except (IndexError, ValueError):
        return None
    if None in spot:
        return None
    return spot  # type: ignore[return-value]


def _contains(node: ast.Call, spot: tuple[int, int, int, int]) -> bool:
    """Whether the running call's position (``spot``) is this call node's own span."""
    line, end_line, column, end_column = spot
    start = (node.lineno, node.col_offset)
    end = (node.end_lineno or node.lineno, node.end_col_offset or 0)
    return start <= (line, column) and (end_line, end_column) <= end and _innermost(node, spot)


def _innermost(node: ast.Call, spot: tuple[int, int, int, int]) -> bool:
    """No call inside ``node`` (its arguments) also spans the running call."""
    for inner in ast.walk(node):
        if inner is node or not isinstance(inner, ast.Call):
            continue
        start = (inner.lineno, inner.col_offset)
        end = (inner.end_lineno or inner.lineno, inner.end_col_offset or 0)
        if start <= (spot[0], spot[2]) and (spot[1], spot[3]) <= end:
            return False
    return True


def _value_at(path: str, namespace: Mapping[str, Any]) -> Any:
    """The current value of a symbol path, or ``_MISSING``; evaluates only names,
    attributes and constant subscripts."""
    try:
        node = ast.parse(path, mode="eval").body
    except SyntaxError:
        return _MISSING
    return _evaluate(node, namespace)


def _evaluate(node: ast.expr, namespace: Mapping[str, Any]) -> Any:
    try:
        if isinstance(node, ast.Name):
            return namespace.get(node.id, _MISSING)
        if isinstance(node, ast.Attribute):
            base = _evaluate(node.value, namespace)
            return _MISSING if base is _MISSING else getattr(base, node.attr)
        if isinstance(node, ast.Subscript):
            base = _evaluate(node.value, namespace)
            return _MISSING if base is _MISSING else base[ast.literal_eval(node.slice)]
    except Exception:
        return _MISSING
    return _MISSING
