"""What the user's namespace, as it is before a run, tells analysis about paths.

Syntax alone spells paths; the objects behind them decide what a path means:

- :func:`refine` — an attribute is its own slot only when it is a plain
  attribute (in the instance ``__dict__``, a module, a class attribute). A
  property (``cart.total``), a C descriptor (``arr.shape``, ``arr.T``), a
  pandas accessor or column attribute (``df.loc``, ``df.columns``, ``df.a``)
  is computed from the whole object, so the path is cut before it:
  ``df.loc[0, 'a'] = 1`` stores into ``df``; ``print(df.shape)`` reads ``df``.
- :class:`Aliases` — the same object reachable under another global path
  (``b = a``; ``row = grid[0]``): a mutation through one path changes the
  other, so analysis reports both.

Lookups never call user code: instance dicts, class dicts and plain
containers only, no ``getattr``.
"""

from __future__ import annotations

import ast
import functools
import importlib.util
import sys
import types
from collections.abc import Iterable, Mapping
from functools import lru_cache
from typing import Any

from .identities import shared_user_names
from .paths import expr_path

_MISSING = object()
#: Objects that cannot be mutated, or whose changes are rebinds (seen by identity).
_NOT_MUTABLE = (
    int,
    float,
    complex,
    str,
    bytes,
    bool,
    type(None),
    tuple,
    frozenset,
    range,
    types.ModuleType,
    types.FunctionType,
    types.BuiltinFunctionType,
    types.MethodType,
    type,
)
#: Containers larger than this are not scanned for aliases of their items.
ALIAS_SCAN = 256


def refine(parts: list[str], namespace: Mapping[str, object]) -> list[str]:
    """Cut a path's components before the first attribute that is not a plain slot."""
    value = namespace.get(parts[0], _MISSING)
    for index in range(1, len(parts)):
        if value is _MISSING:
            break
        part = parts[index]
        if part.startswith("."):
            if not _plain_attribute(value, part[1:]):
                return parts[:index]
            value = _attribute_value(value, part[1:])
        else:
            value = _item_value(value, part)
    return parts


@lru_cache(maxsize=4096)
def split(path: str) -> tuple[str, ...]:
    """A canonical path back into its components (``a.b[0]`` → ``a``, ``.b``, ``[0]``)."""
    try:
        parts = expr_path(ast.parse(path, mode="eval").body)[0]
    except (SyntaxError, ValueError):
        parts = None
    return tuple(parts) if parts else (path,)


def resolve(parts: tuple[str, ...] | list[str], namespace: Mapping[str, object]) -> object:
    """The object a path names now, through dicts only (never user code); _MISSING if unknown."""
    value = namespace.get(parts[0], _MISSING)
    for part in parts[1:]:
        if value is _MISSING:
            return value
        if part.startswith("."):
            value = _attribute_value(value, part[1:])
        else:
            value = _item_value(value, part)
    return value


def module_state(module: str, attribute: str | None, rest: tuple[str, ...]) -> bool:
    """Whether ``module[.attribute]`` followed by ``rest`` reaches a mutable object the
    module holds (``os.environ``, ``sys.path``), as opposed to a module, function,
    class or constant that an import merely rebinds."""
    value = sys.modules.get(module, _MISSING)
    names = ([attribute] if attribute else []) + [p[1:] for p in rest if p.startswith(".")]
    for name in names:
        if not _is(value, types.ModuleType):
            break
        value = vars(value).get(name, _MISSING)
    return value is not _MISSING and _mutable(value) and not callable(value)


def imported_module(module: str, rest: list[str]) -> bool:
    """Whether ``module`` followed by the attributes ``rest`` is a module (``np.random``)."""
    return is_module_path(sys.modules.get(module), rest)


def is_module_path(value: Any, rest: list[str]) -> bool:
    """Whether the attributes ``rest`` of ``value`` lead to a module, counting submodules
    not imported yet (numpy loads ``numpy.random`` on first access)."""
    for index, name in enumerate(rest):
        if not _is(value, types.ModuleType):
            return False
        found = vars(value).get(name)
        if found is None and hasattr(value, "__path__"):
            full = f"{value.__name__}.{name}"
            found = sys.modules.get(full)
            if found is None:
                return index == len(rest) - 1 and _findable(full)
        value = found
    return _is(value, types.ModuleType)


def _findable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None  # the parent is imported already
    except (ImportError, ValueError, AttributeError):
        return False


def class_attribute(parts: tuple[str, ...], namespace: Mapping[str, object]) -> str | None:
    """``inst.rate`` where ``rate`` lives on the class: the class's path (``Config.rate``),
    which a store like ``Config.rate = 0.2`` defines."""
    if len(parts) < 2 or not parts[1].startswith("."):
        return None
    value = namespace.get(parts[0], _MISSING)
    if value is _MISSING or _is(value, (types.ModuleType, type)):
        return None
    name = parts[1][1:]
    attributes = _instance_dict(value)
    if attributes is not None and name in attributes:
        return None
    owner = next((k for k in type(value).__mro__ if name in vars(k)), None)
    if owner is None or namespace.get(owner.__name__) is not owner:
        return None
    return owner.__name__ + "".join(parts[1:])


def _is(value: object, kinds: Any) -> bool:
    """``isinstance`` by the exact type: a user object's ``__class__`` is never consulted."""
    return issubclass(type(value), kinds)


def _class_lookup(kind: type, name: str) -> object:
    for klass in kind.__mro__:
        if name in vars(klass):
            return vars(klass)[name]
    return _MISSING


def _python_override(kind: type, name: str) -> bool:
    """Whether a class in the MRO defines ``name`` in Python (pandas' ``__getattr__``)."""
    return isinstance(_class_lookup(kind, name), types.FunctionType)


def _instance_dict(value: object) -> dict[str, object] | None:
    try:
        attributes = object.__getattribute__(value, "__dict__")
    except AttributeError:
        return None
    return attributes if _is(attributes, dict) else None


def _plain_attribute(value: object, name: str) -> bool:
    """Whether ``value.name`` is a slot of its own, independent of the other attributes."""
    if _is(value, (types.ModuleType, type)):
        return True
    kind = type(value)
    static = _class_lookup(kind, name)
    if static is not _MISSING:
        behaviour = type(static)
        if hasattr(behaviour, "__set__") or hasattr(behaviour, "__delete__"):
            return False  # property, __slots__ member, C getset (ndarray.shape)
    if _python_override(kind, "__getattribute__") or _python_override(kind, "__setattr__"):
        return False
    attributes = _instance_dict(value)
    if attributes is None:
        return False
    if name in attributes:
        return True
    if static is not _MISSING:
        return not hasattr(type(static), "__get__")  # a method is bound to the whole object
    return not _python_override(kind, "__getattr__")  # a new attribute, unless computed


def _attribute_value(value: Any, name: str) -> object:
    if _is(value, types.ModuleType):
        return vars(value).get(name, _MISSING)
    if _is(value, type):
        return _class_lookup(value, name)
    attributes = _instance_dict(value)
    return _MISSING if attributes is None else attributes.get(name, _MISSING)


def _item_value(value: Any, part: str) -> object:
    """``value[key]`` for dicts, lists and tuples, through the builtin methods only."""
    if not _is(value, (dict, list, tuple)):
        return _MISSING
    try:
        key = ast.literal_eval(part[1:-1])
        if _is(value, dict):
            return dict.get(value, key, _MISSING)
        if isinstance(key, int) and not isinstance(key, bool):
            kind: Any = list if _is(value, list) else tuple
            size = kind.__len__(value)
            return kind.__getitem__(value, key) if -size <= key < size else _MISSING
    except Exception:  # unhashable or odd keys: unknown
        pass
    return _MISSING


_IMMUTABLE, _DICT, _LIST, _OTHER = "immutable", "dict", "list", "other"
#: id(type) → (type, how :class:`Aliases` reads its values): checking 15 base
#: classes per global was most of a walk over thousands of them. Keyed by id,
#: as a metaclass may define ``__hash__``; the type is held, so its id stays its.
_SHAPES: dict[int, tuple[type, str]] = {}


def _shape(kind: type) -> str:
    known = _SHAPES.get(id(kind))
    if known is not None and known[0] is kind:
        return known[1]
    if issubclass(kind, _NOT_MUTABLE):
        shape = _IMMUTABLE
    elif issubclass(kind, dict):
        shape = _DICT
    elif issubclass(kind, list):
        shape = _LIST
    else:
        shape = _OTHER
    if len(_SHAPES) >= 1024:  # classes redefined run after run
        _SHAPES.clear()
    _SHAPES[id(kind)] = (kind, shape)
    return shape


def _mutable(value: object) -> bool:
    return _shape(type(value)) is not _IMMUTABLE


class Aliases:
    """Other global paths of the objects a path passes through.

    Asked for the few objects along a path, the walk over the globals and their
    members compares ids in C and spells a path only for a hit. Spelling every
    member's path (and checking that each attribute is a plain slot) cost
    ~15 ms at 2,000 globals holding containers, on every run of a cell that
    stores into one. A walk also looks for the root's own members, so the
    stores of one cell into one container (``d['a'] = 1; d['b'] = 2``) walk once.
    """

    def __init__(self, namespace: Mapping[str, object]) -> None:
        self.namespace = namespace
        #: ids looked for so far, and every global path found holding each
        self._searched: set[int] = set()
        self._found: dict[int, list[str]] = {}

    def of(self, path: str) -> set[str]:
        """Paths that name the same objects as ``path`` or one of its prefixes."""
        try:
            return self._of(path)
        except Exception:  # odd user objects: no aliases rather than no record
            return set()

    def _of(self, path: str) -> set[str]:
        parts = split(path)
        chain = []  # (prefix length, object) for each prefix that resolves
        for end in range(1, len(parts) + 1):
            value = resolve(parts[:end], self.namespace)
            if value is _MISSING:
                break
            chain.append((end, value))
        wanted = {id(value) for _, value in chain if _mutable(value)}
        if not wanted <= self._searched:
            root = chain[0][1]
            members = _member_values(root, _shape(type(root)))
            wanted.update(id(member) for member in members if _mutable(member))
            self._search(wanted - self._searched)
        aliases: set[str] = set()
        for end, value in chain:
            own = "".join(parts[:end])
            rest = "".join(parts[end:])
            for other in self._found.get(id(value), []):
                if other != own:
                    aliases.add(other + rest)
        return aliases

    def _search(self, wanted: set[int]) -> None:
        """Note every global, and member one level down, that is a ``wanted`` object."""
        found, namespace = self._found, self.namespace
        for name in shared_user_names(namespace):
            value = namespace[name]
            shape = _shape(type(value))
            if shape is _IMMUTABLE:
                continue
            if id(value) in wanted:
                found.setdefault(id(value), []).append(name)
            if not wanted.isdisjoint(map(id, _member_values(value, shape))):
                for spelled, item in _members(name, value, wanted):
                    found.setdefault(id(item), []).append(spelled)
        self._searched |= wanted


def _member_values(value: object, shape: str) -> Iterable[object]:
    """The items or attributes :func:`_members` reads, by the builtin views
    (a subclass's own ``values`` or ``__iter__`` never runs)."""
    if shape is _DICT and dict.__len__(value) <= ALIAS_SCAN:  # type: ignore[arg-type]
        return dict.values(value)  # type: ignore[arg-type]
    if shape is _LIST and list.__len__(value) <= ALIAS_SCAN:  # type: ignore[arg-type]
        return list.__iter__(value)  # type: ignore[arg-type]
    if shape is _IMMUTABLE:
        return ()
    attributes = _instance_dict(value)
    if attributes is None or len(attributes) > ALIAS_SCAN:
        return ()
    return attributes.values()


def _items(value: Any) -> list[tuple[object, object]] | None:
    """Keys and items of a small dict or list through the builtin methods (subclasses may
    override ``items``/``__iter__`` with code of their own); None for anything else."""
    if _is(value, dict) and dict.__len__(value) <= ALIAS_SCAN:
        return list(dict.items(value))
    if _is(value, (list, tuple)):
        kind: Any = list if _is(value, list) else tuple
        size = kind.__len__(value)
        if size <= ALIAS_SCAN:
            return [(i, kind.__getitem__(value, i)) for i in range(size)]
    return None


def _members(name: str, value: object, wanted: set[int]) -> list[tuple[str, object]]:
    """The ``wanted`` objects among one level of items of small dicts, lists and
    plain objects, with their paths."""
    items = _items(value)
    if items is not None:
        return [
            (f"{name}[{key!r}]", item)
            for key, item in items
            if id(item) in wanted and isinstance(key, (str, int)) and not isinstance(key, bool)
        ]
    attributes = _instance_dict(value)
    if attributes is not None and len(attributes) <= ALIAS_SCAN:
        return [
            (f"{name}.{attr}", item)
            for attr, item in list(attributes.items())
            if id(item) in wanted
            and isinstance(attr, str)
            and attr.isidentifier()
            and _plain_attribute(value, attr)
        ]
    return []


class Callables:
    """Which notebook functions a value holds, by the names their summaries are kept under.

    Passing a function (``df.apply(scale)``), calling it through another name
    (``op = square; op(2)``) or reading a container of functions (``for s in
    steps: s()``) runs their bodies like calling them by name, so their
    summaries must be followed. Merely naming a function (``op = square``) does
    not run it.
    """

    def __init__(self, namespace: Mapping[str, object]) -> None:
        self.namespace = namespace
        self._names: dict[int, list[str]] | None = None
        #: the items of a container were read (they change without a rebind)
        self.read_items = False

    @property
    def scanned(self) -> bool:
        """Whether the answers rest on which globals hold notebook functions."""
        return self._names is not None

    def _index(self) -> dict[int, list[str]]:
        found: dict[int, list[str]] = {}
        for name, ident in function_globals(self.namespace).items():
            found.setdefault(ident, []).append(name)
        return found

    def keys(self, value: object, direct: bool) -> set[str]:
        """Summary keys of the notebook functions in ``value``: the value itself when
        ``direct`` (it is called or passed on), and the items of a container."""
        items: list[object] = [value] if direct else []
        if _is(value, (dict, list, tuple)):  # even empty or too long to scan: it may change
            self.read_items = True
        contained = _items(value)
        if contained:
            items.extend(item for _, item in contained)
        found: set[str] = set()
        for item in items:
            found |= self._keys_of(item)
        return found

    def _keys_of(self, item: Any) -> set[str]:
        if _is(item, functools.partial):
            item = item.func
        if _is(item, types.MethodType):  # bound method: the class's summary
            item = item.__func__
            return {item.__qualname__.split(".")[0]} if _from_notebook(item) else set()
        if not _is(item, types.FunctionType) or not _from_notebook(item):
            return set()
        if self._names is None:
            self._names = self._index()
        return {item.__name__, *self._names.get(id(item), [])} - {"<lambda>"}


def function_globals(namespace: Mapping[str, object]) -> dict[str, int]:
    """The user globals holding plain functions, by name, with their objects' ids."""
    return {
        name: id(value)
        for name in shared_user_names(namespace)
        if is_plain_function(value := namespace[name])
    }


def is_plain_function(value: object) -> bool:
    """A ``def`` or ``lambda`` function (what :func:`function_globals` lists)."""
    return _is(value, types.FunctionType)


def _from_notebook(function: object) -> bool:
    return getattr(function, "__module__", None) == "__main__"
