"""Where the reads and writes found in a cell's code land.

:mod:`.analysis` and :mod:`.expressions` read the syntax; this module decides
what each read or write means for the notebook. A cell runs at module scope,
so its statements touch globals directly and in order. Inside ``def`` and
``lambda`` bodies Python decides whether a name is local from the *whole*
body, so records there wait in their scope until it closes, and then either
stay local, move to the enclosing function (closures), or reach module level.
Class bodies run in order like the cell, but their names are invisible to
their methods. At module level a record either happens now (a class body, an
inline lambda) or goes into the :class:`FunctionSummary` of the top-level
definition it sits in.

Record kinds: ``use`` (read), ``mut`` (a slot store or in-place call: define
and use), ``state`` (hidden module state: define and use, even right after
the cell imports the module), ``bind`` (a ``global`` name rebound inside a function), ``call``,
``recv`` (method receiver), ``maybe`` (maybe mutated), ``any`` (may read
anything: exec & co.), ``anydef`` (may define anything: star-imports, exec of
computed code).

With the user's namespace at hand, a mutation through one global path also
defines the other global paths of the same object (``b = a``; ``b[0] = 1``
changes ``a[0]``), and maybe-mutated objects bring their aliases along to be
fingerprinted (:mod:`.namespace`).
"""

from __future__ import annotations

import builtins
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Union

from .graph import ANY_PATH
from .namespace import (
    Aliases,
    Callables,
    class_attribute,
    imported_module,
    is_module_path,
    module_state,
    refine,
    resolve,
    split,
)
from .paths import root

#: Names that are never user state unless the user rebinds them.
IGNORED_NAMES = frozenset(dir(builtins)) | {"get_ipython", "display", "exit", "quit"}
#: Record path of an ``any`` record: it may touch every global.
ANYTHING = ""


@dataclass
class FunctionSummary:
    """What calling a function (or instantiating / calling methods of a class) reads and
    writes at global scope; kept by name so later cells that call it inherit its effects."""

    uses: set[str] = field(default_factory=set)
    defines: set[str] = field(default_factory=set)
    calls: set[str] = field(default_factory=set)
    #: The body uses exec/eval/globals(): a call may define or use anything.
    conservative: bool = False


@dataclass
class CellAnalysis:
    """The effects one run of a cell's code has on the notebook's globals."""

    defines: set[str] = field(default_factory=set)
    uses: set[str] = field(default_factory=set)
    calls: set[str] = field(default_factory=set)
    method_receivers: set[str] = field(default_factory=set)
    maybe_mutated: set[str] = field(default_factory=set)
    functions: dict[str, FunctionSummary] = field(default_factory=dict)
    conservative: bool = False
    syntax_error: bool = False


def close_over_calls(
    analysis: CellAnalysis, summaries: Mapping[str, FunctionSummary]
) -> tuple[set[str], set[str]]:
    """Transitive closure: (extra_uses, extra_defines) from every function/class the cell
    calls, through summaries' calls, cycle-safe."""
    extra_uses: set[str] = set()
    extra_defines: set[str] = set()
    for summary in _reachable(analysis, summaries):
        extra_uses |= summary.uses
        extra_defines |= summary.defines
    return extra_uses, extra_defines


def calls_conservative(analysis: CellAnalysis, summaries: Mapping[str, FunctionSummary]) -> bool:
    """Whether some function the cell reaches uses exec/globals() and so may touch anything."""
    return any(summary.conservative for summary in _reachable(analysis, summaries))


def _reachable(
    analysis: CellAnalysis, summaries: Mapping[str, FunctionSummary]
) -> list[FunctionSummary]:
    """Summaries reachable from the cell's calls (and receivers, if keyed in ``summaries``).

    The cell's own definitions win over ``summaries``: a call after ``def f``
    in the same cell runs the new body.
    """
    found: list[FunctionSummary] = []
    seen: set[str] = set()
    todo = sorted(analysis.calls | analysis.method_receivers)
    while todo:
        name = todo.pop()
        summary = analysis.functions.get(name) or summaries.get(name)
        if name in seen or summary is None:
            continue
        seen.add(name)
        found.append(summary)
        todo.extend(summary.calls)
    return found


@dataclass
class Scope:
    """A function, lambda or class body; its records resolve when it closes."""

    is_class: bool
    summary: FunctionSummary | None  # the top-level summary its global effects go to
    runs_now: bool  # the body runs during the cell (class bodies, inline lambdas)
    bound: set[str] = field(default_factory=set)
    global_names: set[str] = field(default_factory=set)
    nonlocal_names: set[str] = field(default_factory=set)
    records: list[tuple[str, str, str]] = field(default_factory=list)  # (kind, path, root)


# A frame is a scope, or a set holding a comprehension's own target names.
Frame = Union[Scope, "set[str]"]


class Recorder:
    """Collects one cell's records into a :class:`CellAnalysis`."""

    def __init__(self, namespace: Mapping[str, object] | None) -> None:
        self.result = CellAnalysis()
        self.namespace = namespace
        self.frames: list[Frame] = []
        #: Paths surely defined so far by module-level statements; reads of them are not uses.
        self.certain: set[str] = set()
        #: Depth of expressions that may not run (``a or b``, comprehension bodies).
        self.cond = 0
        #: Names bound by ``import`` statements of this cell: modules.
        self.imports: set[str] = set()
        #: Every name this cell imports: (module, attribute or None), to find shared state.
        self.imported: dict[str, tuple[str, str | None]] = {}
        #: Names the cell rebinds at module level: the namespace is out of date for them.
        self.rebound: set[str] = set()
        self._aliases = Aliases(namespace) if namespace is not None else None
        self._callables = Callables(namespace) if namespace is not None else None
        self._pending: list[tuple[set[str], str]] = []  # builtin names, kept if rebound

    def finish(self) -> CellAnalysis:
        """Keep the builtin names the cell itself rebinds (``print(sum); sum = 0``)."""
        defined = {root(path) for path in self.result.defines}
        for target, path in self._pending:
            if root(path) in defined:
                target.add(path)
        return self.result

    # -- routing -------------------------------------------------------------

    def emit(self, kind: str, path: str, source: Scope | None = None) -> None:
        """Send a record outward to the innermost scope that may own its root."""
        name = root(path)
        for frame in reversed(self.frames):
            if isinstance(frame, set):
                if name in frame:
                    return
            elif not frame.is_class:
                frame.records.append((kind, path, name))
                return
            elif source is None:  # class bodies run in order, like the cell; methods skip them
                if name not in frame.bound:
                    frame.records.append((kind, path, name))
                return
        self._at_module(kind, path, name, source)

    def close(self, scope: Scope) -> None:
        """Leave a scope: drop its locals' records and pass the rest outward."""
        self.frames.pop()
        for kind, path, name in scope.records:
            if name in scope.global_names:
                self._at_module(kind, path, name, scope)
            elif scope.is_class or name not in scope.bound:  # class: filtered in emit()
                self.emit(kind, path, scope)

    def _at_module(self, kind: str, path: str, name: str, source: Scope | None) -> None:
        if source is None or source.runs_now:
            self._cell_record(kind, path, name)
        if source is not None and source.summary is not None:
            self._summary_record(source.summary, kind, path, name)

    def _cell_record(self, kind: str, path: str, name: str) -> None:
        result = self.result
        if kind in ("use", "mut"):
            self._use(path, name)
        elif kind == "state":  # module state: a use even right after the import
            self._keep(result.uses, path, name)
        if kind in ("mut", "bind", "state"):
            result.defines.add(path)
            if kind == "mut":
                result.defines.update(self.aliases(path))
        elif kind == "call":
            self._keep(result.calls, path, name)
        elif kind in ("recv", "maybe") and not self.is_builtin(path):
            (result.method_receivers if kind == "recv" else result.maybe_mutated).add(path)
            result.maybe_mutated.update(root(alias) for alias in self.aliases(path))
        elif kind == "any":
            result.conservative = True
        elif kind == "anydef":
            result.defines.add(ANY_PATH)

    def aliases(self, path: str) -> set[str]:
        """Other global paths of the object ``path`` passes through (before this run)."""
        if self._aliases is None or root(path) in self.rebound:
            return set()
        return self._aliases.of(path)

    def function_values(self, path: str, direct: bool) -> set[str]:
        """Summary keys of notebook functions the value at ``path`` holds (see Callables)."""
        if self._callables is None or root(path) in self.rebound or self.namespace is None:
            return set()
        try:
            return self._callables.keys(resolve(split(path), self.namespace), direct)
        except Exception:  # odd user objects: no functions rather than no record
            return set()

    def class_path(self, path: str) -> str | None:
        """The class attribute an instance attribute read reaches, if it lives on the class."""
        if self.namespace is None or root(path) in self.rebound or "." not in path:
            return None
        try:
            return class_attribute(split(path), self.namespace)
        except Exception:
            return None

    def refine(self, parts: list[str]) -> list[str]:
        """Cut a path at computed attributes, per the namespace (see :mod:`.namespace`)."""
        if self.namespace is None or len(parts) == 1 or parts[0] in self.rebound:
            return parts
        try:
            return refine(parts, self.namespace)
        except Exception:
            return parts

    def _summary_record(self, summary: FunctionSummary, kind: str, path: str, name: str) -> None:
        if kind in ("use", "mut", "state"):
            self._keep(summary.uses, path, name)
        if kind in ("mut", "bind", "state"):
            summary.defines.add(path)
        elif kind == "call":
            self._keep(summary.calls, path, name)
        elif kind == "any":
            summary.conservative = True
        elif kind == "anydef":
            summary.defines.add(ANY_PATH)

    def _use(self, path: str, name: str) -> None:
        """A read, unless an earlier statement surely defined the path or a prefix of it."""
        certain = self.certain
        covered = path in certain or (
            path != name
            and any(char in ".[" and path[:index] in certain for index, char in enumerate(path))
        )
        if covered and not self._shared_state(path, name):
            return
        self._keep(self.result.uses, path, name)

    def _shared_state(self, path: str, name: str) -> bool:
        """``import os`` rebinds ``os`` but not ``os.environ``: state other cells share."""
        spec = self.imported.get(name)
        if spec is None or (path == name and spec[1] is None):
            return False
        return module_state(spec[0], spec[1], split(path)[1:])

    def _keep(self, target: set[str], path: str, name: str) -> None:
        """Add a path, deferring builtins until we know whether the cell rebinds them."""
        if self.is_builtin(name):
            self._pending.append((target, path))
        else:
            target.add(path)

    def is_builtin(self, name: str) -> bool:
        namespace = self.namespace
        return name in IGNORED_NAMES and (namespace is None or name not in namespace)

    def is_module(self, path: str) -> bool:
        """Whether a path names a module (imported by this cell, or per the namespace)."""
        name = root(path)
        if name in self.imports:
            module = self.imported[name][0]
            return path == name or imported_module(module, path.split(".")[1:])
        if self.namespace is None or "[" in path or name in self.rebound:
            return False  # unknown, or rebound by this cell: the namespace is out of date
        return is_module_path(self.namespace.get(name), path.split(".")[1:])

    # -- scopes and bindings -------------------------------------------------

    def owner(self) -> Scope | None:
        """The innermost function/lambda/class scope, None at module level."""
        for frame in reversed(self.frames):
            if isinstance(frame, Scope):
                return frame
        return None

    def open(self, is_class: bool, name: str | None, inline: bool) -> Scope:
        """Enter a body; a named top-level one gets its own summary in ``functions``."""
        owner = self.owner()
        if owner is None:
            summary = None
            if name is not None:
                summary = self.result.functions[name] = FunctionSummary()
            scope = Scope(is_class, summary, runs_now=inline)
        else:
            scope = Scope(is_class, owner.summary, runs_now=inline and owner.runs_now)
        self.frames.append(scope)
        return scope

    def bind(self, name: str) -> None:
        """A name is (re)bound in the current scope."""
        owner = self.owner()
        if owner is None:
            self.result.defines.add(name)
            self.rebound.add(name)
            if self.cond == 0:
                self.certain.add(name)
        elif name in owner.global_names:
            owner.records.append(("bind", name, name))
        elif name not in owner.nonlocal_names:
            owner.bound.add(name)

    def store_slot(self, path: str, whole: bool) -> None:
        """A store into ``path`` (``x[0] = v``); ``whole`` when the slot is fully replaced."""
        self.emit("mut", path)
        if whole and not self.frames and self.cond == 0:
            self.certain.add(path)
