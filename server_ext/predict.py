"""Server-side prediction of what a source will read and write, before it runs.

Used for sources with no up-to-date record: a cell the browser is about to
run, never-run cells above it, and edited cells. It applies IPython's own
input transformation (magics, ``!shell``), as the kernel will.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from functools import lru_cache
from typing import TypeVar

from IPython.core.inputtransformer2 import TransformerManager

from kernel_agent.core.analysis import CellAnalysis, FunctionSummary, analyze, close_over_calls
from kernel_agent.core.graph import ANY_PATH
from kernel_agent.core.overlay import Overlay
from kernel_agent.core.planning import Effects

#: New sources a notebook's predictions analyse inline, in the server's event
#: loop (~0.2–2 ms each); more go to a worker thread first (:meth:`Predictions.prepare`).
INLINE_ANALYSES = 16

#: predicted cells new to a kernel's kept :class:`Overlay` that are indexed inline
#: (~3 µs each); more are indexed in a worker thread first
INLINE_OVERLAY = 256

#: seconds a worker thread analyses before it hands the GIL over (see :func:`_sliced`)
SLICE = 0.001

_transformer = TransformerManager()
_T = TypeVar("_T")


class PredictionsPending(Exception):
    """Predicting now would analyse many new sources inside the event loop."""


def analyse_source(
    source: str, transformer: TransformerManager = _transformer
) -> CellAnalysis | None:
    """The analysis of ``source`` as the kernel will run it; None if it cannot be parsed."""
    try:
        return analyze(transformer.transform_cell(source))
    except Exception:
        return None


_analysis = lru_cache(maxsize=4096)(analyse_source)


def _sliced(items: Iterable[_T]) -> Iterator[_T]:
    """``items``, with the GIL handed over every :data:`SLICE` seconds between two.

    A worker thread running Python keeps the GIL until the interpreter's switch
    interval (5 ms) forces it out, and the event loop's thread waits that long
    to get it back after each of its system calls (a socket read, a write, the
    select): while 3,000 sources were analysed, an exchange of four socket
    calls waited up to 40 ms (p90 23 ms) for the GIL; with a hand-over every
    millisecond, 0.1 ms, for about the same analysis time (measured).
    """
    last = time.perf_counter()
    for item in items:
        yield item
        if time.perf_counter() - last >= SLICE:
            time.sleep(0)  # a thread waiting for the GIL takes it now
            last = time.perf_counter()


def analyse_sources(sources: Iterable[str]) -> dict[str, CellAnalysis | None]:
    """:func:`analyse_source` of each source. Pure, with a transformer of its own,
    so it can run in a worker thread while the event loop serves everyone else."""
    transformer = TransformerManager()
    return {source: analyse_source(source, transformer) for source in _sliced(sources)}


def close_all(
    analyses: Mapping[str, CellAnalysis | None], summaries: Mapping[str, FunctionSummary]
) -> dict[str, Effects]:
    """:func:`effects_of` of each analysis. Pure (it reads only what it is handed),
    so it can run in a worker thread (handing the GIL over as :func:`analyse_sources`)."""
    return {
        source: effects_of(analysis, summaries) for source, analysis in _sliced(analyses.items())
    }


def overlay_of(effects: Mapping[str, Effects]) -> Overlay:
    """An :class:`Overlay` of ``effects``, built afresh. Pure, so it can run in a
    worker thread (handing the GIL over as :func:`analyse_sources`)."""
    overlay = Overlay()
    for cell_id, cell_effects in _sliced(effects.items()):
        overlay.add(cell_id, cell_effects)
    return overlay


def predict_effects(source: str, summaries: Mapping[str, FunctionSummary] | None = None) -> Effects:
    """Effects of ``source``; code that cannot be parsed reads and writes nothing.

    ``summaries`` (functions and classes defined anywhere in the notebook) let a
    call count as a read of the globals the called function reads.
    """
    return effects_of(_analysis(source), summaries)


def effects_of(
    analysis: CellAnalysis | None, summaries: Mapping[str, FunctionSummary] | None = None
) -> Effects:
    """:func:`predict_effects` of an analysis at hand."""
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
    return Effects(
        frozenset(uses), frozenset(defines), frozenset(analysis.binds), frozenset(analysis.draws)
    )


def function_summaries(analyses: Iterable[CellAnalysis | None]) -> dict[str, FunctionSummary]:
    """Function and class summaries of every cell's analysis, later cells winning."""
    summaries: dict[str, FunctionSummary] = {}
    for analysis in analyses:
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

    Each source is analysed once for as long as the notebook holds it (not
    bounded by a cache that a 10,000-cell notebook would cycle through). The
    first look at a big notebook analyses every cell (~1 s at 5,000 cells):
    :meth:`prepare` does that in a worker thread, so the server keeps serving.
    """

    def __init__(self) -> None:
        self._sources: tuple[str, ...] = ()
        self._analyses: dict[str, CellAnalysis | None] = {}
        self._summaries: dict[str, FunctionSummary] = {}
        self._effects: dict[str, Effects] = {}

    def unanalysed(self, sources: Iterable[str]) -> list[str]:
        """The distinct sources among ``sources`` not analysed yet."""
        known = self._analyses
        return [source for source in dict.fromkeys(sources) if source not in known]

    def ready(self, sources: Iterable[str]) -> bool:
        """Whether :meth:`predictor` would analyse few enough sources to do it inline.

        Asked on every admission of a notebook that is not settled: the sources
        of the last prediction are known analysed without looking each one up.
        """
        notebook = tuple(sources)
        return notebook == self._sources or len(self.unanalysed(notebook)) <= INLINE_ANALYSES

    async def prepare(self, sources: Sequence[str]) -> bool:
        """Analyse the new sources in a worker thread when there are many of them;
        True when it did (they are kept as long as the notebook holds them)."""
        missing = self.unanalysed(sources)
        if len(missing) <= INLINE_ANALYSES:
            return False
        self._analyses.update(await asyncio.to_thread(analyse_sources, missing))
        return True

    async def prepare_effects(self, sources: Sequence[str], wanted: Iterable[str]) -> None:
        """Close the ``wanted`` sources' analyses over the summaries of a notebook of
        ``sources`` in a worker thread when there are many (after :meth:`prepare`):
        3,000 never-run cells held the event loop 20-40 ms the first time."""
        self.predictor(sources)
        pending = [source for source in dict.fromkeys(wanted) if source not in self._effects]
        if len(pending) <= INLINE_ANALYSES:
            return
        summaries = self._summaries
        analyses = {source: self._analyses.get(source) for source in pending}
        found = await asyncio.to_thread(close_all, analyses, summaries)
        if summaries is self._summaries:  # no other notebook's summaries meanwhile
            self._effects.update(found)

    def predictor(self, sources: Iterable[str]) -> Callable[[str], Effects]:
        """:func:`predict_effects` with the summaries of a notebook of ``sources``."""
        notebook = tuple(sources)
        if notebook != self._sources:  # the same strings: compared by identity, quickly
            analyses = self._analyses
            if len(analyses) > 2 * len(notebook) + 256:  # edits leave old sources behind
                self._analyses = analyses = {s: analyses[s] for s in notebook if s in analyses}
            for source in self.unanalysed(notebook):
                analyses[source] = analyse_source(source)
            summaries = function_summaries(analyses[source] for source in notebook)
            if summaries != self._summaries:
                self._summaries = summaries
                self._effects.clear()
            self._sources = notebook
        if len(self._effects) > 2 * len(notebook) + 256:
            self._effects.clear()
        return self._effect

    def _effect(self, source: str) -> Effects:
        effects = self._effects.get(source)
        if effects is None:
            analysis = self._analyses[source] if source in self._analyses else _analysis(source)
            effects = self._effects[source] = effects_of(analysis, self._summaries)
        return effects
