"""How expressions read, store into, mutate and call the notebook's globals.

:class:`ExpressionReader` is the expression half of the cell visitor (the
statement half, which knows about order and control flow, is in
:mod:`.analysis`). Calls carry most of the judgement here: which calls mutate
their receiver for certain, which arguments a call may mutate, which calls make
a cell unanalysable (``exec``), and how IPython's transformed magics
(``get_ipython().run_line_magic('time', 'x = f()')``) run code we can read.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping

from .effects import ANYTHING, CellAnalysis, Recorder
from .paths import expr_path, root

#: Methods that mutate their receiver in place (lists, dicts, sets, deques, numpy, queues).
INPLACE_METHODS = frozenset(
    {
        *("append", "extend", "insert", "remove", "pop", "clear", "sort", "reverse"),
        *("update", "setdefault", "popitem", "add", "discard", "difference_update"),
        *("intersection_update", "symmetric_difference_update", "fill", "resize", "put"),
        *("itemset", "__setitem__", "__delitem__", "appendleft", "extendleft", "rotate"),
    }
)
#: Calls after which the cell may define or use anything.
_CONSERVATIVE_CALLS = frozenset({"exec", "eval", "globals", "locals", "__import__"})
#: IPython magics that run their argument as code in the user namespace.
_CODE_MAGICS = frozenset({"time", "timeit", "prun", "capture", "memoize"})
#: IPython magics that read or write the namespace in ways we cannot see.
_NAMESPACE_MAGICS = frozenset(
    {"run", "store", "reset", "reset_selective", "rerun", "macro", "edit", "xdel"}
)
#: Methods of the shell that read or write the user namespace directly.
_IPYTHON_NAMESPACE_METHODS = frozenset(
    {"push", "ex", "ev", "run_cell", "run_cell_async", "run_code", "safe_execfile", "del_var"}
)
_OPTIONS_WITH_VALUE = frozenset({"-n", "-r", "-p", "-s", "-l", "-T", "-D"})
_EXPANDED_NAME = re.compile(r"[$][{]?([A-Za-z_]\w*)|[{]([A-Za-z_]\w*)")


class ExpressionReader(ast.NodeVisitor):
    """Visits expressions; subclasses add statements (see :mod:`.analysis`)."""

    def __init__(self, namespace: Mapping[str, object] | None) -> None:
        self.rec = Recorder(namespace)

    @classmethod
    def analyze(cls, code: str, namespace: Mapping[str, object] | None) -> CellAnalysis:
        """Parse and walk ``code`` with a fresh visitor of this class."""
        try:
            tree = ast.parse(code)
        except (SyntaxError, ValueError):
            return CellAnalysis(syntax_error=True)
        visitor = cls(namespace)
        try:
            visitor.visit(tree)
        except RecursionError:  # absurdly nested code: give up precisely, not loudly
            return CellAnalysis(conservative=True)
        return visitor.rec.finish()

    def _store(self, target: ast.expr) -> None:
        if isinstance(target, ast.Name):
            self.rec.bind(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for elt in target.elts:
                self._store(elt)
        elif isinstance(target, ast.Starred):
            self._store(target.value)
        else:
            self._slot_store(target)

    def _slot_store(self, target: ast.expr, whole: bool = True) -> None:
        """``x[0] = v`` / ``x.a = v``: define and use the slot (store rule in :mod:`.analysis`)."""
        parts, leftovers = expr_path(target)
        for node in leftovers:
            self.visit(node)
        if parts is not None:
            self.rec.store_slot("".join(parts), whole=whole and not leftovers)

    def _read(self, node: ast.expr) -> str | None:
        """Read a reference expression; returns its path when it has one."""
        parts, leftovers = expr_path(node)
        for sub in leftovers:
            self.visit(sub)
        if parts is None:
            return None
        path = "".join(parts)
        self.rec.emit("use", path)
        return path

    def _arguments_at_def(self, args: ast.arguments) -> None:
        """Defaults and annotations are evaluated when the def runs."""
        every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
        for expr in [*args.defaults, *args.kw_defaults]:
            if expr is not None:
                self.visit(expr)
        for arg in every:
            if arg is not None and arg.annotation is not None:
                self.visit(arg.annotation)

    # -- expressions -------------------------------------------------------

    def visit_Constant(self, node: ast.Constant) -> None:
        """Nothing to read (and the most common leaf: skip generic_visit)."""

    def visit_Name(self, node: ast.Name) -> None:
        if isinstance(node.ctx, ast.Load):
            self.rec.emit("use", node.id)
        else:
            self.rec.bind(node.id)

    def visit_Attribute(self, node: ast.Attribute | ast.Subscript) -> None:
        if isinstance(node.ctx, ast.Load):
            self._read(node)
        else:
            self._slot_store(node)

    visit_Subscript = visit_Attribute

    def visit_NamedExpr(self, node: ast.NamedExpr) -> None:
        self.visit(node.value)
        self.rec.bind(node.target.id)

    def visit_BoolOp(self, node: ast.BoolOp) -> None:
        self.visit(node.values[0])
        self._conditionally(node.values[1:])

    def visit_IfExp(self, node: ast.IfExp) -> None:
        self.visit(node.test)
        self._conditionally([node.body, node.orelse])

    def _conditionally(self, exprs: list[ast.expr]) -> None:
        self.rec.cond += 1
        for expr in exprs:
            self.visit(expr)
        self.rec.cond -= 1

    def visit_Lambda(self, node: ast.Lambda) -> None:
        self._lambda(node, None)

    def _lambda(self, node: ast.Lambda, name: str | None) -> None:
        self._arguments_at_def(node.args)
        scope = self.rec.open(is_class=False, name=name, inline=name is None)
        scope.bound.update(parameters(node.args))
        self.visit(node.body)
        self.rec.close(scope)

    def visit_ListComp(self, node: ast.ListComp | ast.SetComp | ast.GeneratorExp) -> None:
        self._comprehension(node.generators, [node.elt])

    visit_SetComp = visit_GeneratorExp = visit_ListComp

    def visit_DictComp(self, node: ast.DictComp) -> None:
        self._comprehension(node.generators, [node.key, node.value])

    def _comprehension(self, generators: list[ast.comprehension], elts: list[ast.expr]) -> None:
        """The first iterable runs in the enclosing scope; targets are local to the rest."""
        self.visit(generators[0].iter)
        names: set[str] = set()
        self.rec.frames.append(names)
        self.rec.cond += 1
        for index, gen in enumerate(generators):
            if index:
                self.visit(gen.iter)
            self._comprehension_target(gen.target, names)
            for cond in gen.ifs:
                self.visit(cond)
        for elt in elts:
            self.visit(elt)
        self.rec.cond -= 1
        self.rec.frames.pop()

    def _comprehension_target(self, target: ast.expr, names: set[str]) -> None:
        if isinstance(target, ast.Name):
            names.add(target.id)
        elif isinstance(target, (ast.Tuple, ast.List, ast.Starred)):
            for elt in target.elts if not isinstance(target, ast.Starred) else [target.value]:
                self._comprehension_target(elt, names)
        else:
            self._slot_store(target, whole=False)

    # -- calls -------------------------------------------------------------

    def visit_Call(self, node: ast.Call) -> None:
        func = node.func
        if isinstance(func, ast.Attribute):
            self._method_call(node, func)
        elif isinstance(func, ast.Name):
            self._name_call(node, func.id)
        else:
            self.visit(func)
            self._call_arguments(node, maybe=True)

    def _name_call(self, node: ast.Call, name: str) -> None:
        builtin = self.rec.is_builtin(name)
        if builtin and (name in _CONSERVATIVE_CALLS or (name == "vars" and not node.args)):
            self.rec.emit("any", ANYTHING)
        self.rec.emit("use", name)
        self.rec.emit("call", name)
        if builtin and name in ("getattr", "setattr", "delattr") and self._attr_call(node, name):
            return
        self._call_arguments(node, maybe=not builtin)  # builtins do not mutate arguments

    def _attr_call(self, node: ast.Call, name: str) -> bool:
        """``getattr(o, 'a')`` reads ``o.a``; ``setattr(o, 'a', v)`` stores into it."""
        if len(node.args) < 2:
            return False
        obj, key, *rest = node.args
        parts, leftovers = expr_path(obj)
        if not parts:
            return False
        if parts[0] == "sys" and name != "getattr":  # setattr(sys.modules[__name__], ...)
            self.rec.emit("any", ANYTHING)
        path = "".join(parts)
        attr = key.value if isinstance(key, ast.Constant) else None
        if isinstance(attr, str) and attr.isidentifier() and not leftovers:
            path += "." + attr  # else the whole object: which attribute is unknown
        for expr in [*leftovers, key, *rest, *(k.value for k in node.keywords)]:
            self.visit(expr)
        self.rec.emit("use" if name == "getattr" else "mut", path)
        return True

    def _method_call(self, node: ast.Call, func: ast.Attribute) -> None:
        receiver = func.value
        if _is_get_ipython(receiver):
            self._ipython_call(node, func.attr)
            return
        inplace = func.attr in INPLACE_METHODS or any(
            k.arg == "inplace" and isinstance(k.value, ast.Constant) and k.value.value is True
            for k in node.keywords
        )
        path = self._read(receiver)
        if path is not None and self.rec.is_module(path):
            inplace = False  # np.append(a, 1) is a function of numpy, not a list method
        elif path is not None and inplace:
            self.rec.emit("mut", path)
        elif path is not None:
            self.rec.emit("recv", root(path))
            self.rec.emit("maybe", root(path))
        self._call_arguments(node, maybe=not inplace and not isinstance(receiver, ast.Constant))

    def _call_arguments(self, node: ast.Call, maybe: bool) -> None:
        for expr in [*node.args, *(k.value for k in node.keywords)]:
            self.visit(expr)
            if maybe:
                inner = expr.value if isinstance(expr, ast.Starred) else expr
                parts = expr_path(inner)[0]
                if parts:
                    self.rec.emit("maybe", parts[0])

    # -- IPython's transformed magics --------------------------------------

    def _ipython_call(self, node: ast.Call, method: str) -> None:
        """``get_ipython().run_line_magic(...)`` and friends, as IPython emits them."""
        args = [a.value if isinstance(a, ast.Constant) else None for a in node.args]
        name, line, cell = [a if isinstance(a, str) else "" for a in args + [None] * 3][:3]
        if method in _IPYTHON_NAMESPACE_METHODS:
            self.rec.emit("any", ANYTHING)
        if method in ("system", "getoutput"):
            self._expanded_names(name)  # the command is the first argument
        elif method in ("run_line_magic", "run_cell_magic") and name not in _CODE_MAGICS:
            self._expanded_names(line)
        if method in ("run_line_magic", "run_cell_magic"):
            self._magic(name, line, cell if method == "run_cell_magic" else None)
        for expr in node.args:
            self.visit(expr)

    def _expanded_names(self, text: str) -> None:
        """IPython expands ``$name`` and ``{name}`` in shell commands and magic lines."""
        for match in _EXPANDED_NAME.finditer(text):
            self.rec.emit("use", match.group(1) or match.group(2))

    def _magic(self, name: str, line: str, cell: str | None) -> None:
        if name in _NAMESPACE_MAGICS:
            self.rec.emit("any", ANYTHING)
        if name not in _CODE_MAGICS:
            return
        if name in ("timeit", "prun"):
            line = _strip_options(line)
        code = line if cell is None else (line + "\n" + cell if name == "timeit" else cell)
        inner = self.analyze(code, self.rec.namespace)
        if inner.syntax_error or inner.conservative:
            self.rec.emit("any", ANYTHING)
        self._merge(inner, keeps_bindings=name != "timeit")
        words = [w for w in line.split() if not w.startswith("-")]
        if name == "capture" and words and words[0].isidentifier():
            self.rec.bind(words[0])  # %%capture out

    def _merge(self, inner: CellAnalysis, keeps_bindings: bool) -> None:
        """Fold in code a magic runs; %timeit's assignments stay in its own scope."""
        for kind, paths in (
            ("use", inner.uses),
            ("call", inner.calls),
            ("recv", inner.method_receivers),
            ("maybe", inner.maybe_mutated),
        ):
            for path in paths:
                self.rec.emit(kind, path)
        for path in inner.defines:
            if keeps_bindings:
                self.rec.emit("bind", path)
            else:
                self.rec.emit("maybe", root(path))
        if not self.rec.frames:
            self.rec.result.functions.update(inner.functions)


def parameters(args: ast.arguments) -> set[str]:
    """The names a def or lambda binds for its arguments."""
    every = [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]
    return {arg.arg for arg in every if arg is not None}


def _is_get_ipython(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "get_ipython"
    )


def _strip_options(line: str) -> str:
    """Drop leading ``-n 10``-style options of %timeit / %prun to reach the code."""
    words = line.split(" ")
    while words and words[0].startswith("-"):
        option = words.pop(0)
        if option in _OPTIONS_WITH_VALUE and words:
            words.pop(0)
    return " ".join(words)
