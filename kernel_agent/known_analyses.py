"""Analyses kept for re-runs of the same source.

Re-running a cell unchanged is the common case (and every cascaded run is
one). The same source over the same globals gets the same analysis, so the
agent keeps each answer with the facts it rested on (:class:`NamespaceFacts`)
and walks the AST again only when one of them moved: a global it looked up
is bound to another object, the globals holding notebook functions changed,
or a module was imported. Answers that read deeper into objects (attributes,
container items, dtypes) are never kept. In a kernel whose caches went cold
during the user's run, the walk is the largest part of the pre-run hook.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass

from .analysis import CellAnalysis, NamespaceFacts, analyze_with_facts
from .namespace import function_globals

_ABSENT = object()


def _binding(namespace: Mapping[str, object], name: str) -> tuple[int, type] | None:
    value = namespace.get(name, _ABSENT)
    return None if value is _ABSENT else (id(value), type(value))


@dataclass(frozen=True)
class _Known:
    analysis: CellAnalysis
    bindings: dict[str, tuple[int, type] | None]
    functions: dict[str, int] | None
    modules: int

    @classmethod
    def of(
        cls, analysis: CellAnalysis, facts: NamespaceFacts, namespace: Mapping[str, object]
    ) -> _Known:
        return cls(
            analysis,
            {name: _binding(namespace, name) for name in facts.names},
            function_globals(namespace) if facts.functions else None,
            len(sys.modules),
        )

    def holds(self, namespace: Mapping[str, object]) -> bool:
        if len(sys.modules) != self.modules:
            return False
        for name, binding in self.bindings.items():
            if _binding(namespace, name) != binding:
                return False
        return self.functions is None or function_globals(namespace) == self.functions


class KnownAnalyses:
    """Transformed source → its last analysis, while the facts it rested on hold.

    Callers must treat the analyses as read-only: a kept one is handed out again.
    """

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self._known: dict[str, _Known] = {}

    def analysis(self, code: str, namespace: Mapping[str, object]) -> CellAnalysis:
        known = self._known.get(code)
        if known is not None and known.holds(namespace):
            return known.analysis
        analysis, facts = analyze_with_facts(code, namespace)
        if facts is None:
            self._known.pop(code, None)
            return analysis
        if len(self._known) >= self.capacity:
            self._known.clear()
        self._known[code] = _Known.of(analysis, facts, namespace)
        return analysis
