"""Analyses kept for re-runs of the same source.

Re-running a cell unchanged is the common case (and every cascaded run is
one). The same source over the same globals gets the same analysis, so the
agent keeps each answer with the facts it rested on (:class:`NamespaceFacts`)
and walks the AST again only when one of them moved: a global it looked up
is bound to another object, the globals holding notebook functions changed,
or a module was imported. Answers that read deeper into objects (attributes,
container items) are never kept, except where those reads are cheap to repeat
(a pandas or numpy receiver's kind and dtypes, where a path's plain attributes
end): they are read again on every re-run (:class:`~kernel_agent.core.effects.Recheck`). In a
kernel whose caches went cold during the user's run, the walk is the largest
part of the pre-run hook.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass

from ..core.analysis import CellAnalysis, NamespaceFacts, analyze_with_facts
from ..core.effects import Recheck
from ..core.identities import Snapshot, changed_between, snapshot
from ..core.namespace import function_globals, is_plain_function

_ABSENT = object()


def _binding(namespace: Mapping[str, object], name: str) -> tuple[int, type] | None:
    value = namespace.get(name, _ABSENT)
    return None if value is _ABSENT else (id(value), type(value))


class FunctionGlobals:
    """:func:`function_globals`, kept current from identity snapshots.

    Which globals hold notebook functions changes only where a global is
    rebound, and the agent snapshots the globals' identities on every run
    anyway: only the names two snapshots disagree on are looked at again, and
    ``version`` moves when the answer does. Scanning every global for
    functions on every run cost ~40 µs of a cold pre-run hook.
    """

    def __init__(self) -> None:
        self._seen: Snapshot | None = None
        #: the answer (read-only to callers)
        self.functions: dict[str, int] = {}
        self.version = 0

    def version_at(
        self,
        namespace: Mapping[str, object],
        now: Snapshot,
        since: tuple[Snapshot, set[str]] | None = None,
    ) -> int:
        """The version of the answer for ``namespace``, whose snapshot is ``now``.

        ``since``: an earlier snapshot and the names that changed from it to
        ``now``, when the caller has compared them already.
        """
        seen, self._seen = self._seen, now
        if seen is None:
            functions = function_globals(namespace)
        elif seen is now or seen.ids == now.ids and seen.names == now.names:
            return self.version
        else:
            functions = dict(self.functions)
            changed = since[1] if since and since[0] is seen else changed_between(seen, now)
            for name in changed:
                value = namespace.get(name)
                if is_plain_function(value):
                    functions[name] = id(value)
                else:
                    functions.pop(name, None)
        if functions != self.functions:
            self.functions = functions
            self.version += 1
        return self.version


@dataclass(frozen=True)
class _Known:
    analysis: CellAnalysis
    bindings: dict[str, tuple[int, type] | None]
    #: the :class:`FunctionGlobals` version it rested on, if it listed functions
    functions_version: int | None
    modules: int
    #: reads inside objects to repeat (see :class:`~kernel_agent.core.effects.Recheck`)
    rechecks: tuple[Recheck, ...]

    @classmethod
    def of(
        cls,
        analysis: CellAnalysis,
        facts: NamespaceFacts,
        namespace: Mapping[str, object],
        functions: int,
    ) -> _Known:
        return cls(
            analysis,
            {name: _binding(namespace, name) for name in facts.names},
            functions if facts.functions else None,
            len(sys.modules),
            facts.rechecks,
        )

    def holds(self, namespace: Mapping[str, object], functions: int) -> bool:
        if len(sys.modules) != self.modules:
            return False
        for name, binding in self.bindings.items():
            if _binding(namespace, name) != binding:
                return False
        if self.functions_version is not None and functions != self.functions_version:
            return False
        return all(recheck.holds(namespace) for recheck in self.rechecks)


class KnownAnalyses:
    """Transformed source → its last analysis, while the facts it rested on hold.

    Callers must treat the analyses as read-only: a kept one is handed out again.
    """

    def __init__(self, capacity: int = 256) -> None:
        self.capacity = capacity
        self._known: dict[str, _Known] = {}
        self._functions = FunctionGlobals()

    def analysis(
        self, code: str, namespace: Mapping[str, object], now: Snapshot | None = None
    ) -> CellAnalysis:
        """``now``: the namespace's identity snapshot, when the caller just took one
        (pass the one after each run to :meth:`saw` too: the next run then finds
        the globals as they were, in one comparison)."""
        functions = self._functions.version_at(namespace, now or snapshot(namespace))
        known = self._known.get(code)
        if known is not None and known.holds(namespace, functions):
            return known.analysis
        analysis, facts = analyze_with_facts(code, namespace)
        if facts is None:
            self._known.pop(code, None)
            return analysis
        if len(self._known) >= self.capacity:
            self._known.clear()
        self._known[code] = _Known.of(analysis, facts, namespace, functions)
        return analysis

    def saw(
        self, namespace: Mapping[str, object], now: Snapshot, since: Snapshot, changed: set[str]
    ) -> None:
        """The namespace's snapshot ``now``, and the names that changed ``since`` an earlier one."""
        self._functions.version_at(namespace, now, (since, changed))
