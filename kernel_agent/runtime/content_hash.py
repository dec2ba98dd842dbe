"""Stable content digests of notebook values, the cache keys of ``%%memoize``.

Unlike :mod:`.fingerprint` (cheap, sampled, identity-aware, for one process),
a digest here covers the whole value and is meant to be equal across kernel
restarts for equal content, so a disk cache can be hit by a new kernel:

- primitives by type and ``repr`` (bytes as they are); containers element by
  element (sets order-independently);
- functions by their code object (bytecode, constants, names, defaults and
  closure values; not file names or line numbers), classes defined in the
  notebook by their bases and namespace, library classes and modules by name
  (and ``__version__``);
- numpy-like arrays (duck-typed: ``dtype``, ``shape``, ``tobytes``) by dtype,
  shape and every byte; pandas objects through ``pandas.util.hash_pandas_object``
  plus labels and dtypes; nothing is imported for this, pandas is taken from
  ``sys.modules`` when a pandas object exists;
- anything else by its pickle, or its ``__dict__`` when it does not pickle.

A value that cannot be read raises :class:`Undigestible`: the caller must not
pretend two such values are equal.
"""

from __future__ import annotations

import hashlib
import pickle
import sys
import types
from typing import Any

_PRIMITIVES = (type(None), bool, int, float, complex, str)
_NOISE = frozenset({"__dict__", "__weakref__", "__module__", "__qualname__", "__doc__"})
MAX_DEPTH = 64


class Undigestible(TypeError):
    """The value cannot be digested (unpicklable, no readable state, too deep)."""


def digest(value: object) -> str:
    """A hex digest equal for equal content (see the module docstring)."""
    hasher = _Hasher()
    hasher.feed(value, 0)
    return hasher.hexdigest()


class _Hasher:
    def __init__(self) -> None:
        self._hash = hashlib.blake2b(digest_size=20)
        self._active: set[int] = set()

    def hexdigest(self) -> str:
        return self._hash.hexdigest()

    def write(self, *parts: object) -> None:
        for part in parts:
            data = part if isinstance(part, bytes) else str(part).encode("utf-8", "surrogatepass")
            self._hash.update(len(data).to_bytes(8, "little"))
            self._hash.update(data)

    def feed(self, value: object, depth: int) -> None:
        kind = type(value)
        if kind in _PRIMITIVES:
            self.write(kind.__name__, repr(value))
            return
        if kind is bytes or kind is bytearray:
            self.write(kind.__name__, bytes(value))  # type: ignore[call-overload]
            return
        if depth > MAX_DEPTH:
            raise Undigestible("value nested too deeply to digest")
        if id(value) in self._active:
            self.write("cycle")
            return
        self._active.add(id(value))
        try:
            self._feed_object(value, depth + 1)
        finally:
            self._active.discard(id(value))

    def _feed_object(self, value: Any, depth: int) -> None:
        kind = type(value)
        self.write(kind.__module__, kind.__qualname__)
        if kind in (list, tuple):
            self.write(len(value))
            for item in value:
                self.feed(item, depth)
        elif kind is dict:
            self.write(len(value))
            for key, item in value.items():
                self.feed(key, depth)
                self.feed(item, depth)
        elif kind in (set, frozenset):
            self.write(*sorted(_sub_digest(item, depth) for item in value))
        elif isinstance(value, types.FunctionType):
            self._function(value, depth)
        elif isinstance(value, types.CodeType):
            self._code(value, depth)
        elif isinstance(value, type):
            self._class(value, depth)
        elif isinstance(value, types.ModuleType):
            self.write(value.__name__, getattr(value, "__version__", ""))
        elif _is_pandas(value):
            self._pandas(value, depth)
        elif _is_array(value):
            self._array(value, depth)
        else:
            self._other(value, depth)

    def _function(self, func: types.FunctionType, depth: int) -> None:
        self.write(func.__module__, func.__qualname__)
        self._code(func.__code__, depth)
        self.feed(func.__defaults__, depth)
        self.feed(func.__kwdefaults__, depth)
        for cell in func.__closure__ or ():
            try:
                contents = cell.cell_contents
            except ValueError:  # an empty cell: the closure variable is not bound yet
                contents = None
            self.feed(contents, depth)

    def _code(self, code: types.CodeType, depth: int) -> None:
        self.write(code.co_code, code.co_names, code.co_varnames, code.co_freevars)
        self.write(code.co_cellvars, code.co_argcount, code.co_kwonlyargcount, code.co_flags)
        for const in code.co_consts:
            self.feed(const, depth)

    def _class(self, cls: type, depth: int) -> None:
        self.write(cls.__module__, cls.__qualname__)
        if cls.__module__ != "__main__":  # a library class: its name and package version
            package = sys.modules.get(cls.__module__.split(".")[0])
            self.write(getattr(package, "__version__", ""))
            return
        for base in cls.__bases__:
            self.feed(base, depth)
        for name in sorted(vars(cls)):
            if name in _NOISE:
                continue
            self.write(name)
            value = _unwrap_descriptor(vars(cls)[name])
            try:
                self.feed(value, depth)
            except Undigestible:  # slot descriptors and the like: type and repr
                self.write(type(value).__qualname__, repr(value))

    def _array(self, array: Any, depth: int) -> None:
        self.write(str(array.dtype), tuple(array.shape))
        if array.dtype.kind == "O":
            self.feed(array.tolist(), depth)
        else:
            self._hash.update(array.tobytes())

    def _pandas(self, value: Any, depth: int) -> None:
        pandas = sys.modules["pandas"]
        shape = getattr(value, "shape", None)
        self.write(shape, [str(d) for d in getattr(value, "dtypes", [getattr(value, "dtype", "")])])
        if hasattr(value, "columns"):
            self.feed(list(value.columns), depth)
        self.feed(getattr(value, "name", None), depth)
        try:
            hashed = pandas.util.hash_pandas_object(value, index=True)
        except TypeError:  # unhashable cells (lists, dicts): fall back to the pickle
            self._other(value, depth)
            return
        self._hash.update(hashed.to_numpy().tobytes())

    def _other(self, value: Any, depth: int) -> None:
        try:
            data = pickle.dumps(value, protocol=4)
        except Exception as error:
            state = getattr(value, "__dict__", None)
            if not isinstance(state, dict):
                raise Undigestible(f"cannot read a {type(value).__name__}: {error}") from error
            self.feed(state, depth)
            return
        self._hash.update(data)


def _sub_digest(value: object, depth: int) -> str:
    hasher = _Hasher()
    hasher.feed(value, depth)
    return hasher.hexdigest()


def _unwrap_descriptor(value: Any) -> Any:
    if isinstance(value, (staticmethod, classmethod)):
        return value.__func__
    if isinstance(value, property):
        return (value.fget, value.fset, value.fdel)
    return value


def _is_array(value: Any) -> bool:
    return all(hasattr(value, attr) for attr in ("__array_interface__", "dtype", "tobytes"))


def _is_pandas(value: Any) -> bool:
    module = type(value).__module__
    return module.startswith("pandas.") and "pandas" in sys.modules and hasattr(value, "shape")
