"""Server-side prediction of what a source will read and write, before it runs.

Used for sources with no up-to-date record: a cell the browser is about to
run, never-run cells above it, and edited cells. It applies IPython's own
input transformation (magics, ``!shell``), as the kernel will.
"""

from __future__ import annotations

from functools import lru_cache

from IPython.core.inputtransformer2 import TransformerManager

from kernel_agent.analysis import analyze
from kernel_agent.graph import ANY_PATH
from kernel_agent.planning import Effects

_transformer = TransformerManager()


@lru_cache(maxsize=4096)
def predict_effects(source: str) -> Effects:
    """Effects of ``source``; code that cannot be parsed reads and writes nothing."""
    try:
        code = _transformer.transform_cell(source)
    except Exception:
        return Effects(frozenset(), frozenset())
    analysis = analyze(code)
    uses = set(analysis.uses) | set(analysis.calls)
    if analysis.conservative:
        uses.add(ANY_PATH)
    return Effects(frozenset(uses), frozenset(analysis.defines))
