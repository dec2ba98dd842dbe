"""Symbol paths: a global name refined by constant subscripts and attributes.

A path is a plain string in one canonical spelling (``x``, ``x[0]``,
``d['k']``, ``cfg.lr``, ``a.b[0].c``): subscript keys are the ``repr()`` of
the constant. Strings keep records JSON-friendly and cheap to compare; the
structure is recovered (and cached) only when two paths share a root.

Two paths *overlap* when one is a prefix of the other at a component
boundary (DESIGN §2). Two aliasing rules widen "same component" on purpose,
because a missed dependency costs more than one extra re-run:

- ``.a`` and ``['a']`` are the same slot (pandas columns, attribute-dicts,
  config objects all expose both spellings);
- a negative int index matches every int index (``x[-1]`` may be ``x[2]``);
  equal keys of different types match too (``d[1]``, ``d[1.0]``, ``d[True]``);
- a tuple key matches the keys it starts with (``m[0, 1]`` is inside the row
  ``m[0]`` of a numpy array; ``df[('a', 'x')]`` inside the column group
  ``df['a']``); for a dict with tuple keys this is only an extra re-run.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache

_SEPARATORS = ".["
_KEY_TYPES = (int, float, str, bytes, bool, type(None))

# A component as compared: ("k", name) for attributes and str keys (aliased),
# ("v", value) for other constant keys, ("?", text) for anything unparsable.
_Component = tuple[str, object]


def root(path: str) -> str:
    """The global name a path starts with (``a`` for ``a.b[0]``)."""
    if "." not in path and "[" not in path:
        return path  # the common case, decided in C
    cut = len(path)
    for separator in _SEPARATORS:
        index = path.find(separator, 0, cut)
        if index >= 0:
            cut = index
    return path[:cut]


def overlaps(a: str, b: str) -> bool:
    """Whether a change to one path may change the other (prefix at a boundary)."""
    if a == b:
        return True
    if root(a) != root(b):
        return False
    return all(map(_same_slot, _components(a), _components(b)))


def any_overlap(defined: Iterable[str], used: Iterable[str]) -> set[str]:
    """The used paths that overlap some defined path; grouped by root so it stays linear."""
    by_root: dict[str, list[str]] = defaultdict(list)
    for path in defined:
        by_root[root(path)].append(path)
    hits: set[str] = set()
    for path in used:
        name = root(path)
        candidates = by_root.get(name)
        if not candidates:
            continue
        if name in candidates or any(overlaps(d, path) for d in candidates):
            hits.add(path)
    return hits


def const_key(node: ast.expr) -> str | None:
    """Canonical spelling of a constant subscript key, or None when not constant."""
    value = _const_value(node)
    return None if value is _NOT_CONSTANT else repr(value)


def expr_path(node: ast.expr) -> tuple[list[str] | None, list[ast.expr]]:
    """Split a Name/Attribute/Subscript chain into path components and leftovers.

    The components spell the longest constant prefix (``a.b[i].c`` gives
    ``['a', '.b']``); the leftovers are the expressions that still have to be
    read (``i``), or the whole base when the chain does not start at a name.
    """
    parts: list[str] = []
    leftovers: list[ast.expr] = []
    while True:
        if isinstance(node, ast.Attribute):
            parts.append("." + node.attr)
        elif isinstance(node, ast.Subscript):
            key = const_key(node.slice)
            if key is None:
                parts.clear()  # everything outward of a computed key is one object
                leftovers.append(node.slice)
            else:
                parts.append("[" + key + "]")
        elif isinstance(node, ast.Name):
            parts.append(node.id)
            parts.reverse()
            return parts, leftovers
        else:
            leftovers.append(node)
            return None, leftovers
        node = node.value


class _NotConstant:
    """Marker type: the key is computed at run time."""


_NOT_CONSTANT = _NotConstant()


def _const_value(node: ast.expr) -> object:
    if isinstance(node, ast.Constant) and isinstance(node.value, _KEY_TYPES):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub):
        inner = _const_value(node.operand)
        if isinstance(inner, (int, float)) and not isinstance(inner, bool):
            return -inner
        return _NOT_CONSTANT
    if isinstance(node, ast.Tuple):
        values = tuple(_const_value(elt) for elt in node.elts)
        return _NOT_CONSTANT if _NOT_CONSTANT in values else values
    return _NOT_CONSTANT


@lru_cache(maxsize=8192)
def _components(path: str) -> tuple[_Component, ...]:
    """Parse a path back into comparable components (root first)."""
    try:
        node: ast.expr = ast.parse(path, mode="eval").body
    except (SyntaxError, ValueError):
        return (("?", path),)
    found: list[_Component] = []
    while isinstance(node, (ast.Attribute, ast.Subscript)):
        if isinstance(node, ast.Attribute):
            found.append(("k", node.attr))
        else:
            found.append(_key_component(node.slice))
        node = node.value
    found.append(("k", ast.unparse(node)))
    found.reverse()
    return tuple(found)


def _key_component(node: ast.expr) -> _Component:
    value = _const_value(node)
    if value is _NOT_CONSTANT:
        return ("?", ast.unparse(node))
    return ("k", value) if isinstance(value, str) else ("v", value)


def _same_slot(x: _Component, y: _Component) -> bool:
    if x == y:
        return True
    if x[0] == "?" or y[0] == "?":
        return False
    if isinstance(x[1], tuple) or isinstance(y[1], tuple):
        return _same_keys(_key_sequence(x), _key_sequence(y))
    if x[0] != "v" or y[0] != "v":
        return False
    return _same_key(x[1], y[1])


def _same_key(a: object, b: object) -> bool:
    if a == b:
        return True
    if isinstance(a, int) and isinstance(b, int):
        return a < 0 or b < 0  # negative indices alias positive ones of the same list
    return False


def _key_sequence(component: _Component) -> tuple[object, ...]:
    value = component[1]
    return value if isinstance(value, tuple) else (value,)


def _same_keys(a: tuple[object, ...], b: tuple[object, ...]) -> bool:
    """Tuple keys: one is a prefix of the other, key by key."""
    return all(map(_same_key, a, b))
