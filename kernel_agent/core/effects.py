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
fingerprinted (:mod:`.namespace`). The namespace also tells which receivers
are pandas or numpy objects (:meth:`Recorder.data_receiver`), whose known
non-mutating methods are plain reads (:mod:`.expressions`), and which values
passed to those methods cannot run notebook code (:meth:`Recorder.harmless`).
"""

from __future__ import annotations

import builtins
import sys
import types
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional, Union

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
#: Builtins that change their arguments or run code: never harmless as a callback.
UNSAFE_BUILTINS = frozenset(
    {
        *("setattr", "delattr", "exec", "eval", "compile", "globals", "locals", "vars"),
        *("__import__", "breakpoint", "input", "open", "exit", "quit", "help", "next"),
    }
)
#: numpy and pandas functions that return new data and never change their arguments
#: (without ``out=``), so passing one as a callback (``df.agg(np.mean)``) is harmless.
SAFE_LIBRARY_FUNCTIONS = frozenset(
    {
        *("sum", "mean", "median", "min", "max", "std", "var", "prod", "amin", "amax"),
        *("nansum", "nanmean", "nanmedian", "nanmin", "nanmax", "nanstd", "nanvar"),
        *("count_nonzero", "ptp", "percentile", "quantile", "any", "all", "size", "sort"),
        *("abs", "absolute", "sqrt", "square", "exp", "log", "log1p", "log2", "log10"),
        *("floor", "ceil", "round", "around", "sign", "unique", "cumsum", "cumprod"),
        *("to_numeric", "to_datetime", "to_timedelta", "isna", "isnull", "notna", "notnull"),
    }
)
#: Type modules whose non-callable instances are harmless arguments (dtypes, dates, axes).
_HARMLESS_MODULES = ("numpy", "pandas", "datetime", "decimal", "fractions", "matplotlib")
#: Containers scanned for callables up to this many items (and two levels deep).
_HARMLESS_SCAN = 1000
#: One step of a receiver's path: ``.attr``, ``[key]`` with a constant key, or None
#: for a computed key (``df[mask]``).
Step = Optional[str]  # noqa: UP045 (a runtime alias: Python 3.9)


@dataclass
class FunctionSummary:
    """What calling a function (or instantiating / calling methods of a class) reads and
    writes at global scope; kept by name so later cells that call it inherit its effects."""

    uses: set[str] = field(default_factory=set)
    defines: set[str] = field(default_factory=set)
    calls: set[str] = field(default_factory=set)
    #: The body uses exec/eval/globals(): a call may define or use anything.
    conservative: bool = False


@dataclass(frozen=True)
class NamespaceFacts:
    """What an analysis with a namespace rested on, to tell whether it still holds.

    ``names``: the globals looked up by name (the answer holds while each is
    bound to the same object, or still absent); ``functions``: it listed the
    globals holding notebook functions (it holds while those are the same).
    Imported modules are taken as they are (their attributes are not rebound
    in practice; a new import is noticed by whoever checks the facts).
    """

    names: frozenset[str]
    functions: bool
    #: answers read from inside objects that are cheap to read again (see :class:`Recheck`)
    rechecks: tuple[Recheck, ...] = ()


@dataclass(frozen=True)
class Recheck:
    """One answer an analysis read from inside an object (a frame's dtypes, a
    value passed to pandas), and how to read it again: the analysis would
    take the same path while ``read(*arguments, namespace)`` gives the same
    ``answer`` (``fallback`` when it raises, as odd user objects may). Reading
    it again costs a few µs; walking the cell again, a few hundred in a cold
    kernel."""

    read: Callable[..., object]
    arguments: tuple[object, ...]
    fallback: object
    answer: object

    @staticmethod
    def read_now(
        read: Callable[..., object],
        arguments: tuple[object, ...],
        fallback: object,
        namespace: Mapping[str, object],
    ) -> object:
        try:
            return read(*arguments, namespace)
        except Exception:
            return fallback

    def holds(self, namespace: Mapping[str, object]) -> bool:
        return self.read_now(self.read, self.arguments, self.fallback, namespace) == self.answer


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
    #: paths the cell surely (re)binds whole at module level (``x = ..``,
    #: ``x[0] = ..``): a value read below them comes from this cell, not above
    binds: set[str] = field(default_factory=set)
    #: random generator state the cell draws from (changes, nondeterministic unless seeded)
    draws: set[str] = field(default_factory=set)


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
        #: other global paths of an object a store went through: alias -> the path stored
        self.alias_of: dict[str, str] = {}
        self._aliases = Aliases(namespace) if namespace is not None else None
        self._callables = Callables(namespace) if namespace is not None else None
        self._pending: list[tuple[set[str], str]] = []  # builtin names, kept if rebound
        #: Globals the namespace was asked about by name: their objects shaped the answer.
        self.consulted: set[str] = set()
        #: Attributes, items, data types or other names of objects were read too (or
        #: code run by the cell was analysed): they change without a global rebound.
        self.read_deeper = False
        #: Such reads that are cheap to repeat: the answer holds while they agree.
        self.rechecks: list[Recheck] = []

    def facts(self) -> NamespaceFacts | None:
        """What the answer rests on, when top-level globals are all of it (see
        :class:`NamespaceFacts`); None when it read deeper into objects."""
        callables = self._callables
        if self.read_deeper or (callables is not None and callables.read_items):
            return None
        scanned = callables is not None and callables.scanned
        return NamespaceFacts(frozenset(self.consulted), scanned, tuple(self.rechecks))

    def finish(self) -> CellAnalysis:
        """Keep the builtin names the cell itself rebinds (``print(sum); sum = 0``)."""
        defined = {root(path) for path in self.result.defines}
        for target, path in self._pending:
            if root(path) in defined:
                target.add(path)
        binds = {path for path in self.certain if path in self.result.defines}
        binds |= {alias for alias, path in self.alias_of.items() if path in binds}
        self.result.binds = binds
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
                for alias in self.aliases(path):
                    result.defines.add(alias)
                    self.alias_of.setdefault(alias, path)
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
        self.read_deeper = True
        return self._aliases.of(path)

    def function_values(self, path: str, direct: bool) -> set[str]:
        """Summary keys of notebook functions the value at ``path`` holds (see Callables)."""
        if self._callables is None or root(path) in self.rebound or self.namespace is None:
            return set()
        parts = split(path)
        if len(parts) > 1:  # through attributes or items: they change without a rebind
            self.read_deeper = True
        self.consulted.add(parts[0])  # a global's own items: Callables.read_items
        try:
            return self._callables.keys(resolve(parts, self.namespace), direct)
        except Exception:  # odd user objects: no functions rather than no record
            return set()

    def class_path(self, path: str) -> str | None:
        """The class attribute an instance attribute read reaches, if it lives on the class."""
        if self.namespace is None or root(path) in self.rebound or "." not in path:
            return None
        return self._read_again_later(class_attribute, None, split(path))  # type: ignore[return-value]

    def refine(self, parts: list[str]) -> list[str]:
        """Cut a path at computed attributes, per the namespace (see :mod:`.namespace`)."""
        if self.namespace is None or len(parts) == 1 or parts[0] in self.rebound:
            return parts
        return list(self._read_again_later(refine, parts, list(parts)))  # type: ignore[call-overload]

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

    def data_receiver(self, name: str, steps: Sequence[Step]) -> tuple[str, bool] | None:
        """What the global ``name`` followed by ``steps`` is before this run, if it is a
        pandas or numpy object: its kind (see :func:`data_object`) and whether it may hold
        Python objects. None when unknown, or not a global at this point of the cell."""
        if self.namespace is None or not self._global_here(name):
            return None
        return self._read_again_later(data_object, None, name, tuple(steps))  # type: ignore[return-value]

    def harmless(self, name: str, steps: Sequence[Step]) -> bool:
        """Whether the value of a global, passed to a pandas or numpy method, cannot run
        notebook code: data, or builtins and numpy/pandas functions that only read."""
        if self.namespace is None or not self._global_here(name):
            return False
        return bool(self._read_again_later(_harmless_global, False, name, tuple(steps)))

    def _read_again_later(
        self, read: Callable[..., object], fallback: object, *arguments: object
    ) -> object:
        """``read(*arguments, namespace)`` (``fallback`` if it raises), kept among the
        rechecks: what it reads changes in place (dtypes, attributes)."""
        assert self.namespace is not None
        answer = Recheck.read_now(read, arguments, fallback, self.namespace)
        self.rechecks.append(Recheck(read, arguments, fallback, answer))
        return answer

    def _global_here(self, name: str) -> bool:
        """A module-level name the cell has not rebound so far: the namespace knows it."""
        if name in self.rebound:
            return False
        return not any(isinstance(frame, Scope) or name in frame for frame in self.frames)

    def is_builtin(self, name: str) -> bool:
        namespace = self.namespace
        if name not in IGNORED_NAMES:
            return False
        if namespace is None:
            return True
        self.consulted.add(name)
        return name not in namespace

    def is_module(self, path: str) -> bool:
        """Whether a path names a module (imported by this cell, or per the namespace)."""
        name = root(path)
        if name in self.imports:
            module = self.imported[name][0]
            return path == name or imported_module(module, path.split(".")[1:])
        if self.namespace is None or "[" in path or name in self.rebound:
            return False  # unknown, or rebound by this cell: the namespace is out of date
        self.consulted.add(name)  # a module's attributes count as fixed (see NamespaceFacts)
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


# -- pandas and numpy objects -------------------------------------------------------------


def data_kind(value: object) -> str | None:
    """``frame``, ``series``, ``index`` or ``array`` for pandas' and numpy's own types
    (exact types: a subclass may override any method), else None."""
    kind = type(value)
    numpy = _library("numpy")
    if numpy is not None and kind is numpy.get("ndarray"):
        return "array"
    pandas = _library("pandas")
    if pandas is None:
        return None
    if kind is pandas.get("DataFrame"):
        return "frame"
    if kind is pandas.get("Series"):
        return "series"
    index = pandas.get("Index")
    if isinstance(index, type) and issubclass(kind, index):
        return "index" if kind.__module__.startswith("pandas.") else None
    return None


def _harmless_global(name: str, steps: Sequence[Step], namespace: Mapping[str, object]) -> bool:
    if data_object(name, steps, namespace) is not None:
        return True
    if None in steps:
        return False
    return _harmless_value(resolve([name, *steps], namespace), 0)  # type: ignore[list-item]


def data_object(
    name: str, steps: Sequence[Step], namespace: Mapping[str, object]
) -> tuple[str, bool] | None:
    """The kind of object ``name`` + ``steps`` reaches, if it is pandas/numpy data, and
    whether that data may hold Python objects (object dtype: elements shared by copies).

    Plain attributes and items lead to the object (``cfg.df``, ``frames['a']``);
    from there the steps are followed by what pandas and numpy return, without
    running anything: a frame's column (``df['a']``, ``df.a``, ``df[mask]``) is
    pandas data, ``.T``, ``.values``, ``.index``, ``.loc[...]``, the ``.str`` and
    ``.dt`` accessors keep to data; elements count only where the dtype is not
    ``object``. Anything else is unknown (None).
    """
    parts = [name]
    value = namespace.get(name)
    kind = data_kind(value)
    index = 0
    while kind is None:  # through plain attributes and items to the data object
        if index == len(steps) or steps[index] is None:
            return None
        parts.append(steps[index])  # type: ignore[arg-type]
        index += 1
        value = resolve(parts, namespace)
        kind = data_kind(value)
    objects = _holds_objects(value, kind)
    concrete: object = value
    for step in steps[index:]:
        kind = _data_step(kind, step, objects, concrete)
        if kind is None:
            return None
        concrete = None
    return kind, objects


#: Attributes of pandas and numpy objects that are data again, by the kind they give.
_DATA_ATTRIBUTES = {
    "frame": {"T": "frame", "values": "array", "index": "index", "columns": "index"},
    "series": {"T": "series", "values": "array", "index": "index"},
    "pandas": {"T": "pandas", "values": "array", "index": "index"},
    "index": {"T": "index", "values": "array", "str": "accessor", "dt": "accessor"},
    "array": {"T": "array", "real": "array", "imag": "array"},
}
for _kind in ("frame", "series", "pandas"):
    _DATA_ATTRIBUTES[_kind].update(loc="indexer", iloc="indexer", at="indexer", iat="indexer")
for _kind in ("series", "pandas"):
    _DATA_ATTRIBUTES[_kind].update(str="accessor", dt="accessor", cat="accessor")


def _data_step(kind: str, step: Step, objects: bool, concrete: object) -> str | None:
    """The kind one more step from a ``kind`` object gives, or None when unknown."""
    if step is None or step.startswith("["):  # an item: columns of a frame, else elements
        if kind == "frame":
            return "pandas"
        if kind in ("accessor", "value"):
            return None
        return None if objects else ("array" if kind == "array" else "value")
    attribute = step[1:]
    known = _DATA_ATTRIBUTES.get(kind, {}).get(attribute)
    if concrete is not None and attribute in _instance_attributes(concrete):
        return None  # set on this object by the user: anything
    if known is not None:
        return known
    if kind in ("frame", "series", "pandas") and not _class_defines(kind, attribute):
        # pandas' __getattr__: a frame's column, or a series' element by label
        return "pandas" if kind == "frame" else (None if objects else "value")
    return None


def _class_defines(kind: str, attribute: str) -> bool:
    pandas = _library("pandas") or {}
    names = ["DataFrame"] if kind == "frame" else ["Series"]
    if kind == "pandas":
        names = ["DataFrame", "Series"]
    for name in names:
        cls = pandas.get(name)
        if not isinstance(cls, type) or any(attribute in vars(k) for k in cls.__mro__):
            return True
    return False


def _holds_objects(value: Any, kind: str) -> bool:
    if kind == "array":
        return bool(value.dtype.hasobject)
    if kind == "frame":
        try:  # one dtype per block; value.dtypes builds a Series (0.1 ms)
            dtypes = [block.dtype for block in value._mgr.blocks]
        except AttributeError:  # another pandas layout
            dtypes = list(value.dtypes)
        return any(_object_dtype(dtype) for dtype in dtypes)
    return _object_dtype(value.dtype)


def _object_dtype(dtype: Any) -> bool:
    """Whether elements may be mutable Python objects (str elements are immutable)."""
    if type(dtype).__name__ == "StringDtype":
        return False
    return getattr(dtype, "kind", "O") == "O" or bool(getattr(dtype, "hasobject", False))


def _instance_attributes(value: object) -> dict[str, object]:
    try:
        attributes = object.__getattribute__(value, "__dict__")
    except AttributeError:
        return {}
    return attributes if type(attributes) is dict else {}


def _library(name: str) -> dict[str, Any] | None:
    """An imported library's namespace (no import, no module ``__getattr__``)."""
    module = sys.modules.get(name)
    return vars(module) if isinstance(module, types.ModuleType) else None


def _harmless_value(value: Any, depth: int) -> bool:
    """Passing ``value`` to a pandas or numpy method cannot run notebook code."""
    kind = type(value)
    if kind in (str, bytes, int, float, complex, bool, type(None), range, slice):
        return True
    if isinstance(value, types.ModuleType) or data_kind(value) is not None:
        return True
    if kind in (list, tuple, set, frozenset, dict):  # exact types: builtin iteration only
        if depth >= 2 or len(value) > _HARMLESS_SCAN:
            return False
        items = [*value.keys(), *value.values()] if kind is dict else list(value)
        return all(_harmless_value(item, depth + 1) for item in items)
    if kind is types.BuiltinFunctionType:
        name = getattr(value, "__name__", "")
        return vars(builtins).get(name) is value and name not in UNSAFE_BUILTINS
    if isinstance(value, type):
        numpy = _library("numpy") or {}
        generic = numpy.get("generic")
        if isinstance(generic, type) and issubclass(value, generic):
            return True  # np.float32 as a dtype
        name = type.__getattribute__(value, "__name__")  # no metaclass hooks
        return vars(builtins).get(name) is value and name != "type"
    if callable(value):  # a library function, by identity (__name__ of their own types only)
        library_type = kind is types.FunctionType or kind.__module__ == "numpy"
        name = getattr(value, "__name__", None) if library_type else None
        if isinstance(name, str) and name in SAFE_LIBRARY_FUNCTIONS:
            return any(
                (_library(library) or {}).get(name) is value for library in ("numpy", "pandas")
            )
        return False
    return kind.__module__.split(".")[0] in _HARMLESS_MODULES
