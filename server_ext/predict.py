"""Server-side prediction of what a source will read and write, before it runs.

Used for sources with no up-to-date record: a cell the browser is about to
run, never-run cells above it, and edited cells. It applies IPython's own
input transformation (magics, ``!shell``), as the kernel will.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from functools import lru_cache

from IPython.core.inputtransformer2 import TransformerManager

from kernel_agent.analysis import CellAnalysis, FunctionSummary, analyze, close_over_calls
from kernel_agent.graph import ANY_PATH
from kernel_agent.planning import Effects

_transformer = TransformerManager()


@lru_cache(maxsize=4096)
def _analysis(source: str) -> CellAnalysis | None:
    try:
        return analyze(_transformer.transform_cell(source))
    except Exception:
        return None


def predict_effects(source: str, summaries: Mapping[str, FunctionSummary] | None = None) -> Effects:
    """Effects of ``source``; code that cannot be parsed reads and writes nothing.

    ``summaries`` (functions and classes defined anywhere in the notebook) let a
    call count as a read of the globals the called function reads.
    """
    analysis = _analysis(source)
    if analysis is None:
        return Effects(frozenset(), frozenset())
    uses = set(analysis.uses) | set(analysis.calls)
    defines = set(analysis.defines)
    if summaries:
        extra_uses, extra_defines = close_over_calls(analysis, summaries)
        uses |= extra_uses
        defines |= extra_defines
    if analysis.conservative:
        uses.add(ANY_PATH)
    return Effects(frozenset(uses), frozenset(defines))


def notebook_summaries(sources: Iterable[str]) -> dict[str, FunctionSummary]:
    """Function and class summaries of every cell's source, later cells winning."""
    summaries: dict[str, FunctionSummary] = {}
    for source in sources:
        analysis = _analysis(source)
        if analysis is not None:
            summaries.update(analysis.functions)
    return summaries


class Predictions:
    """:func:`predict_effects` for one notebook's sources, kept from run to run.

    Each admission and cascade asks for the effects of every cell without a
    current record (never run, or edited since): in a 1,000-cell notebook
    whose lower half never ran, gathering the summaries and closing each cell
    over them took ~10 ms of every run. The summaries are gathered again only
    when a source changed, and a cell's effects only when the summaries did.
    """

    def __init__(self) -> None:
        self._sources: tuple[str, ...] = ()
        self._summaries: dict[str, FunctionSummary] = {}
        self._effects: dict[str, Effects] = {}

    def predictor(self, sources: Iterable[str]) -> Callable[[str], Effects]:
        """:func:`predict_effects` with the summaries of a notebook of ``sources``."""
        notebook = tuple(sources)
        if notebook != self._sources:  # the same strings: compared by identity, quickly
            summaries = notebook_summaries(notebook)
            if summaries != self._summaries:
                self._summaries = summaries
                self._effects.clear()
            self._sources = notebook
        if len(self._effects) > 2 * len(notebook) + 256:  # edits leave old sources behind
            self._effects.clear()
        return self._effect

    def _effect(self, source: str) -> Effects:
        effects = self._effects.get(source)
        if effects is None:
            effects = self._effects[source] = predict_effects(source, self._summaries)
        return effects
