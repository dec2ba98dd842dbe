"""Which cells a run should run, and in what order: pure functions, no kernel.

Shared by the server (which schedules cascades) and the agent (``%flow
preview``), so it imports only the standard library and this package.

Inputs are plain data: the dependency :class:`~kernel_agent.core.graph.Graph`
replica, the notebook's code cells in order, and the predicted effects of
sources that have no up-to-date record (never run, or edited since). The
semantics are DESIGN §2, reactive mode.

This module is the one place callers import planning from; the work is done
in one module a job: :mod:`.plan_inputs` (cells, effects, the notebook's
order), :mod:`.states` (each cell's state), :mod:`.pulling` (the cells above
a trigger that run first; in_order through :mod:`.upstream`),
:mod:`.downstream` (the cells below that re-run after it) and
:mod:`.any_order` (the topological order and its cycles).
"""

from __future__ import annotations

from .any_order import CycleError, next_any_order, topological_order
from .downstream import next_downstream, plan_downstream
from .plan_inputs import (
    ANY_ORDER,
    IN_ORDER,
    LAZY,
    REACTIVE,
    Effects,
    NotebookCell,
    arrange,
    effects_of,
)
from .pulling import ancestors, may_pull, plan_repairs, plan_upstream
from .states import (
    DIRTY,
    ERROR,
    FRESH,
    NEVER_RUN,
    STALE,
    WAITING,
    any_needs_run,
    cell_state,
    cell_states,
    first_needing_run,
    needs_run,
)

__all__ = [
    "ANY_ORDER",
    "DIRTY",
    "ERROR",
    "FRESH",
    "IN_ORDER",
    "LAZY",
    "NEVER_RUN",
    "REACTIVE",
    "STALE",
    "WAITING",
    "CycleError",
    "Effects",
    "NotebookCell",
    "ancestors",
    "any_needs_run",
    "arrange",
    "cell_state",
    "cell_states",
    "effects_of",
    "first_needing_run",
    "may_pull",
    "needs_run",
    "next_any_order",
    "next_downstream",
    "plan_downstream",
    "plan_repairs",
    "plan_upstream",
    "topological_order",
]
