"""``%flow`` (settings and preview) and ``%%memoize``, registered by the agent.

``%flow mode reactive|lazy`` and ``%flow direction in_order|any_order`` set
``agent.mode`` / ``agent.direction``; the server reads them from the agent's
next report and applies them to the whole session. ``%flow preview [cell]``
plans a run with the same pure functions the server uses and prints it.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable
from typing import Any

from ..core.graph import ANY_PATH
from ..core.planning import (
    ANY_ORDER,
    IN_ORDER,
    LAZY,
    REACTIVE,
    CycleError,
    Effects,
    NotebookCell,
    cell_state,
    plan_downstream,
    plan_upstream,
)

#: Accepted spellings per setting; ``normal`` is ipyflow's name for lazy.
_CHOICES = {
    "mode": {REACTIVE: REACTIVE, LAZY: LAZY, "normal": LAZY, "default": None},
    "direction": {IN_ORDER: IN_ORDER, ANY_ORDER: ANY_ORDER, "default": None},
}
_EFFECT = {
    REACTIVE: "a run re-runs the stale cells above it that it needs and the cells below "
    "that depend on it",
    LAZY: "nothing cascades; cells are only marked stale",
    IN_ORDER: "only cells below a run re-run after it",
    ANY_ORDER: "cascades follow the dependency graph, wherever the cells sit",
}
_USAGE = """Usage:
  %flow                                show the current settings
  %flow mode reactive|lazy|default     cascade runs, or only mark cells stale
  %flow direction in_order|any_order|default
  %flow preview [<cell number>|<cell id>]
                                       list the cells a run would run (nothing runs)"""


def register(shell: Any, agent: Any) -> None:
    """Register ``%flow`` and ``%%memoize`` on the shell for this agent."""
    from .memoize import MemoizeMagic

    shell.register_magic_function(_flow_magic(shell, agent), "line", "flow")
    shell.register_magic_function(MemoizeMagic(shell, agent), "cell", "memoize")


def _flow_magic(shell: Any, agent: Any) -> Callable[[str], None]:
    def flow(line: str) -> None:
        words = shlex.split(line)
        if not words:
            print(describe_settings(agent))
        elif words[0] in _CHOICES:
            print(set_setting(agent, words[0], words[1:]))
        elif words[0] == "preview" and len(words) <= 2:
            target = words[1] if len(words) == 2 else current_cell_id(shell)
            print(preview(shell, agent, target))
        else:
            raise _usage_error(f"unknown %flow command {line.strip()!r}\n{_USAGE}")

    flow.__doc__ = (
        f"Reactive execution settings of this session, and a preview of a run.\n\n{_USAGE}"
    )
    return flow


def _usage_error(message: str) -> Exception:
    from IPython.core.error import UsageError

    return UsageError(message)


def describe_settings(agent: Any) -> str:
    lines = []
    for setting in ("mode", "direction"):
        value = getattr(agent, setting)
        if value is None:
            lines.append(f"{setting}: server default (c.Cascade.{setting}); not set in this kernel")
        else:
            lines.append(f"{setting}: {value} — {_EFFECT[value]}")
    return "\n".join(lines)


def set_setting(agent: Any, setting: str, values: list[str]) -> str:
    """``%flow mode lazy``: validate, store on the agent, and say what it means."""
    if not values:
        value = getattr(agent, setting)
        return f"{setting}: {value or 'server default'}"
    choices = _CHOICES[setting]
    word = values[0].replace("-", "_").lower()
    if len(values) > 1 or word not in choices:
        allowed = ", ".join(sorted(choices))
        raise _usage_error(f"%flow {setting}: expected one of {allowed}; got {' '.join(values)!r}")
    value = choices[word]
    setattr(agent, setting, value)
    if value is None:
        return f"{setting}: back to the server default (c.Cascade.{setting}), for this session"
    return f"{setting}: {value} — {_EFFECT[value]}. Applies to this session after this cell."


def current_cell_id(shell: Any) -> str:
    kernel = getattr(shell, "kernel", None)
    parent = kernel.get_parent() if kernel is not None else None
    cell_id = ((parent or {}).get("metadata") or {}).get("cellId")
    if not cell_id:
        raise _usage_error("%flow preview: this run has no cell id; name a cell: %flow preview 3")
    return str(cell_id)


def preview(shell: Any, agent: Any, target: str) -> str:
    """The cells a run of ``target`` (a ``Cell N`` number or a cell id) would run."""
    order = notebook_order(agent)
    cell_id = _cell_from_argument(order, target)
    numbers = {c: i for i, c in enumerate(order, start=1)}
    cells = [NotebookCell(c, _executed_code(agent, c)) for c in order]
    predicted = _current_cell_effects(shell, agent, cell_id)
    label = f"Cell {numbers[cell_id]}"
    if (agent.mode or REACTIVE) == LAZY:
        return f"A run of {label} would run only {label} (lazy mode: nothing cascades)."
    try:
        upstream = plan_upstream(
            agent.graph, cells, cell_id, predicted, agent.direction or IN_ORDER
        )
    except CycleError as error:
        return f"A run of {label} would stop before running: {error}"
    downstream = plan_downstream(agent.graph, cells, [cell_id], predicted)
    by_id = {cell.id: cell for cell in cells}
    lines = [f"A run of {label} would run, in order (nothing was run):"]
    for planned in upstream:
        state = cell_state(agent.graph, by_id[planned])
        lines.append(f"  Cell {numbers[planned]}  needed first ({state})")
    lines.append(f"  {label}  the cell itself")
    lines += [f"  Cell {numbers[planned]}  depends on it" for planned in downstream]
    unknown = [c for c in order[: numbers[cell_id] - 1] if c not in agent.graph.records]
    if unknown:
        lines.append(
            f"({len(unknown)} cell(s) above never ran in this kernel; the kernel does not know "
            "their code, the server's preview (GET /api/cascade/preview) does)"
        )
    return "\n".join(lines)


def notebook_order(agent: Any) -> list[str]:
    """Code cells in notebook order as the server pushed it; else in first-run order."""
    order = list(agent.order)
    for record in agent.history:
        if record.cell_id not in order and record.cell_id in agent.graph.records:
            order.append(record.cell_id)
    return order


def _cell_from_argument(order: list[str], target: str) -> str:
    if target.isdigit():
        number = int(target)
        if not 1 <= number <= len(order):
            raise _usage_error(
                f"%flow preview: no Cell {number}; cells are numbered 1 to {len(order)}"
            )
        return order[number - 1]
    if target not in order:
        raise _usage_error(f"%flow preview: no code cell with id {target!r} in this notebook")
    return target


def _executed_code(agent: Any, cell_id: str) -> str:
    record = agent.graph.records.get(cell_id)
    return record.code if record is not None else ""


def _current_cell_effects(shell: Any, agent: Any, cell_id: str) -> dict[str, Effects]:
    """The running cell's own source is newer than its record: predict its effects."""
    kernel = getattr(shell, "kernel", None)
    parent = kernel.get_parent() if kernel is not None else None
    if not parent or (parent.get("metadata") or {}).get("cellId") != cell_id:
        return {}
    from ..core.analysis import analyze

    code = (parent.get("content") or {}).get("code") or ""
    analysis = analyze(shell.transform_cell(code), shell.user_ns)
    uses = set(analysis.uses) | set(analysis.calls)
    if analysis.conservative:
        uses.add(ANY_PATH)
    return {cell_id: Effects(frozenset(uses), frozenset(analysis.defines))}
